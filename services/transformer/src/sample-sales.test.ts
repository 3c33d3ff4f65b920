/**
 * Generated sales data (test/fixtures/transformer/sample-sales.csv, made by make-fixtures.ts) through
 * profiles/sample-sales.yaml. The expected counts are derived here, independently, from the text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getJson } from '@etl/common/storage';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultProfilesDir } from './config';
import { parseRecords } from './read-header';
import type { TransformReport } from './report';
import { createTestStore, readTable, rowsOf, type TestStore, writeExtractedRun } from './test-support';
import { transform } from './transformer';

const FIXTURE = path.resolve(import.meta.dirname, '../../../test/fixtures/transformer/sample-sales.csv');

/** What the profile should do to each record, computed without SQL. */
function expectations(text: string) {
  const [header, ...records] = parseRecords(
    text,
    { delimiter: ',', quote: '"' },
    Number.POSITIVE_INFINITY,
    true,
  ).records;
  const col = (name: string) => header!.indexOf(name);
  const isDate = (v: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  };
  const typed: Array<[string, (v: string) => boolean, string]> = [
    ['order_date', isDate, 'invalid_date'],
    ['ship_date', isDate, 'invalid_date'],
    ['sales', (v) => /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v), 'invalid_double'],
    ['quantity', (v) => /^[+-]?\d+$/.test(v), 'invalid_bigint'],
  ];
  const required = ['order_id', 'order_date', 'customer_id', 'product_id', 'sales', 'quantity'];
  const reasons: Record<string, number> = {};
  const seen = new Set<string>();
  let duplicates = 0;
  const kept: string[][] = [];
  for (const raw of records) {
    const r = raw.map((v) => v.trim());
    const invalid = typed.find(([name, ok]) => r[col(name)] !== '' && !ok(r[col(name)]!));
    let reason = invalid?.[2];
    if (!reason && required.some((name) => r[col(name)] === '')) reason = 'missing_required';
    if (!reason && r[col('ship_date')] !== '' && r[col('ship_date')]! < r[col('order_date')]!)
      reason = 'check_failed';
    if (reason) {
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      continue;
    }
    const key = JSON.stringify(r);
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    kept.push(r);
  }
  return {
    rowsIn: records.length,
    reasons,
    duplicates,
    kept: kept.length,
    emptyShipMode: kept.filter((r) => r[col('ship_mode')] === '').length,
    emptyDiscount: kept.filter((r) => r[col('discount')] === '').length,
  };
}

let t: TestStore;
beforeAll(async () => {
  t = await createTestStore();
});
afterAll(async () => {
  await t.cleanup();
});

describe('sample-sales.csv with profiles/sample-sales.yaml', () => {
  test('each kind of dirt counted exactly; accounting exact; imputation flagged', async () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const expected = expectations(text);
    // The fixture holds every kind of dirt the generator makes.
    expect(expected.reasons['invalid_date']).toBeGreaterThan(0);
    expect(
      (expected.reasons['invalid_double'] ?? 0) + (expected.reasons['invalid_bigint'] ?? 0),
    ).toBeGreaterThan(0);
    // Pinned for this fixture (seed 11, 2,000 lines), so a regenerated fixture is noticed.
    expect(expected).toMatchObject({
      rowsIn: 2000,
      reasons: { invalid_date: 6, invalid_bigint: 3 },
      duplicates: 11,
      kept: 1980,
      emptyShipMode: 23,
      emptyDiscount: 9,
    });
    expect(expected.duplicates).toBeGreaterThan(0);
    expect(expected.emptyShipMode).toBeGreaterThan(0);

    await writeExtractedRun(t.store, 'r1', { 'sample-sales.csv': text });
    const response = await transform(
      { runId: 'r1', profile: 'sample-sales' },
      { ...t.deps, profilesDir: defaultProfilesDir() },
    );
    const counts = response.tables[0]!;
    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    expect(counts).toMatchObject({
      name: 'sales',
      rowsIn: expected.rowsIn,
      rowsQuarantined: Object.values(expected.reasons).reduce((a, b) => a + b, 0),
      rowsDuplicate: expected.duplicates,
      rowsOut: expected.kept,
    });
    expect(counts.rowsIn).toBe(counts.rowsOut + counts.rowsQuarantined + counts.rowsDuplicate);
    expect(report.reasons).toEqual(expected.reasons);
    const rows = rowsOf(await readTable(t.store, counts.stagedKey));
    expect(rows.filter((r) => r['ship_mode_imputed'])).toHaveLength(expected.emptyShipMode);
    expect(rows.filter((r) => r['discount_imputed'])).toHaveLength(expected.emptyDiscount);
    expect(rows.every((r) => r['ship_mode'] !== null && r['discount'] !== null)).toBe(true);
    const text_ = ['customer_name', 'segment', 'city', 'product_name'];
    expect(
      rows.filter((r) => text_.some((c) => r[c] !== null && String(r[c]) !== String(r[c]).trim())),
    ).toEqual([]);
    expect(
      rows.filter((r) => r['postal_code'] !== null).every((r) => /^\d{5}$/.test(String(r['postal_code']))),
    ).toBe(true);
    expect(response.tables.map((x) => x.name)).toEqual([
      'sales',
      'sales_features_daily_region',
      'sales_features_daily_product',
      'sales_features_customers_rfm',
      'sales_features_orders',
    ]);
  });
});
