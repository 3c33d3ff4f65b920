import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, test } from 'vitest';
import { formatCsvField } from './csv';
import {
  BAD_DATES,
  BAD_NUMBERS,
  generateSalesCsv,
  SALES_COLUMNS,
  SALES_DIRT,
  writeSalesCsv,
} from './sales-csv';

/** A strict RFC 4180 reader, independent of the writer under test. */
function parseCsv(input: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const char = input[i]!;
    if (quoted) {
      if (char === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at offset ${i}`);
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) throw new Error('last line not terminated by LF');
  return rows;
}

const generate = (rows: number, seed: number): Promise<string> => text(generateSalesCsv({ rows, seed }));
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const isIsoDate = (value: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(value) &&
  !Number.isNaN(Date.parse(value)) &&
  new Date(value).toISOString().startsWith(value);

describe('generateSalesCsv', () => {
  test('same seed gives the same bytes; another seed gives other bytes', async () => {
    const [a, b, c] = await Promise.all([generate(2000, 7), generate(2000, 7), generate(2000, 8)]);
    expect(sha256(a)).toBe(sha256(b));
    expect(sha256(a)).not.toBe(sha256(c));
  });

  test('writes the header and exactly `rows` LF-terminated lines, no CR', async () => {
    const csv = await generate(1234, 1);
    expect(csv.includes('\r')).toBe(false);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...SALES_COLUMNS]);
    expect(rows).toHaveLength(1 + 1234);
    expect(rows.every((row) => row.length === SALES_COLUMNS.length)).toBe(true);
    expect(parseCsv(await generate(0, 1))).toEqual([[...SALES_COLUMNS]]);
  });

  test('writeSalesCsv writes the same bytes to a file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sample-data-'));
    try {
      const file = path.join(dir, 'sales.csv');
      await writeSalesCsv(file, { rows: 500, seed: 3 });
      expect(await readFile(file, 'utf8')).toBe(await generate(500, 3));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('rejects a negative or fractional row count, naming the option', () => {
    expect(() => generateSalesCsv({ rows: -1, seed: 1 })).toThrow(/rows/);
    expect(() => generateSalesCsv({ rows: 1.5, seed: 1 })).toThrow(/rows/);
  });

  test('quotes fields with commas, quotes or line breaks (RFC 4180)', () => {
    expect(formatCsvField('plain')).toBe('plain');
    expect(formatCsvField('Chair, Oak')).toBe('"Chair, Oak"');
    expect(formatCsvField('Binder 3" Ring')).toBe('"Binder 3"" Ring"');
    expect(formatCsvField('two\nlines')).toBe('"two\nlines"');
  });
});

describe('generated data, 10,000 rows', async () => {
  const csv = await generate(10_000, 42);
  const [header, ...rows] = parseCsv(csv);
  const column = (name: (typeof SALES_COLUMNS)[number]): number => header!.indexOf(name);
  const share = (predicate: (row: string[]) => boolean): number =>
    rows.filter(predicate).length / rows.length;
  // Binomial spread at n = 10,000 for rates of 0.1-1 %: allow the rate +-60 % (+ a small absolute slack).
  const expectRate = (actual: number, expected: number): void => {
    expect(actual).toBeGreaterThan(expected * 0.4 - 0.0005);
    expect(actual).toBeLessThan(expected * 1.6 + 0.0005);
  };

  test('has realistic values: ISO dates in range, ship 0-7 days later, 5-digit postal codes, some with 0', () => {
    const clean = rows.filter((row) => isIsoDate(row[column('order_date')]!));
    for (const row of clean.slice(0, 2000)) {
      const ordered = Date.parse(row[column('order_date')]!);
      expect(ordered).toBeGreaterThanOrEqual(Date.parse('2023-01-01'));
      expect(ordered).toBeLessThanOrEqual(Date.parse('2025-12-31'));
      const shipped = row[column('ship_date')]!;
      if (isIsoDate(shipped)) {
        const days = (Date.parse(shipped) - ordered) / 86_400_000;
        expect(days).toBeGreaterThanOrEqual(0);
        expect(days).toBeLessThanOrEqual(7);
      }
    }
    const postal = rows.map((row) => row[column('postal_code')]!).filter((code) => code !== '');
    expect(postal.every((code) => /^\d{5}$/.test(code))).toBe(true);
    expect(postal.some((code) => code.startsWith('0'))).toBe(true);
    expect(new Set(rows.map((row) => row[column('order_id')])).size).toBeLessThan(rows.length / 1.5);
    expect(share((row) => Number(row[column('profit')]) < 0)).toBeGreaterThan(0.02);
  });

  test('sales = price * quantity * (1 - discount), to 2 decimals', () => {
    const unitPrice = new Map<string, number>();
    for (const row of rows.slice(0, 3000)) {
      const [sales, quantity, discount] = ['sales', 'quantity', 'discount'].map((name) =>
        row[column(name as 'sales')]!.trim(),
      );
      if (!/^\d+\.\d\d$/.test(sales!) || !/^\d+$/.test(quantity!) || discount === '') continue;
      const price = Number(sales) / Number(quantity) / (1 - Number(discount));
      const known = unitPrice.get(row[column('product_id')]!);
      if (known === undefined) unitPrice.set(row[column('product_id')]!, price);
      else expect(Math.abs(known - price)).toBeLessThan(0.05);
    }
  });

  test('carries each kind of dirt at its documented rate', () => {
    for (const [name, rate] of Object.entries(SALES_DIRT.missing)) {
      expectRate(
        share((row) => row[column(name as 'sales')] === ''),
        rate,
      );
    }
    const bad = (name: 'sales', values: readonly string[]) => (row: string[]) =>
      values.includes(row[column(name)]!);
    expectRate(
      share((row) => bad('sales', BAD_NUMBERS)(row) || bad('quantity' as 'sales', BAD_NUMBERS)(row)),
      SALES_DIRT.badNumber,
    );
    expectRate(
      share(
        (row) => bad('order_date' as 'sales', BAD_DATES)(row) || bad('ship_date' as 'sales', BAD_DATES)(row),
      ),
      SALES_DIRT.badDate,
    );
    expectRate(
      share((row) => row.some((cell) => cell !== cell.trim())),
      SALES_DIRT.paddedWhitespace,
    );
    const lines = csv.split('\n').slice(1, -1);
    const repeats = lines.filter((line, i) => i > 0 && line === lines[i - 1]).length / lines.length;
    expectRate(repeats, SALES_DIRT.duplicateRow);
  });

  test('contains non-ASCII text and quoted fields', () => {
    expect(/[^\p{ASCII}]/u.test(csv)).toBe(true);
    expect(csv).toMatch(/"[^"\n]*,[^"\n]*"/);
    expect(csv).toContain('""');
  });
});
