import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { etl, parseJsonStdout, SUPERSTORE_CSV } from './cli';

interface Summary {
  runId: string;
  status: string;
  source: string;
  datasetVersion: string | null;
  tables: Array<{
    name: string;
    rowsIn: number;
    rowsLoaded: number;
    rowsQuarantined: number;
    rowsDuplicate: number;
  }>;
  durationMs: number;
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-e2e-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function count(table: string): Promise<number> {
  const result = await etl([
    'query',
    '--json',
    '--data-dir',
    dataDir,
    `SELECT count(*)::INT AS n FROM ${table}`,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return parseJsonStdout<Array<{ n: number }>>(result)[0]!.n;
}

describe('etl run (embedded: three services over HTTP, the workflow in the local runner, DuckDB)', () => {
  test('the sample source loads with exact row accounting', async () => {
    const result = await etl(['run', '--json', '--rows', '2000', '--run-id', 'e2e-1', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    const summary = parseJsonStdout<Summary>(result);
    expect(summary).toMatchObject({ runId: 'e2e-1', status: 'succeeded', source: 'sample' });
    expect(summary.tables.length).toBe(1);
    const [sales] = summary.tables;
    expect(sales!.rowsIn).toBe(2000);
    expect(sales!.rowsLoaded + sales!.rowsQuarantined + sales!.rowsDuplicate).toBe(sales!.rowsIn);
    expect(sales!.rowsQuarantined).toBeGreaterThan(0);
    expect(sales!.rowsDuplicate).toBeGreaterThan(0);
    expect(await count('sales')).toBe(sales!.rowsLoaded);
    expect(await count('sales_rejects')).toBe(sales!.rowsQuarantined);
    expect(result.stderr).toMatch(/extract/);
  });

  test('the same run again with --force leaves the same row count', async () => {
    const before = await count('sales');
    const result = await etl([
      'run',
      '--json',
      '--force',
      '--rows',
      '2000',
      '--run-id',
      'e2e-1',
      '--data-dir',
      dataDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJsonStdout<Summary>(result).status).toBe('succeeded');
    expect(await count('sales')).toBe(before);
  });

  test('an unchanged dataset under a new run id is skipped, and loaded again with --force without duplicates', async () => {
    const before = await count('sales');
    const skipped = parseJsonStdout<Summary>(
      await etl(['run', '--json', '--rows', '2000', '--data-dir', dataDir]),
    );
    expect(skipped.status).toBe('skipped');
    expect(skipped.tables).toEqual([]);
    const forced = await etl(['run', '--json', '--force', '--rows', '2000', '--data-dir', dataDir]);
    expect(parseJsonStdout<Summary>(forced).status).toBe('succeeded');
    expect(await count('sales')).toBe(before);
  });

  test('etl query reads: DROP, DELETE and ATTACH are refused without --write, the rows stay', async () => {
    const before = await count('sales');
    for (const sql of [
      'DROP TABLE sales',
      'DELETE FROM sales',
      `ATTACH '${path.join(dataDir, 'x.duckdb')}' AS x`,
    ]) {
      const result = await etl(['query', '--data-dir', dataDir, sql]);
      expect(result.code, sql).not.toBe(0);
      expect(result.stderr, sql).toContain('read-only; pass --write');
    }
    expect(await count('sales')).toBe(before);
    const write = await etl([
      'query',
      '--write',
      '--data-dir',
      dataDir,
      'CREATE TABLE notes AS SELECT 1 AS n',
    ]);
    expect(write.code, write.stderr).toBe(0);
    expect(await count('notes')).toBe(1);
  });

  test('a failing stage ends as failed, exits non-zero and records an alert', async () => {
    const result = await etl(['run', '--json', '--source', 'local:/no/such/file.csv', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    const summary = parseJsonStdout<Summary & { error: { code: number } }>(result);
    expect(summary.status).toBe('failed');
    expect(summary.error.code).toBe(404);
    const alerts = (await readFile(path.join(dataDir, 'alerts.jsonl'), 'utf8')).trim().split('\n');
    expect(alerts.at(-1)).toContain('/no/such/file.csv');
  });

  test.skipIf(!existsSync(SUPERSTORE_CSV))(
    'the real Superstore file accounts for all 9,994 rows (needs ../shared; skipped when absent)',
    async () => {
      const result = await etl([
        'run',
        '--json',
        '--source',
        `local:${SUPERSTORE_CSV}`,
        '--data-dir',
        dataDir,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const [table] = parseJsonStdout<Summary>(result).tables;
      // Without a profile, the table is named from the file.
      expect(table!.name).toBe('sample_superstore');
      expect(table!.rowsIn).toBe(9994);
      expect(table!.rowsLoaded + table!.rowsQuarantined + table!.rowsDuplicate).toBe(9994);
      const rows = await etl([
        'query',
        '--json',
        '--data-dir',
        dataDir,
        "SELECT product_name, strftime(order_date, '%Y-%m-%d') AS d FROM sample_superstore WHERE _source = 'local/files/sample-superstore' AND row_id = 1",
      ]);
      expect(parseJsonStdout<Array<{ d: string }>>(rows)[0]!.d).toBe('2016-11-08');
      const curly = await etl([
        'query',
        '--json',
        '--data-dir',
        dataDir,
        "SELECT count(*)::INT AS n FROM sample_superstore WHERE product_name LIKE '%”%'",
      ]);
      expect(parseJsonStdout<Array<{ n: number }>>(curly)[0]!.n).toBeGreaterThan(0);
    },
  );
  test.skipIf(!existsSync(SUPERSTORE_CSV))(
    'the Superstore file with --profile superstore: ZIP codes padded, feature and ML tables loaded (needs ../shared)',
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'etl-e2e-profile-'));
      try {
        const args = ['run', '--json', '--source', `local:${SUPERSTORE_CSV}`, '--profile', 'superstore'];
        const result = await etl([...args, '--data-dir', dir]);
        expect(result.code, result.stderr).toBe(0);
        const tables = parseJsonStdout<Summary>(result).tables.map((t) => t.name);
        expect(tables).toEqual([
          'sales',
          'sales_features_daily_region',
          'sales_features_daily_product',
          'sales_features_customers_rfm',
          'sales_features_orders',
        ]);
        const zips = await etl([
          'query',
          '--json',
          '--data-dir',
          dir,
          "SELECT count(*) FILTER (WHERE length(postal_code) <> 5)::INT AS bad, count(*) FILTER (WHERE postal_code = '05408')::INT AS burlington FROM sales",
        ]);
        expect(parseJsonStdout<Array<{ bad: number; burlington: number }>>(zips)).toEqual([
          { bad: 0, burlington: 11 },
        ]);
        const ml = await etl([
          'query',
          '--json',
          '--data-dir',
          dir,
          'SELECT count(*)::INT AS n FROM ml_forecast',
        ]);
        expect(parseJsonStdout<Array<{ n: number }>>(ml)[0]!.n).toBeGreaterThan(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
