/**
 * Columns whose later rows break the type their first rows gave: typed again on every row, the table made
 * again, and the run summary says so. A sample of 1,000 rows stands for the default's 30,000.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { profileCsvFiles } from './profiler';
import type { TransformReport } from './report';
import {
  createTestStore,
  readTable,
  rowsOf,
  type TestStore,
  writeExtractedRun,
  writeProfile,
} from './test-support';
import { type TransformInput, transform } from './transformer';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

const SAMPLE_ROWS = 1_000;

async function run(csv: string, request: Omit<TransformInput, 'runId'> = {}) {
  await writeExtractedRun(t.store, 'r1', { 'sales.csv': csv });
  const response = await transform({ runId: 'r1', ...request }, { ...t.deps, sampleRows: SAMPLE_ROWS });
  const counts = response.tables[0]!;
  const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
  return {
    counts,
    report,
    notes: (counts.notes ?? []).map((n) => n.message),
    rows: rowsOf(await readTable(t.store, counts.stagedKey)),
    rejects: rowsOf(await readTable(t.store, counts.quarantineKey)),
  };
}

const csvOf = (header: string, lines: string[]): string => `${header}\n${lines.join('\n')}\n`;
const columnOf = (report: TransformReport['tables'][number], name: string) =>
  report.columns.find((c) => c.name === name);

describe('a column the later rows break', () => {
  test('whole quantities in the first rows and halves after them: every row loads, as DOUBLE, with a note', async () => {
    const lines = Array.from({ length: 1_500 }, (_, i) =>
      i < 1_200 ? `${i + 1},${(i % 9) + 1}` : `${i + 1},${(i % 9) + 1}.5`,
    );
    const r = await run(csvOf('line_id,qty', lines));
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_500, rowsQuarantined: 0 });
    expect(columnOf(r.report, 'qty')).toMatchObject({ type: 'DOUBLE', invalid: 0 });
    expect(r.rows[0]).toEqual({ line_id: 1, qty: 1 });
    expect(r.rows[1_200]).toEqual({ line_id: 1_201, qty: 4.5 });
    expect(r.notes).toContain(
      'column qty: 300 of its 1,500 values did not read as BIGINT, the type of its first 1,000 rows; typed on every row instead: DOUBLE',
    );
  });

  test('day-first dates whose first rows hold no day past 12: every row reads day-first, the first rows too', async () => {
    // 100 rows a day from 1 January: the sample of 1,000 rows sees days 1 to 10, which read either way.
    const lines = Array.from({ length: 3_000 }, (_, i) => {
      const day = String(Math.floor(i / 100) + 1).padStart(2, '0');
      return `${day}/01/2023,Filiale ${i % 4},${(i % 50) + 0.25}`;
    });
    const r = await run(csvOf('Datum,Filiale,Umsatz', lines));
    expect(r.counts).toMatchObject({ rowsIn: 3_000, rowsOut: 3_000, rowsQuarantined: 0 });
    expect(columnOf(r.report, 'datum')).toMatchObject({ type: 'DATE', format: '%d/%m/%Y', invalid: 0 });
    // 05/01/2023 is 5 January, not 1 May, in the rows the sample held as in the later ones.
    expect(r.rows[400]!['datum']).toBe('2023-01-05');
    expect(r.rows[2_999]!['datum']).toBe('2023-01-30');
    expect(r.notes).toContain(
      'column datum: 1,800 of its 3,000 values did not read as DATE (%m/%d/%Y), the type of its first 1,000 rows; typed on every row instead: DATE (%d/%m/%Y)',
    );
  });

  test('amounts like 1,250 in the first rows and a few like 12,5 after them: the comma is a decimal mark in every row', async () => {
    // 10 of 1,500 values, under 2%: the thousands reading was a guess, so any value it fails reopens it.
    const lines = Array.from({ length: 1_500 }, (_, i) =>
      i < 1_490 ? `${i + 1};${(i % 8) + 1},250` : `${i + 1};${(i % 8) + 10},5`,
    );
    const r = await run(csvOf('id;betrag', lines));
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_500, rowsQuarantined: 0 });
    expect(columnOf(r.report, 'betrag')).toMatchObject({ type: 'DOUBLE', decimal: ',', invalid: 0 });
    expect(r.rows[0]).toEqual({ id: 1, betrag: 1.25 });
    expect(r.rows[1_490]).toEqual({ id: 1_491, betrag: 12.5 });
    expect(r.notes).toContain(
      'column betrag: 10 of its 1,500 values did not read as BIGINT, the type of its first 1,000 rows; typed on every row instead: DOUBLE',
    );
  });

  test('words in most later rows of a number column: the column is text, every row loads', async () => {
    const lines = Array.from({ length: 1_500 }, (_, i) =>
      i < 1_000 ? `${i + 1},${i % 40}` : `${i + 1},${i % 3 === 0 ? 'on request' : 'see note'}`,
    );
    const r = await run(csvOf('sku,price', lines));
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_500, rowsQuarantined: 0 });
    expect(columnOf(r.report, 'price')).toMatchObject({ type: 'VARCHAR' });
    expect(r.rows[1_001]!['price']).toBe('see note');
    expect(r.notes).toContain(
      'column price: 500 of its 1,500 values did not read as BIGINT, the type of its first 1,000 rows; typed on every row instead: VARCHAR',
    );
  });

  test('a column empty in the first rows and filled after them is typed by those rows; one of words stays text', async () => {
    const lines = Array.from({ length: 1_500 }, (_, i) =>
      i < 1_100 ? `${i + 1},,` : `${i + 1},${(i % 10) * 0.5},${i % 2 ? 'late delivery' : ''}`,
    );
    const r = await run(csvOf('id,discount,comment', lines));
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_500, rowsQuarantined: 0 });
    expect(columnOf(r.report, 'discount')).toMatchObject({ type: 'DOUBLE', nulls: 1_100 });
    expect(columnOf(r.report, 'comment')).toMatchObject({ type: 'VARCHAR' });
    expect(r.rows[1_101]).toEqual({ id: 1_102, discount: 0.5, comment: 'late delivery' });
    expect(r.notes).toEqual([
      'column discount: no value in its first 1,000 rows and 400 after them; typed on every row: DOUBLE',
    ]);
  });

  test('a few bad values past the sample (under 2%) are quarantined, as a bad value in the sample is, and the type stays', async () => {
    const lines = Array.from(
      { length: 1_500 },
      (_, i) => `${i + 1},${i === 1_300 || i === 1_400 ? 'x' : i % 40}`,
    );
    const r = await run(csvOf('sku,units', lines), { maxRejectRate: 0.01 });
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_498, rowsQuarantined: 2 });
    expect(columnOf(r.report, 'units')).toMatchObject({ type: 'BIGINT', invalid: 2 });
    expect(r.rejects.map((q) => [q['line'], q['reason']])).toEqual([
      [1_302, 'invalid_bigint'],
      [1_402, 'invalid_bigint'],
    ]);
    expect(r.notes.filter((n) => n.includes('typed on every row'))).toEqual([]);
  });

  test("a profile's type is kept: the later values that break it are quarantined", async () => {
    await writeProfile(t, 'p', 'columns: [{ name: qty, type: integer }]\nquality: { maxRejectRate: 0.5 }\n');
    const lines = Array.from({ length: 1_500 }, (_, i) => `${i + 1},${i < 1_200 ? '2' : '2.5'}`);
    const r = await run(csvOf('line_id,qty', lines), { profile: 'p' });
    expect(r.counts).toMatchObject({ rowsIn: 1_500, rowsOut: 1_200, rowsQuarantined: 300 });
    expect(columnOf(r.report, 'qty')).toMatchObject({ type: 'BIGINT', invalid: 300 });
    expect(r.notes.filter((n) => n.includes('typed on every row'))).toEqual([]);
  });
});

describe('etl profile: the columns its later rows break', () => {
  test('are typed from every row, as the transform types them', async () => {
    // Day-first dates with no day past 12 in the first 1,000 rows, halves after whole quantities, a
    // discount empty in the first rows: each typed by every row.
    const lines = Array.from({ length: 3_000 }, (_, i) => {
      const day = String(Math.floor(i / 100) + 1).padStart(2, '0');
      return `${day}/01/2023,${i < 2_000 ? (i % 9) + 1 : `${(i % 9) + 1}.5`},${i < 1_500 ? '' : (i % 10) * 0.05},${i % 3 ? 'a' : 'b'}`;
    });
    const file = path.join(t.root, 'sales.csv');
    await writeFile(file, csvOf('Datum,qty,discount,note', lines));
    const profiled = await profileCsvFiles([file], {
      tempDir: t.root,
      duckdb: { threads: 1 },
      sampleRows: SAMPLE_ROWS,
    });
    expect(profiled.profile.columns?.map((c) => [c.name, c.type, c.format])).toEqual([
      ['datum', 'date', '%d/%m/%Y'],
      ['qty', 'number', undefined],
      ['discount', 'number', undefined],
      ['note', 'string', undefined],
    ]);
  });
});
