/** A dataset of several files and formats: one table per file, named from it, each with its own gate. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { getJson, putJson } from '@etl/common/storage';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
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

const counts = (response: Awaited<ReturnType<typeof transform>>) =>
  Object.fromEntries(
    response.tables.map((table) => [
      table.name,
      {
        files: table.files,
        rowsIn: table.rowsIn,
        rowsOut: table.rowsOut,
        rowsQuarantined: table.rowsQuarantined,
      },
    ]),
  );

async function bytesOf(write: (file: string) => Promise<void>, name: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'multi-table-'));
  try {
    const file = path.join(dir, name);
    await write(file);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function duckdbCopy(sql: string, name: string): Promise<Buffer> {
  return bytesOf(async (file) => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`COPY (${sql}) TO '${file}' (FORMAT parquet)`);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }, name);
}

describe('a dataset of several tables', () => {
  test('differently-headed files: one table each, named <dataset>_<file>, exact counts', async () => {
    // 60 stores; Sales of the last one is not a number (quarantined: 59 of 60 values parse, the column stays numeric).
    const train = Array.from({ length: 60 }, (_, i) => `${i + 1},2015-07-31,${i === 59 ? 'x' : 5000 + i}`);
    await writeExtractedRun(t.store, 'r1', {
      'train.csv': `"Store","Date","Sales"\n${train.join('\n')}\n`,
      'store.csv': 'Store,StoreType\n1,c\n2,a\n',
    });
    const response = await transform({ runId: 'r1' }, t.deps);
    expect(counts(response)).toEqual({
      sales_store: { files: ['store.csv'], rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 },
      sales_train: { files: ['train.csv'], rowsIn: 60, rowsOut: 59, rowsQuarantined: 1 },
    });
    expect(response.quality).toMatchObject({ passed: true, rejectRate: 1 / 62 });
    const trainTable = response.tables.find((table) => table.name === 'sales_train')!;
    expect(trainTable.quality).toMatchObject({ passed: true, rejectRate: 1 / 60 });
    expect(rowsOf(await readTable(t.store, trainTable.stagedKey)).slice(0, 2)).toEqual([
      { store: 1, date: '2015-07-31', sales: 5000 },
      { store: 2, date: '2015-07-31', sales: 5001 },
    ]);
    expect(rowsOf(await readTable(t.store, trainTable.quarantineKey))).toMatchObject([
      { line: 61, reason: 'invalid_bigint' },
    ]);
    const report = await getJson<TransformReport>(t.store, response.reportKey);
    expect(report.tables.map((table) => [table.table, table.counts.rowsIn])).toEqual([
      ['sales_store', 2],
      ['sales_train', 60],
    ]);
  });

  test("Spark's partitioned output: the part files of a folder are one table named by it, each partition folder's value a column", async () => {
    const part = (n: number) => `part-0000${n}-5f2e8c7a-1d2b-4c3e-9f8a-0b1c2d3e4f5a-c000.csv`;
    // 60 rows, so that one amount that is no number is quarantined rather than keeping the column text.
    const web = Array.from({ length: 60 }, (_, i) => `${100 + i},${i}`);
    const files = [
      `orders/year=2022/channel=web/${part(0)}`,
      `orders/year=2023/channel=store/${part(0)}`,
      `orders/year=2023/channel=__HIVE_DEFAULT_PARTITION__/${part(1)}`,
    ];
    await writeExtractedRun(t.store, 'r1', {
      [files[0]!]: `order_id,amount\n${web.join('\n')}\n`,
      [files[1]!]: 'order_id,amount\n3,30\n4,x\n',
      [files[2]!]: 'order_id,amount\n5,50\n',
      // A file that holds its partition's column keeps its own values.
      'returns/year=2023/part-00000.csv': 'return_id,year\n1,2023\n',
    });
    const response = await transform({ runId: 'r1', maxRejectRate: 0.5 }, t.deps);
    expect(counts(response)).toEqual({
      sales_orders: { files, rowsIn: 63, rowsOut: 62, rowsQuarantined: 1 },
      sales_returns: {
        files: ['returns/year=2023/part-00000.csv'],
        rowsIn: 1,
        rowsOut: 1,
        rowsQuarantined: 0,
      },
    });
    const orders = response.tables.find((table) => table.name === 'sales_orders')!;
    const rows = rowsOf(await readTable(t.store, orders.stagedKey));
    expect(rows[0]).toEqual({ order_id: 100, amount: 0, year: 2022, channel: 'web' });
    expect(rows.slice(-2)).toEqual([
      { order_id: 3, amount: 30, year: 2023, channel: 'store' },
      { order_id: 5, amount: 50, year: 2023, channel: null },
    ]);
    expect(rowsOf(await readTable(t.store, orders.quarantineKey))).toMatchObject([
      // The raw text is the file's record: the partition values are not in it.
      { file: files[1], line: 3, reason: 'invalid_bigint', raw: '4,x' },
    ]);
    expect(orders.notes).toContainEqual({
      message:
        "its 3 files sit in partition folders (year=…/channel=…): loaded as columns year (2022, 2023), channel (web, store, NULL) after the files' own",
    });
    const returns = response.tables.find((table) => table.name === 'sales_returns')!;
    expect(rowsOf(await readTable(t.store, returns.stagedKey))).toEqual([{ return_id: 1, year: 2023 }]);
    // Made one table with a file outside the partition folders, the difference is named.
    await writeExtractedRun(t.store, 'r2', {
      [files[1]!]: 'order_id,amount\n3,30\n',
      'orders/late.csv': 'order_id,amount\n9,90\n',
    });
    const error = await transform({ runId: 'r2', table: 'orders' }, t.deps).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422, code: 'HEADER_MISMATCH' });
    expect((error as Error).message).toContain(
      '[order_id, amount, year (from its folder), channel (from its folder)]',
    );
  });

  test('monthly exports named by month (Sales_January_2019.csv, ...) are one table; their repeated headers and rows of commas are quarantined as no data', async () => {
    const header = 'Order ID,Product,Quantity Ordered,Price Each,Order Date,Purchase Address';
    const month = (m: number, first: number) =>
      [
        header,
        `${first},USB-C Charging Cable,2,11.95,${String(m).padStart(2, '0')}/19/19 08:46,"917 1st St, Dallas, TX 75001"`,
        ',,,,,',
        `${first + 1},Bose SoundSport Headphones,1,99.99,${String(m).padStart(2, '0')}/07/19 22:30,"682 Chestnut St, Boston, MA 02215"`,
        header,
        `${first + 2},Google Phone,1,600,${String(m).padStart(2, '0')}/12/19 14:38,"669 Spruce St, Los Angeles, CA 90001"`,
      ].join('\n');
    await writeExtractedRun(t.store, 'r1', {
      'Sales_January_2019.csv': `${month(1, 141234)}\n`,
      'Sales_February_2019.csv': `${month(2, 150502)}\n`,
      'Sales_March_2019.csv': `${month(3, 162009)}\n`,
    });
    const response = await transform({ runId: 'r1' }, t.deps);
    expect(counts(response)).toEqual({
      sales: {
        files: ['Sales_January_2019.csv', 'Sales_February_2019.csv', 'Sales_March_2019.csv'],
        rowsIn: 15,
        rowsOut: 9,
        rowsQuarantined: 6,
      },
    });
    const report = await getJson<TransformReport>(t.store, response.reportKey);
    expect(report.tables[0]!.reasons).toEqual({ empty_row: 3, repeated_header: 3 });
    expect(response.quality).toMatchObject({ passed: true, rejectRate: 0 });
  });

  test('the quality gate holds per table and names the table that failed', async () => {
    const numbers = (bad: number) =>
      `n\n${Array.from({ length: 60 }, (_, i) => (i < bad ? 'x' : String(i))).join('\n')}\n`;
    await writeExtractedRun(t.store, 'r1', { 'good.csv': numbers(0), 'bad.csv': numbers(1) });
    await expect(transform({ runId: 'r1', maxRejectRate: 0.01 }, t.deps)).rejects.toMatchObject({
      status: 422,
      code: 'QUALITY_GATE_FAILED',
      message: expect.stringContaining('table sales_bad: 1.67% of 60 rows quarantined'),
      details: expect.objectContaining({
        tables: [expect.objectContaining({ table: 'sales_bad', rowsIn: 60, rowsQuarantined: 1 })],
      }),
    });
    // Every table was reported before the gate answered; nothing marks the run done.
    const report = await getJson<TransformReport>(t.store, 'runs/r1/reports/transform.json');
    expect(report.tables.map((table) => [table.table, table.quality.passed])).toEqual([
      ['sales_bad', false],
      ['sales_good', true],
    ]);
    expect(await t.store.exists('runs/r1/manifest/transform.json')).toBe(false);
  });

  test('a table name makes the dataset one table; a tables mapping names tables by file', async () => {
    await writeExtractedRun(t.store, 'r1', { 'jan.csv': 'id\n1\n2\n', 'feb.csv': 'id\n3\n' });
    const one = await transform({ runId: 'r1', table: 'orders' }, t.deps);
    expect(counts(one)).toEqual({
      orders: { files: ['jan.csv', 'feb.csv'], rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 },
    });
    await writeExtractedRun(t.store, 'r2', { 'train.csv': 'a\n1\n', 'stores.csv': 'b\n2\n' });
    const named = await transform({ runId: 'r2', tables: { 'train*': 'weekly_sales' } }, t.deps);
    expect(named.tables.map((table) => table.name)).toEqual(['sales_stores', 'weekly_sales']);
  });

  test('a sheet with a title above its header: the title rows are skipped and said', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Report');
    sheet.getCell('A1').value = 'Sales by store, FY2024';
    sheet.getCell('A2').value = 'Source: ERP export';
    sheet.getRow(4).values = ['Date', 'Store', 'Amount'];
    sheet.getRow(5).values = [new Date(Date.UTC(2024, 0, 5)), 'North', 120.5];
    sheet.getRow(6).values = [new Date(Date.UTC(2024, 0, 6)), 'South', 80];
    sheet.getRow(7).values = [new Date(Date.UTC(2024, 1, 7)), 'North', 99.9];
    await writeExtractedRun(t.store, 'r1', { 'stores.xlsx': Buffer.from(await workbook.xlsx.writeBuffer()) });
    const response = await transform({ runId: 'r1' }, t.deps);
    const table = response.tables[0]!;
    expect(table).toMatchObject({ name: 'sales_stores', rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
    expect(table.guesses?.[0]?.message).toBe(
      'file stores.xlsx#Report: 2 lines above the header skipped as a title ("Sales by store, FY2024", "Source: ERP export"); a profile\'s source.skipLines says otherwise',
    );
    expect(rowsOf(await readTable(t.store, table.stagedKey))).toEqual([
      { date: '2024-01-05', store: 'North', amount: 120.5 },
      { date: '2024-01-06', store: 'South', amount: 80 },
      { date: '2024-02-07', store: 'North', amount: 99.9 },
    ]);
  });

  test('Parquet, JSON lines and a two-sheet workbook are tables like any CSV', async () => {
    const parquet = await duckdbCopy(
      "SELECT * FROM (VALUES (DATE '2013-01-01', NULL::DOUBLE), (DATE '2013-01-02', 93.14)) v(date, dcoilwtico)",
      'oil.parquet',
    );
    const jsonl = [
      '{"order_id": "A1", "amount": 10.5, "meta": {"channel": "web", "customer": {"id": "C7"}}, "tags": ["a"]}',
      '{"order_id": "A2", "amount": 3}',
      '',
    ].join('\n');
    const workbook = new ExcelJS.Workbook();
    const invoices = workbook.addWorksheet('Invoices');
    invoices.addRow(['InvoiceNo', 'Quantity', 'InvoiceDate']);
    invoices.addRow(['536365', 6, new Date(Date.UTC(2010, 11, 1, 8, 26))]);
    invoices.addRow(['C536379', -1, new Date(Date.UTC(2010, 11, 1, 9, 41))]);
    const countries = workbook.addWorksheet('Countries');
    countries.addRow(['Country', 'Region']);
    countries.addRow(['France', 'Europe']);
    workbook.addWorksheet('Empty');
    // Prose beside the tables: skipped and said, and the other sheets keep their names.
    const notes = workbook.addWorksheet('Notes');
    notes.addRow(['Source: UCI Machine Learning Repository']);
    notes.addRow(['Amounts in GBP']);
    const dictionary = workbook.addWorksheet('Data Dictionary');
    dictionary.addRow(['Field', 'Meaning']);
    dictionary.addRow(['InvoiceNo', 'a C in front marks a cancellation']);
    const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
    const manifest = await writeExtractedRun(t.store, 'r1', {
      'oil.parquet': parquet,
      'orders.jsonl': jsonl,
      'Online Retail.xlsx': xlsx,
    });
    await putJson(t.store, manifest.manifestKey, {
      ...manifest,
      skippedFiles: [{ name: 'README.md', reason: 'documentation' }],
    });
    const response = await transform({ runId: 'r1' }, t.deps);
    expect(counts(response)).toEqual({
      sales_oil: { files: ['oil.parquet'], rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 },
      sales_online_retail_countries: {
        files: ['Online Retail.xlsx#Countries'],
        rowsIn: 1,
        rowsOut: 1,
        rowsQuarantined: 0,
      },
      sales_online_retail_invoices: {
        files: ['Online Retail.xlsx#Invoices'],
        rowsIn: 2,
        rowsOut: 2,
        rowsQuarantined: 0,
      },
      sales_orders: { files: ['orders.jsonl'], rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 },
    });
    expect(response.skippedFiles).toEqual([
      { name: 'README.md', reason: 'documentation' },
      { name: 'Online Retail.xlsx#Empty', reason: expect.stringMatching(/empty/) },
      { name: 'Online Retail.xlsx#Notes', reason: 'documentation sheet, not a table' },
      { name: 'Online Retail.xlsx#Data Dictionary', reason: 'documentation sheet, not a table' },
    ]);
    const byName = Object.fromEntries(response.tables.map((table) => [table.name, table]));
    expect(rowsOf(await readTable(t.store, byName['sales_online_retail_invoices']!.stagedKey))).toEqual([
      { invoice_no: '536365', quantity: 6, invoice_date: Date.UTC(2010, 11, 1, 8, 26) },
      { invoice_no: 'C536379', quantity: -1, invoice_date: Date.UTC(2010, 11, 1, 9, 41) },
    ]);
    expect(rowsOf(await readTable(t.store, byName['sales_orders']!.stagedKey))).toEqual([
      { order_id: 'A1', amount: 10.5, meta_channel: 'web', meta_customer_id: 'C7', tags: '["a"]' },
      { order_id: 'A2', amount: 3, meta_channel: null, meta_customer_id: null, tags: null },
    ]);
    expect(rowsOf(await readTable(t.store, byName['sales_oil']!.stagedKey))).toEqual([
      { date: '2013-01-01', dcoilwtico: null },
      { date: '2013-01-02', dcoilwtico: 93.14 },
    ]);
  });
});
