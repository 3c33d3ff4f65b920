/**
 * Generality: CSV files of other shapes than Superstore's are profiled (`profileCsvFiles`, what `etl
 * profile` runs) and transformed without a profile, and both read the right types.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { withEvenLineEndings } from './prepare-file';
import { profileCsvFiles } from './profiler';
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
import { transform } from './transformer';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

async function both(name: string, content: string | Buffer) {
  const file = path.join(t.root, name);
  await writeFile(file, content);
  const profiled = await profileCsvFiles([file], { tempDir: t.root, duckdb: { threads: 1 } });
  await writeExtractedRun(t.store, 'r1', { [name]: content });
  const response = await transform({ runId: 'r1', maxRejectRate: 0 }, t.deps);
  const staged = await readTable(t.store, response.tables[0]!.stagedKey);
  const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
  const types = Object.fromEntries(report.columns.map((c) => [c.name, c.type]));
  const profileTypes = Object.fromEntries((profiled.profile.columns ?? []).map((c) => [c.name, c.type]));
  return { profiled, response, report, rows: rowsOf(staged), types, profileTypes };
}

describe('CSV shapes', () => {
  test('semicolon delimiter', async () => {
    const r = await both('a.csv', 'id;name;amount;day\n1;Ann;2.5;2024-01-31\n2;Bob;3;2024-02-01\n');
    expect(r.profiled.dialect.delimiter).toBe(';');
    expect(r.report.dialect).toMatchObject({ delimiter: ';', sniffed: true, header: true });
    expect(r.types).toEqual({ id: 'BIGINT', name: 'VARCHAR', amount: 'DOUBLE', day: 'DATE' });
    expect(r.profileTypes).toEqual({ id: 'integer', name: 'string', amount: 'number', day: 'date' });
    expect(r.rows[1]).toEqual({ id: 2, name: 'Bob', amount: 3, day: '2024-02-01' });
  });

  test('a header of two rows: etl profile names the columns as etl run does, and skips only the title', async () => {
    const rows = Array.from(
      { length: 30 },
      (_, i) => `${i % 2 ? 'North' : 'South'};${i};${i + 0.5};${i * 2};${i + 1.5}`,
    );
    const csv = ['Umsatz je Quartal;;;;', ';;Q1;;Q2', 'Region;Nr;Umsatz;Menge;Umsatz', ...rows].join('\n');
    const r = await both('quartale.csv', `${csv}\n`);
    const names = ['region', 'nr', 'q1_umsatz', 'q1_menge', 'q2_umsatz'];
    expect(r.report.columns.map((c) => c.name)).toEqual(names);
    expect(r.profiled.profile.columns?.map((c) => c.name)).toEqual(names);
    expect(r.profiled.profile.source?.skipLines).toBe(1);
    expect(r.response.tables[0]).toMatchObject({ rowsIn: 30, rowsOut: 30 });
  });

  test('a UTF-8 file with one stray Windows-1252 byte keeps its UTF-8 text, the byte read as its character, and says so', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},Zoë Müller,Köln,${i}.5`);
    const content = Buffer.concat([
      Buffer.from(`id,name,city,amount\n${rows.join('\n')}\n40,Caf`),
      Buffer.from([0xe9]),
      Buffer.from(' Noir,Paris,3.5\n'),
    ]);
    const r = await both('kunden.csv', content);
    expect(r.rows[0]).toMatchObject({ name: 'Zoë Müller', city: 'Köln' });
    expect(r.rows.at(-1)).toMatchObject({ name: 'Café Noir', city: 'Paris' });
    expect(r.report.files[0]).toMatchObject({ encoding: 'utf-8-mixed' });
    expect(r.response.tables[0]!.guesses?.map((g) => g.message)).toContainEqual(
      expect.stringContaining('file kunden.csv: 1 byte is not UTF-8 among its UTF-8 text'),
    );
    // The profile leaves the encoding to detection: `utf-8` refuses the byte, naming what it is.
    expect(r.profiled.profile.source?.encoding).toBe('auto');
    await writeProfile(t, 'strict', 'source: { encoding: utf-8 }\n');
    await writeExtractedRun(t.store, 'r2', { 'kunden.csv': content });
    await expect(transform({ runId: 'r2', profile: 'strict' }, t.deps)).rejects.toMatchObject({
      status: 422,
      code: 'ENCODING_MISMATCH',
      message: expect.stringContaining(
        'is UTF-8 with stray bytes of another encoding (a Windows-1252 é among its UTF-8 text), but its profile says encoding utf-8: set encoding: auto',
      ),
    });
  });

  test("DOS's end-of-file mark (Ctrl-Z) after the last line is no record: left out and said", async () => {
    const utf8 = await both('till.csv', 'id,amount,day\r\n1,10.5,2023-01-01\r\n2,11.25,2023-01-02\r\n\x1a');
    expect(utf8.response.tables[0]).toMatchObject({ rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 });
    expect(utf8.response.tables[0]!.notes).toContainEqual({
      message:
        "file till.csv: ends with DOS's end-of-file mark (Ctrl-Z, byte 0x1A), which is no record: left out",
    });
    expect(utf8.profileTypes).toEqual({ id: 'integer', amount: 'number', day: 'date' });
  });

  test("DOS's end-of-file mark after a Windows-1252 file's last line: left out before the file is transcoded", async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,name\r\n1,Caf', 'latin1'),
      Buffer.from([0xe9]),
      Buffer.from('\r\n2,Cr', 'latin1'),
      Buffer.from([0xe8, 0x6d, 0x65, 0x0d, 0x0a, 0x1a]),
    ]);
    const legacy = await both('menu.csv', latin1);
    expect(legacy.rows).toEqual([
      { id: 1, name: 'Café' },
      { id: 2, name: 'Crème' },
    ]);
    expect(legacy.response.tables[0]).toMatchObject({ rowsIn: 2, rowsQuarantined: 0 });
  });

  test('lines ending in both CRLF and LF (files joined from Windows and Unix) are read, evened to LF, and said', async () => {
    const r = await both('joined.csv', 'id,amount\r\n1,2.5\n2,3.5\r\n3,4.5\n');
    expect(r.rows).toEqual([
      { id: 1, amount: 2.5 },
      { id: 2, amount: 3.5 },
      { id: 3, amount: 4.5 },
    ]);
    expect(r.profileTypes).toEqual({ id: 'integer', amount: 'number' });
    expect(r.response.tables[0]!.notes).toContainEqual({
      message:
        'file joined.csv: its lines end in both CRLF and LF (files joined from Windows and Unix): read with LF endings',
    });
  });

  test('a CRLF file whose mix of LF begins past the inference sample is read whole; a quarantined line keeps its number', async () => {
    const windows = Array.from({ length: 3_000 }, (_, i) => `${i + 1},${i}.5,a`).join('\r\n');
    const unix = Array.from({ length: 50 }, (_, i) => `${3_001 + i},${i}.25,b`).join('\n');
    const csv = `id,amount,tag\r\n${windows}\r\n${unix}\n3051,x,c\n`;
    await writeExtractedRun(t.store, 'r1', { 'big.csv': csv });
    const response = await transform({ runId: 'r1', maxRejectRate: 0.01 }, { ...t.deps, sampleRows: 1_000 });
    expect(response.tables[0]).toMatchObject({ rowsIn: 3_051, rowsOut: 3_050, rowsQuarantined: 1 });
    expect(response.tables[0]!.notes?.map((n) => n.message)).toContain(
      'file big.csv: its lines end in both CRLF and LF (files joined from Windows and Unix): read with LF endings',
    );
    const rejects = rowsOf(await readTable(t.store, response.tables[0]!.quarantineKey));
    expect(rejects.map((r) => [r['line'], r['raw']])).toEqual([[3_052, '3051,x,c']]);
  });

  test('evening line endings: a CRLF split across read chunks (1 MiB) and a final CR are kept right; a file of CRLF alone is left as it is', async () => {
    const file = path.join(t.root, 'split.csv');
    const head = `${'x'.repeat((1 << 20) - 1)}\r\n`; // its CR is a chunk's last byte, its LF the next one's first
    await writeFile(file, `${head}a\nb\r\nc\r`);
    const mixed = new Error('Invalid Input Error: The CSV Parser state machine reached an invalid state.');
    // Work that fails as DuckDB does on a mixed file, until it is told the file was evened.
    const read = (error: Error) => async (notes: ReadonlyArray<string | undefined>) => {
      if (notes.every((note) => note === undefined)) throw error;
      return notes;
    };
    expect(await withEvenLineEndings([file], read(mixed))).toEqual([
      expect.stringContaining('both CRLF and LF'),
    ]);
    expect(await readFile(file, 'utf8')).toBe(`${'x'.repeat((1 << 20) - 1)}\na\nb\nc\r`);
    // CR CR LF, its two CRs a chunk's last bytes: one line ending.
    const doubled = path.join(t.root, 'doubled.csv');
    await writeFile(doubled, `${'y'.repeat((1 << 20) - 2)}\r\r\nd\r\r\n`);
    expect(await withEvenLineEndings([doubled], read(mixed))).toEqual([expect.stringContaining('CR CR LF')]);
    expect(await readFile(doubled, 'utf8')).toBe(`${'y'.repeat((1 << 20) - 2)}\nd\n`);
    const windows = path.join(t.root, 'windows.csv');
    await writeFile(windows, 'a\r\nb\r\n');
    await expect(withEvenLineEndings([windows], read(mixed))).rejects.toBe(mixed);
    expect(await readFile(windows, 'utf8')).toBe('a\r\nb\r\n');
    const another = new Error('another');
    await expect(withEvenLineEndings([file], read(another))).rejects.toBe(another);
  });

  test("lines ending in CR CR LF (Python's csv writer on Windows without newline='') are read as lines, and said", async () => {
    const r = await both('export.csv', 'date,item,qty\r\r\n2023-01-01,A,1\r\r\n2023-01-02,B,2\r\r\n');
    expect(r.rows).toEqual([
      { date: '2023-01-01', item: 'A', qty: 1 },
      { date: '2023-01-02', item: 'B', qty: 2 },
    ]);
    expect(r.profileTypes).toEqual({ date: 'date', item: 'string', qty: 'integer' });
    expect(r.response.tables[0]).toMatchObject({ rowsIn: 2, rowsOut: 2, rowsQuarantined: 0 });
    expect(r.response.tables[0]!.notes?.map((n) => n.message)).toEqual([
      "file export.csv: its lines end in CR CR LF (Python's csv writer on Windows, given a file not opened with newline=''): read with LF endings",
    ]);
  });

  test("a CRLF file with LF inside quoted cells (Excel's line breaks in a cell) is read as it is, without a word", async () => {
    const r = await both('notes.csv', 'id,note\r\n1,"first\nsecond"\r\n2,plain\r\n');
    expect(r.rows).toEqual([
      { id: 1, note: 'first\nsecond' },
      { id: 2, note: 'plain' },
    ]);
    expect(r.response.tables[0]!.notes ?? []).toEqual([]);
    expect(r.response.tables[0]!.guesses ?? []).toEqual([]);
  });

  test('a header line ending in a delimiter its records lack (id,amount, above 1,2.5): the empty name is left out, and said', async () => {
    const r = await both('orders.csv', 'id,amount,\n1,2.5\n2,3.5\n3,4.5\n');
    expect(r.types).toEqual({ id: 'BIGINT', amount: 'DOUBLE' });
    expect(r.profileTypes).toEqual({ id: 'integer', amount: 'number' });
    expect(r.response.tables[0]).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
    expect(r.response.tables[0]!.notes).toContainEqual({
      message:
        'file orders.csv: its header line ends with a delimiter its records do not have: the empty name left out',
    });
    // With the profile's own dialect (no sniffing), the same.
    await writeProfile(t, 'p', 'source: { delimiter: ",", header: true }\n');
    await writeExtractedRun(t.store, 'r2', { 'orders.csv': 'id,amount,,\n1,2.5\n2,3.5\n' });
    const profiled = await transform({ runId: 'r2', maxRejectRate: 0, profile: 'p' }, t.deps);
    expect(profiled.tables[0]).toMatchObject({ rowsIn: 2, rowsOut: 2 });
  });

  test('a comment line among the records (# ..., // ...) is quarantined as not data; a # line that parses is data', async () => {
    const csv =
      'store,date,amount\nA,2023-01-01,5.5\n# store B closed\nB,2023-01-02,7\n#12,2023-01-03,3\n  // end of export\n';
    await writeExtractedRun(t.store, 'r1', { 'a.csv': csv });
    const response = await transform({ runId: 'r1', maxRejectRate: 0 }, t.deps);
    expect(response.tables[0]).toMatchObject({ rowsIn: 5, rowsOut: 3, rowsQuarantined: 2 });
    const rows = rowsOf(await readTable(t.store, response.tables[0]!.stagedKey));
    expect(rows.map((r) => [r['store'], r['date']])).toEqual([
      ['A', '2023-01-01'],
      ['B', '2023-01-02'],
      ['#12', '2023-01-03'],
    ]);
    const rejects = rowsOf(await readTable(t.store, response.tables[0]!.quarantineKey));
    expect(rejects).toMatchObject([
      { line: 3, reason: 'comment_line', message: 'line 3 is a comment, not data', raw: '# store B closed' },
      { line: 6, reason: 'comment_line', raw: '  // end of export' },
    ]);
  });

  test('a line of spaces below the data is an empty row: quarantined as not data, the quality gate unmoved', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': '"id","name"\n"1","Ann"\n"2","Bo"\n   \n' });
    const response = await transform({ runId: 'r1', maxRejectRate: 0 }, t.deps);
    expect(response.tables[0]).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    const rejects = rowsOf(await readTable(t.store, response.tables[0]!.quarantineKey));
    expect(rejects).toMatchObject([
      { line: 4, reason: 'empty_row', message: 'line 4 has only blanks, not data' },
    ]);
  });

  test('blank lines above the header are skipped and said as a note, not as a guessed title', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': '\n\n\nid,v\n1,2\n' });
    const response = await transform({ runId: 'r1', maxRejectRate: 0 }, t.deps);
    expect(response.tables[0]).toMatchObject({
      rowsIn: 1,
      rowsOut: 1,
      notes: [{ message: 'file a.csv: 3 blank lines above the header skipped' }],
    });
    expect(response.tables[0]!.guesses ?? []).toEqual([]);
  });

  test("Excel's delimiter line (sep=;) above the header is skipped and said as a note", async () => {
    await writeExtractedRun(t.store, 'r1', {
      'a.csv': 'sep=;\r\nDatum;Filiale;Umsatz\r\n01.02.2024;Zürich;1234,50\r\n02.02.2024;Bern;99,90\r\n',
    });
    const response = await transform({ runId: 'r1', maxRejectRate: 0 }, t.deps);
    expect(response.tables[0]).toMatchObject({
      rowsIn: 2,
      rowsOut: 2,
      notes: [
        { message: "file a.csv: its first line (sep=;) is Excel's delimiter line, no record: skipped" },
      ],
    });
    expect(response.tables[0]!.guesses ?? []).toEqual([]);
  });

  test('a Turkish Excel export in Windows-1254 loads its letters (Ş ğ ı İ), with the guess said; etl profile writes the encoding', async () => {
    const csv = 'Ürün;Şehir;Tutar\nÇay;İstanbul;12,50\nŞeker;Muğla;8,75\nSüt;Iğdır;9,90\n';
    const r = await both('satis.csv', encodeLegacy(csv, 'windows-1254'));
    expect(r.rows.map((row) => row['sehir'])).toEqual(['İstanbul', 'Muğla', 'Iğdır']);
    expect(r.rows.map((row) => row['tutar'])).toEqual([12.5, 8.75, 9.9]);
    expect(r.response.tables[0]!.guesses?.map((g) => g.message)).toContainEqual(
      expect.stringContaining('file satis.csv: not UTF-8: read as windows-1254'),
    );
    expect(r.profiled.profile.source?.encoding).toBe('windows-1254');
  });

  test('a time-of-day column is profiled as type time', async () => {
    const r = await both('tills.csv', 'till,opened\n1,08:30\n2,9:15\n3,13:45:10\n');
    expect(r.types).toMatchObject({ opened: 'TIME' });
    expect(r.profileTypes).toMatchObject({ opened: 'time' });
  });

  test('a malformed record: the profile still reads the rest (it used to lose its raw table)', async () => {
    const file = path.join(t.root, 'a.csv');
    await writeFile(file, 'id,amount\n1,2.5\n2,3.5,extra\n3,4.5\n');
    const profiled = await profileCsvFiles([file], { tempDir: t.root, duckdb: { threads: 1 } });
    expect(profiled.profile.columns?.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['amount', 'number'],
    ]);
  });

  test('tab and pipe delimiters', async () => {
    const tab = await both('a.tsv.csv', 'id\tnote\n1\ta, b\n2\tc\n');
    expect(tab.rows).toEqual([
      { id: 1, note: 'a, b' },
      { id: 2, note: 'c' },
    ]);
    await t.cleanup();
    t = await createTestStore();
    const pipe = await both('b.csv', 'id|note\n1|a; b\n2|c\n');
    expect(pipe.rows).toEqual([
      { id: 1, note: 'a; b' },
      { id: 2, note: 'c' },
    ]);
  });

  test('quoted line breaks inside fields: one record each, line numbers by record', async () => {
    const r = await both(
      'a.csv',
      'id,note,amount\n1,"two\nlines",5\n2,"three\r\nmore\nlines",6\n3,plain,7\n',
    );
    expect(r.rows.map((x) => x['note'])).toEqual(['two\nlines', 'three\r\nmore\nlines', 'plain']);
    expect(r.types['amount']).toBe('BIGINT');
    expect(r.profiled.findings.rows).toBe(3);
  });

  test('ISO, Y.M.D and D/M/Y dates; M/D vs D/M decided from the data; an undecidable column reported', async () => {
    const r = await both(
      'a.csv',
      'iso,dmy,either,dotted\n2024-01-31,31/01/2024,01/02/2024,2024.01.31\n2024-02-01,01/02/2024,03/04/2024,2024.02.01\n2024-02-13,13/02/2024,05/06/2024,2024.02.13\n',
    );
    expect(r.report.columns.map((c) => [c.name, c.type, c.format, c.ambiguous])).toEqual([
      ['iso', 'DATE', '%Y-%m-%d', false],
      ['dmy', 'DATE', '%d/%m/%Y', false],
      ['either', 'DATE', '%m/%d/%Y', true],
      ['dotted', 'DATE', '%Y.%m.%d', false],
    ]);
    expect(r.rows[0]).toMatchObject({ iso: '2024-01-31', dmy: '2024-01-31', dotted: '2024-01-31' });
    expect(r.profiled.ambiguous).toEqual(['either']);
    expect(r.profiled.profile.columns![2]).toEqual({
      name: 'either',
      source: 'either',
      type: 'date',
      ambiguous: true,
      candidates: ['%m/%d/%Y', '%d/%m/%Y'],
    });
    expect(r.profiled.yaml).toContain(
      'AMBIGUOUS date columns (every value reads in more than one format): either',
    );
  });

  test('"NA" tokens: missing in a number column, a value in a text column that uses it', async () => {
    const r = await both('a.csv', 'amount,grade,code\n1.5,A,x\nNA,NA,y\nN/A,B,z\n-,NA,w\n2,C,v\n');
    expect(r.rows.map((x) => x['amount'])).toEqual([1.5, null, null, null, 2]);
    expect(r.rows.map((x) => x['grade'])).toEqual(['A', 'NA', 'B', 'NA', 'C']);
    const grade = r.profiled.profile.columns!.find((c) => c.name === 'grade')!;
    expect(grade.missingTokens).toEqual([]);
    expect(r.profiled.findings.columns[0]!.tokens).toEqual({ NA: 1, 'N/A': 1, '-': 1 });
  });

  test('a UTF-8 BOM, bare CR line endings and a last line without a line break', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('id,name\r1,Zoë\r2,Ann\r3,Bo'),
    ]);
    const r = await both('a.csv', bytes);
    expect(r.report.files[0]!.encoding).toBe('utf-8-bom');
    expect(r.profiled.dialect.lineEnding).toBe('CR');
    expect(r.rows).toEqual([
      { id: 1, name: 'Zoë' },
      { id: 2, name: 'Ann' },
      { id: 3, name: 'Bo' },
    ]);
    expect(r.report.columns[0]!.name).toBe('id');
  });

  test('thousands separators in quoted fields: numbers', async () => {
    const r = await both(
      'a.csv',
      'id,amount,count\n1,"1,234.50","1,000"\n2,12.5,7\n3,"1,000,000.25","12,345"\n',
    );
    expect(r.types).toEqual({ id: 'BIGINT', amount: 'DOUBLE', count: 'BIGINT' });
    expect(r.report.columns[1]).toMatchObject({ thousands: ',' });
    expect(r.rows.map((x) => [x['amount'], x['count']])).toEqual([
      [1234.5, 1000],
      [12.5, 7],
      [1000000.25, 12345],
    ]);
    expect(r.profiled.profile.columns![1]).toMatchObject({ type: 'number', thousands: ',' });
  });

  test('no header row: generated names, data from line 1, and the run summary says so', async () => {
    const r = await both('a.csv', '1,2024-01-01,2.5\n2,2024-01-02,3\n');
    expect(r.report.dialect.header).toBe(false);
    expect(r.rows).toEqual([
      { column_1: 1, column_2: '2024-01-01', column_3: 2.5 },
      { column_1: 2, column_2: '2024-01-02', column_3: 3 },
    ]);
    expect(r.response.tables[0]!.guesses).toEqual([
      {
        message:
          "file a.csv: no header: the first line (1, 2024-01-01, 2.5) reads as data like the lines below it, so the columns are column_1 .. column_3 (a profile's source.header: true says otherwise)",
      },
    ]);
  });

  test('a profile written for one shape cleans the file with the same types', async () => {
    const csv = 'id;amount;day\n1;"1,234.50";31/01/2024\n2;7;13/02/2024\n';
    const r = await both('a.csv', csv);
    await writeProfile(t, 'shape', r.profiled.yaml);
    await writeExtractedRun(t.store, 'r2', { 'a.csv': csv });
    const response = await transform({ runId: 'r2', profile: 'shape' }, t.deps);
    const rows = rowsOf(await readTable(t.store, response.tables[0]!.stagedKey));
    expect(rows).toEqual([
      { id: 1, amount: 1234.5, day: '2024-01-31' },
      { id: 2, amount: 7, day: '2024-02-13' },
    ]);
  });
});

describe('bounded resources', () => {
  test('an input over MAX_INPUT_BYTES: 413 naming the limit, before any download', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id\n1\n2\n3\n' });
    await expect(transform({ runId: 'r1' }, { ...t.deps, maxInputBytes: 5 })).rejects.toMatchObject({
      status: 413,
      code: 'INPUT_TOO_LARGE',
      message:
        'run r1 has 9 bytes of table files to transform (a.csv 9), above the limit MAX_INPUT_BYTES = 5 bytes',
    });
  });

  test('DuckDB out of memory: 413 naming the memory and spill limits, not a bad file', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id,name\n1,a\n2,b\n' });
    const duckdb = { threads: 1, memoryLimit: '4MB', maxTempDirectorySize: '1MB' };
    await expect(transform({ runId: 'r1' }, { ...t.deps, duckdb })).rejects.toMatchObject({
      status: 413,
      code: 'MEMORY_LIMIT_EXCEEDED',
      message: expect.stringContaining('DUCKDB_MEMORY_LIMIT = 4MB, DUCKDB_MAX_TEMP_SIZE = 1MB of spill'),
    });
  });

  test('a file larger than its manifest says is stopped while streaming', async () => {
    await writeExtractedRun(t.store, 'r1', { 'a.csv': 'id\n1\n' });
    await t.store.put('runs/r1/raw/a.csv', Buffer.from('id\n1\n2\n3\n4\n5\n'));
    await expect(transform({ runId: 'r1' }, { ...t.deps, maxInputBytes: 8 })).rejects.toMatchObject({
      status: 413,
      code: 'INPUT_TOO_LARGE',
      message: expect.stringContaining('MAX_INPUT_BYTES = 8 bytes'),
    });
  });
});
