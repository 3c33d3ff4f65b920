/**
 * Column roles of a loaded table, inferred from its column names and types: which column is the event time,
 * the amount, the customer, the order, the product, and which columns are dimensions to break revenue
 * down by. The analyze stage reads these instead of assuming a column is called `order_date` or `sales`.
 *
 * Pure: names and warehouse types in, roles out (no data is read). A name is compared after snake-casing
 * it as the transformer does (`InvoiceDate` -> `invoice_date`) and in its compact form without
 * underscores (`invoicedate`, `orderdate`), so `Order Date`, `order_date`, `ORDERDATE` and `OrderDate` all
 * match. Every role also needs a type: a DATE or TIMESTAMP for the event time; a number for the amount,
 * quantity, unit price, profit and discount; text, an integer or a boolean for a dimension.
 * Identifier-like columns (`*_id`, `*_no`, `*_number`, `*_code`, ...) are never amounts.
 *
 * When no column is an amount (sales, revenue, total, ...) but a quantity and a unit price are, the
 * amount is derived as quantity * unit price and says so (`derived`). Negative amounts and quantities
 * (cancellations, returns) are data, not errors: they stay, so every sum over the amount is net of them.
 *
 * Types are accepted in both engines' spellings: DuckDB (`VARCHAR`, `DOUBLE`, `BIGINT`, `DECIMAL(18,3)`,
 * `TIMESTAMP WITH TIME ZONE`) and BigQuery (`STRING`, `FLOAT64`, `INT64`, `NUMERIC`, `DATETIME`).
 */
import { CURRENCY_CODES } from './currency';
import { snakeCase } from './names';

export const ROLE_NAMES = [
  'event_time',
  'amount',
  'quantity',
  'unit_price',
  'order_id',
  'customer_id',
  'customer_name',
  'product_id',
  'product_name',
  'profit',
  'discount',
  'event_type',
] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface ColumnInfo {
  name: string;
  /** The warehouse type, as information_schema reports it. */
  type: string;
}

export type ColumnKind = 'date' | 'timestamp' | 'integer' | 'number' | 'text' | 'boolean' | 'other';

/** One column holding a role. */
export interface ColumnRole {
  column: string;
  /** 0..1: how sure the name makes us (an exact, specific name is near 1; a fallback is lower). */
  confidence: number;
  /** Why: the name it matched, as what, and the type. */
  evidence: string;
}

/** An amount computed from two other roles, when no column holds it. */
export interface DerivedAmount {
  column: null;
  derived: 'quantity * unit_price';
  confidence: number;
  evidence: string;
}

export type AmountRole = ColumnRole | DerivedAmount;

export interface Roles {
  event_time?: ColumnRole;
  amount?: AmountRole;
  quantity?: ColumnRole;
  unit_price?: ColumnRole;
  order_id?: ColumnRole;
  customer_id?: ColumnRole;
  customer_name?: ColumnRole;
  product_id?: ColumnRole;
  product_name?: ColumnRole;
  profit?: ColumnRole;
  discount?: ColumnRole;
  /** The kind of event a row records (`view`, `cart`, `purchase`), in an event log. */
  event_type?: ColumnRole;
  /**
   * Which rows are sales, when an event type or an order status says (`@etl/common/sales-events`, measured on
   * the rows): every sum over the amount reads only those rows. Absent when every row is a sale.
   */
  sales?: SalesEvents;
  /**
   * Columns to break revenue down by, best first: the best of each family (product, place, customer,
   * other) before the second best of any, so the first few cover different questions.
   */
  dimensions: ColumnRole[];
  /** Columns whose name suggests a role their type rules out, e.g. an `order_date` loaded as text. */
  notes: string[];
  /**
   * Whether sums over the amount are net of returns and cancellations, from the rows (`@etl/common/returns`);
   * absent when not measured (roles inferred from names alone).
   */
  returns?: ReturnsNote;
}

/** Returns and cancellations found in a table's rows: they are kept, so the amount is net of them. */
export interface ReturnsNote {
  /** True when any row is a return or a cancellation (the counts below), so every sum is net of them. */
  net: boolean;
  /** Rows with a negative amount. */
  negativeAmounts: number;
  /** Rows with a negative quantity (0 without a quantity role). */
  negativeQuantities: number;
  /** Rows whose order id is `C` and a digit (Online Retail's cancelled invoices; 0 without an order id). */
  cancelledOrders: number;
  /** The same in words. */
  evidence: string;
}

/**
 * The rows that are sales, when a column says so (`@etl/common/sales-events`): in an event log, only the rows
 * whose event type is one of `values` (`only`); with an order status, every row but those whose status is one
 * of `values` (`except`: cancelled, returned, ...).
 */
export interface SalesEvents {
  /** The event type or status column. */
  column: string;
  mode: 'only' | 'except';
  /** Its values that name a sale (`purchase`; `only`) or no sale (`Cancelled`; `except`), as written. */
  values: string[];
  /** Rows that are sales. */
  rows: number;
  /** The other rows (views, carts, cancelled orders), left out of every sum. */
  otherRows: number;
  /** The same in words. */
  evidence: string;
}

/** The warehouse type as a kind; both engines' spellings. */
export function columnKind(type: string): ColumnKind {
  const t = type.trim().toUpperCase();
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP') || t === 'DATETIME') return 'timestamp';
  if (/^(U?BIGINT|U?INTEGER|U?SMALLINT|U?TINYINT|U?HUGEINT|INT\d*|BYTEINT)$/.test(t)) return 'integer';
  if (/^(DOUBLE|FLOAT\d*|REAL|DECIMAL|NUMERIC|BIGNUMERIC|BIGDECIMAL)\b/.test(t)) return 'number';
  if (/^(VARCHAR|STRING|TEXT|CHAR)\b/.test(t)) return 'text';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'boolean';
  return 'other';
}

type Kinds = readonly ColumnKind[];
const TIME: Kinds = ['date', 'timestamp'];
const NUMERIC: Kinds = ['integer', 'number'];
const KEY: Kinds = ['text', 'integer', 'number'];
const TEXT: Kinds = ['text'];
const DIMENSION: Kinds = ['text', 'integer', 'boolean'];

/** Compact names (no underscores) with their confidence and what they are, best first. */
type NameRule = readonly [compact: string, confidence: number, what: string];

interface RoleRule {
  kinds: Kinds;
  names: readonly NameRule[];
  /** A looser match on the snake-case words, for names not in the list. */
  fallback?: (words: readonly string[]) => NameRule | undefined;
  /** Never match identifier-like names (amounts). */
  notIdentifier?: boolean;
}

const rules = (confidence: number, what: string, ...compacts: string[]): NameRule[] =>
  compacts.map((c) => [c, confidence, what] as const);

const ORDER_DATE = 'an order, invoice, transaction or purchase date';
const PLAIN_DATE = 'a plain date';
const AMOUNT = 'a sales, revenue or total amount';

/** Dates that are not when the sale happened. */
const OTHER_DATES = new Set([
  'ship',
  'shipped',
  'shipping',
  'delivery',
  'delivered',
  'due',
  'birth',
  'dob',
  'updated',
  'modified',
  'expiry',
  'expiration',
  'expires',
  'signup',
  'registration',
  'registered',
  'join',
  'joined',
  'start',
  'end',
  'return',
  'refund',
  'cancel',
  'cancelled',
  'canceled',
  'loaded',
  // Spanish and Portuguese: delivery, shipping, birth, due and sign-up dates.
  'entrega',
  'envio',
  'nacimiento',
  'nascimento',
  'vencimento',
  'vencimiento',
  'cadastro',
  'registro',
]);

/** Words that make a number something other than an amount of money. */
const NOT_AMOUNT = new Set([
  'count',
  'qty',
  'quantity',
  'units',
  'tax',
  'cost',
  'cogs',
  'discount',
  'profit',
  'margin',
  'rate',
  'pct',
  'percent',
  'percentage',
  'rank',
  'share',
  'growth',
  'target',
  'forecast',
  'budget',
  'avg',
  'mean',
]);

const ID_WORDS = new Set([
  'id',
  'no',
  'nr',
  'num',
  'number',
  'code',
  'key',
  'sku',
  'zip',
  'zipcode',
  'phone',
]);

const ROLE_RULES: Record<RoleName, RoleRule> = {
  event_time: {
    kinds: TIME,
    names: [
      ...rules(
        0.95,
        ORDER_DATE,
        'orderdate',
        'invoicedate',
        'transactiondate',
        'purchasedate',
        'saledate',
        'salesdate',
        'orderdatetime',
        'invoicedatetime',
        'transactiondatetime',
        'purchasedatetime',
        'ordertimestamp',
        'invoicetimestamp',
        'transactiontimestamp',
        'purchasetimestamp',
        'ordertime',
        'transactiontime',
        'purchasetime',
        'orderedat',
        'purchasedat',
        'soldat',
        'fechaventa',
        'fechapedido',
        'fechadeventa',
        'fechadepedido',
        'fechafactura',
        'datavenda',
        'datadavenda',
        'datapedido',
        'datadopedido',
        'datacompra',
        'datadacompra',
        'datecommande',
        'datedecommande',
        'datedevente',
        'bestelldatum',
        'verkaufsdatum',
        'rechnungsdatum',
        // A German ledger's posting and document dates (SAP's `Buchungsdatum`, `Belegdatum`).
        'buchungsdatum',
        'belegdatum',
        'datavendita',
        'dataordine',
        // Turkish, as folded by the column names (`Sipariş Tarihi` -> siparis_tarihi; a dotless ı stays).
        'siparistarihi',
        'satıstarihi',
        'satistarihi',
        'faturatarihi',
        'islemtarihi',
        // Polish, folded as the column names fold it (`Data zamówienia` -> data_zamowienia).
        'datazamowienia',
        'datasprzedazy',
        // Dutch.
        'orderdatum',
        'besteldatum',
        'factuurdatum',
        'verkoopdatum',
      ),
      // A CRM's deals: the sale happens when the deal closes (Maven's sales_pipeline `close_date`, not its
      // `engage_date`).
      ...rules(0.9, "a deal's close date", 'closedate', 'closingdate', 'dateclosed', 'closedat', 'wondate'),
      ...rules(
        0.85,
        PLAIN_DATE,
        'date',
        'fecha',
        'data',
        'datum',
        'tarih',
        'datetime',
        'timestamp',
        'eventtime',
        'eventdate',
        'eventtimestamp',
        'day',
        'month',
        'yearmonth',
        'period',
        'week',
        'weekdate',
      ),
      // Russian, Chinese, Japanese and Korean forms (column names keep the letters of every script).
      ...rules(
        0.95,
        ORDER_DATE,
        'датазаказа',
        'датапродажи',
        'датапокупки',
        'датачека',
        '订单日期',
        '下单日期',
        '下单时间',
        '销售日期',
        '交易日期',
        '注文日',
        '購入日',
        '販売日',
        '売上日',
        '受注日',
        '주문일',
        '주문일자',
        '판매일',
        '판매일자',
        '거래일자',
      ),
      ...rules(0.85, PLAIN_DATE, 'дата', 'месяц', '日期', '月份', '日付', '年月日', '年月', '날짜', '일자'),
    ],
    fallback: (words) => {
      if (words.some((w) => OTHER_DATES.has(w))) return undefined;
      const last = words.at(-1);
      if (
        ['date', 'fecha', 'data', 'datum', 'tarih', 'tarihi'].some((w) => words.includes(w)) ||
        last === 'at' ||
        last === 'timestamp'
      )
        return ['', 0.5, 'a date'];
      return undefined;
    },
  },
  amount: {
    kinds: NUMERIC,
    notIdentifier: true,
    names: [
      ...rules(
        0.95,
        AMOUNT,
        'sales',
        'revenue',
        'totalamount',
        'weeklysales',
        'linetotal',
        'salesamount',
        'totalsales',
        'totalrevenue',
        'netsales',
        'saleamount',
        'salesvalue',
        'ordertotal',
        'ordervalue',
        'transactionamount',
        'purchaseamount',
      ),
      ...rules(
        0.9,
        AMOUNT,
        'amount',
        'totalprice',
        'lineamount',
        'netamount',
        'grosssales',
        'ventas',
        'venta',
        // Net and total sales in Spanish and Portuguese (`Venta Neta`, `Vendas Líquidas`, `Receita Líquida`).
        'ventaneta',
        'ventasnetas',
        'ventatotal',
        'ventastotales',
        'vendaliquida',
        'vendasliquidas',
        'receitaliquida',
        'importe',
        'importetotal',
        'montototal',
        'vendas',
        'valortotal',
        'faturamento',
        'receita',
        'ventes',
        'montant',
        'montanttotal',
        'chiffredaffaires',
        'umsatz',
        'betrag',
        'gesamtbetrag',
        'fatturato',
        'importo',
        'tutar',
        'tutarı',
        'tutari',
        'satıstutarı',
        'satistutari',
        'toplamtutar',
        'ciro',
        'kwota',
        'wartosc',
        'wartoscbrutto',
        'sprzedaz',
        'omzet',
        'bedrag',
        'totaalbedrag',
        // Olist's order_payments, invoices and bills.
        'paymentvalue',
        'paymentamount',
        'invoiceamount',
        'invoicetotal',
        'billamount',
        'grandtotal',
        'amountpaid',
        'totalpaid',
      ),
      // Black Friday's `Purchase`: what the customer spent on the product.
      ...rules(0.8, AMOUNT, 'purchase'),
      // A CRM's deals (Maven's sales_pipeline `close_value`, a report's `Deal Size`): what a won deal brought.
      ...rules(
        0.85,
        AMOUNT,
        'closevalue',
        'dealsize',
        'dealvalue',
        'dealamount',
        'opportunityamount',
        'bookingamount',
      ),
      ...rules(
        0.85,
        AMOUNT,
        'total',
        'monto',
        'totalspent',
        'spend',
        'subtotal',
        'valor',
        'totale',
        'gesamt',
      ),
      ...rules(
        0.95,
        AMOUNT,
        'выручка',
        'продажи',
        'суммапродаж',
        '销售额',
        '销售金额',
        '营业额',
        '売上',
        '売上高',
        '売上金額',
        '販売金額',
        '매출',
        '매출액',
        '판매금액',
      ),
      ...rules(0.9, AMOUNT, 'сумма', 'стоимость', '金额', '金額', '금액'),
      ...rules(0.85, AMOUNT, 'итого', '合计', '总额', '合計', '합계', '총액'),
    ],
    fallback: (words) =>
      words.some((w) => w === 'sales' || w === 'revenue' || w === 'amount') &&
      !words.some((w) => NOT_AMOUNT.has(w))
        ? ['', 0.7, 'an amount (its name mentions sales, revenue or amount)']
        : undefined,
  },
  quantity: {
    kinds: NUMERIC,
    notIdentifier: true,
    names: [
      ...rules(
        0.95,
        'a quantity',
        'quantity',
        'qty',
        'quantityordered',
        'orderquantity',
        'quantitysold',
        'unitssold',
        'unitsordered',
        'cantidad',
        'quantidade',
        'qtd',
        'quantite',
        'menge',
        'quantita',
        'miktar',
        'miktarı',
        'miktari',
        'ilosc',
        'aantal',
      ),
      ...rules(
        0.8,
        'a quantity',
        'units',
        'itemcount',
        'numberofitems',
        'pieces',
        'unidades',
        'unites',
        'anzahl',
        'stuck',
        'adet',
      ),
      ...rules(0.95, 'a quantity', 'количество', 'колво', '数量', '個数', '수량'),
    ],
    fallback: (words) =>
      words.includes('quantity') || words.includes('qty') ? ['', 0.7, 'a quantity'] : undefined,
  },
  unit_price: {
    kinds: NUMERIC,
    notIdentifier: true,
    names: [
      ...rules(
        0.95,
        'a unit price',
        'unitprice',
        'priceeach',
        'priceperunit',
        'preciounitario',
        'precounitario',
        'prixunitaire',
        'einzelpreis',
        'stuckpreis',
        'prezzounitario',
        'birimfiyat',
        'birimfiyatı',
        'birimfiyati',
        'cenajednostkowa',
      ),
      ...rules(
        0.85,
        'a price',
        'price',
        'itemprice',
        'sellingprice',
        'saleprice',
        'salesprice',
        'precio',
        'preco',
        'prix',
        'preis',
        'prezzo',
        'fiyat',
        'fiyatı',
        'fiyati',
        'cena',
        'prijs',
        'stukprijs',
      ),
      ...rules(0.5, 'a list price', 'listprice', 'msrp'),
      ...rules(0.95, 'a unit price', 'ценазаединицу', '单价', '単価', '단가'),
      ...rules(0.85, 'a price', 'цена', '价格', '価格', '가격'),
    ],
    fallback: (words) =>
      words.includes('price') && !words.includes('total') ? ['', 0.6, 'a price'] : undefined,
  },
  order_id: {
    kinds: KEY,
    names: [
      ...rules(
        0.95,
        'an order, invoice or transaction id',
        'orderid',
        'ordernumber',
        'orderno',
        'ordernr',
        'invoiceno',
        'invoiceid',
        'invoicenumber',
        'invoice',
        'transactionid',
        'transactionno',
        'transactionnumber',
        'receiptid',
        'receiptno',
        'receiptnumber',
        'billno',
        'billid',
        'basketid',
        'ticketid',
        'salesorderid',
        'pedido',
        'idpedido',
        'numeropedido',
        'numerodepedido',
        'factura',
        'numerofactura',
        'numerodefactura',
        'numerocommande',
        'facture',
        'numerofacture',
        'bestellnummer',
        'rechnungsnummer',
        'numeroordine',
        'siparisno',
        'siparisid',
        'siparisnumarası',
        'siparisnumarasi',
        'faturano',
      ),
      ...rules(
        0.95,
        'an order, invoice or transaction id',
        'номерзаказа',
        'idзаказа',
        'номерчека',
        '订单号',
        '订单编号',
        '订单id',
        '注文番号',
        '注文id',
        '주문번호',
      ),
    ],
  },
  customer_id: {
    kinds: KEY,
    names: [
      ...rules(
        0.95,
        'a customer id',
        'customerid',
        'customerno',
        'customernumber',
        'customercode',
        'custid',
        'clientid',
        'clientno',
        'buyerid',
        'memberid',
        'accountid',
        'idcliente',
        'codigocliente',
        'codcliente',
        'idclient',
        'codeclient',
        'kundennummer',
        'kundenid',
        'codicecliente',
      ),
      ...rules(0.7, 'a user id', 'userid'),
      ...rules(
        0.95,
        'a customer id',
        'idклиента',
        'кодклиента',
        'номерклиента',
        '客户id',
        '客户编号',
        '顧客id',
        '顧客番号',
        '고객id',
        '고객번호',
      ),
    ],
  },
  customer_name: {
    kinds: TEXT,
    names: [
      ...rules(
        0.9,
        'a customer name',
        'customername',
        'clientname',
        'buyername',
        'customer',
        'client',
        'cliente',
        'nombrecliente',
        'nomecliente',
        'nomclient',
        'kunde',
        'kundenname',
        'musteri',
        'musteriadı',
        'musteriadi',
        'klient',
        'klant',
        'klantnaam',
      ),
      ...rules(0.6, 'a contact name', 'contactname'),
      // `Контрагент` (counterparty) is how 1C's sales exports name the customer.
      ...rules(
        0.9,
        'a customer name',
        'клиент',
        'покупатель',
        'контрагент',
        '客户',
        '客户名称',
        '顧客',
        '顧客名',
        '고객',
        '고객명',
      ),
    ],
  },
  product_id: {
    kinds: KEY,
    names: [
      ...rules(
        0.95,
        'a product id or stock code',
        'productid',
        'productcode',
        'productno',
        'stockcode',
        'sku',
        'itemid',
        'itemcode',
        'itemno',
        'articleid',
        'asin',
        'idproducto',
        'codigoproducto',
        'codigoproduto',
        'codeproduit',
        'artikelnummer',
        'codiceprodotto',
      ),
      ...rules(
        0.95,
        'a product id or stock code',
        'артикул',
        'кодтовара',
        'idтовара',
        '商品id',
        '商品编号',
        '产品编号',
        '商品コード',
        '상품코드',
        '제품코드',
      ),
    ],
  },
  product_name: {
    kinds: TEXT,
    names: [
      ...rules(
        0.9,
        'a product name',
        'productname',
        'itemname',
        'product',
        'item',
        'productdescription',
        'producto',
        'nombreproducto',
        'produto',
        'produit',
        'produkt',
        'prodotto',
        'articulo',
        'artikel',
        'urun',
        'urunadı',
        'urunadi',
      ),
      ...rules(0.8, 'a product description', 'description', 'itemdescription', 'articlename'),
      ...rules(
        0.9,
        'a product name',
        'товар',
        'наименование',
        'наименованиетовара',
        'номенклатура',
        'продукт',
        '商品',
        '商品名称',
        '产品',
        '产品名称',
        '商品名',
        '製品',
        '상품',
        '상품명',
        '제품',
        '제품명',
      ),
    ],
  },
  profit: {
    kinds: NUMERIC,
    notIdentifier: true,
    names: [
      ...rules(
        0.95,
        'a profit',
        'profit',
        'grossprofit',
        'netprofit',
        'profitamount',
        'operatingprofit',
        'totalprofit',
        'beneficio',
        'ganancia',
        'lucro',
        'benefice',
        'gewinn',
      ),
      ...rules(0.6, 'a gross income (profit)', 'grossincome'),
      ...rules(0.95, 'a profit', 'прибыль', '利润', '利益', '粗利', '이익', '순이익'),
    ],
  },
  discount: {
    kinds: NUMERIC,
    notIdentifier: true,
    names: [
      ...rules(
        0.95,
        'a discount rate',
        'discount',
        'discountrate',
        'discountpct',
        'discountpercent',
        'descuento',
        'desconto',
        'remise',
        'rabatt',
        'sconto',
      ),
      ...rules(0.8, 'a discount rate', 'discountpercentage'),
      ...rules(0.95, 'a discount rate', 'скидка', '折扣', '割引', '割引率', '할인', '할인율'),
    ],
  },
  event_type: {
    kinds: TEXT,
    names: [
      ...rules(
        0.9,
        'an event type',
        'eventtype',
        'eventname',
        'eventkind',
        'behaviortype',
        'behaviourtype',
        'actiontype',
        'interactiontype',
        'activitytype',
        'tipoevento',
        'tipodeevento',
        'typeevenement',
      ),
      ...rules(
        0.7,
        'an event or action',
        'event',
        'action',
        'behavior',
        'behaviour',
        'interaction',
        'evento',
      ),
    ],
  },
};

type Family = 'product' | 'place' | 'customer' | 'other';
const FAMILIES: readonly Family[] = ['product', 'place', 'customer', 'other'];

const DIMENSION_NAMES: ReadonlyArray<readonly [compact: string, confidence: number, family: Family]> = [
  ['category', 0.9, 'product'],
  ['productcategory', 0.9, 'product'],
  ['productline', 0.9, 'product'],
  ['department', 0.85, 'product'],
  ['dept', 0.85, 'product'],
  ['subcategory', 0.8, 'product'],
  ['productfamily', 0.8, 'product'],
  ['productgroup', 0.8, 'product'],
  ['producttype', 0.8, 'product'],
  ['itemtype', 0.75, 'product'],
  ['brand', 0.7, 'product'],
  ['region', 0.9, 'place'],
  ['store', 0.85, 'place'],
  ['shop', 0.85, 'place'],
  ['branch', 0.85, 'place'],
  ['territory', 0.9, 'place'],
  ['country', 0.85, 'place'],
  ['market', 0.8, 'place'],
  ['state', 0.8, 'place'],
  ['province', 0.8, 'place'],
  ['city', 0.75, 'place'],
  ['storetype', 0.7, 'place'],
  ['segment', 0.9, 'customer'],
  ['customersegment', 0.9, 'customer'],
  ['customertype', 0.85, 'customer'],
  ['channel', 0.85, 'customer'],
  ['saleschannel', 0.85, 'customer'],
  ['dealsize', 0.7, 'customer'],
  ['membership', 0.7, 'customer'],
  ['gender', 0.6, 'customer'],
  ['payment', 0.75, 'other'],
  ['paymentmethod', 0.75, 'other'],
  ['paymenttype', 0.75, 'other'],
  ['shipmode', 0.7, 'other'],
  ['isholiday', 0.6, 'other'],
  ['holiday', 0.6, 'other'],
  ['status', 0.5, 'other'],
  // Common forms in Spanish, Portuguese, French, German and Italian (accents are gone after snake-casing).
  ['categoria', 0.9, 'product'],
  ['categorie', 0.9, 'product'],
  ['kategorie', 0.9, 'product'],
  ['subcategoria', 0.8, 'product'],
  ['departamento', 0.85, 'product'],
  ['abteilung', 0.85, 'product'],
  ['marca', 0.7, 'product'],
  ['marque', 0.7, 'product'],
  ['marke', 0.7, 'product'],
  ['tienda', 0.85, 'place'],
  ['sucursal', 0.85, 'place'],
  ['loja', 0.85, 'place'],
  ['filial', 0.85, 'place'],
  ['magasin', 0.85, 'place'],
  ['filiale', 0.85, 'place'],
  ['negozio', 0.85, 'place'],
  ['regiao', 0.9, 'place'],
  ['pais', 0.85, 'place'],
  ['pays', 0.85, 'place'],
  ['paese', 0.85, 'place'],
  ['provincia', 0.8, 'place'],
  ['ciudad', 0.75, 'place'],
  ['cidade', 0.75, 'place'],
  ['ville', 0.75, 'place'],
  ['stadt', 0.75, 'place'],
  ['citta', 0.75, 'place'],
  ['segmento', 0.9, 'customer'],
  ['canal', 0.85, 'customer'],
  ['kanal', 0.85, 'customer'],
  ['metododepago', 0.75, 'other'],
  ['formadepago', 0.75, 'other'],
  ['formadepagamento', 0.75, 'other'],
  ['modedepaiement', 0.75, 'other'],
  ['zahlungsart', 0.75, 'other'],
  // Russian, Chinese, Japanese and Korean forms.
  ['категория', 0.9, 'product'],
  ['类别', 0.9, 'product'],
  ['品类', 0.9, 'product'],
  ['カテゴリ', 0.9, 'product'],
  ['カテゴリー', 0.9, 'product'],
  ['카테고리', 0.9, 'product'],
  ['бренд', 0.7, 'product'],
  ['品牌', 0.7, 'product'],
  ['ブランド', 0.7, 'product'],
  ['브랜드', 0.7, 'product'],
  ['регион', 0.9, 'place'],
  ['地区', 0.9, 'place'],
  ['区域', 0.9, 'place'],
  ['地域', 0.9, 'place'],
  ['지역', 0.9, 'place'],
  ['магазин', 0.85, 'place'],
  ['склад', 0.8, 'place'],
  ['门店', 0.85, 'place'],
  ['店铺', 0.85, 'place'],
  ['店舗', 0.85, 'place'],
  ['매장', 0.85, 'place'],
  ['страна', 0.85, 'place'],
  ['国家', 0.85, 'place'],
  ['국가', 0.85, 'place'],
  ['область', 0.8, 'place'],
  ['省份', 0.8, 'place'],
  ['都道府県', 0.8, 'place'],
  ['город', 0.75, 'place'],
  ['城市', 0.75, 'place'],
  ['都市', 0.75, 'place'],
  ['도시', 0.75, 'place'],
  ['сегмент', 0.9, 'customer'],
  ['канал', 0.85, 'customer'],
  ['渠道', 0.85, 'customer'],
  ['チャネル', 0.85, 'customer'],
  ['채널', 0.85, 'customer'],
  ['способоплаты', 0.75, 'other'],
  ['支付方式', 0.75, 'other'],
  ['支払方法', 0.75, 'other'],
  ['결제수단', 0.75, 'other'],
];

/** Suffixes the transformer adds next to a cleaned column (flags, scaled copies): never roles. */
const DERIVED_SUFFIXES = ['_imputed', '_outlier', '_z', '_mm'];

/** Whether `name` is a copy or flag the transformer added next to a column of `names` (`size_outlier`). */
export function isDerivedColumn(name: string, names: ReadonlySet<string>): boolean {
  return DERIVED_SUFFIXES.some((s) => name.endsWith(s) && names.has(name.slice(0, -s.length)));
}

interface Candidate {
  column: string;
  kind: ColumnKind;
  type: string;
  /** The name's snake-case words, its unit left out (`umsatz_eur`: `umsatz`). */
  words: string[];
  compact: string;
  /** The unit words left out, if any (`eur`). */
  unit?: string;
}

/** Words a name ends with to give its unit, not its meaning: a currency (`Sales (USD)`, `price_in_eur`). */
const UNIT_WORDS = new Set([
  ...CURRENCY_CODES.map((code) => code.toLowerCase()),
  'euro',
  'euros',
  'dollar',
  'dollars',
  'rupees',
  'reais',
  // French prices before and after tax (`Prix unitaire HT`, `Montant TTC`), German net and gross.
  'ht',
  'ttc',
  'netto',
  'brutto',
]);

/** The words of a name without its trailing unit (and an `in` before it), never all of them. */
function withoutUnit(words: string[]): { words: string[]; unit?: string } {
  let end = words.length;
  while (end > 1 && UNIT_WORDS.has(words[end - 1]!)) end -= 1;
  if (end === words.length) return { words };
  const unit = words.slice(end).join('_');
  if (end > 1 && words[end - 1] === 'in') end -= 1;
  return { words: words.slice(0, end), unit };
}

/** Last words that make a dimension's name a code of it: Favorita's `store_nbr`, `shop_id`, `country_code`. */
const CODE_WORDS = new Map([
  ['id', 'id'],
  ['nbr', 'number'],
  ['no', 'number'],
  ['num', 'number'],
  ['number', 'number'],
  ['code', 'code'],
  ['key', 'key'],
]);

/**
 * The dimension a column names: by its whole name; as a code of one (`store_nbr`: its number); or, for text,
 * by its last word (`customer_country`, `ship_city`: a number named so, `days_since_holiday`, is none).
 */
function dimensionName(
  c: Candidate,
): [(typeof DIMENSION_NAMES)[number], how: string | undefined, less: number] | undefined {
  const named = (compact: string) => DIMENSION_NAMES.find(([name]) => name === compact);
  const whole = named(c.compact);
  if (whole) return [whole, undefined, 0];
  if (c.words.length < 2) return undefined;
  const last = c.words.at(-1)!;
  const code = CODE_WORDS.get(last);
  const coded = code ? named(c.words.slice(0, -1).join('')) : undefined;
  if (coded) return [coded, `its ${code}`, 0.05];
  const ending = c.kind === 'text' || c.kind === 'boolean' ? named(last) : undefined;
  return ending ? [ending, 'its last word', 0.1] : undefined;
}

function isIdentifierLike(c: Candidate): boolean {
  return (
    ID_WORDS.has(c.words.at(-1) ?? '') ||
    /^(order|invoice|customer|cust|client|user|product|item|transaction|store|row|record|stock)(id|no|nr|num|number|code|key)$/.test(
      c.compact,
    )
  );
}

const KIND_TEXT: Record<ColumnKind, string> = {
  date: 'a DATE',
  timestamp: 'a TIMESTAMP',
  integer: 'an integer',
  number: 'a number',
  text: 'text',
  boolean: 'a boolean',
  other: 'of another type',
};

const ROLE_TEXT: Record<RoleName, string> = {
  event_time: 'the event time',
  amount: 'the amount',
  quantity: 'the quantity',
  unit_price: 'the unit price',
  order_id: 'the order id',
  customer_id: 'the customer id',
  customer_name: 'the customer name',
  product_id: 'the product id',
  product_name: 'the product name',
  profit: 'the profit',
  discount: 'the discount',
  event_type: 'the event type',
};

const EXPECTED_TEXT = (kinds: Kinds): string =>
  kinds === TIME
    ? 'a DATE or TIMESTAMP'
    : kinds === NUMERIC
      ? 'a number'
      : kinds === TEXT
        ? 'text'
        : kinds === DIMENSION
          ? 'text, an integer or a boolean'
          : 'a key';

/**
 * Why `column` cannot hold `role` (`dimensions`: be a dimension), or undefined when its type fits: the check a
 * role named by hand (a profile's `roles:`) gets, since no name rule vouches for it.
 */
export function roleTypeProblem(role: RoleName | 'dimensions', column: ColumnInfo): string | undefined {
  const kinds = role === 'dimensions' ? DIMENSION : ROLE_RULES[role].kinds;
  const kind = columnKind(column.type);
  if (kinds.includes(kind)) return undefined;
  return `${column.name} is ${KIND_TEXT[kind]} (${column.type}), not ${EXPECTED_TEXT(kinds)}`;
}

/** Roles of a table from its columns (see the module comment). Lineage columns (`_source`, ...) are ignored. */
export function inferRoles(columns: ReadonlyArray<ColumnInfo>): Roles {
  const names = new Set(columns.map((c) => c.name));
  const candidates: Candidate[] = columns
    .filter((c) => !c.name.startsWith('_'))
    .filter((c) => !isDerivedColumn(c.name, names))
    .map((c) => {
      const { words, unit } = withoutUnit(snakeCase(c.name, 'any').split('_').filter(Boolean));
      return { column: c.name, kind: columnKind(c.type), type: c.type, words, compact: words.join(''), unit };
    });
  const roles: Roles = { dimensions: [], notes: [] };
  const used = new Set<string>();

  for (const role of ROLE_NAMES) {
    const rule = ROLE_RULES[role];
    let best: { candidate: Candidate; rule: NameRule } | undefined;
    for (const c of candidates) {
      if (used.has(c.column)) continue;
      const match = rule.names.find(([compact]) => compact === c.compact) ?? rule.fallback?.(c.words);
      if (!match) continue;
      if (rule.notIdentifier && isIdentifierLike(c)) continue;
      if (!rule.kinds.includes(c.kind)) {
        if (match[1] >= 0.85)
          roles.notes.push(
            `${c.column} is named like ${ROLE_TEXT[role]} but is ${KIND_TEXT[c.kind]} (${c.type}), not ${EXPECTED_TEXT(rule.kinds)}`,
          );
        continue;
      }
      if (!best || match[1] > best.rule[1]) best = { candidate: c, rule: match };
    }
    if (!best) continue;
    const { candidate, rule: match } = best;
    const exact = match[0] !== '';
    roles[role] = {
      column: candidate.column,
      confidence: match[1],
      evidence: `${exact ? 'name' : 'name words of'} ${candidate.column} ${exact ? 'is' : 'suggest'} ${match[2]}${candidate.unit ? ` in ${candidate.unit}` : ''}; ${KIND_TEXT[candidate.kind]}`,
    };
    used.add(candidate.column);
  }

  // No customer id: a customer name still tells customers apart (Sample Sales Data has only names).
  if (!roles.customer_id && roles.customer_name) {
    roles.customer_id = {
      column: roles.customer_name.column,
      confidence: 0.6,
      evidence: `no customer id column; the customer name ${roles.customer_name.column} identifies the customer`,
    };
  }

  const net = 'negative values (returns, cancellations) are kept, so sums are net of them';
  if (!roles.amount && roles.quantity && roles.unit_price) {
    roles.amount = {
      column: null,
      derived: 'quantity * unit_price',
      confidence: 0.8,
      evidence: `no sales, revenue or total column: derived as ${roles.quantity.column} * ${roles.unit_price.column}; ${net}`,
    };
  } else if (!roles.amount && roles.unit_price && roles.unit_price.confidence >= 0.85) {
    // Only a column named as a price (price, unit_price), not any number whose name mentions one (fuel_price).
    roles.amount = {
      column: roles.unit_price.column,
      confidence: 0.4,
      evidence: `no sales, revenue or total column and no quantity: the price ${roles.unit_price.column} stands for the amount; ${net}`,
    };
  } else if (roles.amount) {
    roles.amount.evidence += `; ${net}`;
  }

  // No column named like the event time: the only date or time column of a table of amounts is (a shop
  // export's `sold`, `created`), unless its name says it dates something else (`ship_date`, `birth_date`).
  // A table without amounts describes things (a store's `opened`): dated, it would no longer lend dimensions.
  if (!roles.event_time && roles.amount) {
    const times = candidates.filter((c) => TIME.includes(c.kind) && !used.has(c.column));
    const only = times.length === 1 ? times[0]! : undefined;
    if (only && !only.words.some((w) => OTHER_DATES.has(w))) {
      roles.event_time = {
        column: only.column,
        confidence: 0.4,
        evidence: `no column is named like the event time: ${only.column} is the only date or time column; ${KIND_TEXT[only.kind]}`,
      };
      used.add(only.column);
    }
  }

  const dimensions = new Map<Family, ColumnRole[]>(FAMILIES.map((f) => [f, []]));
  for (const c of candidates) {
    if (used.has(c.column)) continue;
    const named = dimensionName(c);
    if (!named || !DIMENSION.includes(c.kind)) continue;
    const [[, confidence, family], how, less] = named;
    dimensions.get(family)!.push({
      column: c.column,
      confidence: Math.round((confidence - less) * 100) / 100,
      evidence: `name ${c.column} is a ${family} dimension${how ? ` (${how})` : ''}; ${KIND_TEXT[c.kind]}`,
    });
  }
  const ranked = FAMILIES.map((f) => dimensions.get(f)!.sort((a, b) => b.confidence - a.confidence));
  for (let i = 0; ranked.some((list) => i < list.length); i++) {
    for (const list of ranked) if (list[i]) roles.dimensions.push(list[i]!);
  }
  return roles;
}
