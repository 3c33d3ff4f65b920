/**
 * Wide files (issue #14 item 7): the transformer's memory grew with a file's columns, not its rows. A
 * 200-column file of 1,000 rows took 5.9 GB and 27 s, and a 500-column one was killed at 24 GB: DuckDB
 * gave each filtered count (`count(*) FILTER`, 12 a column in type inference) a copy of the query's whole
 * input, its common-subexpression optimizer planned in time squared in the expressions, chains of `OR` and
 * `||` passed its expression depth limit at 500 columns, and the typing query held vectors per column at
 * each of its steps, per thread.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { typedRowsSql } from './clean-sql';
import {
  planForColumns,
  queryRows,
  typingMemoryBytes,
  typingThreads,
  WIDE_TABLE_COLUMNS,
  withDuckDb,
} from './duckdb-session';
import { type ColumnPlan, inferenceSampleRows } from './infer-types';
import { readCsvRows } from './parse-csv';
import type { TransformReport } from './report';
import { createTestStore, readTable, rowsOf, type TestStore, writeExtractedRun } from './test-support';
import { transform } from './transformer';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

/** Column `i` of a generated wide file: a number, an integer, a text or a date, in turn. */
const KINDS = [
  { name: 'amount', type: 'Float64', value: (row: number, i: number) => `${row * 10 + i}.25` },
  { name: 'qty', type: 'Int64', value: (row: number, i: number) => `${row + i}` },
  { name: 'label', type: 'Utf8', value: (row: number, i: number) => `item ${row}-${i}` },
  {
    name: 'day',
    type: 'Date32<DAY>',
    value: (row: number) => `2024-03-${String((row % 28) + 1).padStart(2, '0')}`,
  },
] as const;
const kindOf = (i: number) => KINDS[i % KINDS.length]!;

function wideCsv(columns: number, rows: number, cell: (row: number, i: number) => string): string {
  const header = Array.from({ length: columns }, (_, i) => `${kindOf(i).name}_${i}`);
  const lines = Array.from({ length: rows }, (_, row) =>
    Array.from({ length: columns }, (_, i) => cell(row, i)).join(','),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

describe('wide files', () => {
  test('300 columns of numbers, integers, text and dates come through with their rows, types and a failed value', async () => {
    const columns = 300;
    // Row 3 (line 4) has text in the integer column qty_5, one value in 60: the column stays BIGINT and the
    // row is quarantined, naming the column.
    const csv = wideCsv(columns, 60, (row, i) => (row === 2 && i === 5 ? 'abc' : kindOf(i).value(row, i)));
    await writeExtractedRun(t.store, 'r1', { 'wide.csv': csv });
    const response = await transform({ runId: 'r1', maxRejectRate: 0.5 }, t.deps);

    const counts = response.tables[0]!;
    expect(counts).toMatchObject({ rowsIn: 60, rowsOut: 59, rowsQuarantined: 1, rowsDuplicate: 0 });
    const staged = await readTable(t.store, counts.stagedKey);
    expect(staged.schema.fields).toHaveLength(columns);
    expect(staged.schema.fields.map((f) => String(f.type))).toEqual(
      Array.from({ length: columns }, (_, i) => kindOf(i).type),
    );
    const rows = rowsOf(staged);
    expect(rows[0]).toMatchObject({ amount_0: 0.25, qty_1: 1, label_2: 'item 0-2', day_3: '2024-03-01' });
    expect(rows[4]).toMatchObject({
      amount_296: 346.25,
      qty_297: 302,
      label_298: 'item 5-298',
      day_299: '2024-03-06',
    });

    const [reject] = rowsOf(await readTable(t.store, counts.quarantineKey));
    expect(reject).toMatchObject({
      line: 4,
      reason: 'invalid_bigint',
      message: 'column qty_5: "abc" is not an integer',
      raw: csv.split('\n')[3],
    });
    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    expect(report.columns.filter((c) => c.invalid > 0)).toEqual([
      expect.objectContaining({ name: 'qty_5', type: 'BIGINT', invalid: 1 }),
    ]);
  }, 60_000);

  test("a 1,000-column typing query stays within DuckDB's expression depth and quarantines with the column's name", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wide-typing-'));
    try {
      const columns = 1000;
      const file = path.join(dir, 'wide.csv');
      await writeFile(
        file,
        wideCsv(columns, 2, (row, i) => (row === 1 && i === 999 ? 'x' : `${row}.5`)),
      );
      const plans = Array.from(
        { length: columns },
        (_, i): ColumnPlan => ({
          source: `c${i}`,
          name: `c${i}`,
          type: 'DOUBLE',
          ambiguous: false,
          missingTokens: true,
        }),
      );
      const rows = await withDuckDb({ threads: 1, memoryLimit: '1GB' }, dir, async (connection) => {
        await planForColumns(connection, columns);
        const dialect = { delimiter: ',', quote: '"', header: true };
        await readCsvRows(
          connection,
          [{ path: file, key: 'wide.csv' }],
          columns,
          dialect,
          'typed_rows',
          (relation, i) => typedRowsSql(plans, relation, i, { rawTextOfAll: false, nfkc: [] }),
        );
        return queryRows(connection, 'SELECT v0, v999, __bad, __failed, __reason, __message FROM typed_rows');
      });
      expect(rows.map((r) => r['__bad'])).toEqual([false, true]);
      expect(rows[1]).toMatchObject({ v999: null, __failed: [999], __reason: 'invalid_double' });
      expect(rows[1]!['__message']).toBe('column c999: "x" is not a number');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a table too wide for the memory limit is refused at once: 413 naming the file and its columns', async () => {
    // 1 GB types about 800 columns on one thread; 2,000 need about 2 GB.
    const columns = 2000;
    await writeExtractedRun(t.store, 'r1', {
      'wide.csv': wideCsv(columns, 2, (row, i) => kindOf(i).value(row, i)),
    });
    const started = performance.now();
    await expect(transform({ runId: 'r1' }, t.deps)).rejects.toMatchObject({
      status: 413,
      code: 'TOO_WIDE_FOR_MEMORY',
      message: expect.stringMatching(
        /^raw file runs\/r1\/raw\/wide\.csv has 2000 columns, too many for DuckDB's memory limit: .*DUCKDB_MEMORY_LIMIT = 1GB.*raise it to at least 2128 MiB/,
      ),
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('a wide table is typed on fewer threads, and inferred from fewer rows', () => {
    const oneGb = { threads: 2, memoryLimit: '1GB' };
    expect(typingThreads(oneGb, WIDE_TABLE_COLUMNS)).toBe(2);
    expect(typingThreads(oneGb, 400)).toBe(2);
    expect(typingThreads(oneGb, 600)).toBe(1);
    expect(typingThreads(oneGb, 1000)).toBe(0);
    expect(typingThreads({ threads: 2, memoryLimit: '2GB' }, 1000)).toBe(1);
    expect(typingMemoryBytes(1000)).toBe(1128 * 2 ** 20);
    expect(inferenceSampleRows(100_000, 100)).toBe(100_000);
    expect(inferenceSampleRows(100_000, 1000)).toBe(10_000);
    expect(inferenceSampleRows(100_000, 9996)).toBe(1_000);
    expect(inferenceSampleRows(500, 1000)).toBe(500);
  });
});
