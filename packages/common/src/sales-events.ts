/**
 * Which rows of a table are sales, when a column says so:
 *   - an event log (the event type role): a log of what shoppers did (REES46's `event_type`: `view`, `cart`,
 *     `purchase`; Taobao's `behavior_type`: `pv`, `buy`) carries a price on every row, so summing it over all
 *     rows would count every product view as revenue. Only the rows whose value names a sale are sales.
 *   - an order status (a text column named `status`, `order_status`, ...): Amazon's sale report keeps its
 *     `Cancelled` orders with their amounts. Every row is a sale except those whose status says cancelled,
 *     refunded, returned or rejected (`Shipped - Returned to Seller`); a row without a status is a sale.
 * Every sum over the amount then reads only the sales rows (`salesFilter`); the other rows stay loaded.
 *
 * The transform stage measures it on the cleaned rows and records it with the roles, as it does the returns.
 * One SQL for both engines; values reach SQL as literals only after `isPlainValue` accepts them.
 */
import { snakeCase } from './names';
import { type ColumnInfo, columnKind, type Roles, type SalesEvents } from './roles';
import type { SqlDialect } from './warehouse/dialect';
import { quoteLiteral } from './warehouse/sql';

/**
 * Event values that record a sale, compared without case, spaces, `_` or `-` (`Order Completed`). Not `sale`
 * (nor `venta`, `venda`): an `event` column of a sales table may name promotions (`Sale`, `None`), and taking it
 * for an event log would leave every day without a promotion out of the revenue.
 */
const SALE_EVENTS = new Set([
  'purchase',
  'purchased',
  'buy',
  'bought',
  'sold',
  'transaction',
  'order',
  'ordered',
  'orderplaced',
  'placedorder',
  'placeorder',
  'ordercompleted',
  'completedorder',
  'checkoutcompleted',
  'completedcheckout',
  'compra',
  'achat',
  'kauf',
]);

/** Names (snake_case, without `_`) of a column holding an order's status. */
const STATUS_NAMES = new Set([
  'status',
  'orderstatus',
  'transactionstatus',
  'salestatus',
  'salesstatus',
  'invoicestatus',
  'estado',
  'estadopedido',
  'estadodelpedido',
  'statut',
  'bestellstatus',
  'stato',
]);

/** Words of a status that make its row no sale, accents dropped (`annulée` -> `annulee`). */
const NOT_SALE_WORDS = new Set([
  'cancel',
  'cancelled',
  'canceled',
  'cancellation',
  'void',
  'voided',
  'refund',
  'refunded',
  'returned',
  'rejected',
  'cancelado',
  'cancelada',
  'devuelto',
  'devolvido',
  'reembolsado',
  'annule',
  'annulee',
  'storniert',
  'annullato',
]);

/** More distinct values than this, and the column is not a list of event kinds or statuses. */
export const MAX_EVENT_VALUES = 100;

/** Letters, digits, spaces and `_ - / . , ( ) & :` only: a value that is safe as a literal in both engines. */
const isPlainValue = (value: string): boolean => /^[\p{L}\p{N} _\-/.,()&:]{1,80}$/u.test(value);

const words = (value: string): string[] =>
  value
    .normalize('NFD')
    .replaceAll(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);

const isSaleEvent = (value: string): boolean =>
  isPlainValue(value) && SALE_EVENTS.has(value.toLowerCase().replaceAll(/[ _-]/g, ''));

const isNotSaleStatus = (value: string): boolean =>
  isPlainValue(value) && words(value).some((w) => NOT_SALE_WORDS.has(w));

/** The column that says which rows are sales, and how: the event type role, else an order status column. */
export interface SalesColumn {
  column: string;
  by: 'event type' | 'status';
}

export function salesColumn(roles: Roles, columns: readonly ColumnInfo[]): SalesColumn | undefined {
  if (roles.event_type) return { column: roles.event_type.column, by: 'event type' };
  const status = columns.find(
    (c) => columnKind(c.type) === 'text' && STATUS_NAMES.has(snakeCase(c.name).replaceAll('_', '')),
  );
  return status ? { column: status.name, by: 'status' } : undefined;
}

/**
 * SQL counting the rows of each value of `column` over `relation` (a quoted table or a parenthesised query,
 * plus any `WHERE`), at most MAX_EVENT_VALUES + 1 values. Its rows: `value` (NULL for rows without one), `n`.
 */
export function valueCountsSql(dialect: SqlDialect, column: string, relation: string): string {
  const quoted = dialect.identifier(column);
  return `SELECT CAST(${quoted} AS STRING) AS value, count(*) AS n FROM ${relation}
          GROUP BY 1 ORDER BY n DESC, value LIMIT ${MAX_EVENT_VALUES + 1}`;
}

/**
 * The sales rows from the rows of `valueCountsSql` over `source`'s column; undefined when no value says
 * which rows are sales, when every row is a sale or none is, or when there are too many values.
 */
export function salesEvents(
  source: SalesColumn,
  rows: ReadonlyArray<Record<string, unknown>>,
): SalesEvents | undefined {
  if (rows.length > MAX_EVENT_VALUES) return undefined;
  const counted = rows.map((r) => ({
    value: r['value'] === null ? null : String(r['value']),
    n: Number(r['n']),
  }));
  const byEvent = source.by === 'event type';
  const named = counted.filter((c) => c.value !== null && (byEvent ? isSaleEvent : isNotSaleStatus)(c.value));
  const rest = counted.filter((c) => !named.includes(c));
  if (named.length === 0 || rest.length === 0) return undefined;
  const [sales, others] = byEvent ? [named, rest] : [rest, named];
  const sum = (list: typeof counted) => list.reduce((total, c) => total + c.n, 0);
  const quote = (list: typeof counted) => {
    const shown = list.slice(0, 5).map((c) => (c.value === null ? 'none' : JSON.stringify(c.value)));
    return list.length > 5 ? [...shown, `${list.length - 5} more values`] : shown;
  };
  const [rowsOf, otherRows] = [sum(sales), sum(others)];
  const { column } = source;
  const values = named.map((c) => c.value!);
  return {
    column,
    mode: byEvent ? 'only' : 'except',
    values,
    rows: rowsOf,
    otherRows,
    evidence: byEvent
      ? `${column} says which rows are sales: only its ${quote(sales).join(', ')} rows (${rowsOf} of ` +
        `${rowsOf + otherRows}) are summed; the ${otherRows} rows of ${quote(others).join(', ')} are loaded but are not sales`
      : `${column} says which rows are no sale: its ${quote(others).join(', ')} rows (${otherRows} of ` +
        `${rowsOf + otherRows}) are loaded but left out of every sum`,
  };
}

/** The SQL condition keeping only the sales rows, or undefined when every row counts. */
export function salesFilter(dialect: SqlDialect, roles: Roles): string | undefined {
  const sales = roles.sales;
  if (!sales) return undefined;
  const values = sales.values.filter(isPlainValue);
  if (values.length === 0) return undefined;
  const column = dialect.identifier(sales.column);
  const list = values.map(quoteLiteral).join(', ');
  return sales.mode === 'except'
    ? `(${column} IS NULL OR ${column} NOT IN (${list}))`
    : `${column} IN (${list})`;
}
