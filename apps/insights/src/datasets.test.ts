import { duckDbDialect, type Row } from '@etl/common/warehouse';
import { describe, expect, test } from 'vitest';
import { readCatalog } from './datasets';

const column = (table: string, name: string, type: string) => ({
  table_name: table,
  column_name: name,
  data_type: type,
});
const lineage = (table: string) => [
  column(table, '_source', 'VARCHAR'),
  column(table, '_run_id', 'VARCHAR'),
  column(table, '_loaded_at', 'TIMESTAMP WITH TIME ZONE'),
];

/** Two dated tables with an amount in one dataset, a quarantine, a feature table and the ML metrics. */
const COLUMNS: Row[] = [
  column('ml_metrics', 'metric', 'VARCHAR'),
  column('ml_metrics', 'note', 'VARCHAR'),
  ...lineage('ml_metrics'),
  column('orders', 'order_date', 'DATE'),
  column('orders', 'total', 'DOUBLE'),
  ...lineage('orders'),
  column('web_orders', 'invoice_date', 'DATE'),
  column('web_orders', 'amount', 'DOUBLE'),
  ...lineage('web_orders'),
  column('orders_rejects', 'line', 'BIGINT'),
  ...lineage('orders_rejects'),
  column('orders_features_daily', 'day', 'DATE'),
  ...lineage('orders_features_daily'),
];

const group = (
  t: number,
  source: string,
  rows: number,
  at: string,
  factTable: string | null = null,
): Row => ({
  t,
  source,
  row_count: rows,
  loaded_at: at,
  run_id: `run-${source}`,
  fact_table: factTable,
});

/** The catalog read through a fake warehouse answering the two queries with these rows. */
function catalogOf(groups: Row[]) {
  const answers = [COLUMNS, groups];
  const sql: string[] = [];
  return {
    sql,
    catalog: readCatalog(duckDbDialect, async (text) => {
      sql.push(text);
      return answers.shift() ?? [];
    }),
  };
}

describe('readCatalog', () => {
  test('reads data tables only, picks the fact table by the shared rule, newest dataset first', async () => {
    const { sql, catalog } = catalogOf([
      group(0, 'a', 10, '2026-01-01T00:00:00.000Z'),
      group(1, 'a', 30, '2026-01-01T00:00:00.000Z'),
      group(0, 'b', 5, '2026-01-02T00:00:00.000Z'),
    ]);
    const { datasets, latest } = await catalog;
    // Tables in name order (orders, web_orders); quarantines and feature tables never counted.
    expect(sql[1]).toContain('FROM "orders"');
    expect(sql[1]).toContain('FROM "web_orders"');
    expect(sql[1]).toContain('FROM ml_metrics');
    expect(sql[1]).not.toContain('rejects');
    expect(sql[1]).not.toContain('features');
    expect(datasets.map((d) => [d.id, d.fact?.name])).toEqual([
      ['b', 'orders'],
      ['a', 'web_orders'], // the most rows of the dataset
    ]);
    expect(latest).toEqual({ runId: 'run-b', loadedAt: '2026-01-02T00:00:00.000Z', source: 'b', rows: 5 });
  });

  test("the analyze stage's recorded fact table wins while it holds the dataset's rows", async () => {
    const { catalog } = catalogOf([
      group(0, 'a', 10, '2026-01-01T00:00:00.000Z'),
      group(1, 'a', 30, '2026-01-01T00:00:00.000Z'),
      group(2, 'a', 40, '2026-01-03T00:00:00.000Z', 'orders'),
    ]);
    const [a] = (await catalog).datasets;
    expect(a).toMatchObject({ id: 'a', analyzed: true, fact: { name: 'orders', rows: 10 } });
    expect((await catalog).ml).toEqual({ runId: 'run-a', analyzedAt: '2026-01-03T00:00:00.000Z' });
  });

  // Regression: UNION ALL returns its rows in any order, and the version hashed them as they came, so it
  // changed with nothing loaded: every poll of /api/freshness redrew the page and emptied the cache.
  test('the version does not depend on the order the warehouse returns the counts in', async () => {
    const groups = [
      group(0, 'a', 10, '2026-01-01T00:00:00.000Z'),
      group(1, 'a', 30, '2026-01-01T00:00:00.000Z'),
      group(0, 'b', 5, '2026-01-02T00:00:00.000Z'),
    ];
    const first = await catalogOf(groups).catalog;
    const shuffled = await catalogOf([...groups].reverse()).catalog;
    expect(shuffled.version).toBe(first.version);
    expect(first.version).toMatch(/^data:run-b@2026-01-02T00:00:00\.000Z\|ml_metrics:none\|[0-9a-f]{12}$/);
    const reloaded = await catalogOf([group(0, 'a', 11, '2026-01-01T00:00:00.000Z'), ...groups.slice(1)])
      .catalog;
    expect(reloaded.version).not.toBe(first.version);
  });
});
