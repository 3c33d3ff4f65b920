import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, Table, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { writeArrowTable } from '../arrow';
import { DuckDbWarehouse } from './duckdb-warehouse';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'duckdb-concurrency-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const arrow = writeArrowTable(
  new Table({
    amount: vectorFromArray(
      Array.from({ length: 50_000 }, (_, i) => i),
      new Float64(),
    ),
  }),
);
const request = (source: string) => ({
  tables: [{ table: 'sales', arrow }],
  source,
  runId: source.replaceAll('/', '-'),
  sourceVersion: 'v1',
  loadedAt: new Date('2026-01-01T00:00:00Z'),
});

// Regression: two loads at once in one process opened two DuckDB instances of the file; both committed
// and the last to close overwrote the other, so one dataset's rows silently disappeared.
test('concurrent loads of different datasets into one file in one process both survive', async () => {
  const warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  const other = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  await Promise.all([
    warehouse.load(request('local/files/a')),
    other.load(request('local/files/b')),
    warehouse.load(request('local/files/c')),
  ]);
  expect(
    await warehouse.query('SELECT _source, count(*)::INT AS n FROM sales GROUP BY 1 ORDER BY 1'),
  ).toEqual([
    { _source: 'local/files/a', n: 50_000 },
    { _source: 'local/files/b', n: 50_000 },
    { _source: 'local/files/c', n: 50_000 },
  ]);
});

test('a failed operation does not block the next one on the same file', async () => {
  const warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  await expect(warehouse.query('SELECT * FROM no_such_table')).rejects.toThrow();
  expect(await warehouse.query('SELECT 1::INT AS one')).toEqual([{ one: 1 }]);
});
