import { tmpdir } from 'node:os';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import { describe, expect, test } from 'vitest';
import { queryRows, withDuckDb } from './duckdb-session';
import {
  type ColumnStats,
  chooseType,
  DATE_FORMATS,
  dateShape,
  formatShape,
  type IdentifierStats,
  inferColumnPlans,
  isIdentifierName,
  TIMESTAMP_FORMATS,
  trimmed,
} from './infer-types';

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

  test("zero-padded integers named like a clock or calendar part are numbers (Instacart's order_hour_of_day)", () => {
    const padded = stats({ integers: 100, numbers: 100, leadingZeros: 40 });
    for (const name of [
      'order_hour_of_day',
      'hour',
      'month',
      'order_dow',
      'day_of_week',
      'fiscal_quarter',
      'hora',
      'mes',
    ]) {
      expect(chooseType(padded, name), name).toMatchObject({
        type: 'BIGINT',
        missingTokens: true,
        reason: expect.stringMatching(
          /^integers zero-padded to a width \(08\), named like a clock or calendar part/,
        ),
      });
    }
    // Codes keep their zeros: a state's FIPS code, a department, a ZIP code.
    for (const name of ['state_code', 'department_id', 'zip', 'postal_code'])
      expect(chooseType(padded, name).type, name).toBe('VARCHAR');
    // A column of hours that are not all integers stays as the values say.
    expect(chooseType(stats({ integers: 50, numbers: 50, leadingZeros: 40 }), 'hour').type).toBe('VARCHAR');
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

  test('decimal commas (2,50), when the delimiter is not a comma: DOUBLE with decimal "," and the thousands seen', () => {
    const comma = (none: number, dot = none, space = none) => ({ decimalComma: { none, dot, space } });
    expect(chooseType(stats({ ...comma(100), decimalCommaProofs: 90 }))).toEqual({
      type: 'DOUBLE',
      decimal: ',',
      ambiguous: false,
      missingTokens: true,
    });
    // -1.234,56 among 2,50; 1 234,56 among 0,5
    expect(chooseType(stats({ ...comma(90, 100), decimalCommaProofs: 100 }))).toMatchObject({
      type: 'DOUBLE',
      decimal: ',',
      thousands: '.',
    });
    expect(chooseType(stats({ ...comma(97, 97, 100), decimalCommaProofs: 100 }))).toMatchObject({
      decimal: ',',
      thousands: ' ',
    });
    // The usual threshold, and integers still BIGINT.
    expect(chooseType(stats({ ...comma(97), decimalCommaProofs: 97 })).type).toBe('VARCHAR');
    expect(chooseType(stats({ integers: 99, numbers: 99, ...comma(100), decimalCommaProofs: 1 })).type).toBe(
      'BIGINT',
    );
    // Not counted (a comma-delimited file): no decimal comma.
    expect(chooseType(stats({ numbers: 0 })).type).toBe('VARCHAR');
  });

  test('1,234 alone is ambiguous: what the other values prove decides, else a thousands comma with a reason', () => {
    const comma = (n: number) => ({ decimalComma: { none: n, dot: n, space: n } });
    // 1,234 and 1,5: the decimal comma is proven.
    expect(
      chooseType(
        stats({
          ...comma(100),
          decimalCommaProofs: 10,
          grouped: 90,
          groupedIntegers: 90,
          ambiguousCommas: 90,
        }),
      ),
    ).toMatchObject({ type: 'DOUBLE', decimal: ',' });
    // 1,234 and 1,234,567: the thousands comma is proven.
    const thousands = chooseType(
      stats({ ...comma(90), integers: 0, grouped: 100, groupedIntegers: 100, ambiguousCommas: 90 }),
    );
    expect(thousands).toMatchObject({ type: 'BIGINT', thousands: ',' });
    expect(thousands.reason).toBeUndefined();
    expect(thousands.decimal).toBeUndefined();
    // Only 1,234: as before (BIGINT, thousands ","), and the reason says it was a guess.
    expect(
      chooseType(stats({ ...comma(100), grouped: 100, groupedIntegers: 100, ambiguousCommas: 100 })),
    ).toEqual({
      type: 'BIGINT',
      thousands: ',',
      ambiguous: false,
      missingTokens: true,
      reason:
        'ambiguous: 100 sampled values like 1,234 read with "," as a thousands separator or as a decimal mark, and no value proves which; read as thousands (a profile\'s decimal: "," reads them as decimals)',
    });
    // A comma-delimited file: no decimal-comma counts, no reason.
    expect(chooseType(stats({ grouped: 100, groupedIntegers: 100 })).reason).toBeUndefined();
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

  test('date-time shapes; a format with a directive the shapes do not know has none (cast unguarded)', () => {
    expect(formatShape('%m/%d/%Y %H:%M')).toBe('[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}');
    expect(formatShape('%m-%d-%y %I:%M:%S %p')).toBe(
      '[0-9]{1,2}-[0-9]{1,2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AaPp][Mm]',
    );
    expect(formatShape('%d-%b-%Y')).toBe('[0-9]{1,2}-[A-Za-z]{3}-[0-9]{4}');
    expect(formatShape('%a, %d %b %Y')).toBe('[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{4}');
    expect(formatShape('%j/%Y')).toBeUndefined();
    expect(formatShape('%Y-%m-%dT%H:%M:%S.%f')).toBeUndefined();
  });
});

describe('chooseType: non-ISO timestamps', () => {
  const timestamps = (counts: Record<string, number>) =>
    TIMESTAMP_FORMATS.map((format) => counts[format] ?? 0);

  test('the format parsing most values, as for dates: 12/13/2010 8:26 is %m/%d/%Y %H:%M', () => {
    expect(
      chooseType(stats({ timestampFormats: timestamps({ '%m/%d/%Y %H:%M': 100, '%d/%m/%Y %H:%M': 40 }) })),
    ).toEqual({ type: 'TIMESTAMP', format: '%m/%d/%Y %H:%M', ambiguous: false, missingTokens: true });
    expect(
      chooseType(
        stats({ timestampFormats: timestamps({ '%d/%m/%Y %H:%M:%S': 99, '%m/%d/%Y %H:%M:%S': 60 }) }),
      ),
    ).toMatchObject({ type: 'TIMESTAMP', format: '%d/%m/%Y %H:%M:%S', ambiguous: false });
    expect(chooseType(stats({ timestampFormats: timestamps({ '%m/%d/%Y %I:%M %p': 100 }) }))).toMatchObject({
      format: '%m/%d/%Y %I:%M %p',
    });
  });

  test('M/D/Y wins a tie with D/M/Y and the column is ambiguous, with its candidates', () => {
    expect(
      chooseType(stats({ timestampFormats: timestamps({ '%m/%d/%Y %H:%M': 100, '%d/%m/%Y %H:%M': 100 }) })),
    ).toEqual({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      ambiguous: true,
      candidates: ['%m/%d/%Y %H:%M', '%d/%m/%Y %H:%M'],
      missingTokens: true,
    });
  });

  test('ISO date-times keep the plain cast (no format); below 98% the column is text', () => {
    expect(
      chooseType(stats({ timestamps: 100, timestampFormats: timestamps({ '%Y-%m-%d %H:%M:%S': 100 }) })),
    ).toEqual({ type: 'TIMESTAMP', ambiguous: false, missingTokens: true });
    expect(chooseType(stats({ timestampFormats: timestamps({ '%m/%d/%Y %H:%M': 97 }) })).type).toBe(
      'VARCHAR',
    );
  });
});

describe('chooseType: identifiers', () => {
  const codes = (overrides: Partial<IdentifierStats>): IdentifierStats => ({
    codes: 100,
    distinct: 100,
    width: 6,
    sameWidth: 100,
    ...overrides,
  });

  test('integers whose other values are a letter prefix on a number (InvoiceNo C536379) are text, with the reason', () => {
    const invoiceNo = stats({
      values: 1000,
      integers: 983,
      numbers: 983,
      prefixed: 17,
      identifier: codes({ codes: 983, distinct: 60, prefixExample: 'C536379' }),
    });
    expect(chooseType(invoiceNo, 'invoice_no')).toEqual({
      type: 'VARCHAR',
      ambiguous: false,
      missingTokens: false,
      reason: 'identifier: 17 of 1,000 sampled values are a letter prefix on a number, e.g. C536379',
    });
    // The rule needs no name: the prefix alone says identifier.
    expect(chooseType(invoiceNo, 'ref').type).toBe('VARCHAR');
  });

  test('a prefix does not make an identifier of signed numbers, or of a column whose bad values are something else', () => {
    const quantity = stats({
      values: 1000,
      integers: 990,
      numbers: 990,
      prefixed: 2,
      identifier: codes({ codes: 900, distinct: 40, width: 1, sameWidth: 600 }),
    });
    expect(chooseType(quantity, 'quantity')).toMatchObject({ type: 'BIGINT' });
    const typos = stats({
      values: 1000,
      integers: 990,
      numbers: 990,
      prefixed: 2,
      identifier: codes({ codes: 990, distinct: 40, width: 2, sameWidth: 600 }),
    });
    expect(chooseType(typos, 'sales').type).toBe('BIGINT');
  });

  test('a name that says identifier, many distinct values of one width: CustomerID 17850.0 is text', () => {
    const customerId = stats({
      values: 1000,
      missingTokens: 0,
      numbers: 1000,
      identifier: codes({ codes: 1000, distinct: 420, width: 5, sameWidth: 1000, example: '17850.0' }),
    });
    expect(chooseType(customerId, 'customer_id')).toEqual({
      type: 'VARCHAR',
      ambiguous: false,
      missingTokens: false,
      reason:
        'identifier: named like one (customer_id) and its 420 distinct sampled values are 5-digit codes, e.g. 17850.0',
    });
    // The same values under another name are numbers.
    expect(chooseType(customerId, 'unit_price').type).toBe('DOUBLE');
  });

  test('identifier names with small, mixed-width or few values stay numbers (Row ID, shop_id, store_nbr)', () => {
    const ints = (identifier: Partial<IdentifierStats>) =>
      stats({ values: 10_000, integers: 10_000, numbers: 10_000, identifier: codes(identifier) });
    // Row ID 1..9994: 90% of 4 digits
    expect(
      chooseType(ints({ codes: 10_000, distinct: 9994, width: 4, sameWidth: 9000 }), 'row_id').type,
    ).toBe('BIGINT');
    // shop_id 0..59
    expect(chooseType(ints({ codes: 10_000, distinct: 60, width: 2, sameWidth: 8300 }), 'shop_id').type).toBe(
      'BIGINT',
    );
    // 5 store numbers 1001..1005 over 10,000 rows: a dimension
    expect(
      chooseType(ints({ codes: 10_000, distinct: 5, width: 4, sameWidth: 10_000 }), 'store_nbr').type,
    ).toBe('BIGINT');
    // User_ID 1000001..1006040
    expect(
      chooseType(ints({ codes: 10_000, distinct: 5891, width: 7, sameWidth: 10_000 }), 'user_id').type,
    ).toBe('VARCHAR');
  });

  test('identifier names', () => {
    const yes = [
      'invoice_no',
      'customer_id',
      'id',
      'store_nbr',
      'postal_code',
      'postalcode',
      'ordernumber',
      'stock_code',
    ];
    const no = [
      'quantity',
      'store',
      'dept',
      'item_cnt_day',
      'paid',
      'valid',
      'casino',
      'date_block_num',
      'number_of_items',
    ];
    expect(yes.filter((name) => !isIdentifierName(name))).toEqual([]);
    expect(no.filter(isIdentifierName)).toEqual([]);
  });
});

describe('inferColumnPlans over a sample', () => {
  const plan = (rows: string[][], header: string[], sampleRows: number, delimiter = ',') =>
    withDuckDb({ threads: 2 }, tmpdir(), async (connection) => {
      const values = rows.map((r) => `(${r.map((v) => `'${v}'`).join(', ')})`).join(', ');
      await connection.run(`CREATE TABLE t AS SELECT * FROM (VALUES ${values}) v(${header.join(', ')})`);
      return inferColumnPlans(connection, 't', header, header, header, { sampleRows, delimiter });
    });

  test('dates with English month names, any case; a column of only May is not ambiguous between %b and %B', async () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const full = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September'];
    const weekday = (year: number, month: number, day: number) =>
      new Date(Date.UTC(year, month, day)).toLocaleDateString('en-GB', { timeZone: 'UTC', weekday: 'long' });
    const rows = Array.from({ length: 60 }, (_, i) => {
      const day = (i % 28) + 1;
      const pad = String(day).padStart(2, '0');
      return [
        `${pad}-${months[i % 12]!.toUpperCase()}-21`, // Oracle's DD-MON-RR
        `${pad}-${months[i % 12]}-2021`,
        `${months[i % 12]} ${day}, 2021`,
        `${day} ${full[i % 9]} 2021`,
        `${full[i % 9]} ${day}, 2021`,
        `${day} May 2021`,
        `${pad}/${months[i % 12]}/2021`,
        `${pad}-${months[i % 12]}-2021 ${i % 24}:${String(i % 60).padStart(2, '0')}`,
        `${months[i % 12]} ${day} 2021`,
        new Date(Date.UTC(2021, i % 9, day)).toLocaleDateString('en-US', {
          timeZone: 'UTC',
          weekday: 'long',
          year: 'numeric',
          month: 'long',
          day: 'numeric',
        }),
        new Date(Date.UTC(2021, i % 12, day)).toUTCString().slice(0, 16),
        new Date(Date.UTC(2021, i % 12, day)).toDateString(),
        `${weekday(2021, i % 9, day)}, ${day} ${full[i % 9]} 2021`,
        `${weekday(2021, i % 9, day)} ${day} ${full[i % 9]} 2021`,
        `${weekday(2021, i % 12, day).slice(0, 3)} ${pad} ${months[i % 12]} 2021`,
      ];
    });
    const header = [
      'oracle',
      'dashed',
      'us',
      'day_first',
      'us_full',
      'only_may',
      'slashed',
      'stamped',
      'no_comma',
      'long_date',
      'rfc_2822',
      'js_date_string',
      'british_long',
      'british_no_comma',
      'short_weekday',
    ];
    const { plans } = await plan(rows, header, 60);
    expect(plans.map((p) => [p.type, p.format, p.ambiguous])).toEqual([
      ['DATE', '%d-%b-%y', false],
      ['DATE', '%d-%b-%Y', false],
      ['DATE', '%b %d, %Y', false],
      ['DATE', '%d %B %Y', false],
      ['DATE', '%B %d, %Y', false],
      ['DATE', '%d %b %Y', false],
      ['DATE', '%d/%b/%Y', false],
      ['TIMESTAMP', '%d-%b-%Y %H:%M', false],
      ['DATE', '%b %d %Y', false],
      ['DATE', '%A, %B %d, %Y', false],
      ['DATE', '%a, %d %b %Y', false],
      ['DATE', '%a %b %d %Y', false],
      ['DATE', '%A, %d %B %Y', false],
      ['DATE', '%A %d %B %Y', false],
      ['DATE', '%a %d %b %Y', false],
    ]);
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

  test('a column without a digit or a dash is only checked for text and booleans; the stats equal full counts', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => [
      ['Office Supplies', 'Furniture', 'Technology'][i % 3]!,
      i % 2 ? 'yes' : 'no',
      // the accounting zero has no digit, only a dash
      i % 4 ? `$${i}.50` : '$ -',
      i % 50 === 3 ? 'n/a' : `${i % 7} units`,
    ]);
    const header = ['category', 'promo', 'amount', 'note'];
    const { plans, stats } = await plan(rows, header, 200);
    expect(plans.map((p) => p.type)).toEqual(['VARCHAR', 'BOOLEAN', 'DOUBLE', 'VARCHAR']);
    expect(stats[0]).toMatchObject({ values: 200, missingTokens: 0, integers: 0, numbers: 0, money: 0 });
    expect(stats[1]).toMatchObject({ values: 200, booleans: 200 });
    expect(stats[2]!.money).toBe(200);
    expect(stats[3]).toMatchObject({ values: 200, missingTokens: 4, integers: 0 });
  });

  test('non-ISO date-times get a format per column; identifiers are text with a reason; numbers stay numbers', async () => {
    const pad = (n: number) => String(n).padStart(2, '0');
    const rows = Array.from({ length: 300 }, (_, i) => {
      const day = (i % 28) + 1;
      const hour = i % 24;
      return [
        // Online Retail InvoiceDate: M/D/YYYY H:MM, days past 12 rule out D/M
        `12/${day}/2010 ${hour}:${pad(i % 60)}`,
        // Sample Sales Data ORDERDATE: every time 0:00, still a timestamp
        `2/${day}/2003 0:00`,
        // D/M/YYYY HH:MM:SS
        `${pad(day)}/01/2011 ${pad(hour)}:${pad(i % 60)}:${pad(i % 7)}`,
        // both orders fit: ambiguous
        `${(i % 12) + 1}/${(i % 11) + 1}/2010 8:26`,
        // 12-hour clock
        `12/${day}/2010 ${(i % 12) + 1}:05 ${i % 2 ? 'PM' : 'AM'}`,
        // ISO: no format, as before
        `2017-10-${pad(day)} 10:56:33`,
        // InvoiceNo: cancellations are C-prefixed
        i % 40 === 3 ? `C${536_365 + i}` : String(536_365 + i),
        // CustomerID 17850.0, some missing
        i % 10 === 0 ? 'NA' : `${12_346 + ((i * 37) % 5000)}.0`,
        // Quantity: small, signed
        String(i % 40 === 3 ? -(i % 5) - 1 : (i % 12) + 1),
        // Store 1..45
        String((i % 45) + 1),
      ];
    });
    const header = [
      'invoice_date',
      'order_date',
      'sold_at',
      'either',
      'clock',
      'iso',
      'invoice_no',
      'customer_id',
      'quantity',
      'store',
    ];
    const { plans } = await plan(rows, header, 1_000);
    const byName = Object.fromEntries(plans.map((p) => [p.name, p]));
    expect(byName['invoice_date']).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      ambiguous: false,
    });
    expect(byName['order_date']).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      ambiguous: false,
    });
    expect(byName['sold_at']).toMatchObject({
      type: 'TIMESTAMP',
      format: '%d/%m/%Y %H:%M:%S',
      ambiguous: false,
    });
    expect(byName['either']).toMatchObject({
      type: 'TIMESTAMP',
      format: '%m/%d/%Y %H:%M',
      ambiguous: true,
      candidates: ['%m/%d/%Y %H:%M', '%d/%m/%Y %H:%M'],
    });
    expect(byName['clock']).toMatchObject({ type: 'TIMESTAMP', format: '%m/%d/%Y %I:%M %p' });
    expect(byName['iso']).toEqual({
      source: 'iso',
      name: 'iso',
      type: 'TIMESTAMP',
      ambiguous: false,
      missingTokens: true,
    });
    expect(byName['invoice_no']).toMatchObject({
      type: 'VARCHAR',
      reason: 'identifier: 8 of 300 sampled values are a letter prefix on a number, e.g. C536368',
    });
    expect(byName['customer_id']).toMatchObject({
      type: 'VARCHAR',
      reason: expect.stringMatching(
        /^identifier: named like one \(customer_id\) and its \d+ distinct sampled values are 5-digit codes, e\.g\. 1\d{4}\.0$/,
      ),
    });
    expect(byName['quantity']).toMatchObject({ type: 'BIGINT' });
    expect(byName['quantity']!.reason).toBeUndefined();
    expect(byName['store']).toMatchObject({ type: 'BIGINT' });
  });

  test('decimal commas in a ;-delimited file, and in a comma-delimited one (quoted) where a value proves one', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => [
      // Precio: 2,50 with a few -1.234,56 and missing values
      i % 50 === 7 ? '-1.234,56' : i % 50 === 9 ? '' : `${i % 9},${String(i % 100).padStart(2, '0')}`,
      // 1 234,56 with space thousands among 0,5
      i % 2 ? `${(i % 9) + 1} 234,56` : '0,5',
      // only 1,234: a guess, thousands as before
      `${(i % 9) + 1},${String(i).padStart(3, '0')}`,
      // 1,234 proven decimal by 1,5
      i % 10 === 0 ? '1,5' : `${(i % 9) + 1},${String(i).padStart(3, '0')}`,
      // 1,234 proven thousands by 1,234,567
      i % 10 === 0 ? '1,234,567' : `${(i % 9) + 1},${String(i).padStart(3, '0')}`,
      // dot decimals stay dot decimals
      `${i}.25`,
      // integers stay integers
      String(i),
    ]);
    const header = ['precio', 'spaced', 'guess', 'decimals', 'thousands', 'dotted', 'units'];
    const semicolon = await plan(rows, header, 1_000, ';');
    const byName = Object.fromEntries(semicolon.plans.map((p) => [p.name, p]));
    expect(byName['precio']).toEqual({
      source: 'precio',
      name: 'precio',
      type: 'DOUBLE',
      thousands: '.',
      decimal: ',',
      ambiguous: false,
      missingTokens: true,
    });
    expect(byName['spaced']).toMatchObject({ type: 'DOUBLE', thousands: ' ', decimal: ',' });
    expect(byName['guess']).toMatchObject({
      type: 'BIGINT',
      thousands: ',',
      reason: expect.stringMatching(/^ambiguous: 200 sampled values like 1,234 /),
    });
    expect(byName['guess']!.decimal).toBeUndefined();
    expect(byName['decimals']).toMatchObject({ type: 'DOUBLE', decimal: ',' });
    expect(byName['decimals']!.thousands).toBeUndefined();
    expect(byName['thousands']).toMatchObject({ type: 'BIGINT', thousands: ',' });
    expect(byName['thousands']!.reason).toBeUndefined();
    expect(byName['dotted']).toEqual({
      source: 'dotted',
      name: 'dotted',
      type: 'DOUBLE',
      ambiguous: false,
      missingTokens: true,
    });
    expect(byName['units']!.type).toBe('BIGINT');

    // A spreadsheet of a decimal-comma locale exported with `,` quotes such values: read as in a ;-file, but
    // `1,234` alone is thousands without a guess, as a comma-delimited file's numbers mostly are.
    const comma = await plan(rows, header, 1_000, ',');
    expect(comma.plans.map((p) => [p.type, p.thousands, p.decimal, p.reason])).toEqual([
      ['DOUBLE', '.', ',', undefined],
      ['DOUBLE', ' ', ',', undefined],
      ['BIGINT', ',', undefined, undefined],
      ['DOUBLE', undefined, ',', undefined],
      ['BIGINT', ',', undefined, undefined],
      ['DOUBLE', undefined, undefined, undefined],
      ['BIGINT', undefined, undefined, undefined],
    ]);
    expect(comma.stats[2]!.decimalComma).toBeUndefined();
  });
});

describe('trimmed', () => {
  test('ASCII blanks at either edge are trimmed; a control character, a no-break space and inner blanks stay', async () => {
    const values = [
      ' a',
      'a ',
      '\ta',
      'a\t',
      '\na',
      'a\r',
      ' \t a b \r\n',
      '',
      'a b',
      '\u0001a',
      '\u00a0a',
      'é ',
    ];
    const rows = await withDuckDb({ threads: 1 }, tmpdir(), async (connection) => {
      const list = values.map((v) => quoteLiteral(v)).join(', ');
      return queryRows(connection, `SELECT ${trimmed('v')} AS t FROM (SELECT unnest([${list}]) AS v)`);
    });
    expect(rows.map((r) => r['t'])).toEqual([
      'a',
      'a',
      'a',
      'a',
      'a',
      'a',
      'a b',
      '',
      'a b',
      '\u0001a',
      '\u00a0a',
      'é',
    ]);
  });
});
