import { describe, expect, test } from 'vitest';
import { inferRoles } from './roles';
import { eventValuesSql, MAX_EVENT_VALUES, salesEvents, salesFilter } from './sales-events';
import { bigQueryDialect, duckDbDialect } from './warehouse/dialect';

const counts = (...pairs: Array<[string | null, number]>) => pairs.map(([value, n]) => ({ value, n }));

describe('salesEvents: which rows of an event log are sales', () => {
  test('REES46: the purchases, out of views and carts; rows without a type are not sales', () => {
    const sales = salesEvents(
      'event_type',
      counts(['view', 900], ['cart', 60], ['remove_from_cart', 20], ['purchase', 15], [null, 5]),
    );
    expect(sales).toEqual({
      column: 'event_type',
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
      salesEvents('behavior_type', counts(['pv', 80], ['fav', 5], ['cart', 10], ['buy', 5]))?.values,
    ).toEqual(['buy']);
    expect(
      salesEvents('Event', counts(['Page View', 50], ['Order Completed', 4], ['order-placed', 3]))?.values,
    ).toEqual(['Order Completed', 'order-placed']);
  });

  test('nothing to filter: no value names a sale, every row is a sale, or too many values for event kinds', () => {
    expect(salesEvents('action', counts(['view', 10], ['click', 3]))).toBeUndefined();
    // A sales table's promotions: a day of a `Sale` is no event log's purchase.
    expect(salesEvents('event', counts(['None', 300], ['Sale', 40], ['Black Friday', 2]))).toBeUndefined();
    expect(salesEvents('action', counts(['purchase', 10]))).toBeUndefined();
    const many = Array.from({ length: MAX_EVENT_VALUES + 1 }, (_, i): [string, number] => [`kind ${i}`, 1]);
    expect(salesEvents('action', counts(['purchase', 3], ...many))).toBeUndefined();
  });

  test('a value that is not plain text never reaches SQL, even spelled like a sale', () => {
    expect(salesEvents('action', counts(["purchase'", 3], ['view', 9]))).toBeUndefined();
    expect(salesEvents('action', counts(['purchase\\', 3], ['view', 9]))).toBeUndefined();
  });
});

describe('SQL', () => {
  const roles = inferRoles([
    { name: 'event_time', type: 'TIMESTAMP' },
    { name: 'event_type', type: 'VARCHAR' },
    { name: 'price', type: 'DOUBLE' },
  ]);

  test('the values are counted in one GROUP BY, at most one more than an event type may have', () => {
    expect(eventValuesSql(bigQueryDialect, roles, '`events` WHERE _source = $1')?.replace(/\s+/g, ' ')).toBe(
      `SELECT CAST(\`event_type\` AS STRING) AS value, count(*) AS n FROM \`events\` WHERE _source = $1 GROUP BY 1 ORDER BY n DESC, value LIMIT ${MAX_EVENT_VALUES + 1}`,
    );
    expect(
      eventValuesSql(duckDbDialect, inferRoles([{ name: 'price', type: 'DOUBLE' }]), 't'),
    ).toBeUndefined();
  });

  test('the filter names the sales values as literals; none without sales', () => {
    const sales = {
      column: 'event_type',
      values: ['purchase', 'Order Completed'],
      rows: 2,
      otherRows: 9,
      evidence: '',
    };
    expect(salesFilter(duckDbDialect, { ...roles, sales })).toBe(
      `"event_type" IN ('purchase', 'Order Completed')`,
    );
    expect(salesFilter(duckDbDialect, roles)).toBeUndefined();
    // Recorded roles are read back from the warehouse: a value that is not plain text is dropped there too.
    expect(
      salesFilter(duckDbDialect, { ...roles, sales: { ...sales, values: ["x') OR (1=1"] } }),
    ).toBeUndefined();
  });
});
