/**
 * The real Kaggle Superstore file (cp1252, CRLF, M/D/YYYY, 4-digit ZIPs, NBSP) through automatic profiling
 * and through the shipped profile. Skipped, with the path in its name, when the file is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TransformResponse } from '@etl/common/contracts';
import { getJson } from '@etl/common/storage';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultProfilesDir } from './config';
import { parseProfile } from './profile';
import { type ProfileCsvResult, profileCsvFiles } from './profiler';
import type { TransformReport } from './report';
import {
  createTestStore,
  readTable,
  rowsOf,
  type TestStore,
  writeExtractedRun,
  writeProfile,
} from './test-support';
import { transform } from './transformer';

const SUPERSTORE = path.resolve(
  import.meta.dirname,
  '../../../../shared/data/superstore/Sample - Superstore.csv',
);
const present = existsSync(SUPERSTORE);
const skipped = `skipped: ${SUPERSTORE} is absent`;

let t: TestStore;
beforeAll(async () => {
  t = await createTestStore();
});
afterAll(async () => {
  await t.cleanup();
});

/** A run over the file (the raw object is written once per run id). */
async function runSuperstore(runId: string, profile: string | undefined, profilesDir?: string) {
  await writeExtractedRun(t.store, runId, { 'Sample - Superstore.csv': readFileSync(SUPERSTORE) });
  const response: TransformResponse = await transform(
    { runId, ...(profile ? { profile } : {}) },
    { ...t.deps, ...(profilesDir ? { profilesDir } : {}) },
  );
  const main = response.tables[0]!;
  return {
    response,
    counts: main,
    report: (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!,
    rows: rowsOf(await readTable(t.store, main.stagedKey)),
  };
}

describe.skipIf(!present)(
  `Sample - Superstore.csv with profiles/superstore.yaml (${present ? SUPERSTORE : skipped})`,
  () => {
    let result: Awaited<ReturnType<typeof runSuperstore>>;
    beforeAll(async () => {
      result = await runSuperstore('shipped', 'superstore', defaultProfilesDir());
    });

    test('all 9,994 rows accounted for, none rejected; cp1252 decoded', () => {
      const { counts, report, rows } = result;
      expect(counts).toMatchObject({
        name: 'sales',
        rowsIn: 9994,
        rowsOut: 9994,
        rowsQuarantined: 0,
        rowsDuplicate: 0,
      });
      expect(report.files[0]).toMatchObject({ encoding: 'windows-1252', rowsParsed: 9994 });
      expect(rows[0]).toMatchObject({
        row_id: 1,
        order_date: '2016-11-08',
        ship_date: '2016-11-11',
        postal_code: '42420',
      });
      const names = rows.map((r) => String(r['product_name']));
      expect(names.some((n) => n.includes('\u201d'))).toBe(true);
      expect(names.some((n) => /[\u0080-\u009f]/.test(n))).toBe(false);
    });

    test('ZIP codes restored to 5 digits: 2138-like values padded, Burlington VT 05408 kept', () => {
      const zips = result.rows.map((r) => String(r['postal_code']));
      expect(zips.every((z) => /^[0-9]{5}$/.test(z))).toBe(true);
      expect(result.rows.find((r) => r['row_id'] === 347)).toMatchObject({
        city: 'Lowell',
        postal_code: '01852',
      });
      expect(
        result.rows.filter((r) => r['city'] === 'Burlington' && r['postal_code'] === '05408'),
      ).toHaveLength(11);
      // 438 New England and New Jersey ZIPs had lost their leading zero; all now start with 0.
      expect(zips.filter((z) => z.startsWith('0')).length).toBe(438 + 11);
    });

    test('product names: NBSP and doubled spaces normalised, one spelling per name', () => {
      const names = result.rows.map((r) => String(r['product_name']));
      expect(names.filter((n) => n.includes('\u00a0') || n.includes('  ') || n !== n.trim())).toEqual([]);
      expect(result.rows.find((r) => r['row_id'] === 12)!['product_name']).toBe(
        'Konftel 250 Conference phone - Charcoal black',
      );
      expect(new Set(names).size).toBe(1850);
    });

    test('the 8 repeated (Order ID, Product ID) pairs and the 1 duplicate but for Row ID are reported and kept', () => {
      const keys = result.report.duplicates.keys!;
      expect(keys[0]).toMatchObject({
        columns: ['order_id', 'product_id'],
        kind: 'key',
        groups: 8,
        rows: 16,
      });
      expect(keys[0]!.examples[0]).toEqual({
        key: { order_id: 'CA-2016-129714', product_id: 'OFF-PA-10001970' },
        rows: [
          { file: 'Sample - Superstore.csv', line: 352 },
          { file: 'Sample - Superstore.csv', line: 354 },
        ],
      });
      expect(keys[1]).toMatchObject({ kind: 'ignoring', ignored: ['row_id'], groups: 1, rows: 2 });
      expect(keys[1]!.examples[0]!.rows).toEqual([
        { file: 'Sample - Superstore.csv', line: 3407 },
        { file: 'Sample - Superstore.csv', line: 3408 },
      ]);
      expect(result.response.quality.checks).toEqual(
        expect.arrayContaining([
          {
            name: 'duplicates_order_id_product_id',
            passed: false,
            value: 8,
            threshold: 0,
            severity: 'warning',
          },
          { name: 'duplicates_ignoring_row_id', passed: false, value: 1, threshold: 0, severity: 'warning' },
          { name: 'ship_not_before_order', passed: true, value: 0, threshold: 0.01, severity: 'reject' },
        ]),
      );
    });

    test('warehouse layout and feature tables in the response', () => {
      expect(result.counts).toMatchObject({ partitionBy: 'order_date', clusterBy: ['region', 'category'] });
      expect(result.response.tables.slice(1).map((x) => [x.name, x.rowsOut])).toEqual([
        ['sales_features_daily_region', 4 * 1458], // 4 regions x 2014-01-03 .. 2017-12-30
        ['sales_features_daily_product', 9955],
        ['sales_features_customers_rfm', 793],
        ['sales_features_orders', 5009],
      ]);
    });
  },
);

describe.skipIf(!present)(
  `Sample - Superstore.csv profiled automatically (${present ? SUPERSTORE : skipped})`,
  () => {
    let profiled: ProfileCsvResult;
    beforeAll(async () => {
      profiled = await profileCsvFiles([SUPERSTORE], { tempDir: t.root, duckdb: { threads: 2 } });
    });

    test('dialect, encoding, types, ZIP padding, text issues and the candidate key', () => {
      expect(profiled.encodings).toEqual(['windows-1252']);
      expect(profiled.dialect).toMatchObject({
        delimiter: ',',
        quote: '"',
        header: true,
        lineEnding: 'CRLF',
      });
      expect(profiled.findings.rows).toBe(9994);
      expect(profiled.findings.candidateKeys).toEqual([['row_id']]);
      expect(profiled.ambiguous).toEqual([]);
      const columns = Object.fromEntries((profiled.profile.columns ?? []).map((c) => [c.name, c]));
      expect(Object.keys(columns)).toHaveLength(21);
      expect(Object.fromEntries(Object.values(columns).map((c) => [c.name, c.type]))).toEqual({
        row_id: 'integer',
        order_id: 'string',
        order_date: 'date',
        ship_date: 'date',
        ship_mode: 'string',
        customer_id: 'string',
        customer_name: 'string',
        segment: 'string',
        country: 'string',
        city: 'string',
        state: 'string',
        postal_code: 'string',
        region: 'string',
        product_id: 'string',
        category: 'string',
        sub_category: 'string',
        product_name: 'string',
        sales: 'number',
        quantity: 'integer',
        discount: 'number',
        profit: 'number',
      });
      expect(columns['order_date']).toMatchObject({ format: '%m/%d/%Y', source: 'Order Date' });
      expect(columns['postal_code']).toMatchObject({ pad: 5 });
      expect(columns['product_name']!.text).toEqual({ nbsp: true, collapseSpaces: true });
      expect(columns['region']!.categorical).toBe(true);
      expect(profiled.profile.primaryKey).toEqual(['row_id']);
      expect(profiled.yaml).toContain(
        'Found: product_name: 225 with no-break spaces; product_name: 32 with double spaces',
      );
    });

    test('the written profile loads and cleans the file: 9,994 rows, 5-digit ZIPs', async () => {
      expect(() => parseProfile(profiled.yaml, 'auto.yaml')).not.toThrow();
      await writeProfile(t, 'auto', profiled.yaml);
      const { counts, rows } = await runSuperstore('auto', 'auto');
      expect(counts).toMatchObject({ rowsIn: 9994, rowsOut: 9994, rowsQuarantined: 0, rowsDuplicate: 0 });
      expect(rows.every((r) => String(r['postal_code']).length === 5)).toBe(true);
    });

    test('without a profile, the transformer reports the sniffed dialect and the candidate key', async () => {
      const { report } = await runSuperstore('none', undefined);
      expect(report.dialect).toEqual({
        delimiter: ',',
        quote: '"',
        header: true,
        sniffed: true,
        lineEnding: 'CRLF',
      });
      expect(report.candidateKeys).toEqual([['row_id']]);
      expect(report.profile).toBeNull();
    });
  },
);
