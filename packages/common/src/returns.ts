/**
 * Returns and cancellations in a table's rows: negative amounts, negative quantities, and order ids that are
 * `C` and a digit (Online Retail's cancelled invoices, `C536379`; not `CA-2016-152156`, a Superstore order).
 * Such rows are kept, so every sum over the amount is net of them; this says whether there are any. The
 * transform stage measures it on the cleaned rows (DuckDB) and records it with the roles; the analyze stage
 * measures the fact table itself when the warehouse recorded no roles. One SQL for both engines.
 */
import { amountSql } from './fact-table';
import type { ReturnsNote, Roles } from './roles';
import type { SqlDialect } from './warehouse/dialect';

/**
 * SQL counting the returns over `relation` (a quoted table or a parenthesised query, plus any `WHERE`), or
 * undefined without an amount role. Its one row: `negative_amounts`, `negative_quantities`, `cancelled_orders`.
 */
export function returnsSql(dialect: SqlDialect, roles: Roles, relation: string): string | undefined {
  const amount = amountSql(dialect, roles);
  if (amount === undefined) return undefined;
  const quantity = roles.quantity ? dialect.identifier(roles.quantity.column) : undefined;
  const order = roles.order_id ? `CAST(${dialect.identifier(roles.order_id.column)} AS STRING)` : undefined;
  return `SELECT sum(IF(${amount} < 0, 1, 0)) AS negative_amounts,
                 ${quantity ? `sum(IF(${quantity} < 0, 1, 0))` : '0'} AS negative_quantities,
                 ${order ? `sum(IF(${order} LIKE 'C%' AND SUBSTR(${order}, 2, 1) BETWEEN '0' AND '9', 1, 0))` : '0'} AS cancelled_orders
          FROM ${relation}`;
}

/** The row of `returnsSql` as a note. */
export function returnsNote(row: Record<string, unknown> | undefined): ReturnsNote {
  const negativeAmounts = Number(row?.['negative_amounts'] ?? 0);
  const negativeQuantities = Number(row?.['negative_quantities'] ?? 0);
  const cancelledOrders = Number(row?.['cancelled_orders'] ?? 0);
  const net = negativeAmounts + negativeQuantities + cancelledOrders > 0;
  const found = [
    negativeAmounts > 0 ? `${negativeAmounts} rows with a negative amount` : undefined,
    negativeQuantities > 0 ? `${negativeQuantities} with a negative quantity` : undefined,
    cancelledOrders > 0 ? `${cancelledOrders} with a cancelled (C) order id` : undefined,
  ].filter(Boolean);
  return {
    net,
    negativeAmounts,
    negativeQuantities,
    cancelledOrders,
    evidence: net
      ? `the amount is net of returns and cancellations, which are kept: ${found.join(', ')}`
      : 'no negative amount or quantity and no cancelled (C) order id: the amount is sales only',
  };
}
