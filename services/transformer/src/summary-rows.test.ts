/**
 * Footer rows of totals (`Total,,,120,1523.40`) at the end of report exports: they are quarantined as
 * `summary_row`, left out of type inference, and never loaded (a loaded one doubles every sum).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getJson } from '@etl/common/storage';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { withDuckDb } from './duckdb-session';
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

const HEADER = 'Date,Region,Product,Units,Amount';
const REGIONS = ['North', 'South', 'East', 'West'];
const PRODUCTS = ['Widget', 'Gadget', 'Gizmo'];

/** `count` sales rows over January 2024, and their units and amount totals. */
function salesRows(count: number): { lines: string[]; units: number; amount: number } {
  const lines: string[] = [];
  let units = 0;
  let cents = 0;
  for (let i = 0; i < count; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const quantity = (i % 5) + 1;
    const price = 999 + (i % 7) * 250;
    units += quantity;
    cents += quantity * price;
    lines.push(
      `2024-01-${day},${REGIONS[i % 4]},${PRODUCTS[i % 3]},${quantity},${((quantity * price) / 100).toFixed(2)}`,
    );
  }
  return { lines, units, amount: cents / 100 };
}

async function run(runId: string, file: string, csv: string | Uint8Array) {
  await writeExtractedRun(t.store, runId, { [file]: csv });
  const response = await transform({ runId }, t.deps);
  const counts = response.tables[0]!;
  const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
  return {
    response,
    counts,
    report,
    rows: rowsOf(await readTable(t.store, counts.stagedKey)),
    quarantine: rowsOf(await readTable(t.store, counts.quarantineKey)),
  };
}

const sumOf = (rows: Record<string, unknown>[], column: string): number =>
  rows.reduce((sum, r) => sum + Number(r[column] ?? 0), 0);

describe('summary (footer) rows', () => {
  test('a Total footer in the date column of a small file: the dates still type, the footer is quarantined', async () => {
    const data = salesRows(20);
    const csv = [HEADER, ...data.lines, `Total,,,${data.units},${data.amount.toFixed(2)}`].join('\n');
    const { counts, report, rows, quarantine } = await run('small', 'sales.csv', `${csv}\n`);
    expect(report.columns.find((c) => c.name === 'date')).toMatchObject({ type: 'DATE', invalid: 0 });
    expect(counts).toMatchObject({ rowsIn: 21, rowsOut: 20, rowsQuarantined: 1, rowsDuplicate: 0 });
    expect(report.reasons).toEqual({ summary_row: 1 });
    expect(quarantine).toEqual([
      {
        line: 22,
        raw: `Total,,,${data.units},${data.amount.toFixed(2)}`,
        reason: 'summary_row',
        message: 'line 22 of sales.csv is a summary row ("Total" in column Date), not data',
        file: 'sales.csv',
      },
    ]);
    expect(sumOf(rows, 'amount')).toBeCloseTo(data.amount, 6);
    expect(sumOf(rows, 'units')).toBe(data.units);
  });

  test('Grand Total in a text column of a 200-row file is quarantined, not loaded', async () => {
    const data = salesRows(200);
    const footer = `,,Grand Total,${data.units},${data.amount.toFixed(2)}`;
    const { counts, report, rows, quarantine } = await run(
      'large',
      'export.csv',
      `${[HEADER, ...data.lines, footer].join('\n')}\n`,
    );
    expect(counts).toMatchObject({ rowsIn: 201, rowsOut: 200, rowsQuarantined: 1 });
    expect(report.reasons).toEqual({ summary_row: 1 });
    expect(quarantine[0]).toMatchObject({
      line: 202,
      raw: footer,
      reason: 'summary_row',
      message: 'line 202 of export.csv is a summary row ("Grand Total" in column Product), not data',
    });
    expect(rows.some((r) => r['product'] === 'Grand Total')).toBe(false);
    expect(sumOf(rows, 'amount')).toBeCloseTo(data.amount, 6);
  });

  test('a footer whose date cell holds a number (an Excel serial date column) is still a footer; a dated Total row is data', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `${44927 + i},Item ${i},2,${(i + 1) * 1.5}`);
    const footer = '45000,Total,60,697.50';
    const csv = ['Order Date,Product,Units,Amount', ...lines, footer].join('\n');
    const { counts, report, quarantine } = await run('serial', 'serials.csv', `${csv}\n`);
    expect(counts).toMatchObject({ rowsIn: 31, rowsOut: 30, rowsQuarantined: 1 });
    expect(report.reasons).toEqual({ summary_row: 1 });
    expect(quarantine[0]).toMatchObject({ raw: footer, reason: 'summary_row' });
    // With a date written with separators, a row naming Total beside a real date is a sale, not a footer.
    const dated = Array.from(
      { length: 30 },
      (_, i) => `2023-01-${String((i % 28) + 1).padStart(2, '0')},P${i},2,3.5`,
    );
    const { counts: kept } = await run(
      'dated',
      'dated.csv',
      `${['day,product,units,amount', ...dated, '2023-01-31,Total,60,105.00'].join('\n')}\n`,
    );
    expect(kept).toMatchObject({ rowsIn: 31, rowsOut: 31, rowsQuarantined: 0 });
  });

  test('other footer labels: TOTAL:, Summe, Sub-Total, with a quoted amount', async () => {
    for (const [runId, label] of [
      ['colon', 'TOTAL:'],
      ['german', 'Summe'],
      ['sub', 'Sub-Total'],
    ] as const) {
      const data = salesRows(30);
      const csv = [HEADER, ...data.lines, `${label},,,${data.units},"${data.amount.toFixed(2)}"`].join('\n');
      const { counts, report } = await run(runId, 'sales.csv', `${csv}\n`);
      expect(counts).toMatchObject({ rowsIn: 31, rowsOut: 30, rowsQuarantined: 1 });
      expect(report.reasons).toEqual({ summary_row: 1 });
    }
  });

  test('a footer whose label cell holds its total after a colon, and labels of other scripts, are footers', async () => {
    const german = [
      'Belegnr.;Datum;Menge;Umsatz',
      'RE-1;05.01.2024;3;1.234,50',
      'RE-2;06.01.2024;1;99,90',
      'RE-3;07.01.2024;2;10,00',
      ';;;Summe: 1.344,40',
    ].join('\n');
    const chinese = [
      '订单编号,下单日期,数量,销售额',
      'CN1,2023/1/5,3,120.50',
      'CN2,2023/1/6,1,80.00',
      'CN3,2023/1/7,2,45.25',
      '合计,,6,245.75',
    ].join('\n');
    const russian = ['Дата,Сумма', '2023-01-05,100', '2023-01-06,200', '2023-01-07,300', 'ИТОГО:,600'].join(
      '\n',
    );
    for (const [runId, file, csv] of [
      ['de', 'umsatz.csv', german],
      ['cn', 'sales.csv', chinese],
      ['ru', 'prodazhi.csv', russian],
    ] as const) {
      const { counts, report } = await run(runId, file, `${csv}\n`);
      expect(counts, file).toMatchObject({ rowsIn: 4, rowsOut: 3, rowsQuarantined: 1 });
      expect(report.reasons, file).toEqual({ summary_row: 1 });
    }
  });

  test('a label followed by a number without a colon is a name: the band Sum 41 in the last row is data', async () => {
    const csv = ['Artist,Plays,Revenue', 'Blink,10,12.50', 'Green Day,20,25.00', 'Sum 41,5,6.25'].join('\n');
    const { counts } = await run('band', 'plays.csv', `${csv}\n`);
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
  });

  test("a footer of money written with a sign of several characters (Brazil's R$) is a footer", async () => {
    const csv = [
      'Pedido;Data;Valor',
      '1;01/02/2023;R$ 10,00',
      '2;02/02/2023;R$ 20,50',
      '3;03/02/2023;R$ 5,25',
      'Total;;R$ 35,75',
    ].join('\n');
    const { counts, report } = await run('real', 'vendas.csv', `${csv}\n`);
    expect(counts).toMatchObject({ rowsIn: 4, rowsOut: 3, rowsQuarantined: 1 });
    expect(report.reasons).toEqual({ summary_row: 1 });
  });

  test('a product named Total among other text, and a row of product Total Gym next to the footer, are data', async () => {
    const data = salesRows(20);
    const lines = [...data.lines];
    lines.splice(10, 0, '2024-01-05,North,Total,2,5.00');
    lines.push('2024-01-06,North,Total Gym,1,99', `Total,,,${data.units + 3},${data.amount + 104}`);
    const { counts, report, rows } = await run('guards', 'sales.csv', `${[HEADER, ...lines].join('\n')}\n`);
    expect(counts).toMatchObject({ rowsIn: 23, rowsOut: 22, rowsQuarantined: 1 });
    expect(report.reasons).toEqual({ summary_row: 1 });
    expect(rows.filter((r) => String(r['product']).startsWith('Total')).map((r) => r['product'])).toEqual([
      'Total',
      'Total Gym',
    ]);
  });

  test("a report's subtotal rows are quarantined wherever they are; a product named like one is data", async () => {
    const REPORT = 'Region,Product,Units,Amount';
    const groups: Array<{ region: string; label: string; rows: Array<[string, number, number]> }> = [
      {
        region: 'North',
        label: 'North Subtotal',
        rows: [
          ['Widget', 3, 30.5],
          ['Gadget', 2, 12],
        ],
      },
      {
        region: 'South',
        label: 'Sub-total: South',
        rows: [
          ['Widget', 1, 10.25],
          ['Gizmo', 4, 40],
        ],
      },
      { region: 'Ost', label: 'Zwischensumme Ost', rows: [['Subtotal Organizer', 5, 55]] },
    ];
    const lines: string[] = [];
    for (const g of groups) {
      for (const [product, units, amount] of g.rows) lines.push(`${g.region},${product},${units},${amount}`);
      const units = g.rows.reduce((n, r) => n + r[1], 0);
      lines.push(`${g.label},,${units},"${g.rows.reduce((n, r) => n + r[2], 0).toFixed(2)}"`);
    }
    const dataRows = groups.flatMap((g) => g.rows);
    const total = dataRows.reduce((n, r) => n + r[2], 0);
    lines.push(`Grand Total,,${dataRows.reduce((n, r) => n + r[1], 0)},${total}`);
    const { counts, report, rows, quarantine } = await run(
      'subtotals',
      'report.csv',
      `${[REPORT, ...lines].join('\n')}\n`,
    );
    expect(counts).toMatchObject({ rowsIn: 9, rowsOut: 5, rowsQuarantined: 4 });
    expect(report.reasons).toEqual({ summary_row: 4 });
    expect(sumOf(rows, 'amount')).toBeCloseTo(total, 6);
    expect(rows.map((r) => r['product'])).toContain('Subtotal Organizer');
    expect(quarantine.map((q) => q['message'])).toEqual([
      'line 4 of report.csv is a summary row ("North Subtotal" in column Region, a subtotal), not data',
      'line 7 of report.csv is a summary row ("Sub-total: South" in column Region, a subtotal), not data',
      'line 9 of report.csv is a summary row ("Zwischensumme Ost" in column Region, a subtotal), not data',
      'line 10 of report.csv is a summary row ("Grand Total" in column Region), not data',
    ]);
  });

  test('a Total row before the last 3 records is data; an unparseable line does not shift the footer', async () => {
    const data = salesRows(200);
    const lines = [...data.lines];
    lines.splice(100, 0, ',,Total,3,4.00');
    lines.splice(150, 0, '2024-01-07,North,Widget,1,2,3');
    lines.push(`,,Total,${data.units + 3},${data.amount + 4}`);
    const { counts, report, rows, quarantine } = await run(
      'middle',
      'sales.csv',
      `${[HEADER, ...lines].join('\n')}\n`,
    );
    expect(counts).toMatchObject({ rowsIn: 203, rowsOut: 201, rowsQuarantined: 2 });
    expect(report.reasons).toEqual({ summary_row: 1, unparseable_line: 1 });
    expect(quarantine.find((q) => q['reason'] === 'summary_row')).toMatchObject({
      line: 204,
      message: 'line 204 of sales.csv is a summary row ("Total" in column Product), not data',
    });
    expect(rows.filter((r) => r['product'] === 'Total')).toHaveLength(1);
    expect(sumOf(rows, 'units')).toBe(data.units + 3);
  });

  test('two monthly files of one table, each with its footer, under a profile', async () => {
    const january = salesRows(15);
    const february = salesRows(12);
    await writeProfile(t, 'sales', 'duplicates: { exact: keep }\n');
    await writeExtractedRun(t.store, 'months', {
      'jan.csv': `${[HEADER, ...january.lines, `Total:,,,${january.units},${january.amount}`].join('\n')}\n`,
      'feb.csv': `${[HEADER, ...february.lines, `Gesamt,,,${february.units},${february.amount}`].join('\n')}\n`,
    });
    const response = await transform({ runId: 'months', table: 'sales', profile: 'sales' }, t.deps);
    const counts = response.tables[0]!;
    expect(counts).toMatchObject({ rowsIn: 29, rowsOut: 27, rowsQuarantined: 2, rowsDuplicate: 0 });
    expect(counts.quality).toMatchObject({ passed: true, rejectRate: 0 });
    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    expect(report.columns.find((c) => c.name === 'date')).toMatchObject({ type: 'DATE', invalid: 0 });
    expect(rowsOf(await readTable(t.store, counts.quarantineKey))).toMatchObject([
      {
        file: 'jan.csv',
        line: 17,
        raw: `Total:,,,${january.units},${january.amount}`,
        reason: 'summary_row',
      },
      {
        file: 'feb.csv',
        line: 14,
        raw: `Gesamt,,,${february.units},${february.amount}`,
        reason: 'summary_row',
      },
    ]);
    const rows = rowsOf(await readTable(t.store, counts.stagedKey));
    expect(sumOf(rows, 'amount')).toBeCloseTo(january.amount + february.amount, 6);
  });

  test('the footer does not fail the quality gate of a small file', async () => {
    const small = salesRows(20);
    const { counts: twenty } = await run(
      'gate20',
      'sales.csv',
      `${[HEADER, ...small.lines, `Total,,,${small.units},${small.amount}`].join('\n')}\n`,
    );
    expect(twenty.rowsQuarantined).toBe(1);
    expect(twenty.quality).toMatchObject({ passed: true, rejectRate: 0, maxRejectRate: 0.1 });

    // 1 of 6 rows quarantined would be over the default 10%: the footer is not counted against the gate.
    const tiny = salesRows(5);
    const { response, counts: six } = await run(
      'gate6',
      'sales.csv',
      `${[HEADER, ...tiny.lines, `Total,,,${tiny.units},${tiny.amount}`].join('\n')}\n`,
    );
    expect(six).toMatchObject({ rowsIn: 6, rowsOut: 5, rowsQuarantined: 1 });
    expect(six.quality).toMatchObject({ passed: true, rejectRate: 0 });
    expect(response.quality).toMatchObject({ passed: true, rejectRate: 0 });
  });

  test('a footer in a workbook sheet, a JSON lines file and a Parquet file is quarantined as in a CSV', async () => {
    const data = salesRows(20);
    const records = data.lines.map((line) => line.split(','));
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Sales');
    sheet.addRow(HEADER.split(','));
    for (const [date, region, product, units, amount] of records)
      sheet.addRow([new Date(`${date}T00:00:00Z`), region, product, Number(units), Number(amount)]);
    sheet.addRow(['Total', null, null, data.units, data.amount]);
    const jsonl = [
      ...records.map(([date, region, product, units, amount]) =>
        JSON.stringify({
          Date: date,
          Region: region,
          Product: product,
          Units: Number(units),
          Amount: Number(amount),
        }),
      ),
      JSON.stringify({ Date: 'Total', Units: data.units, Amount: data.amount }),
    ].join('\n');
    // The same records as Parquet, written by DuckDB in their order (one thread).
    const dir = await mkdtemp(path.join(tmpdir(), 'summary-parquet-'));
    const parquet = path.join(dir, 'sales.parquet');
    await writeFile(path.join(dir, 'sales.jsonl'), `${jsonl}\n`);
    await withDuckDb({ threads: 1 }, dir, (connection) =>
      connection.run(`COPY (SELECT * FROM read_json('${dir}/sales.jsonl')) TO '${parquet}' (FORMAT parquet)`),
    );
    const inputs: Array<[string, string, string | Uint8Array]> = [
      ['xlsx', 'sales.xlsx', Buffer.from(await book.xlsx.writeBuffer())],
      ['jsonl', 'sales.jsonl', `${jsonl}\n`],
      ['parquet', 'sales.parquet', await readFile(parquet)],
    ];
    await rm(dir, { recursive: true, force: true });
    for (const [runId, file, content] of inputs) {
      const { counts, report, rows, quarantine } = await run(runId, file, content);
      expect(counts, file).toMatchObject({ rowsIn: 21, rowsOut: 20, rowsQuarantined: 1 });
      expect(
        report.columns.find((c) => c.name === 'date'),
        file,
      ).toMatchObject({ type: 'DATE', invalid: 0 });
      expect(
        quarantine.map((q) => q['reason']),
        file,
      ).toEqual(['summary_row']);
      expect(sumOf(rows, 'amount'), file).toBeCloseTo(data.amount, 6);
      expect(sumOf(rows, 'units'), file).toBe(data.units);
    }
  });
});

describe('repeated header rows', () => {
  test('exports joined one after another: each repeated header is quarantined wherever it is, the columns still type', async () => {
    const data = salesRows(8);
    // The second export's header in another case and with padding; a 9-row file, so one text row in the
    // date column would have kept it text.
    const csv = [
      HEADER,
      ...data.lines.slice(0, 4),
      ' date , REGION,Product,Units,Amount',
      ...data.lines.slice(4),
    ];
    const { counts, report, rows, quarantine, response } = await run(
      'joined',
      'sales.csv',
      `${csv.join('\n')}\n`,
    );
    expect(report.columns.find((c) => c.name === 'date')).toMatchObject({ type: 'DATE', invalid: 0 });
    expect(report.columns.find((c) => c.name === 'units')).toMatchObject({ type: 'BIGINT', invalid: 0 });
    expect(counts).toMatchObject({ rowsIn: 9, rowsOut: 8, rowsQuarantined: 1, rowsDuplicate: 0 });
    expect(report.reasons).toEqual({ repeated_header: 1 });
    expect(quarantine).toEqual([
      {
        line: 6,
        raw: ' date , REGION,Product,Units,Amount',
        reason: 'repeated_header',
        message: 'line 6 of sales.csv repeats the header (files joined one after another?), not data',
        file: 'sales.csv',
      },
    ]);
    // No bad data: 1 of 9 quarantined would be over the default 10%.
    expect(response.quality).toMatchObject({ passed: true, rejectRate: 0 });
    expect(sumOf(rows, 'units')).toBe(data.units);
  });

  test('a row equal to the header in some cells only is data; a one-column file keeps a value equal to its name', async () => {
    const { counts } = await run('partial', 'a.csv', 'name,kind\nname,x\nkind,kind\nb,y\n');
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
    const { counts: single } = await run('single', 'b.csv', 'status\nstatus\nopen\n');
    expect(single).toMatchObject({ rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 });
  });
});

describe('empty rows', () => {
  test('rows of blank cells a spreadsheet writes below and between its data are quarantined, not loaded as NULLs or duplicates', async () => {
    const data = salesRows(8);
    // Saved from Excel: an empty row between two blocks, padded blanks, and three rows of commas at the end.
    const csv = [
      HEADER,
      ...data.lines.slice(0, 4),
      ',,,,',
      ...data.lines.slice(4),
      ', ,,  ,',
      ',,,,',
      ',,,,',
    ];
    const { counts, report, rows, quarantine, response } = await run(
      'blank-rows',
      'sales.csv',
      `${csv.join('\r\n')}\r\n`,
    );
    expect(counts).toMatchObject({ rowsIn: 12, rowsOut: 8, rowsQuarantined: 4, rowsDuplicate: 0 });
    expect(report.reasons).toEqual({ empty_row: 4 });
    expect(quarantine.map((q) => [q['line'], q['reason'], q['message']])).toEqual([
      [6, 'empty_row', 'line 6 of sales.csv has no value in any cell, not data'],
      [11, 'empty_row', 'line 11 of sales.csv has no value in any cell, not data'],
      [12, 'empty_row', 'line 12 of sales.csv has no value in any cell, not data'],
      [13, 'empty_row', 'line 13 of sales.csv has no value in any cell, not data'],
    ]);
    expect(quarantine[1]?.['raw']).toBe(', ,,  ,');
    // No bad data: 4 of 12 quarantined would be over the default 10%.
    expect(response.quality).toMatchObject({ passed: true, rejectRate: 0 });
    expect(report.columns.find((c) => c.name === 'date')).toMatchObject({ type: 'DATE', invalid: 0 });
    expect(sumOf(rows, 'units')).toBe(data.units);
  });

  test('a row with one value is data; a one-column file keeps its blank values as missing', async () => {
    const { counts } = await run('one-value', 'a.csv', 'name,kind\nx,\n,\n,y\n');
    expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    const { counts: single } = await run('single-blank', 'b.csv', 'status\nopen\n""\nclosed\n');
    expect(single).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
  });
});

test('a table of text columns only quarantines its repeated header (its reason column was once typed as a number)', async () => {
  const { counts, report } = await run('all-text', 'a.csv', 'name,kind\nalpha,red\nname,kind\nbeta,blue\n');
  expect(counts).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
  expect(report.reasons).toEqual({ repeated_header: 1 });
});

test('a Total footer followed by rows of commas is still a footer', async () => {
  const data = salesRows(9);
  const csv = [
    HEADER,
    ...data.lines,
    `Total,,,${data.units},${data.amount.toFixed(2)}`,
    ',,,,',
    ',,,,',
    ',,,,',
    ',,,,',
  ];
  const { counts, report, rows } = await run('footer-then-blanks', 'sales.csv', `${csv.join('\n')}\n`);
  expect(counts).toMatchObject({ rowsIn: 14, rowsOut: 9, rowsQuarantined: 5, rowsDuplicate: 0 });
  expect(report.reasons).toEqual({ summary_row: 1, empty_row: 4 });
  expect(report.columns.find((c) => c.name === 'date')).toMatchObject({ type: 'DATE', invalid: 0 });
  expect(sumOf(rows, 'units')).toBe(data.units);
  // Five rows of commas after the last data row do not make a `Total` four rows before them a footer.
  const { report: early } = await run(
    'total-before-data',
    'sales.csv',
    `${[HEADER, ...data.lines.slice(0, 5), 'Total,,,1,1.00', ...data.lines.slice(5), ',,,,'].join('\n')}\n`,
  );
  expect(early.reasons).toEqual({ empty_row: 1, invalid_date: 1 });
});
