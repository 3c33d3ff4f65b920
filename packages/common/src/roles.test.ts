import { describe, expect, test } from 'vitest';
import { snakeCase } from './names';
import { type ColumnInfo, columnKind, inferRoles, type Roles } from './roles';

/** Columns as `name:TYPE` (DuckDB types unless said otherwise). */
const columns = (...specs: string[]): ColumnInfo[] =>
  specs.map((s) => {
    const [name, type] = s.split(':') as [string, string];
    return { name, type };
  });

/** Role -> column (null for a derived amount), and the dimension columns in order. */
function picked(roles: Roles): Record<string, string | null | string[]> {
  const out: Record<string, string | null | string[]> = {};
  for (const [role, value] of Object.entries(roles)) {
    if (role === 'dimensions' || role === 'notes') continue;
    out[role] = (value as { column: string | null }).column;
  }
  out.dimensions = roles.dimensions.map((d) => d.column);
  return out;
}

const LINEAGE = ['_source:VARCHAR', '_run_id:VARCHAR', '_loaded_at:TIMESTAMP WITH TIME ZONE'];

describe('inferRoles: the roles a person would pick', () => {
  test('Online Retail: the amount is derived as quantity * unit_price, cancellations netted', () => {
    const roles = inferRoles(
      columns(
        'invoice_no:VARCHAR',
        'stock_code:VARCHAR',
        'description:VARCHAR',
        'quantity:BIGINT',
        'invoice_date:TIMESTAMP',
        'unit_price:DOUBLE',
        'customer_id:DOUBLE',
        'country:VARCHAR',
        ...LINEAGE,
      ),
    );
    expect(picked(roles)).toEqual({
      event_time: 'invoice_date',
      amount: null,
      quantity: 'quantity',
      unit_price: 'unit_price',
      order_id: 'invoice_no',
      customer_id: 'customer_id',
      product_id: 'stock_code',
      product_name: 'description',
      dimensions: ['country'],
    });
    expect(roles.amount).toMatchObject({ derived: 'quantity * unit_price', column: null });
    expect(roles.amount!.evidence).toContain('quantity * unit_price');
    expect(roles.amount!.evidence).toContain('net');
  });

  test('Walmart: weekly_sales, store and dept (integers) and is_holiday as dimensions, no customers', () => {
    const roles = inferRoles(
      columns(
        'store:BIGINT',
        'dept:BIGINT',
        'date:DATE',
        'weekly_sales:DOUBLE',
        'is_holiday:BOOLEAN',
        ...LINEAGE,
      ),
    );
    expect(picked(roles)).toEqual({
      event_time: 'date',
      amount: 'weekly_sales',
      dimensions: ['dept', 'store', 'is_holiday'],
    });
  });

  test("Favorita and Predict Future Sales: a dimension's code (store_nbr, shop_id, country_code) is the dimension; item codes are not", () => {
    const favorita = inferRoles(
      columns(
        'id:BIGINT',
        'date:DATE',
        'store_nbr:BIGINT',
        'item_nbr:VARCHAR',
        'unit_sales:DOUBLE',
        'onpromotion:BOOLEAN',
        ...LINEAGE,
      ),
    );
    expect(favorita.dimensions).toEqual([
      {
        column: 'store_nbr',
        confidence: 0.8,
        evidence: 'name store_nbr is a place dimension (its number); an integer',
      },
    ]);
    const shops = inferRoles(
      columns(
        'date:DATE',
        'date_block_num:BIGINT',
        'shop_id:BIGINT',
        'item_id:BIGINT',
        'item_price:DOUBLE',
        'item_cnt_day:DOUBLE',
        'country_code:VARCHAR',
      ),
    );
    expect(shops.dimensions.map((d) => d.column)).toEqual(['shop_id', 'country_code']);
    // Text whose last word names a dimension is one; a number named so is not.
    const nested = inferRoles(
      columns(
        'order_id:VARCHAR',
        'customer_country:VARCHAR',
        'ship_city:VARCHAR',
        'days_since_holiday:BIGINT',
        'total_amount:DOUBLE',
      ),
    );
    expect(nested.dimensions).toEqual([
      {
        column: 'customer_country',
        confidence: 0.75,
        evidence: 'name customer_country is a place dimension (its last word); text',
      },
      {
        column: 'ship_city',
        confidence: 0.65,
        evidence: 'name ship_city is a place dimension (its last word); text',
      },
    ]);
  });

  test('Sample Sales Data: compact names, sales over priceeach * quantityordered, the name as customer', () => {
    const roles = inferRoles(
      columns(
        'ordernumber:BIGINT',
        'quantityordered:BIGINT',
        'priceeach:DOUBLE',
        'orderlinenumber:BIGINT',
        'sales:DOUBLE',
        'orderdate:TIMESTAMP',
        'status:VARCHAR',
        'qtr_id:BIGINT',
        'month_id:BIGINT',
        'year_id:BIGINT',
        'productline:VARCHAR',
        'msrp:BIGINT',
        'productcode:VARCHAR',
        'customername:VARCHAR',
        'phone:VARCHAR',
        'city:VARCHAR',
        'state:VARCHAR',
        'postalcode:VARCHAR',
        'country:VARCHAR',
        'territory:VARCHAR',
        'contactlastname:VARCHAR',
        'dealsize:VARCHAR',
      ),
    );
    expect(picked(roles)).toMatchObject({
      event_time: 'orderdate',
      amount: 'sales',
      quantity: 'quantityordered',
      unit_price: 'priceeach',
      order_id: 'ordernumber',
      customer_id: 'customername',
      customer_name: 'customername',
      product_id: 'productcode',
    });
    expect(roles.dimensions.slice(0, 3).map((d) => d.column)).toEqual([
      'productline',
      'territory',
      'dealsize',
    ]);
    expect(roles.customer_id!.evidence).toContain('no customer id column');
  });

  test('Supermarket sales: total, invoice_id, product_line / branch / customer_type first', () => {
    const roles = inferRoles(
      columns(
        'invoice_id:VARCHAR',
        'branch:VARCHAR',
        'city:VARCHAR',
        'customer_type:VARCHAR',
        'gender:VARCHAR',
        'product_line:VARCHAR',
        'unit_price:DOUBLE',
        'quantity:BIGINT',
        'tax_5:DOUBLE',
        'total:DOUBLE',
        'date:DATE',
        'time:VARCHAR',
        'payment:VARCHAR',
        'cogs:DOUBLE',
        'gross_margin_percentage:DOUBLE',
        'gross_income:DOUBLE',
        'rating:DOUBLE',
      ),
    );
    expect(picked(roles)).toEqual({
      event_time: 'date',
      amount: 'total',
      quantity: 'quantity',
      unit_price: 'unit_price',
      order_id: 'invoice_id',
      profit: 'gross_income',
      dimensions: ['product_line', 'branch', 'customer_type', 'payment', 'city', 'gender'],
    });
  });

  test('Retail Sales Dataset: total_amount, not price_per_unit; BigQuery type names', () => {
    const roles = inferRoles(
      columns(
        'transaction_id:INT64',
        'date:DATE',
        'customer_id:STRING',
        'gender:STRING',
        'age:INT64',
        'product_category:STRING',
        'quantity:INT64',
        'price_per_unit:FLOAT64',
        'total_amount:FLOAT64',
      ),
    );
    expect(picked(roles)).toEqual({
      event_time: 'date',
      amount: 'total_amount',
      quantity: 'quantity',
      unit_price: 'price_per_unit',
      order_id: 'transaction_id',
      customer_id: 'customer_id',
      dimensions: ['product_category', 'gender'],
    });
  });

  test('Superstore: every role, order_date over ship_date, identifiers never amounts', () => {
    const roles = inferRoles(
      columns(
        'row_id:BIGINT',
        'order_id:VARCHAR',
        'order_date:DATE',
        'ship_date:DATE',
        'ship_mode:VARCHAR',
        'customer_id:VARCHAR',
        'customer_name:VARCHAR',
        'segment:VARCHAR',
        'country:VARCHAR',
        'city:VARCHAR',
        'state:VARCHAR',
        'postal_code:BIGINT',
        'region:VARCHAR',
        'product_id:VARCHAR',
        'category:VARCHAR',
        'sub_category:VARCHAR',
        'product_name:VARCHAR',
        'sales:DOUBLE',
        'quantity:BIGINT',
        'discount:DOUBLE',
        'profit:DOUBLE',
        ...LINEAGE,
      ),
    );
    expect(picked(roles)).toEqual({
      event_time: 'order_date',
      amount: 'sales',
      quantity: 'quantity',
      order_id: 'order_id',
      customer_id: 'customer_id',
      customer_name: 'customer_name',
      product_id: 'product_id',
      product_name: 'product_name',
      profit: 'profit',
      discount: 'discount',
      dimensions: ['category', 'region', 'segment', 'ship_mode', 'sub_category', 'country', 'state', 'city'],
    });
    expect(roles.event_time).toMatchObject({ confidence: 0.95 });
    expect(roles.event_time!.evidence).toBe(
      'name order_date is an order, invoice, transaction or purchase date; a DATE',
    );
  });
});

describe('inferRoles: amounts named otherwise', () => {
  test("Black Friday's Purchase is the amount, User_ID the customer; Olist's payment_value is its payments' amount; Adidas's operating profit", () => {
    const blackFriday = inferRoles(
      columns(
        'user_id:BIGINT',
        'product_id:VARCHAR',
        'gender:VARCHAR',
        'age:VARCHAR',
        'occupation:BIGINT',
        'city_category:VARCHAR',
        'marital_status:BIGINT',
        'product_category_1:BIGINT',
        'purchase:BIGINT',
        ...LINEAGE,
      ),
    );
    expect(picked(blackFriday)).toMatchObject({
      amount: 'purchase',
      customer_id: 'user_id',
      product_id: 'product_id',
    });
    const payments = inferRoles(
      columns(
        'order_id:VARCHAR',
        'payment_sequential:BIGINT',
        'payment_type:VARCHAR',
        'payment_installments:BIGINT',
        'payment_value:DOUBLE',
      ),
    );
    expect(picked(payments)).toMatchObject({ amount: 'payment_value', order_id: 'order_id' });
    // Adidas US Sales: total_sales the amount, operating_profit the profit (its margin is a ratio, no profit).
    const adidas = inferRoles(
      columns(
        'retailer:VARCHAR',
        'invoice_date:DATE',
        'price_per_unit:DOUBLE',
        'units_sold:BIGINT',
        'total_sales:DOUBLE',
        'operating_profit:DOUBLE',
        'operating_margin:DOUBLE',
      ),
    );
    expect(picked(adidas)).toMatchObject({ amount: 'total_sales', profit: 'operating_profit' });
    // Maven's CRM sales_pipeline: close_value the amount, close_date its time; a report's Deal Size likewise.
    const pipeline = inferRoles(
      columns(
        'opportunity_id:VARCHAR',
        'sales_agent:VARCHAR',
        'product:VARCHAR',
        'account:VARCHAR',
        'deal_stage:VARCHAR',
        'engage_date:DATE',
        'close_date:DATE',
        'close_value:BIGINT',
      ),
    );
    expect(picked(pipeline)).toMatchObject({ amount: 'close_value', event_time: 'close_date' });
    expect(
      picked(inferRoles(columns('region:VARCHAR', 'close_date:DATE', 'deal_size:DOUBLE'))),
    ).toMatchObject({
      amount: 'deal_size',
    });
    // A Latin American till export: Venta Neta the amount; a Brazilian one's Receita Líquida.
    for (const name of ['venta_neta', 'ventas_netas', 'receita_liquida', 'vendas_liquidas'])
      expect(picked(inferRoles(columns('fecha:DATE', `${name}:DOUBLE`))).amount, name).toBe(name);
    // A German ERP journal: Buchungsdatum the event time, Umsatz the amount.
    expect(
      picked(inferRoles(columns('belegnr:VARCHAR', 'buchungsdatum:DATE', 'umsatz:DOUBLE', 'menge:BIGINT'))),
    ).toMatchObject({ event_time: 'buchungsdatum', amount: 'umsatz', quantity: 'menge' });
    // A purchase's date or address is no amount.
    const dated = inferRoles(columns('purchase_date:DATE', 'purchase_address:VARCHAR', 'units:BIGINT'));
    expect(dated.amount).toBeUndefined();
  });
});

describe('inferRoles: event logs', () => {
  test('REES46: event_time is the event time, event_type the event type, price the amount', () => {
    const roles = inferRoles(
      columns(
        'event_time:TIMESTAMP',
        'event_type:VARCHAR',
        'product_id:BIGINT',
        'category_id:BIGINT',
        'category_code:VARCHAR',
        'brand:VARCHAR',
        'price:DOUBLE',
        'user_id:BIGINT',
        'user_session:VARCHAR',
        ...LINEAGE,
      ),
    );
    expect(picked(roles)).toMatchObject({
      event_time: 'event_time',
      amount: 'price',
      event_type: 'event_type',
      customer_id: 'user_id',
      product_id: 'product_id',
    });
    expect(roles.event_time?.confidence).toBe(0.85);
    expect(roles.dimensions.map((d) => d.column)).not.toContain('event_type');
  });

  test("Taobao's behavior_type and a plain action are event types; M5's event_type_1 and numbers are not", () => {
    expect(inferRoles(columns('behavior_type:VARCHAR', 'item_id:BIGINT')).event_type?.column).toBe(
      'behavior_type',
    );
    expect(inferRoles(columns('Action:VARCHAR')).event_type).toMatchObject({
      column: 'Action',
      confidence: 0.7,
    });
    expect(inferRoles(columns('event_type_1:VARCHAR', 'event_name_1:VARCHAR')).event_type).toBeUndefined();
    expect(inferRoles(columns('event:BIGINT')).event_type).toBeUndefined();
  });
});

describe('inferRoles: names, types and fallbacks', () => {
  test('raw header spellings match after snake-casing', () => {
    expect(snakeCase('InvoiceDate')).toBe('invoice_date');
    expect(snakeCase('CustomerID')).toBe('customer_id');
    expect(snakeCase('Sub-Category')).toBe('sub_category');
    const roles = inferRoles(
      columns('Order Date:DATE', 'InvoiceNo:VARCHAR', 'UnitPrice:DOUBLE', 'Qty:INTEGER'),
    );
    expect(picked(roles)).toMatchObject({
      event_time: 'Order Date',
      order_id: 'InvoiceNo',
      unit_price: 'UnitPrice',
      quantity: 'Qty',
      amount: null,
    });
  });

  test('Portuguese and Spanish dates named data or fecha; a delivery or birth date is not the sale', () => {
    const pt = inferRoles(
      columns('pedido:BIGINT', 'data_compra:TIMESTAMP', 'data_entrega:DATE', 'valor_total:DOUBLE'),
    );
    expect(picked(pt)).toMatchObject({ event_time: 'data_compra', amount: 'valor_total' });
    const fallback = inferRoles(columns('data_entrega:DATE', 'data_emissao:DATE', 'valor:DOUBLE'));
    expect(picked(fallback)).toMatchObject({ event_time: 'data_emissao' });
    const es = inferRoles(columns('fecha_nacimiento:DATE', 'fecha_envio:DATE', 'importe:DOUBLE'));
    expect(picked(es)['event_time']).toBeUndefined();
  });

  test('Turkish headers, with their letters (ş ğ ü folded, a dotless ı kept) or written in ASCII', () => {
    const tr = inferRoles(
      columns(
        'Sipariş Tarihi:DATE',
        'Müşteri Adı:VARCHAR',
        'Ürün Adı:VARCHAR',
        'Miktar:BIGINT',
        'Birim Fiyat:DOUBLE',
        'Satış Tutarı:DOUBLE',
        'Şehir:VARCHAR',
      ),
    );
    expect(picked(tr)).toMatchObject({
      event_time: 'Sipariş Tarihi',
      customer_name: 'Müşteri Adı',
      product_name: 'Ürün Adı',
      quantity: 'Miktar',
      unit_price: 'Birim Fiyat',
      amount: 'Satış Tutarı',
    });
    const ascii = inferRoles(
      columns('Tarih:DATE', 'Urun:VARCHAR', 'Adet:BIGINT', 'Tutar:DOUBLE', 'Siparis No:VARCHAR'),
    );
    expect(picked(ascii)).toMatchObject({
      event_time: 'Tarih',
      product_name: 'Urun',
      quantity: 'Adet',
      amount: 'Tutar',
      order_id: 'Siparis No',
    });
  });

  test('common Spanish, Portuguese, French and German headers', () => {
    const es = inferRoles(
      columns(
        'Fecha:DATE',
        'Tienda:VARCHAR',
        'Categoría:VARCHAR',
        'Importe:DOUBLE',
        'Unidades:BIGINT',
        'ID Cliente:VARCHAR',
      ),
    );
    expect(picked(es)).toMatchObject({
      event_time: 'Fecha',
      amount: 'Importe',
      quantity: 'Unidades',
      customer_id: 'ID Cliente',
      dimensions: ['Categoría', 'Tienda'],
    });
    const pt = inferRoles(
      columns(
        'Data da Venda:DATE',
        'Produto:VARCHAR',
        'Quantidade:BIGINT',
        'Preço Unitário:DOUBLE',
        'Loja:VARCHAR',
      ),
    );
    expect(picked(pt)).toMatchObject({
      event_time: 'Data da Venda',
      product_name: 'Produto',
      quantity: 'Quantidade',
      unit_price: 'Preço Unitário',
      amount: null,
      dimensions: ['Loja'],
    });
    const fr = inferRoles(
      columns('Date de commande:DATE', 'Montant:DOUBLE', 'Pays:VARCHAR', 'Remise:DOUBLE'),
    );
    expect(picked(fr)).toMatchObject({
      event_time: 'Date de commande',
      amount: 'Montant',
      discount: 'Remise',
      dimensions: ['Pays'],
    });
    const de = inferRoles(
      columns('Bestelldatum:DATE', 'Umsatz:DOUBLE', 'Menge:BIGINT', 'Kunde:VARCHAR', 'Filiale:VARCHAR'),
    );
    expect(picked(de)).toMatchObject({
      event_time: 'Bestelldatum',
      amount: 'Umsatz',
      quantity: 'Menge',
      customer_name: 'Kunde',
      dimensions: ['Filiale'],
    });
  });

  test.each([
    {
      language: 'Russian',
      headers: ['Дата заказа:DATE', 'Номер заказа:VARCHAR', 'Цена:DOUBLE', 'Кол-во:BIGINT', 'Регион:VARCHAR'],
      roles: {
        event_time: 'Дата заказа',
        order_id: 'Номер заказа',
        unit_price: 'Цена',
        quantity: 'Кол-во',
        dimensions: ['Регион'],
      },
    },
    {
      language: 'Chinese',
      headers: ['日期:DATE', '门店:VARCHAR', '商品编号:VARCHAR', '销售额:DOUBLE', '利润:DOUBLE'],
      roles: {
        event_time: '日期',
        amount: '销售额',
        product_id: '商品编号',
        profit: '利润',
        dimensions: ['门店'],
      },
    },
    {
      language: 'Japanese',
      headers: ['注文日:DATE', '顧客ID:VARCHAR', '売上:BIGINT', '割引:DOUBLE', 'カテゴリー:VARCHAR'],
      roles: {
        event_time: '注文日',
        customer_id: '顧客ID',
        amount: '売上',
        discount: '割引',
        dimensions: ['カテゴリー'],
      },
    },
    {
      language: 'Korean',
      headers: ['주문일자:DATE', '고객명:VARCHAR', '매출액:BIGINT', '지역:VARCHAR'],
      roles: { event_time: '주문일자', customer_name: '고객명', amount: '매출액', dimensions: ['지역'] },
    },
    {
      language: 'French HT/TTC',
      headers: ['Date de commande:DATE', 'Quantité:BIGINT', 'Prix unitaire HT:DOUBLE', 'Montant TTC:DOUBLE'],
      roles: {
        event_time: 'Date de commande',
        quantity: 'Quantité',
        unit_price: 'Prix unitaire HT',
        amount: 'Montant TTC',
      },
    },
    {
      language: 'Dutch',
      headers: ['Orderdatum:DATE', 'Klant:VARCHAR', 'Aantal:BIGINT', 'Prijs:DOUBLE', 'Omzet:DOUBLE'],
      roles: {
        event_time: 'Orderdatum',
        customer_name: 'Klant',
        quantity: 'Aantal',
        unit_price: 'Prijs',
        amount: 'Omzet',
      },
    },
    {
      language: 'Polish',
      headers: [
        'Data zamówienia:DATE',
        'Klient:VARCHAR',
        'Ilość:BIGINT',
        'Cena jednostkowa:DOUBLE',
        'Wartość:DOUBLE',
      ],
      roles: {
        event_time: 'Data zamówienia',
        customer_name: 'Klient',
        quantity: 'Ilość',
        unit_price: 'Cena jednostkowa',
        amount: 'Wartość',
      },
    },
  ])('common $language headers', ({ headers, roles }) => {
    expect(picked(inferRoles(columns(...headers)))).toMatchObject(roles);
  });

  test('a currency after the name is its unit: Sales (USD), umsatz_eur, price_in_inr; a code alone stays a name', () => {
    const roles = inferRoles(
      columns(
        'Order Date:DATE',
        'Sales (USD):DOUBLE',
        'Unit Price in INR:DOUBLE',
        'Qty:BIGINT',
        'usd:DOUBLE',
      ),
    );
    expect(picked(roles)).toMatchObject({
      amount: 'Sales (USD)',
      unit_price: 'Unit Price in INR',
      quantity: 'Qty',
    });
    expect(roles.amount?.evidence).toMatch(
      /^name Sales \(USD\) is a sales, revenue or total amount in usd; a number;/,
    );
    expect(
      picked(inferRoles(columns('Quartal:DATE', 'Umsatz (EUR):DOUBLE', 'Betrag_Euro:DOUBLE'))),
    ).toMatchObject({
      amount: 'Umsatz (EUR)',
    });
    expect(inferRoles(columns('usd:DOUBLE', 'eur:DOUBLE')).amount).toBeUndefined();
  });

  test('a date-named text column is no event time, and says why', () => {
    const roles = inferRoles(columns('order_date:VARCHAR', 'sales:DOUBLE'));
    expect(roles.event_time).toBeUndefined();
    expect(roles.notes).toEqual([
      'order_date is named like the event time but is text (VARCHAR), not a DATE or TIMESTAMP',
    ]);
  });

  test('no column named like the event time: the only date or time column of a table of amounts is, weakly, unless it dates something else', () => {
    const roles = inferRoles(
      columns('sku:VARCHAR', 'qty:BIGINT', 'price:DOUBLE', 'sold:TIMESTAMP', ...LINEAGE),
    );
    expect(roles.event_time).toMatchObject({
      column: 'sold',
      confidence: 0.4,
      evidence: 'no column is named like the event time: sold is the only date or time column; a TIMESTAMP',
    });
    expect(inferRoles(columns('sku:VARCHAR', 'price:DOUBLE', 'ship:DATE')).event_time).toBeUndefined();
    expect(inferRoles(columns('opened:DATE', 'closed:DATE', 'sales:DOUBLE')).event_time).toBeUndefined();
    // A table without amounts describes things: a store's opening date does not date it.
    expect(inferRoles(columns('store:VARCHAR', 'size:BIGINT', 'opened:DATE')).event_time).toBeUndefined();
  });

  test('identifier-like and non-money numbers are never amounts; a price alone is a weak amount', () => {
    expect(inferRoles(columns('sales_id:BIGINT', 'sales_count:BIGINT', 'fecha:DATE')).amount).toBeUndefined();
    const roles = inferRoles(columns('fecha:DATE', 'price:DOUBLE', 'net_sales_usd:DOUBLE'));
    expect(roles.event_time?.column).toBe('fecha');
    expect(roles.amount).toMatchObject({ column: 'net_sales_usd', confidence: 0.95 });
    expect(inferRoles(columns('fecha:DATE', 'price:DOUBLE')).amount).toMatchObject({
      column: 'price',
      confidence: 0.4,
    });
    // Walmart's features.csv: a fuel price is no sales amount.
    const features = inferRoles(
      columns('store:BIGINT', 'date:DATE', 'temperature:DOUBLE', 'fuel_price:DOUBLE'),
    );
    expect(features.amount).toBeUndefined();
  });

  test("transformer flags and scaled copies (sales_z, sales_imputed) are not roles; a DATE's other dates are not", () => {
    const roles = inferRoles(
      columns(
        'ship_date:DATE',
        'sales:DOUBLE',
        'sales_z:DOUBLE',
        'sales_imputed:BOOLEAN',
        'created_at:TIMESTAMP',
      ),
    );
    expect(roles.event_time?.column).toBe('created_at');
    expect(roles.amount?.column).toBe('sales');
    expect(roles.dimensions).toEqual([]);
  });

  test('column kinds from both engines', () => {
    expect(
      [
        'DATE',
        'TIMESTAMP WITH TIME ZONE',
        'DATETIME',
        'INT64',
        'HUGEINT',
        'DECIMAL(18,3)',
        'NUMERIC',
        'FLOAT64',
        'STRING',
        'VARCHAR',
        'BOOL',
        'BLOB',
      ].map(columnKind),
    ).toEqual([
      'date',
      'timestamp',
      'timestamp',
      'integer',
      'integer',
      'number',
      'number',
      'number',
      'text',
      'text',
      'boolean',
      'other',
    ]);
  });
});
