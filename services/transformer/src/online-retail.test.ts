/**
 * Regression: on the UCI Online Retail file, `InvoiceDate` (`12/1/2010 8:26`) was read as text, and
 * `InvoiceNo`, numeric in 98.3% of rows, was typed BIGINT, so every cancellation (`C536379`) was
 * quarantined as invalid_bigint. An Online-Retail-like CSV must load whole, with the invoice number as
 * text and the invoice date as a TIMESTAMP.
 */
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
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

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const PRODUCTS: Array<[string, string, string]> = [
  ['85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', '2.55'],
  ['71053', 'WHITE METAL LANTERN', '3.39'],
  ['84406B', 'CREAM CUPID HEARTS COAT HANGER', '2.75'],
  ['22752', 'SET 7 BABUSHKA NESTING BOXES', '7.65'],
  ['21730', '"GLASS STAR FROSTED T-LIGHT HOLDER, LARGE"', '4.25'],
];

/** 200 lines from 12/1/2010 8:26 over 20 days; 3 cancellations (`C<n>`, negative Quantity); 6 without a customer. */
function onlineRetailCsv(): { csv: string; cancellations: number; missingCustomers: number } {
  const lines = [HEADER];
  let cancellations = 0;
  let missingCustomers = 0;
  for (let i = 0; i < 200; i++) {
    const invoice = 536_365 + Math.floor(i / 4);
    const cancelled = i % 70 === 14;
    const [code, description, price] = PRODUCTS[i % PRODUCTS.length]!;
    const day = 1 + Math.floor(i / 10);
    const minutes = 8 * 60 + 26 + (i % 10) * 37;
    const time = `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
    const customer = i % 33 === 5 ? '' : `${12_346 + ((invoice * 7) % 5_000)}.0`;
    if (cancelled) cancellations++;
    if (customer === '') missingCustomers++;
    lines.push(
      [
        cancelled ? `C${invoice}` : String(invoice),
        code,
        description,
        cancelled ? String(-1 - (i % 5)) : String(1 + (i % 12)),
        `12/${day}/2010 ${time}`,
        price,
        customer,
        'United Kingdom',
      ].join(','),
    );
  }
  return { csv: `${lines.join('\r\n')}\r\n`, cancellations, missingCustomers };
}

describe('Online Retail: cancelled invoices and M/D/YYYY H:MM dates', () => {
  test('every row loads: InvoiceNo is text (with the reason), InvoiceDate a TIMESTAMP, Quantity BIGINT', async () => {
    const { csv, cancellations, missingCustomers } = onlineRetailCsv();
    expect([cancellations, missingCustomers]).toEqual([3, 6]);
    await writeExtractedRun(t.store, 'r1', { 'Online Retail.csv': csv });
    const response = await transform({ runId: 'r1' }, t.deps);
    const counts = response.tables[0]!;
    expect(counts).toMatchObject({ rowsIn: 200, rowsOut: 200, rowsQuarantined: 0, rowsDuplicate: 0 });

    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    const column = (name: string) => report.columns.find((c) => c.name === name);
    expect(report.reasons).toEqual({});
    expect(column('invoice_no')).toMatchObject({
      type: 'VARCHAR',
      invalid: 0,
      reason: 'identifier: 3 of 200 sampled values are a letter prefix on a number, e.g. C536368',
    });
    expect(column('invoice_date')).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      ambiguous: false,
      invalid: 0,
    });
    expect(column('quantity')).toMatchObject({ type: 'BIGINT', invalid: 0 });
    expect(column('quantity')!.reason).toBeUndefined();
    expect(column('unit_price')).toMatchObject({ type: 'DOUBLE' });
    expect(column('customer_id')).toMatchObject({
      type: 'VARCHAR',
      nulls: missingCustomers,
      reason: expect.stringMatching(/^identifier: named like one \(customer_id\)/),
    });

    const staged = await readTable(t.store, counts.stagedKey);
    const types = Object.fromEntries(staged.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      invoice_no: 'Utf8',
      stock_code: 'Utf8',
      quantity: 'Int64',
      invoice_date: 'Timestamp<MICROSECOND>',
      unit_price: 'Float64',
      customer_id: 'Utf8',
    });
    const rows = rowsOf(staged);
    expect(rows[0]).toMatchObject({
      invoice_no: '536365',
      stock_code: '85123A',
      quantity: 1,
      invoice_date: Date.UTC(2010, 11, 1, 8, 26),
      customer_id: expect.stringMatching(/^1\d{4}\.0$/),
    });
    expect(rows.filter((r) => String(r['invoice_no']).startsWith('C'))).toEqual([
      expect.objectContaining({ invoice_no: 'C536368', quantity: -5 }),
      expect.objectContaining({ invoice_no: 'C536386', quantity: -5 }),
      expect.objectContaining({ invoice_no: 'C536403', quantity: -5 }),
    ]);
    expect(rows[199]).toMatchObject({ invoice_date: Date.UTC(2010, 11, 20, 13, 59) });
  });

  test('a date-time that does not parse in the column format is quarantined as invalid_timestamp', async () => {
    const good = Array.from({ length: 60 }, (_, i) => `${i + 1},12/${(i % 28) + 1}/2010 ${i % 24}:05`);
    const csv = ['id,sold_at', ...good.slice(0, 30), '61,12/45/2010 8:26', ...good.slice(30)].join('\n');
    await writeExtractedRun(t.store, 'r1', { 'a.csv': `${csv}\n` });
    const response = await transform({ runId: 'r1', maxRejectRate: 0.5 }, t.deps);
    const counts = response.tables[0]!;
    expect(counts).toMatchObject({ rowsIn: 61, rowsOut: 60, rowsQuarantined: 1 });
    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    expect(report.columns.find((c) => c.name === 'sold_at')).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      invalid: 1,
    });
    expect(rowsOf(await readTable(t.store, counts.quarantineKey))).toEqual([
      expect.objectContaining({
        line: 32,
        reason: 'invalid_timestamp',
        message: 'column sold_at: "12/45/2010 8:26" is not a date-time in format %m/%d/%Y %H:%M',
      }),
    ]);
  });

  test('a profile that types the column timestamp without a format uses the inferred one', async () => {
    await writeProfile(
      t,
      'retail',
      'columns:\n  - { name: invoice_date, source: InvoiceDate, type: timestamp }\n',
    );
    await writeExtractedRun(t.store, 'r1', { 'Online Retail.csv': onlineRetailCsv().csv });
    const response = await transform({ runId: 'r1', profile: 'retail' }, t.deps);
    expect(response.tables[0]).toMatchObject({ rowsIn: 200, rowsOut: 200, rowsQuarantined: 0 });
    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    expect(report.columns.find((c) => c.name === 'invoice_date')).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
    });
    expect(report.columns.find((c) => c.name === 'invoice_no')).toMatchObject({ type: 'VARCHAR' });
  });

  test('with a profile, a date-time column read both as M/D and D/M must be given a format, as a date column', async () => {
    await writeProfile(t, 'p', 'duplicates: { exact: keep }\n');
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id,sold_at\n1,1/2/2020 8:26\n2,3/4/2020 9:15\n' });
    const error = await transform({ runId: 'r1', profile: 'p' }, t.deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AMBIGUOUS_DATE_FORMAT',
      message: expect.stringContaining(
        'column sold_at reads as a date-time in more than one format (%m/%d/%Y %H:%M and %d/%m/%Y %H:%M)',
      ),
    });
  });
});
