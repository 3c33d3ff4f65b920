import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import { withDuckDb } from './duckdb-session';
import { type ColumnStats, chooseType, DATE_FORMATS, dateShape, inferColumnPlans } from './infer-types';

const stats = (overrides: Partial<ColumnStats>): ColumnStats => ({
  values: 100,
  missingTokens: 0,
  integers: 0,
  leadingZeros: 0,
  numbers: 0,
  dates: DATE_FORMATS.map(() => 0),
  timestamps: 0,
  booleans: 0,
  ...overrides,
});

describe('chooseType', () => {
  test('integers at 98% make BIGINT; below, the next type that fits', () => {
    expect(chooseType(stats({ integers: 98, numbers: 98 })).type).toBe('BIGINT');
    expect(chooseType(stats({ integers: 97, numbers: 99 })).type).toBe('DOUBLE');
    expect(chooseType(stats({ integers: 97, numbers: 97 })).type).toBe('VARCHAR');
  });

  test('a leading zero keeps a numeric-looking column as text', () => {
    expect(chooseType(stats({ integers: 100, numbers: 100, leadingZeros: 1 }))).toEqual({
      type: 'VARCHAR',
      ambiguous: false,
      missingTokens: false,
    });
  });

  test('missing tokens are left out of the share', () => {
    expect(chooseType(stats({ missingTokens: 10, integers: 90, numbers: 90 }))).toMatchObject({
      type: 'BIGINT',
      missingTokens: true,
    });
    expect(chooseType(stats({ values: 10, missingTokens: 10 })).type).toBe('VARCHAR');
  });

  test('dates: the format parsing most values; M/D/Y wins a tie with D/M/Y and is ambiguous', () => {
    const mdy = DATE_FORMATS.indexOf('%m/%d/%Y');
    const dmy = DATE_FORMATS.indexOf('%d/%m/%Y');
    const dates = (m: number, d: number) => DATE_FORMATS.map((_, i) => (i === mdy ? m : i === dmy ? d : 0));
    expect(chooseType(stats({ dates: dates(100, 100) }))).toMatchObject({
      format: '%m/%d/%Y',
      ambiguous: true,
    });
    expect(chooseType(stats({ dates: dates(60, 100) }))).toMatchObject({
      format: '%d/%m/%Y',
      ambiguous: false,
    });
    expect(chooseType(stats({ dates: dates(100, 37) }))).toMatchObject({
      format: '%m/%d/%Y',
      ambiguous: false,
    });
  });

  test('numbers with thousands separators (1,234.50) are numbers, and the plan records the separator', () => {
    expect(chooseType(stats({ numbers: 60, grouped: 40 }))).toMatchObject({ type: 'DOUBLE', thousands: ',' });
    expect(chooseType(stats({ integers: 60, numbers: 60, grouped: 40, groupedIntegers: 40 }))).toMatchObject({
      type: 'BIGINT',
      thousands: ',',
    });
    expect(chooseType(stats({ numbers: 50, grouped: 40 })).type).toBe('VARCHAR');
  });

  test('an ambiguous date column lists its candidate formats', () => {
    const dates = DATE_FORMATS.map((f) => (f === '%m/%d/%Y' || f === '%d/%m/%Y' ? 100 : 0));
    expect(chooseType(stats({ dates })).candidates).toEqual(['%m/%d/%Y', '%d/%m/%Y']);
  });

  test('timestamps and booleans', () => {
    expect(chooseType(stats({ timestamps: 100 })).type).toBe('TIMESTAMP');
    expect(chooseType(stats({ booleans: 100 })).type).toBe('BOOLEAN');
  });

  test('date shapes', () => {
    expect(dateShape('%d.%m.%Y')).toBe('[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}');
  });
});

describe('inferColumnPlans over a sample', () => {
  const plan = (rows: string[][], header: string[], sampleRows: number) =>
    withDuckDb({ threads: 2 }, tmpdir(), async (connection) => {
      const values = rows.map((r) => `(${r.map((v) => `'${v}'`).join(', ')})`).join(', ');
      await connection.run(`CREATE TABLE t AS SELECT * FROM (VALUES ${values}) v(${header.join(', ')})`);
      return inferColumnPlans(connection, 't', header, header, header, sampleRows);
    });

  test('the first-rows pass leaves out only types that cannot win; the choices equal full counts', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => [
      // text for the first 6,000 rows, integers after: over 2% fail, VARCHAR either way
      i < 6_000 ? `t${i}` : String(i),
      // missing for the first 6,000 rows, integers after: the prefix rules nothing out
      i < 6_000 ? 'NA' : String(i),
      // integers, with 100 text values late: 99% integers, BIGINT
      i % 120 === 7 && i > 6_000 ? 'x' : String(i),
      // dates everywhere
      `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
    ]);
    const header = ['late_numbers', 'missing_first', 'mostly_ints', 'day'];
    const { plans, stats } = await plan(rows, header, 12_000);
    expect(plans.map((p) => p.type)).toEqual(['VARCHAR', 'BIGINT', 'BIGINT', 'DATE']);
    expect(stats[1]!.integers).toBe(6_000);
    expect(stats[2]!.integers).toBe(11_950); // 50 text values late in the column
    expect(stats[3]!.dates[0]).toBe(12_000);
  });
});
