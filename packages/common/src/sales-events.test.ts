import { describe, expect, test } from 'vitest';
import { type ColumnInfo, inferRoles } from './roles';
import { MAX_EVENT_VALUES, salesColumn, salesEvents, salesFilter, valueCountsSql } from './sales-events';
import { bigQueryDialect, duckDbDialect } from './warehouse/dialect';

const counts = (...pairs: Array<[string | null, number]>) => pairs.map(([value, n]) => ({ value, n }));
const byEvent = (column: string) => ({ column, by: 'event type' as const });
const byStatus = (column: string) => ({ column, by: 'status' as const });

describe('salesColumn: the column that says which rows are sales', () => {
  const columns = (...specs: string[]): ColumnInfo[] =>
    specs.map((s) => ({ name: s.split(':')[0]!, type: s.split(':')[1]! }));

  test('the event type role first, else a text column named like an order status', () => {
    const log = columns('event_time:TIMESTAMP', 'event_type:VARCHAR', 'status:VARCHAR', 'price:DOUBLE');
    expect(salesColumn(inferRoles(log), log)).toEqual({ column: 'event_type', by: 'event type' });
    const amazon = columns('Order ID:VARCHAR', 'Status:VARCHAR', 'Courier Status:VARCHAR', 'Amount:DOUBLE');
    expect(salesColumn(inferRoles(amazon), amazon)).toEqual({ column: 'Status', by: 'status' });
    const olist = columns('order_status:VARCHAR', 'price:DOUBLE');
    expect(salesColumn(inferRoles(olist), olist)?.column).toBe('order_status');
  });

  test('no such column, or a status that is not text: none', () => {
    const plain = columns('courier_status:VARCHAR', 'amount:DOUBLE');
    expect(salesColumn(inferRoles(plain), plain)).toBeUndefined();
    const coded = columns('status:BIGINT', 'amount:DOUBLE');
    expect(salesColumn(inferRoles(coded), coded)).toBeUndefined();
  });
});

describe('salesEvents: which rows are sales', () => {
  test('REES46: the purchases, out of views and carts; rows without a type are not sales', () => {
    const sales = salesEvents(
      byEvent('event_type'),
      counts(['view', 900], ['cart', 60], ['remove_from_cart', 20], ['purchase', 15], [null, 5]),
    );
    expect(sales).toEqual({
      column: 'event_type',
      mode: 'only',
      values: ['purchase'],
      rows: 15,
      otherRows: 985,
      evidence:
        'event_type says which rows are sales: only its "purchase" rows (15 of 1000) are summed; the 985 rows of ' +
        '"view", "cart", "remove_from_cart", none are loaded but are not sales',
    });
  });

  test('sale words are compared without case, spaces, _ and -; several may name a sale', () => {
    expect(
      salesEvents(byEvent('behavior_type'), counts(['pv', 80], ['fav', 5], ['cart', 10], ['buy', 5]))?.values,
    ).toEqual(['buy']);
    expect(
      salesEvents(byEvent('Event'), counts(['Page View', 50], ['Order Completed', 4], ['order-placed', 3]))
        ?.values,
    ).toEqual(['Order Completed', 'order-placed']);
  });

  test("Amazon's status: every order but the cancelled and returned ones; a row without a status is a sale", () => {
    const sales = salesEvents(
      byStatus('Status'),
      counts(
        ['Shipped', 70],
        ['Shipped - Delivered to Buyer', 25],
        ['Cancelled', 13],
        ['Shipped - Returned to Seller', 2],
        ['Pending', 3],
        [null, 1],
      ),
    );
    expect(sales).toEqual({
      column: 'Status',
      mode: 'except',
      values: ['Cancelled', 'Shipped - Returned to Seller'],
      rows: 99,
      otherRows: 15,
      evidence:
        'Status says which rows are no sale: its "Cancelled", "Shipped - Returned to Seller" rows (15 of 114) are loaded but left out of every sum',
    });
    // Accents and other languages: annulée, cancelado.
    expect(salesEvents(byStatus('statut'), counts(['livrée', 9], ['annulée', 1]))?.values).toEqual([
      'annulée',
    ]);
    expect(salesEvents(byStatus('estado'), counts(['entregado', 9], ['Cancelado', 1]))?.values).toEqual([
      'Cancelado',
    ]);
  });

  test('nothing to filter: no value says, every row is a sale or none is, or too many values', () => {
    expect(salesEvents(byEvent('action'), counts(['view', 10], ['click', 3]))).toBeUndefined();
    expect(salesEvents(byEvent('action'), counts(['purchase', 10]))).toBeUndefined();
    // A sales table's promotions: a day of a `Sale` is no event log's purchase.
    expect(
      salesEvents(byEvent('event'), counts(['None', 300], ['Sale', 40], ['Black Friday', 2])),
    ).toBeUndefined();
    expect(salesEvents(byStatus('status'), counts(['Shipped', 10], ['Pending', 3]))).toBeUndefined();
    expect(salesEvents(byStatus('status'), counts(['Cancelled', 10]))).toBeUndefined();
    const many = Array.from({ length: MAX_EVENT_VALUES + 1 }, (_, i): [string, number] => [`kind ${i}`, 1]);
    expect(salesEvents(byEvent('action'), counts(['purchase', 3], ...many))).toBeUndefined();
  });

  test('a value that is not plain text never reaches SQL, even spelled like a sale', () => {
    expect(salesEvents(byEvent('action'), counts(["purchase'", 3], ['view', 9]))).toBeUndefined();
    expect(salesEvents(byStatus('status'), counts(['Cancelled\\', 3], ['Shipped', 9]))).toBeUndefined();
  });
});

describe('SQL', () => {
  const roles = inferRoles([
    { name: 'event_time', type: 'TIMESTAMP' },
    { name: 'event_type', type: 'VARCHAR' },
    { name: 'price', type: 'DOUBLE' },
  ]);
  const sales = {
    column: 'event_type',
    mode: 'only' as const,
    values: ['purchase', 'Order Completed'],
    rows: 2,
    otherRows: 9,
    evidence: '',
  };

  test('the values are counted in one GROUP BY, at most one more than may say which rows are sales', () => {
    expect(
      valueCountsSql(bigQueryDialect, 'event_type', '`events` WHERE _source = $1').replace(/\s+/g, ' '),
    ).toBe(
      `SELECT CAST(\`event_type\` AS STRING) AS value, count(*) AS n FROM \`events\` WHERE _source = $1 GROUP BY 1 ORDER BY n DESC, value LIMIT ${MAX_EVENT_VALUES + 1}`,
    );
  });

  test('only: the sales values; except: every row but those, a row without a value included', () => {
    expect(salesFilter(duckDbDialect, { ...roles, sales })).toBe(
      `"event_type" IN ('purchase', 'Order Completed')`,
    );
    expect(
      salesFilter(bigQueryDialect, {
        ...roles,
        sales: {
          ...sales,
          column: 'Status',
          mode: 'except',
          values: ['Cancelled', 'Shipped - Returned to Seller'],
        },
      }),
    ).toBe("(`Status` IS NULL OR `Status` NOT IN ('Cancelled', 'Shipped - Returned to Seller'))");
    expect(salesFilter(duckDbDialect, roles)).toBeUndefined();
  });

  test('recorded roles are read back from the warehouse: a value that is not plain text is dropped there too', () => {
    expect(
      salesFilter(duckDbDialect, { ...roles, sales: { ...sales, values: ["x') OR (1=1"] } }),
    ).toBeUndefined();
  });
});
