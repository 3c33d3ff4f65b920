import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseProfile } from '@etl/transformer/profile';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { UsageError } from '../args';
import { profileCommand, profileSource } from './profile';
import { resolveProfile } from './run';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-profile-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('etl profile', () => {
  test('writes a profile that loads, with types, dialect and the ambiguous column marked', async () => {
    const csv = path.join(dir, 'orders.csv');
    await writeFile(csv, 'id;day;amount\n1;01/02/2024;"1,234.50"\n2;03/04/2024;7\n');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(dir, 'orders.yaml');
    expect(await profileCommand([`local:${csv}`, '--out', out, '--table', 'orders'])).toBe(0);
    const yaml = await readFile(out, 'utf8');
    expect(yaml).toContain('delimiter: ;');
    expect(yaml).toContain('ambiguous: true');
    expect(String(stderr.mock.calls.map((c) => c[0]).join(''))).toMatch(/AMBIGUOUS date format in day/);
    // Not guessed: the profile does not load until the format is chosen.
    expect(() => parseProfile(yaml, out)).toThrow(/day is ambiguous between %m\/%d\/%Y and %d\/%m\/%Y/);
    const fixed = yaml.replace('ambiguous: true', 'format: "%d/%m/%Y"');
    const profile = parseProfile(fixed, out);
    expect(profile.table).toBe('orders');
    expect(profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['day', 'date'],
      ['amount', 'number'],
    ]);
    expect(profile.primaryKey).toEqual(['id']);
  });

  test('prints the roles it infers, and writes them as a commented roles: block that loads once uncommented', async () => {
    const csv = path.join(dir, 'train.csv');
    await writeFile(
      csv,
      'Store,Dept,Date,Weekly_Sales,IsHoliday\n1,1,2010-02-05,24924.5,FALSE\n1,2,2010-02-12,50605.27,TRUE\n',
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(dir, 'train.yaml');
    expect(await profileCommand([`local:${csv}`, '--out', out])).toBe(0);
    const printed = String(stderr.mock.calls.map((c) => c[0]).join(''));
    expect(printed).toContain("roles (set them in the profile's roles: to override):");
    expect(printed).toMatch(/ {2}event_time +date +0\.85 {2}name date is a plain date; a DATE\n/);
    expect(printed).toMatch(
      / {2}amount +weekly_sales +0\.95 {2}name weekly_sales is a sales, revenue or total amount/,
    );
    expect(printed).toMatch(/ {2}dimension +dept +0\.85 {2}name dept is a product dimension/);
    const yaml = await readFile(out, 'utf8');
    expect(yaml).toContain('# roles:\n#   event_time: date  # (0.85)\n#   amount: weekly_sales  # (0.95)\n');
    expect(yaml).toContain('#   dimensions: [dept, store, is_holiday]\n');
    expect(parseProfile(yaml, out).roles).toBeUndefined();
    const edited = yaml
      .replace(/^# (roles:| {2}\w+:)/gm, '$1')
      .replace('amount: weekly_sales', 'amount: Weekly_Sales');
    expect(parseProfile(edited, out).roles).toEqual({
      event_time: 'date',
      amount: 'Weekly_Sales',
      dimensions: ['dept', 'store', 'is_holiday'],
    });
  });

  test('a folder of CSV files is one table; a zip, a gzip, a non-table file and a missing path are usage errors', async () => {
    await mkdir(path.join(dir, 'in'));
    await writeFile(path.join(dir, 'in', 'b.csv'), 'x\n1\n');
    await writeFile(path.join(dir, 'in', 'a.csv'), 'x\n2\n');
    await writeFile(path.join(dir, 'in', 'notes.txt'), 'hi');
    expect(profileSource(`local:${path.join(dir, 'in')}`)).toEqual({
      files: [path.join(dir, 'in', 'a.csv'), path.join(dir, 'in', 'b.csv')],
      format: 'delimited',
    });
    // A partitioned table's files, in its folders.
    await mkdir(path.join(dir, 'parts', 'year=2023', 'month=02'), { recursive: true });
    await mkdir(path.join(dir, 'parts', 'year=2023', 'month=01'), { recursive: true });
    await writeFile(path.join(dir, 'parts', 'year=2023', 'month=02', 'part-0.csv'), 'x\n1\n');
    await writeFile(path.join(dir, 'parts', 'year=2023', 'month=01', 'part-0.csv'), 'x\n2\n');
    expect(profileSource(`local:${path.join(dir, 'parts')}`).files).toEqual([
      path.join(dir, 'parts', 'year=2023', 'month=01', 'part-0.csv'),
      path.join(dir, 'parts', 'year=2023', 'month=02', 'part-0.csv'),
    ]);
    await mkdir(path.join(dir, 'none', 'sub'), { recursive: true });
    expect(() => profileSource(`local:${path.join(dir, 'none')}`)).toThrow(
      /holds no .csv file, nor do its subfolders/,
    );
    for (const [name, message] of [
      ['a.zip', /is a zip archive: unzip it/],
      ['a.csv.gz', /is gzip-compressed: decompress it/],
      ['a.pdf', /is no table file to profile: PDF document, not a table/],
    ] as const) {
      await writeFile(path.join(dir, name), 'x');
      expect(() => profileSource(`local:${path.join(dir, name)}`)).toThrow(UsageError);
      expect(() => profileSource(`local:${path.join(dir, name)}`)).toThrow(message);
    }
    expect(() => profileSource(`local:${path.join(dir, 'nope.csv')}`)).toThrow(/does not exist/);
  });

  test('a JSON lines file and a workbook sheet are profiled as the transformer reads them, not as CSV text', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const printed = () => String(stderr.mock.calls.map((c) => c[0]).join(''));
    // Before, the JSON lines text was sniffed as CSV: "0 rows", columns named "{order: A1".
    const jsonl = path.join(dir, 'orders.jsonl');
    const records = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({
        order: `A${i}`,
        order_date: `2024-01-${String(1 + (i % 28)).padStart(2, '0')}`,
        total: i + 0.5,
      }),
    );
    await writeFile(jsonl, `${records.join('\n')}\n`);
    const out = path.join(dir, 'orders.yaml');
    expect(await profileCommand([`local:${jsonl}`, '--out', out])).toBe(0);
    expect(printed()).toContain(`profiled 30 rows of ${jsonl}: 3 columns, read as JSON`);
    const profile = parseProfile(await readFile(out, 'utf8'), out);
    expect(profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['order', 'string'],
      ['order_date', 'date'],
      ['total', 'number'],
    ]);
    expect(profile.source.files).toEqual(['orders.jsonl']);

    const book = new ExcelJS.Workbook();
    book.addWorksheet('Notes').addRow(['read me']);
    const stock = book.addWorksheet('Stock');
    stock.addRow(['Sku', 'Units']);
    for (let i = 1; i <= 5; i++) stock.addRow([`S-${i}`, i * 10]);
    const prices = book.addWorksheet('Prices');
    prices.addRow(['Sku', 'Price']);
    for (let i = 1; i <= 5; i++) prices.addRow([`S-${i}`, i + 0.99]);
    const xlsx = path.join(dir, 'stock.xlsx');
    await book.xlsx.writeFile(xlsx);
    const sheetProfile = async (...args: string[]) => {
      const file = path.join(dir, 'sheet.yaml');
      expect(await profileCommand([`local:${xlsx}`, '--out', file, ...args])).toBe(0);
      return parseProfile(await readFile(file, 'utf8'), file).columns.map((c) => [c.name, c.type]);
    };
    expect(await sheetProfile()).toEqual([
      ['sku', 'string'],
      ['units', 'integer'],
    ]);
    expect(printed()).toContain(
      `profiled 5 rows of sheet "Stock" of ${xlsx} (sheets with data: Stock, Prices; --sheet NAME picks one)`,
    );
    expect(await sheetProfile('--sheet', 'Prices')).toEqual([
      ['sku', 'string'],
      ['price', 'number'],
    ]);
    await expect(profileCommand([`local:${xlsx}`, '--sheet', 'Returns'])).rejects.toThrow(
      /has no sheet "Returns" with data rows \(sheets with data: Stock, Prices\)/,
    );
    await expect(profileCommand([`local:${jsonl}`, '--sheet', 'Stock'])).rejects.toThrow(UsageError);
  });
});

describe('etl run --profile', () => {
  test('a name is passed on; a file is checked and its folder becomes PROFILES_DIR', async () => {
    expect(await resolveProfile('superstore')).toEqual({ name: 'superstore' });
    const file = path.join(dir, 'mine.yaml');
    await writeFile(file, 'table: mine\n');
    expect(await resolveProfile(file)).toEqual({ name: 'mine', dir });
    await writeFile(file, 'table: Mine\n');
    await expect(resolveProfile(file)).rejects.toThrow(/mine\.yaml:1:8: table: expected a snake_case name/);
    await writeFile(path.join(dir, 'Sample - X.yaml'), 'table: x\n');
    await expect(resolveProfile(path.join(dir, 'Sample - X.yaml'))).rejects.toThrow(
      /rename .* sample-x\.yaml/,
    );
  });
});
