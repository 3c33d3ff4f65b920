/** The transform stage with a profile: every reject reason, imputation, flags, keys, checks, the gate. */
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { defaultProfilesDir } from './config';
import type { TransformReport } from './report';
import {
  createTestStore,
  encodeLegacy,
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

async function run(
  files: Record<string, string | Uint8Array>,
  request: Omit<TransformInput, 'runId'>,
  runId = 'r1',
) {
  await writeExtractedRun(t.store, runId, files);
  const response = await transform({ runId, ...request }, t.deps);
  const counts = response.tables[0]!;
  const staged = await readTable(t.store, counts.stagedKey);
  const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
  return {
    response,
    counts,
    staged,
    report,
    rows: rowsOf(staged),
    rejects: rowsOf(await readTable(t.store, counts.quarantineKey)),
  };
}

const DIRTY_PROFILE = `
table: orders
primaryKey: [id]
columns:
  - { name: id, type: integer }
  - { name: order_date, type: date, format: "%Y-%m-%d", required: true }
  - { name: ship_date, type: date, format: "%Y-%m-%d" }
  - { name: customer, type: string, missing: reject }
  - { name: region, type: string, missing: { impute: mode }, encode: onehot }
  - { name: postal, type: string, pad: 5, pattern: "[0-9]{5}" }
  - { name: amount, type: number, missing: { impute: median }, outliers: true, normalize: [zscore, minmax] }
  - { name: qty, type: integer, missing: { impute: constant, value: 1 } }
  - { name: grade, type: string, missingTokens: [] }
duplicates:
  keys: [[customer, order_date]]
quality:
  maxRejectRate: 0.9
  checks:
    - { name: ship_not_before_order, rule: ship_date >= order_date, severity: reject }
    - { name: amount_positive, rule: amount > 0, severity: warning }
`;

// Line numbers in the comments: the header is line 1.
const DIRTY_CSV = [
  'id,order_date,ship_date,customer,region,postal,amount,qty,grade',
  '1,2024-01-01,2024-01-02,ann,East,2138,10,2,A', //            2 kept; postal -> 02138
  '2,2024-01-02,2024-01-03,bob,West,05408,20,,NA', //           3 kept; qty imputed 1; grade "NA" kept
  '3,,2024-01-03,cat,East,10001,30,1,B', //                     4 missing_required (order_date)
  '4,2024-01-03,2024-01-04,,East,10001,40,1,B', //              5 missing_rejected (customer)
  '5,2024-01-05,2024-01-04,dan,West,10001,50,1,B', //           6 check_failed (shipped before ordered)
  '6,2024-01-06,2024-01-07,eve,,10001,,1,B', //                 7 kept; region -> mode, amount -> median
  '7,2024-13-01,2024-01-07,fay,East,10001,60,1,B', //           8 invalid_date
  '8,2024-01-07,2024-01-08,gus,East,1234567,70,1,B', //         9 invalid_pattern
  '1,2024-01-08,2024-01-09,hal,East,10001,80,1,B', //          10 duplicate_key (id 1 of line 2)
  '9,2024-01-09,2024-01-10,ivy,West,10001,1000,1,B', //        11 kept; amount outlier
  '9,2024-01-09,2024-01-10,ivy,West,10001,1000,1,B', //        12 exact duplicate of line 11: dropped
  '10,2024-01-01,2024-01-02,ann,East,02138,-5,2,A', //         13 kept; warning amount_positive; key repeat
  '11,,2024-01-02,,East,10001,5,1,C', //                       14 missing_required, and customer empty too
].join('\n');

describe('transform with a profile: the dirt of every kind, counted exactly', () => {
  test('reasons, lines, messages and row accounting', async () => {
    await writeProfile(t, 'dirty', DIRTY_PROFILE);
    const { counts, rejects, report, response } = await run(
      { 'a.csv': `${DIRTY_CSV}\n` },
      { profile: 'dirty' },
    );
    expect(counts).toMatchObject({
      name: 'orders',
      rowsIn: 13,
      rowsOut: 5,
      rowsQuarantined: 7,
      rowsDuplicate: 1,
    });
    expect(report.reasons).toEqual({
      missing_required: 2,
      missing_rejected: 1,
      check_failed: 1,
      invalid_date: 1,
      invalid_pattern: 1,
      duplicate_key: 1,
    });
    expect(rejects.map((r) => [r['line'], r['reason']])).toEqual([
      [4, 'missing_required'],
      [5, 'missing_rejected'],
      [6, 'check_failed'],
      [8, 'invalid_date'],
      [9, 'invalid_pattern'],
      [10, 'duplicate_key'],
      [14, 'missing_required'],
    ]);
    const message = (line: number) => rejects.find((r) => r['line'] === line)!['message'];
    expect(message(4)).toBe('column order_date is required but empty');
    expect(message(5)).toBe('column customer is empty and its missing-value strategy is reject');
    expect(message(6)).toBe(
      'check ship_not_before_order failed: ship_date >= order_date, with ship_date = 2024-01-04, order_date = 2024-01-05',
    );
    expect(message(9)).toBe('column postal: "1234567" does not match the pattern [0-9]{5}');
    expect(message(10)).toBe('primary key (id) = (1) repeats line 2 of a.csv');
    expect(message(14)).toBe(
      'column order_date is required but empty; column customer is empty and its missing-value strategy is reject',
    );
    expect(rejects.find((r) => r['line'] === 10)!['raw']).toBe(
      '1,2024-01-08,2024-01-09,hal,East,10001,80,1,B',
    );
    expect(report.duplicates).toMatchObject({
      count: 1,
      dropped: true,
      examples: [{ file: 'a.csv', line: 12, keptFile: 'a.csv', keptLine: 11 }],
      keys: [
        {
          columns: ['customer', 'order_date'],
          kind: 'key',
          groups: 1,
          rows: 2,
          examples: [
            {
              key: { customer: 'ann', order_date: '2024-01-01' },
              rows: [
                { file: 'a.csv', line: 2 },
                { file: 'a.csv', line: 13 },
              ],
            },
          ],
        },
      ],
    });
    expect(response.quality.checks).toEqual([
      { name: 'reject_rate', passed: true, value: 7 / 13, threshold: 0.9, severity: 'error' },
      { name: 'ship_not_before_order', passed: true, value: 1 / 13, threshold: 0.9, severity: 'reject' },
      { name: 'amount_positive', passed: false, value: 1 / 13, threshold: 0, severity: 'warning' },
      { name: 'duplicates_customer_order_date', passed: false, value: 1, threshold: 0, severity: 'warning' },
    ]);
    expect(response.quality.passed).toBe(true);
  });

  test('padding, imputation, kept NA, outlier and normalisation columns', async () => {
    await writeProfile(t, 'dirty', DIRTY_PROFILE);
    const { rows, staged, report } = await run({ 'a.csv': `${DIRTY_CSV}\n` }, { profile: 'dirty' });
    expect(rows.map((r) => r['id'])).toEqual([1, 2, 6, 9, 10]);
    expect(rows.map((r) => r['postal'])).toEqual(['02138', '05408', '10001', '10001', '02138']);
    expect(rows.map((r) => r['grade'])).toEqual(['A', 'NA', 'B', 'B', 'A']);
    // Mode of East, West, West, East: a tie, broken by value.
    expect(rows.map((r) => [r['region'], r['region_imputed']])).toEqual([
      ['East', false],
      ['West', false],
      ['East', true],
      ['West', false],
      ['East', false],
    ]);
    // Median of 10, 20, 1000, -5 is 15.
    expect(rows.map((r) => [r['amount'], r['amount_imputed']])).toEqual([
      [10, false],
      [20, false],
      [15, true],
      [1000, false],
      [-5, false],
    ]);
    expect(rows.map((r) => [r['qty'], r['qty_imputed']])).toEqual([
      [2, false],
      [1, true],
      [1, false],
      [1, false],
      [2, false],
    ]);
    // Robust z = 0.6745 (x - 15) / MAD, MAD = median(|x - 15|) = 5: only 1000 is above 3.5 (-5 gives 2.7).
    expect(rows.map((r) => r['amount_outlier'])).toEqual([false, false, false, true, false]);
    const amounts = [10, 20, 15, 1000, -5];
    const mean = amounts.reduce((a, b) => a + b, 0) / 5;
    const sd = Math.sqrt(amounts.reduce((a, b) => a + (b - mean) ** 2, 0) / 5);
    rows.forEach((r, i) => {
      expect(r['amount_z']).toBeCloseTo((amounts[i]! - mean) / sd, 12);
      expect(r['amount_mm']).toBeCloseTo((amounts[i]! + 5) / 1005, 12);
    });
    expect(staged.schema.fields.map((f) => `${f.name}:${f.type}`).slice(9)).toEqual([
      'region_imputed:Bool',
      'amount_imputed:Bool',
      'amount_outlier:Bool',
      'amount_z:Float64',
      'amount_mm:Float64',
      'qty_imputed:Bool',
    ]);
    expect(report.columns.find((c) => c.name === 'amount')).toMatchObject({ imputed: 1, outliers: 1 });
    expect(report.profile).toEqual({ name: 'dirty', file: 'profiles/dirty.yaml', absentColumns: [] });
  });

  test("a profile's own missing tokens are missing even where they read as the type (a sentinel -1)", async () => {
    await writeProfile(
      t,
      'p',
      "columns: [{ name: qty, type: integer, missingTokens: ['-1', 'unknown'] }, { name: price, type: number }]\n",
    );
    const { rows, counts } = await run(
      { 'a.csv': 'qty,price\n5,1.5\n-1,2\nUNKNOWN,2.5\n-2,#DIV/0!\n7,N/A\n' },
      { profile: 'p' },
    );
    expect(counts).toMatchObject({ rowsIn: 5, rowsOut: 5, rowsQuarantined: 0 });
    expect(rows.map((r) => [r['qty'], r['price']])).toEqual([
      [5, 1.5],
      [null, 2],
      [null, 2.5],
      [-2, null],
      [7, null],
    ]);
  });

  test('exact: keep keeps exact duplicates and still reports them', async () => {
    await writeProfile(t, 'p', 'duplicates: { exact: keep }\n');
    const { counts, report } = await run({ 'a.csv': 'a,b\n1,x\n1,x\n2,y\n' }, { profile: 'p' });
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsDuplicate: 0 });
    expect(report.duplicates).toMatchObject({ count: 1, dropped: false });
  });
});

describe('transform with a profile: the quality gate', () => {
  const csv = `id,amount\n${Array.from({ length: 10 }, (_, i) => `${i + 1},${(i + 1) * 20}`).join('\n')}\n`;

  test('an error check over its maxRate: 422 with every check in details', async () => {
    await writeProfile(
      t,
      'p',
      'quality:\n  checks:\n    - { name: small_amounts, rule: amount <= 160, severity: error, maxRate: 0.1 }\n',
    );
    await writeExtractedRun(t.store, 'r1', { 'a.csv': csv });
    const error = await transform({ runId: 'r1', profile: 'p' }, t.deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 422,
      code: 'QUALITY_GATE_FAILED',
      message: expect.stringContaining('check small_amounts measured 0.2, limit 0.1'),
      details: expect.objectContaining({
        passed: false,
        checks: expect.arrayContaining([
          { name: 'small_amounts', passed: false, value: 0.2, threshold: 0.1, severity: 'error' },
        ]),
      }),
    });
    expect(await t.store.exists('runs/r1/manifest/transform.json')).toBe(false);
  });

  test('minRows', async () => {
    await writeProfile(t, 'p', 'quality: { minRows: 11 }\n');
    await writeExtractedRun(t.store, 'r1', { 'a.csv': csv });
    await expect(transform({ runId: 'r1', profile: 'p' }, t.deps)).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('check min_rows measured 10, limit 11'),
    });
  });

  test('the request maxRejectRate and table win over the profile; the profile wins over the defaults', async () => {
    await writeProfile(
      t,
      'p',
      'table: orders\nquality: { maxRejectRate: 0 }\ncolumns: [{ name: amount, type: integer }]\n',
    );
    const bad = `${csv}11,x\n`;
    await writeExtractedRun(t.store, 'r1', { 'a.csv': bad });
    await expect(transform({ runId: 'r1', profile: 'p' }, t.deps)).rejects.toMatchObject({ status: 422 });
    const ok = await run({ 'a.csv': bad }, { profile: 'p', maxRejectRate: 0.5, table: 'sales' }, 'r2');
    expect(ok.response.tables[0]).toMatchObject({ name: 'sales', kind: 'cleaned', rowsQuarantined: 1 });
    expect(ok.response.quality.maxRejectRate).toBe(0.5);
    expect(ok.response.profile).toBe('p');
    // Idempotent per run; another profile for the same run is a conflict.
    expect(
      await transform({ runId: 'r2', profile: 'p', maxRejectRate: 0.5, table: 'sales' }, t.deps),
    ).toEqual(ok.response);
    await expect(transform({ runId: 'r2', table: 'sales' }, t.deps)).rejects.toMatchObject({ status: 409 });
  });
});

describe('transform with a profile: the profile against the data', () => {
  test('a required column missing from the header: 422 naming it', async () => {
    await writeProfile(
      t,
      'p',
      'columns:\n  - { name: order_date, source: Order Date, type: date, required: true }\n',
    );
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id,amount\n1,2\n' });
    await expect(transform({ runId: 'r1', profile: 'p' }, t.deps)).rejects.toMatchObject({
      status: 422,
      code: 'MISSING_COLUMNS',
      message:
        'runs/r1/raw/a.csv lacks the columns profile profiles/p.yaml requires: order_date ("Order Date"); the header has [id, amount]',
    });
  });

  test('an ambiguous date column is an error under a profile, not a guess', async () => {
    await writeProfile(t, 'p', 'table: sales\n');
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'd\n1/2/2020\n3/4/2020\n' });
    await expect(transform({ runId: 'r1', profile: 'p' }, t.deps)).rejects.toMatchObject({
      status: 422,
      code: 'AMBIGUOUS_DATE_FORMAT',
      message:
        'column d reads as a date in more than one format (%m/%d/%Y and %d/%m/%Y); profile profiles/p.yaml must say which: set its format',
    });
    await writeProfile(t, 'q', 'columns: [{ name: d, type: date, format: "%d/%m/%Y" }]\n');
    const { rows } = await run({ 'a.csv': 'd\n1/2/2020\n3/4/2020\n' }, { profile: 'q' }, 'r2');
    expect(rows.map((r) => r['d'])).toEqual(['2020-02-01', '2020-04-03']);
  });

  test('a profile reads Excel serial dates; one outside 1970-2100 is quarantined naming the format', async () => {
    await writeProfile(t, 'p', 'columns: [{ name: order_date, type: date, format: excel_serial }]\n');
    const { counts, rows, rejects } = await run(
      { 'a.csv': 'order_date,sales\n44927,1\n100,2\n45291,3\n' },
      { profile: 'p', maxRejectRate: 0.5 },
    );
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    expect(rows.map((r) => r['order_date'])).toEqual(['2023-01-01', '2023-12-31']);
    expect(rejects.map((r) => [r['reason'], r['message']])).toEqual([
      [
        'invalid_date',
        'column order_date: "100" is not an Excel serial date from 1970 to 2100 (25569 to 73050)',
      ],
    ]);
  });

  test("a profile's format may join formats with |: each is tried; a value in none is quarantined naming them", async () => {
    await writeProfile(t, 'p', 'columns: [{ name: d, type: date, format: "%d.%m.%Y|%Y-%m-%d" }]\n');
    const { rows, rejects } = await run(
      { 'a.csv': 'd,n\n05.01.2023,1\n2023-01-06,2\n01/07/2023,3\n' },
      { profile: 'p', maxRejectRate: 0.5 },
    );
    expect(rows.map((r) => r['d'])).toEqual(['2023-01-05', '2023-01-06']);
    expect(rejects.map((r) => r['message'])).toEqual([
      'column d: "01/07/2023" is not a date in format %d.%m.%Y or %Y-%m-%d',
    ]);
  });

  test('a profile naming unknown columns: 400 listing them', async () => {
    await writeProfile(t, 'p', 'primaryKey: [nope]\nwarehouse: { partitionBy: amount }\n');
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id,amount\n1,2\n' });
    await expect(transform({ runId: 'r1', profile: 'p' }, t.deps)).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_PROFILE',
      message: expect.stringMatching(
        /primaryKey: no column nope .*warehouse\.partitionBy: amount is BIGINT, expected a DATE or TIMESTAMP/,
      ),
    });
  });

  test('an unknown profile: 404', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id\n1\n' });
    await expect(transform({ runId: 'r1', profile: 'nope' }, t.deps)).rejects.toMatchObject({
      status: 404,
      code: 'PROFILE_NOT_FOUND',
    });
  });

  test('source.files picks the files; no match is a 422 naming the globs', async () => {
    await writeProfile(t, 'p', 'source: { files: ["orders*.csv"] }\n');
    const { counts } = await run({ 'orders-1.csv': 'id\n1\n', 'other.csv': 'x,y\n1,2\n' }, { profile: 'p' });
    expect(counts.rowsIn).toBe(1);
    await writeExtractedRun(t.store, 'r2', { 'other.csv': 'x\n1\n' });
    await expect(transform({ runId: 'r2', profile: 'p' }, t.deps)).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('has no file matching orders*.csv of profile profiles/p.yaml'),
    });
  });
});

describe('transform with a profile: dialect, separators and text', () => {
  test('no header, semicolons, decimal commas and dot thousands, by the profile', async () => {
    await writeProfile(
      t,
      'p',
      [
        'source: { delimiter: ";", header: false }',
        'columns:',
        '  - { name: id, source: column_1, type: integer }',
        '  - { name: amount, source: column_2, type: number, thousands: ".", decimal: "," }',
        '  - { name: day, source: column_3, type: date, format: "%d.%m.%Y" }',
      ].join('\n'),
    );
    const { rows, rejects, counts } = await run(
      { 'a.csv': '1;1.234,50;31.01.2024\n2;7,25;01.02.2024\n3;1,2,3;01.02.2024\n' },
      { profile: 'p', maxRejectRate: 0.5 },
    );
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    expect(rows).toEqual([
      { id: 1, amount: 1234.5, day: '2024-01-31' },
      { id: 2, amount: 7.25, day: '2024-02-01' },
    ]);
    // Without a header, data starts on line 1.
    expect(rejects[0]).toMatchObject({
      line: 3,
      reason: 'invalid_double',
      message: 'column amount: "1,2,3" is not a number (thousands separator ".", decimal mark ",")',
    });
  });

  test('Unix times by the profile: format unix_milliseconds on any name; type integer keeps the numbers of a column named like a time', async () => {
    await writeProfile(
      t,
      'p',
      [
        'columns:',
        '  - { name: seen, type: timestamp, format: unix_milliseconds }',
        '  - { name: created_at, type: integer }',
      ].join('\n'),
    );
    const { rows, counts, staged } = await run(
      { 'a.csv': 'seen,created_at\n1433221332117,1672531200\n1433221332118,1672531260\n' },
      { profile: 'p' },
    );
    expect(staged.schema.fields.map((f) => String(f.type))).toEqual(['Timestamp<MICROSECOND>', 'Int64']);
    expect(rows).toEqual([
      { seen: 1433221332117, created_at: 1672531200 },
      { seen: 1433221332118, created_at: 1672531260 },
    ]);
    expect(counts.guesses ?? []).toEqual([]);
  });

  test('type time in a profile reads times of day, quarantining one that is none; type string keeps clock text', async () => {
    await writeProfile(
      t,
      'p',
      ['columns:', '  - { name: rung, type: time }', '  - { name: slot, type: string }'].join('\n'),
    );
    const { rows, counts, staged, rejects } = await run(
      { 'a.csv': 'rung,slot\n07:06:11,10:30\n1:08 PM,10:45\nlunch,11:00\n' },
      { profile: 'p', maxRejectRate: 0.5 },
    );
    expect(staged.schema.fields.map((f) => String(f.type))).toEqual(['Time64<MICROSECOND>', 'Utf8']);
    expect(rows.map((r) => [Number(r['rung']) / 1e6, r['slot']])).toEqual([
      [7 * 3600 + 6 * 60 + 11, '10:30'],
      [13 * 3600 + 8 * 60, '10:45'],
    ]);
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    expect(rejects[0]).toMatchObject({
      line: 4,
      reason: 'invalid_time',
      message: 'column rung: "lunch" is not a time of day (13:08, 13:08:30, 1:08 PM)',
    });
  });

  test("a profile's type: string keeps a month column's text; its own format reads year-months anywhere", async () => {
    await writeProfile(
      t,
      'p',
      [
        'columns:',
        '  - { name: month, type: string }',
        '  - { name: sold, type: date, format: "%m/%Y" }',
      ].join('\n'),
    );
    const { rows, counts } = await run(
      { 'a.csv': 'month,sold\n2022-01,01/2022\n2022-02,02/2022\n' },
      { profile: 'p' },
    );
    expect(rows).toEqual([
      { month: '2022-01', sold: '2022-01-01' },
      { month: '2022-02', sold: '2022-02-01' },
    ]);
    expect(counts.guesses ?? []).toEqual([]);
  });

  test("a profile's %q format reads quarters in any column; a value that is no quarter is quarantined", async () => {
    await writeProfile(t, 'p', ['columns:', '  - { name: closed, type: date, format: "Q%q/%Y" }'].join('\n'));
    const { rows, rejects, counts } = await run(
      { 'a.csv': 'closed,amount\nQ2/2021,5\nQ5/2021,6\n2021-Q3,7\n' },
      { profile: 'p', maxRejectRate: 1 },
    );
    expect(rows).toEqual([{ closed: '2021-04-01', amount: 5 }]);
    expect(rejects.map((r) => [r['line'], r['reason']])).toEqual([
      [3, 'invalid_date'],
      [4, 'invalid_date'],
    ]);
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 1, rowsQuarantined: 2 });
  });

  test('text rules: NBSP, NFC, collapsed spaces, and NFKC by a value map', async () => {
    await writeProfile(
      t,
      'p',
      [
        'columns:',
        '  - { name: name, type: string, text: { nbsp: true, collapseSpaces: true, unicode: NFC } }',
        '  - { name: code, type: string, text: { unicode: NFKC } }',
      ].join('\n'),
    );
    const csv =
      'name,code\n"Conference\u00a0phone\u00a0- black ",\uff21\uff22\uff23\nCafe\u0301  Noir,\ufb01le\n';
    const { rows } = await run({ 'a.csv': csv }, { profile: 'p' });
    expect(rows).toEqual([
      { name: 'Conference phone - black', code: 'ABC' },
      { name: 'Caf\u00e9 Noir', code: 'file' },
    ]);
  });

  test('NFKC over two files with a malformed record and a failed cast: file order, lines and raw text kept', async () => {
    await writeProfile(
      t,
      'p',
      [
        'columns:',
        '  - { name: n, type: integer }',
        '  - { name: code, type: string, text: { unicode: NFKC } }',
      ].join('\n'),
    );
    // Enough rows that the map's join runs on several threads; file b has a malformed line 3 and a bad
    // integer on line 5.
    const many = Array.from({ length: 3000 }, (_, i) => `${i},${i % 3 === 0 ? '\uff21' : 'x'}${i}`);
    const { rows, rejects } = await run(
      {
        'a.csv': `n,code\n${many.join('\n')}\n`,
        'b.csv': 'n,code\n9001,\ufb01\n9002,x,extra\n9003,b\nnine,\uff21\n9005,z\n',
      },
      { profile: 'p' },
    );
    expect(rows.map((r) => r['n'])).toEqual([...Array.from({ length: 3000 }, (_, i) => i), 9001, 9003, 9005]);
    expect(rows[3]).toEqual({ n: 3, code: 'A3' });
    expect(rows[3000]).toEqual({ n: 9001, code: 'fi' });
    expect(rejects.map((r) => [r['file'], r['line'], r['reason']])).toEqual([
      ['b.csv', 3, 'unparseable_line'],
      ['b.csv', 5, 'invalid_bigint'],
    ]);
    expect(rejects[1]!['raw']).toBe('nine,\uff21');
  });
});

describe('the shipped superstore profile', () => {
  test('every row rejected (Sales not a number): 422 with the report written, not a 500 from the ML features', async () => {
    const header =
      'Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,State,Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit';
    const rows = [1, 2, 3].map(
      (i) =>
        `${i},CA-2016-15215${i},11/8/2016,11/11/2016,Second Class,CG-12520,Claire Gute,Consumer,United States,Henderson,Kentucky,42420,South,FUR-BO-1000179${i},Furniture,Bookcases,Bookcase ${i},lots,2,0,41.9136`,
    );
    await writeExtractedRun(t.store, 'r1', {
      'Sample - Superstore.csv': `${header}\r\n${rows.join('\r\n')}\r\n`,
    });
    const error = await transform(
      { runId: 'r1', profile: 'superstore' },
      { ...t.deps, profilesDir: defaultProfilesDir() },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422, code: 'QUALITY_GATE_FAILED' });
    const report = await getJson<TransformReport>(t.store, 'runs/r1/reports/transform.json');
    expect(report.tables[0]).toMatchObject({ table: 'sales', counts: { rowsIn: 3, rowsQuarantined: 3 } });
  });
});

describe("a profile's source.encoding", () => {
  const csv = '受注番号,商品名,数量\r\nJ001,ノートパソコン,1\r\nJ002,マウス,2\r\n';

  test('names a legacy encoding: the file is decoded in it, and no guess is said', async () => {
    await writeProfile(t, 'p', 'source:\n  encoding: shift_jis\n');
    const { report, rows, response } = await run(
      { 'a.csv': encodeLegacy(csv, 'shift_jis') },
      { profile: 'p' },
    );
    expect(report.files[0]).toMatchObject({ encoding: 'shift_jis' });
    expect(rows.map((r) => r['商品名'])).toEqual(['ノートパソコン', 'マウス']);
    expect(response.tables[0]!.guesses ?? []).toEqual([]);
  });

  test('names an encoding the bytes are not in: 422 ENCODING_MISMATCH naming the file', async () => {
    await writeProfile(t, 'p', 'source:\n  encoding: gb18030\n');
    const bytes = Buffer.concat([Buffer.from('a,b\r\nCaf'), Buffer.from([0xe9, 0x2c]), Buffer.from('2\r\n')]);
    await writeExtractedRun(t.store, 'r1', { 'a.csv': bytes });
    const error = await transform({ runId: 'r1', profile: 'p' }, t.deps).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422, code: 'ENCODING_MISMATCH' });
    expect((error as Error).message).toMatch(
      /^raw file \S+a\.csv is not gb18030 as its profile's source\.encoding says/,
    );
  });
});
