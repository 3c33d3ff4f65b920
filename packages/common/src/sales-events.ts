/**
 * Which rows of an event log are sales. A log of what shoppers did (REES46's `event_type`: `view`, `cart`,
 * `purchase`; Taobao's `behavior_type`: `pv`, `buy`) carries a price on every row, so summing it over all rows
 * would count every product view as revenue. When the event type role's values include words for a sale, every
 * sum over the amount reads only the rows with those values (`salesFilter`); the other rows stay loaded.
 *
 * The transform stage measures it on the cleaned rows and records it with the roles, as it does the returns.
 * One SQL for both engines; the values reach SQL as literals only after `isPlainEventValue` accepts them.
 */
import type { Roles, SalesEvents } from './roles';
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

/** More distinct values than this, and the column is not a list of event kinds. */
export const MAX_EVENT_VALUES = 100;

/** Letters, digits, spaces, `_` and `-` only: a value that is safe as a literal in both engines. */
const isPlainEventValue = (value: string): boolean => /^[A-Za-z0-9 _-]{1,40}$/.test(value);

const isSaleEvent = (value: string): boolean =>
  isPlainEventValue(value) && SALE_EVENTS.has(value.toLowerCase().replaceAll(/[ _-]/g, ''));

/**
 * SQL counting the rows of each event type value over `relation` (a quoted table or a parenthesised query,
 * plus any `WHERE`), at most MAX_EVENT_VALUES + 1 values; undefined without an event type role. Its rows:
 * `value` (NULL for rows without one) and `n`.
 */
export function eventValuesSql(dialect: SqlDialect, roles: Roles, relation: string): string | undefined {
  if (!roles.event_type) return undefined;
  const column = dialect.identifier(roles.event_type.column);
  return `SELECT CAST(${column} AS STRING) AS value, count(*) AS n FROM ${relation}
          GROUP BY 1 ORDER BY n DESC, value LIMIT ${MAX_EVENT_VALUES + 1}`;
}

/**
 * The sales rows from the rows of `eventValuesSql`; undefined when no value names a sale, when every row is a
 * sale (nothing to leave out), or when there are too many values for event kinds.
 */
export function salesEvents(
  column: string,
  rows: ReadonlyArray<Record<string, unknown>>,
): SalesEvents | undefined {
  if (rows.length > MAX_EVENT_VALUES) return undefined;
  const counted = rows.map((r) => ({
    value: r['value'] === null ? null : String(r['value']),
    n: Number(r['n']),
  }));
  const sales = counted.filter((c) => c.value !== null && isSaleEvent(c.value));
  const others = counted.filter((c) => !sales.includes(c));
  if (sales.length === 0 || others.length === 0) return undefined;
  const sum = (list: typeof counted) => list.reduce((total, c) => total + c.n, 0);
  const values = sales.map((c) => c.value!);
  const rowsOf = sum(sales);
  const otherRows = sum(others);
  const named = others.slice(0, 5).map((c) => (c.value === null ? 'none' : JSON.stringify(c.value)));
  if (others.length > 5) named.push(`${others.length - 5} more values`);
  return {
    column,
    values,
    rows: rowsOf,
    otherRows,
    evidence:
      `${column} says which rows are sales: only its ${values.map((v) => JSON.stringify(v)).join(', ')} rows ` +
      `(${rowsOf} of ${rowsOf + otherRows}) are summed; the ${otherRows} rows of ${named.join(', ')} are loaded ` +
      'but are not sales',
  };
}

/** The SQL condition keeping only the sales rows, or undefined when every row counts. */
export function salesFilter(dialect: SqlDialect, roles: Roles): string | undefined {
  const sales = roles.sales;
  if (!sales) return undefined;
  const values = sales.values.filter(isPlainEventValue);
  if (values.length === 0) return undefined;
  return `${dialect.identifier(sales.column)} IN (${values.map(quoteLiteral).join(', ')})`;
}
