import { randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { isPipelineError } from '@etl/common/errors';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  convertWithDuckDb,
  convertXlsx,
  dateText,
  FORMULA_ERROR_TEXT,
  zipSource,
} from './convert-table-file';
import { withDuckDb } from './duckdb-session';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convert-table-file-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const utc = (...parts: [number, number, number, number?, number?, number?, number?]): Date =>
  new Date(Date.UTC(...parts));

/** A fresh folder under the test's temp dir. */
async function folder(name: string): Promise<string> {
  return mkdtemp(path.join(dir, `${name}-`));
}

async function expectRejection(promise: Promise<unknown>, status: number, code: string, text: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPipelineError(error), String(error)).toBe(true);
  if (!isPipelineError(error)) return;
  expect({ status: error.status, code: error.code }).toEqual({ status, code });
  expect(error.message).toContain(text);
}

/**
 * Two sheets with data (different headers), one empty, one header only. "Orders, 2024": two leading empty
 * rows (one present in the XML with a height), header on row 3, an absent empty row 5 and a present empty
 * row 7 between data rows, a ragged row 6 (one cell beyond the header), a trailing empty row 10.
 */
async function writeBook(file: string): Promise<void> {
  const book = new ExcelJS.Workbook();
  const orders = book.addWorksheet('Orders, 2024');
  orders.getRow(2).height = 20;
  orders.getRow(3).values = [
    'id',
    'order_date',
    'shipped_at',
    'amount',
    'total',
    'note',
    'link',
    'paid',
    'check',
    'comment',
  ];
  orders.getRow(4).values = [
    1,
    utc(2024, 0, 15),
    utc(2024, 0, 15, 13, 45, 30),
    12.5,
    { formula: 'D4*2', result: 25 },
    { richText: [{ text: 'Très ', font: { bold: true } }, { text: 'bien' }] },
    { text: 'Example, Inc.', hyperlink: 'https://example.com/?a=1,2' },
    true,
    { error: '#N/A' },
    'Zoë says "hi",\nthen leaves',
  ];
  orders.getCell('B4').numFmt = 'yyyy-mm-dd';
  orders.getRow(6).values = [
    2,
    utc(2024, 1, 29),
    utc(2024, 1, 29, 8, 5, 9, 250),
    0.1 + 0.2,
    { formula: 'D6-D6', result: 0 },
    '',
    null,
    false,
    { error: '#DIV/0!' },
    '東京',
    'extra',
  ];
  orders.getCell('B6').numFmt = 'yyyy-mm-dd hh:mm:ss';
  orders.getRow(7).height = 20;
  orders.getRow(8).values = [
    3,
    { formula: 'B4+1', result: utc(2024, 0, 16) },
    { formula: 'NOW()' },
    1e-7,
    { sharedFormula: 'E4', result: 6 },
    { formula: '1/0', result: { error: '#DIV/0!' } },
    { formula: 'A8>0', result: true },
    { formula: '"x"&A8', result: 'x3' },
    'a_x000D_\nb',
  ];
  orders.getCell('B8').numFmt = 'yyyy-mm-dd';
  orders.getRow(10).height = 20;

  const returns = book.addWorksheet('Returns');
  returns.getCell('B1').value = 'sku';
  returns.getCell('C1').value = 'window';
  returns.getCell('D1').value = 'qty';
  returns.getRow(2).values = [null, 'A-1', 0.5, 2];
  returns.getRow(3).values = [null, 'B-2', 0.75];
  returns.getCell('C2').numFmt = 'hh:mm';
  returns.getCell('C3').numFmt = 'hh:mm:ss';

  book.addWorksheet('Empty');
  book.addWorksheet('Header only').addRow(['a', 'b']);
  await book.xlsx.writeFile(file);
}

const ORDERS_CSV = [
  'id,order_date,shipped_at,amount,total,note,link,paid,check,comment,',
  '1,2024-01-15,2024-01-15 13:45:30,12.5,25,Très bien,"Example, Inc.",true,#N/A,"Zoë says ""hi"",\nthen leaves",',
  '2,2024-02-29 00:00:00,2024-02-29 08:05:09.250,0.30000000000000004,0,,,false,#DIV/0!,東京,extra',
  `3,2024-01-16,,1e-7,6,${FORMULA_ERROR_TEXT},1,x3,"a\r\nb",,`,
  '',
].join('\n');

const RETURNS_CSV = ['sku,window,qty', 'A-1,12:00:00,2', 'B-2,18:00:00,', ''].join('\n');

describe('convertXlsx', () => {
  let book: string;

  beforeAll(async () => {
    book = path.join(dir, 'book.xlsx');
    await writeBook(book);
  });

  test('one CSV per worksheet, empty and header-only sheets skipped with their reason', async () => {
    const out = path.join(await folder('xlsx'), 'sheets-0'); // created by the conversion
    const result = await convertXlsx(book, out, 'raw file runs/r1/raw/book.xlsx');
    expect(result).toEqual({
      sheets: [
        {
          sheet: 'Orders, 2024',
          path: path.join(out, 'book.sheet-1.csv'),
          rows: 3,
          columns: 11,
          emptyRows: 2,
          uncachedFormulas: 1, // NOW() without a saved result
          // The header is row 3; the records rows 4, 6 and 8.
          rowJumps: [
            [1, 3],
            [3, 6],
            [4, 8],
          ],
        },
        {
          sheet: 'Returns',
          path: path.join(out, 'book.sheet-2.csv'),
          rows: 2,
          columns: 3,
          emptyRows: 0,
          uncachedFormulas: 0,
          rowJumps: [[1, 1]],
        },
      ],
      skipped: [
        { sheet: 'Empty', reason: 'empty sheet' },
        { sheet: 'Header only', reason: 'header only, no data rows' },
      ],
    });
    expect(await readFile(path.join(out, 'book.sheet-1.csv'), 'utf8')).toBe(ORDERS_CSV);
    expect(await readFile(path.join(out, 'book.sheet-2.csv'), 'utf8')).toBe(RETURNS_CSV);
    // Nothing else: no part files, no files for skipped sheets.
    expect((await readdir(out)).sort()).toEqual(['book.sheet-1.csv', 'book.sheet-2.csv']);
  });

  test('output names come from the input file name, made safe, never from sheet names', async () => {
    const odd = path.join(dir, 'my book (v2) ü.xlsx');
    await writeFile(odd, await readFile(book));
    const out = await folder('names');
    const result = await convertXlsx(odd, out, 'odd');
    expect(result.sheets.map((s) => path.basename(s.path))).toEqual([
      'my_book__v2___.sheet-1.csv',
      'my_book__v2___.sheet-2.csv',
    ]);
  });

  test('a 1904-date-system workbook keeps its dates, formula results included', async () => {
    const book1904 = new ExcelJS.Workbook();
    book1904.properties.date1904 = true;
    const sheet = book1904.addWorksheet('S');
    sheet.addRow(['day', 'next']);
    sheet.addRow([utc(2024, 5, 1), { formula: 'A2+1', result: utc(2024, 5, 2) }]);
    sheet.getCell('A2').numFmt = 'yyyy-mm-dd';
    sheet.getCell('B2').numFmt = 'yyyy-mm-dd';
    const file = path.join(dir, 'dates-1904.xlsx');
    await book1904.xlsx.writeFile(file);
    const out = await folder('1904');
    const [converted] = (await convertXlsx(file, out, 'dates-1904.xlsx')).sheets;
    expect(await readFile(converted!.path, 'utf8')).toBe('day,next\n2024-06-01,2024-06-02\n');
  });

  test('padding and quoting hold across the 1 MiB read chunks of the reshaping pass', async () => {
    const file = path.join(dir, 'big.xlsx');
    const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
    const sheet = writer.addWorksheet('Big');
    sheet.addRow(['n', 'text', 'even']).commit();
    const expected = ['n,text,even'];
    for (let n = 1; n <= 30_000; n++) {
      const text = `row ${n}, "quoted"\nsecond line`;
      sheet.addRow(n % 2 === 0 ? [n, text, 'yes'] : [n, text]).commit();
      expected.push(`${n},"row ${n}, ""quoted""\nsecond line",${n % 2 === 0 ? 'yes' : ''}`);
    }
    sheet.commit();
    await writer.commit();
    const out = await folder('big');
    const result = await convertXlsx(file, out, 'big.xlsx');
    expect(result.sheets).toMatchObject([{ rows: 30_000, columns: 3, emptyRows: 0 }]);
    expect(await readFile(result.sheets[0]!.path, 'utf8')).toBe(`${expected.join('\n')}\n`);
  });

  test('more CSV than maxBytes -> 413 INPUT_TOO_LARGE naming the file, nothing left behind', async () => {
    const out = await folder('limit');
    await expectRejection(
      convertXlsx(book, out, 'raw file runs/r1/raw/book.xlsx', { maxBytes: 300 }),
      413,
      'INPUT_TOO_LARGE',
      'raw file runs/r1/raw/book.xlsx converts to more CSV than allowed: expected at most 300 bytes',
    );
    expect(await readdir(out)).toEqual([]);
    // Exactly the size of both CSVs passes.
    const size = Buffer.byteLength(ORDERS_CSV) + Buffer.byteLength(RETURNS_CSV);
    await expect(
      convertXlsx(book, await folder('limit-ok'), 'book.xlsx', { maxBytes: size }),
    ).resolves.toBeDefined();
    await expectRejection(
      convertXlsx(book, await folder('limit-1'), 'book.xlsx', { maxBytes: size - 1 }),
      413,
      'INPUT_TOO_LARGE',
      'book.xlsx',
    );
  });

  test('a corrupt workbook -> 422 UNREADABLE_FILE naming the file', async () => {
    const corrupt = path.join(dir, 'corrupt.xlsx');
    await writeFile(corrupt, Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(4096)]));
    await expectRejection(
      convertXlsx(corrupt, await folder('corrupt'), 'raw file runs/r1/raw/corrupt.xlsx'),
      422,
      'UNREADABLE_FILE',
      'raw file runs/r1/raw/corrupt.xlsx is not a readable xlsx file: ',
    );
    const text = path.join(dir, 'text.xlsx');
    await writeFile(text, 'a,b\n1,2\n');
    await expectRejection(
      convertXlsx(text, await folder('text'), 'text.xlsx'),
      422,
      'UNREADABLE_FILE',
      'text.xlsx',
    );
  });

  // Regression: exceljs pipes its input stream without forwarding the stream's errors (the process died
  // of an unhandled 'error' event, or the read waited forever).
  test('a missing input file rejects with its read error', async () => {
    await expect(
      convertXlsx(path.join(dir, 'missing.xlsx'), await folder('missing'), 'missing'),
    ).rejects.toThrow('ENOENT');
  });

  test('a zip without worksheets -> 422 UNREADABLE_FILE', async () => {
    const zip = await readFile(book);
    const file = path.join(dir, 'no-sheets.xlsx');
    await writeFile(file, reorderZip(zip, { drop: (name) => name.startsWith('xl/worksheets/') }));
    await expectRejection(
      convertXlsx(file, await folder('no-sheets'), 'no-sheets.xlsx'),
      422,
      'UNREADABLE_FILE',
      'no worksheets',
    );
  });

  test('a malformed worksheet -> 422 UNREADABLE_FILE naming the worksheet', async () => {
    const file = path.join(dir, 'malformed.xlsx');
    const xml = '<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></worksheet>';
    await writeFile(file, reorderZip(await readFile(book), { replace: { 'xl/worksheets/sheet2.xml': xml } }));
    await expectRejection(
      convertXlsx(file, await folder('malformed'), 'raw file malformed.xlsx'),
      422,
      'UNREADABLE_FILE',
      'raw file malformed.xlsx is not a readable xlsx file: worksheet Returns: ',
    );
  });

  // Regression: exceljs 4.4.0 streams a worksheet as soon as the shared strings and the workbook's
  // relationships are known; stored before xl/styles.xml its dates arrive as serial numbers, stored before
  // xl/workbook.xml it throws "Cannot read properties of undefined (reading 'sheets')".
  test('zip parts stored in an order exceljs streams badly still give dates and sheet names', async () => {
    const zip = await readFile(book);
    const stylesLast = path.join(dir, 'styles-last.xlsx');
    await writeFile(
      stylesLast,
      reorderZip(zip, {
        first: [
          '[Content_Types].xml',
          '_rels/.rels',
          'xl/_rels/workbook.xml.rels',
          'xl/workbook.xml',
          'xl/sharedStrings.xml',
        ],
        last: ['xl/styles.xml'],
      }),
    );
    expect(await firstDataRowWithExcelJs(stylesLast)).toEqual([1, 45306, 45306.57326388889]); // the bug
    const out = await folder('styles-last');
    const result = await convertXlsx(stylesLast, out, 'styles-last.xlsx');
    expect(result.sheets.map((s) => s.sheet)).toEqual(['Orders, 2024', 'Returns']);
    expect(await readFile(result.sheets[0]!.path, 'utf8')).toBe(ORDERS_CSV);
    expect(await readFile(result.sheets[1]!.path, 'utf8')).toBe(RETURNS_CSV);

    const workbookLast = path.join(dir, 'workbook-last.xlsx');
    await writeFile(
      workbookLast,
      reorderZip(zip, {
        first: ['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml'],
        last: ['xl/styles.xml', 'xl/workbook.xml'],
      }),
    );
    await expect(firstDataRowWithExcelJs(workbookLast)).rejects.toThrow("reading 'sheets'"); // the bug
    const again = await convertXlsx(workbookLast, await folder('workbook-last'), 'workbook-last.xlsx');
    expect(again.sheets.map((s) => s.sheet)).toEqual(['Orders, 2024', 'Returns']);
    expect(again.skipped.map((s) => s.sheet)).toEqual(['Empty', 'Header only']);
    expect(await readFile(again.sheets[0]!.path, 'utf8')).toBe(ORDERS_CSV);
  });

  test('a worksheet read slower than the zip is parsed does not lose the worksheets after it', async () => {
    const streamed = path.join(dir, 'streamed.xlsx');
    const first = ['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/workbook.xml'];
    await writeFile(
      streamed,
      reorderZip(await readFile(book), { first: [...first, 'xl/styles.xml', 'xl/sharedStrings.xml'] }),
    );
    const all = ['Orders, 2024', 'Returns', 'Empty', 'Header only'];
    expect(await sheetNamesReadSlowly(createReadStream(streamed))).not.toEqual(all); // the bug
    expect(await sheetNamesReadSlowly(zipSource(streamed))).toEqual(all);
  });
});

describe('dateText', () => {
  test('date-only, date-time, milliseconds, time-only', () => {
    expect(dateText(utc(2024, 0, 15), 'yyyy-mm-dd')).toBe('2024-01-15');
    expect(dateText(utc(2024, 0, 15), 'dd/mm/yyyy hh:mm')).toBe('2024-01-15 00:00:00');
    expect(dateText(utc(2024, 0, 15, 9, 5), 'mm-dd-yy')).toBe('2024-01-15 09:05:00');
    expect(dateText(utc(2024, 0, 15, 9, 5, 1, 7), 'yyyy-mm-dd')).toBe('2024-01-15 09:05:01.007');
    expect(dateText(utc(1899, 11, 30, 18), 'h:mm AM/PM')).toBe('18:00:00');
    expect(dateText(utc(1904, 0, 1, 6), '[h]:mm', true)).toBe('06:00:00');
    // A duration beyond a day keeps its day.
    expect(dateText(utc(1899, 11, 31, 6), '[h]:mm')).toBe('1899-12-31 06:00:00');
    expect(dateText(new Date(Number.NaN), 'yyyy-mm-dd')).toBe('Invalid Date');
  });
});

describe('convertWithDuckDb', () => {
  test('parquet: dates, timestamps, decimals, lists, maps, blobs and NULLs as text; a struct spread into columns', async () => {
    const out = await folder('parquet');
    const parquet = path.join(out, 'sales.parquet');
    const csv = path.join(out, 'sales.csv');
    const result = await withDuckDb({ threads: 1 }, out, async (connection) => {
      await connection.run(
        `COPY (
           SELECT * FROM (VALUES
             (1, DATE '2024-01-15', TIMESTAMP '2024-01-15 13:45:30', TIMESTAMPTZ '2024-01-15 13:45:30+02',
              12.50::DECIMAL(10, 2), ['a', 'b,c'], {'city': 'Zürich', 'zip': 8001}, MAP {'k': 1},
              '\\xAB\\x01'::BLOB, 0.1::DOUBLE, 'say "hi",' || chr(10) || 'bye', true, ''),
             (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
           ) t(id, d, ts, tstz, amount, tags, info, m, b, f, note, flag, blank)
         ) TO ${quoteLiteral(parquet)} (FORMAT parquet)`,
      );
      return convertWithDuckDb(connection, parquet, 'parquet', csv, 'runs/r1/raw/sales.parquet');
    });
    expect(result).toEqual({ rows: 2, columns: 14 });
    expect(await readFile(csv, 'utf8')).toBe(
      [
        'id,d,ts,tstz,amount,tags,info.city,info.zip,m,b,f,note,flag,blank',
        '1,2024-01-15,2024-01-15 13:45:30,2024-01-15 11:45:30Z,12.50,"[""a"",""b,c""]",Zürich,8001,"{""k"":1}",\\xab01,0.1,"say ""hi"",\nbye",true,""',
        '2,,,,,,,,,,,,,',
        '',
      ].join('\n'),
    );
  });

  const RECORDS = [
    { id: 1, customer: { name: 'Zoë', tags: ['vip'] }, amount: 12.5, note: 'a, "b"' },
    { id: 2, amount: 7, when: '2024-01-15' },
    { id: 3, customer: null, amount: null, note: 'line\nbreak' },
  ];
  const RECORDS_CSV = [
    'id,customer.name,customer.tags,amount,note,when',
    '1,Zoë,"[""vip""]",12.5,"a, ""b""",',
    '2,,,7.0,,2024-01-15',
    '3,,,,"line\nbreak",',
    '',
  ].join('\n');

  /** `content` as the file `name` in a folder of its own, converted: the counts and the CSV's text. */
  async function convertJson(name: string, content: string) {
    const out = await folder(name);
    const file = path.join(out, name);
    await writeFile(file, content);
    const csv = path.join(out, `${name}.csv`);
    const result = await withDuckDb({ threads: 1 }, out, (connection) =>
      convertWithDuckDb(connection, file, 'json', csv, name),
    );
    return { result, csv: await readFile(csv, 'utf8') };
  }

  test.each([
    ['a JSON array of objects', 'records.json', JSON.stringify(RECORDS, null, 2)],
    ['JSON lines', 'records.jsonl', `${RECORDS.map((r) => JSON.stringify(r)).join('\n')}\n`],
  ])(
    '%s: nested objects spread into columns, lists as JSON text, missing keys as empty fields',
    async (_, name, content) => {
      const { result, csv } = await convertJson(name, content);
      expect(result).toEqual({ rows: 3, columns: 6 });
      expect(csv).toBe(RECORDS_CSV);
    },
  );

  test('regression: a list of objects (an order and its lines) is JSON text, not spread as an object (422 "Cannot extract field")', async () => {
    const orders = [
      { order: 'O1', lines: [{ sku: 'A', qty: 1 }], total: { amount: 1.5, currency: 'EUR' } },
      {
        order: 'O2',
        lines: [
          { sku: 'B', qty: 2 },
          { sku: 'C', qty: 1 },
        ],
        total: { amount: 4, currency: 'EUR' },
      },
    ];
    const { result, csv } = await convertJson('orders.json', JSON.stringify(orders));
    expect(result).toEqual({ rows: 2, columns: 4 });
    expect(csv).toBe(
      [
        'order,lines,total.amount,total.currency',
        'O1,"[{""sku"":""A"",""qty"":1}]",1.5,EUR',
        'O2,"[{""sku"":""B"",""qty"":2},{""sku"":""C"",""qty"":1}]",4.0,EUR',
        '',
      ].join('\n'),
    );
  });

  test("MongoDB's extended JSON (mongoexport): a value wrapped in an object of one $ key keeps its field's name", async () => {
    const documents = [
      {
        _id: { $oid: '5f1d7a3b9c1e4a0012345671' },
        orderDate: { $date: { $numberLong: '1673778600000' } },
        total: { $numberDecimal: '129.90' },
        price: { $: 5, currency: 'EUR' },
      },
      {
        _id: { $oid: '5f1d7a3b9c1e4a0012345672' },
        orderDate: { $date: { $numberLong: '1673866800000' } },
        total: { $numberDecimal: '59.00' },
        price: { $: 7, currency: 'EUR' },
      },
    ];
    const { result, csv } = await convertJson('orders.json', JSON.stringify(documents));
    expect(result).toEqual({ rows: 2, columns: 5 });
    // An object of a `$` key and others is no wrapper: its fields are named as any object's.
    expect(csv).toBe(
      [
        '_id,orderDate,total,price.$,price.currency',
        '5f1d7a3b9c1e4a0012345671,1673778600000,129.90,5,EUR',
        '5f1d7a3b9c1e4a0012345672,1673866800000,59.00,7,EUR',
        '',
      ].join('\n'),
    );
  });

  test('a key holding numbers, text and objects: strings unquoted, the rest as JSON text', async () => {
    const { result, csv } = await convertJson(
      'mixed.jsonl',
      '{"code":1}\n{"code":"A7"}\n{"code":{"x":1}}\n{"other":true}\n',
    );
    expect(result).toEqual({ rows: 4, columns: 2 });
    expect(csv).toBe('code,other\n1,\nA7,\n"{""x"":1}",\n,true\n');
  });

  test('one object holding one list of objects (an API envelope): the objects are the rows, the note says so', async () => {
    const page = {
      meta: { count: 2, next: null },
      data: [
        { order: 'O1', customer: { id: 7 }, total: 12.5 },
        { order: 'O2', customer: { id: 8 }, total: 7 },
      ],
    };
    const { result, csv } = await convertJson('page.json', JSON.stringify(page));
    expect(result).toEqual({
      rows: 2,
      columns: 3,
      note: 'the file is one object: its rows are the objects of its "data" list; its other keys (meta) are not rows, and not loaded',
    });
    expect(csv).toBe('order,customer.id,total\nO1,7,12.5\nO2,8,7.0\n');
    // A single order with its lines is one object too: read the same way, and said.
    const { result: one } = await convertJson(
      'order.json',
      JSON.stringify({ id: 'O1', lines: [{ sku: 'A' }] }),
    );
    expect(one).toMatchObject({ rows: 1, note: expect.stringContaining('its other keys (id)') });
  });

  test("pandas' DataFrame.to_json() (columns by index): read as rows, the index as a column", async () => {
    const frame = { order: { '0': 'O1', '1': 'O2', '2': 'O3' }, total: { '0': 12.5, '1': null, '2': 7 } };
    const { result, csv } = await convertJson('frame.json', JSON.stringify(frame));
    expect(result).toMatchObject({
      rows: 3,
      columns: 3,
      note: expect.stringContaining("pandas' to_json default"),
    });
    expect(csv).toBe('index,order,total\n0,O1,12.5\n1,O2,\n2,O3,7\n');
    // Over 200 index entries, and columns of one type (DuckDB would read the whole file as one MAP).
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [String(i), i * 2]));
    const { result: big } = await convertJson('big.json', JSON.stringify({ qty: many, price: many }));
    expect(big).toMatchObject({ rows: 300, columns: 3 });
    // One record of nested objects is not a frame: its keys are no index.
    const { result: record } = await convertJson('one.json', JSON.stringify({ a: { x: 1 }, b: { y: 2 } }));
    expect(record).toEqual({ rows: 1, columns: 2 });
  });

  test("pandas' to_json(orient='index') and a Firebase export (one object of records by their key): read as rows, the key as a column", async () => {
    const frame = {
      '0': { order: 'O1', total: 12.5 },
      '1': { order: 'O2', total: null },
      '2': { order: 'O3' },
    };
    const { result, csv } = await convertJson('frame.json', JSON.stringify(frame, null, 2));
    expect(result).toEqual({
      rows: 3,
      columns: 3,
      note: 'the file is one object of 3 objects keyed by an integer index (pandas\' to_json orient index, a Firebase export): read as rows, each key as column "index"',
    });
    expect(csv).toBe('index,order,total\n0,O1,12.5\n1,O2,\n2,O3,\n');
    // Push ids, nested objects, and past 200 keys (where DuckDB reads the whole file as one MAP).
    const orders = Object.fromEntries(
      Array.from({ length: 250 }, (_, i) => [
        `-Nx${String(i).padStart(4, '0')}`,
        { item: i % 2 ? 'tea' : 'cake', buyer: { city: 'Oslo' }, price: i + 0.5 },
      ]),
    );
    const { result: pushed, csv: rows } = await convertJson('orders.json', JSON.stringify(orders));
    expect(pushed).toMatchObject({
      rows: 250,
      columns: 4,
      note: expect.stringContaining('each key as column "key"'),
    });
    expect(rows.split('\n').slice(0, 2)).toEqual(['key,item,buyer.city,price', '-Nx0000,cake,Oslo,0.5']);
  });

  test("pandas' to_json(orient='split'): its data lists read as rows, named by its columns", async () => {
    const frame = {
      columns: ['order', 'day', 'total'],
      index: [10, 11, 12],
      data: [
        ['O1', '2023-01-01', 12.5],
        ['O2', '2023-01-02', null],
        ['O3, late', '2023-01-03', 7],
      ],
    };
    const { result, csv } = await convertJson('split.json', JSON.stringify(frame));
    expect(result).toEqual({
      rows: 3,
      columns: 4,
      note: 'the file is one object of "columns" and "data" (pandas\' to_json orient split): its data lists read as rows, the index as column "index"',
    });
    expect(csv).toBe(
      'index,order,day,total\n10,O1,2023-01-01,12.5\n11,O2,2023-01-02,\n12,"O3, late",2023-01-03,7\n',
    );
    // Without its index (orient='split', index=False), and a row of another length: not a frame, read as it is.
    const { index: _, ...bare } = frame;
    expect((await convertJson('bare.json', JSON.stringify(bare))).result).toMatchObject({
      rows: 3,
      columns: 3,
    });
    const ragged = { columns: ['a', 'b'], data: [[1, 2], [3]] };
    expect((await convertJson('ragged.json', JSON.stringify(ragged))).result).toEqual({
      rows: 1,
      columns: 2,
    });
  });

  test("a list of lists (pandas' orient values, a spreadsheet API): each list a row, the first the header when it names the others", async () => {
    const sheet = [
      ['order', 'day', 'total'],
      ['O1', '2023-01-01', 12.5],
      ['O2, late', '2023-01-02', null],
      ['O3', '2023-01-03', 7],
    ];
    const { result, csv } = await convertJson('values.json', JSON.stringify(sheet));
    expect(result).toEqual({
      rows: 3,
      columns: 3,
      note: "the file is a list of lists (pandas' to_json orient values, a spreadsheet API's values): each list read as a row, the first as the header",
    });
    expect(csv).toBe('order,day,total\nO1,2023-01-01,12.5\n"O2, late",2023-01-02,\nO3,2023-01-03,7\n');
    // pandas' orient values has no header; nor has a list whose first row is data like the rest.
    const { result: bare, csv: rows } = await convertJson('bare.json', JSON.stringify(sheet.slice(1)));
    expect(bare).toMatchObject({ rows: 3, columns: 3, note: expect.stringContaining('column_1, column_2') });
    expect(rows.split('\n')[0]).toBe('column_1,column_2,column_3');
    // Lists of different lengths are no table of rows: read as they are.
    expect((await convertJson('ragged.json', '[[1, 2], [3]]')).result).toEqual({ rows: 2, columns: 1 });
  });

  test('an empty JSON array gives 0 rows', async () => {
    const { result } = await convertJson('empty.json', '[]');
    expect(result.rows).toBe(0);
  });

  test('a file DuckDB cannot read -> 422 UNREADABLE_FILE with the first line of its message', async () => {
    const out = await folder('bad');
    const json = path.join(out, 'bad.json');
    await writeFile(json, '{"a": 1}\n{"a":\n');
    const parquet = path.join(out, 'bad.parquet');
    await writeFile(parquet, 'not parquet at all');
    await withDuckDb({ threads: 1 }, out, async (connection) => {
      await expectRejection(
        convertWithDuckDb(connection, json, 'json', path.join(out, 'bad-json.csv'), 'runs/r1/raw/bad.json'),
        422,
        'UNREADABLE_FILE',
        'runs/r1/raw/bad.json is not a readable json file: Invalid Input Error: Malformed JSON at byte',
      );
      // The scratch copy DuckDB read is no path the user knows.
      const message = await convertWithDuckDb(connection, json, 'json', path.join(out, 'b.csv'), 'x').catch(
        (error: unknown) => String(error),
      );
      expect(message).not.toContain(out);
      await expectRejection(
        convertWithDuckDb(
          connection,
          parquet,
          'parquet',
          path.join(out, 'bad.csv'),
          'runs/r1/raw/bad.parquet',
        ),
        422,
        'UNREADABLE_FILE',
        'runs/r1/raw/bad.parquet is not a readable parquet file: Invalid Input Error: No magic bytes',
      );
    });
  });
});

/** The first data row (row 4 of "Orders, 2024"), read by exceljs alone: A..C. */
/** exceljs's streaming reader on its own, as the conversion sets it up. */
function excelJsReader(input: string | ReadStream): ExcelJS.stream.xlsx.WorkbookReader {
  return new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'emit',
  });
}

async function firstDataRowWithExcelJs(file: string): Promise<unknown[]> {
  const reader = excelJsReader(file);
  for await (const sheet of reader) {
    for await (const row of sheet) {
      if (row.number === 4) return [1, 2, 3].map((col) => row.getCell(col).value);
    }
  }
  return [];
}

/** The worksheets exceljs streams from `source` when each takes 20 ms to convert. */
async function sheetNamesReadSlowly(source: ReadStream): Promise<string[]> {
  const reader = excelJsReader(source);
  const names: string[] = [];
  for await (const sheet of reader) {
    await sleep(10);
    for await (const _row of sheet) {
      // read through
    }
    await sleep(10);
    names.push(String(Reflect.get(sheet, 'name')));
  }
  return names;
}

/**
 * The same zip with its entries stored in another order (`first`, then the rest as they were, then
 * `last`), minus `drop`. Stored data is copied as is; sizes and CRCs come from the central directory, so
 * the local headers need no data descriptor.
 */
function reorderZip(
  zip: Buffer,
  order: {
    first?: string[];
    last?: string[];
    drop?: (name: string) => boolean;
    /** New content for entries, stored uncompressed. */
    replace?: Record<string, string>;
  },
): Buffer {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  interface Entry {
    name: string;
    method: number;
    time: number;
    date: number;
    crc: number;
    size: number;
    data: Buffer;
  }
  const entries: Entry[] = [];
  for (let at = zip.readUInt32LE(end + 16), i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const compressed = zip.readUInt32LE(at + 20);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      time: zip.readUInt16LE(at + 12),
      date: zip.readUInt16LE(at + 14),
      crc: zip.readUInt32LE(at + 16),
      size: zip.readUInt32LE(at + 24),
      data: zip.subarray(dataAt, dataAt + compressed),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  const first = order.first ?? [];
  const last = order.last ?? [];
  const rank = (name: string): number =>
    first.includes(name)
      ? first.indexOf(name) - first.length
      : last.includes(name)
        ? 1 + last.indexOf(name)
        : 0;
  const sorted = entries
    .filter((entry) => !order.drop?.(entry.name))
    .map((entry) => {
      const content = order.replace?.[entry.name];
      if (content === undefined) return entry;
      const data = Buffer.from(content, 'utf8');
      return { ...entry, method: 0, crc: crc32(data), size: data.length, data };
    })
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => rank(a.entry.name) - rank(b.entry.name) || a.index - b.index)
    .map(({ entry }) => entry);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.name, 'utf8');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt16LE(entry.time, 10);
    header.writeUInt16LE(entry.date, 12);
    header.writeUInt32LE(entry.crc, 14);
    header.writeUInt32LE(entry.data.length, 18);
    header.writeUInt32LE(entry.size, 22);
    header.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt16LE(entry.time, 12);
    central.writeUInt16LE(entry.date, 14);
    central.writeUInt32LE(entry.crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(header, name, entry.data);
    centrals.push(central, name);
    offset += header.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(sorted.length, 8);
  eocd.writeUInt16LE(sorted.length, 10);
  eocd.writeUInt32LE(directory.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, eocd]);
}
