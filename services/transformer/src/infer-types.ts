/**
 * Column type inference, in one DuckDB aggregate over the first rows. Kept apart from the cleaning so a
 * profile (a later feature) can replace or override the plan it returns.
 *
 * Rules, applied to trimmed, non-empty values (a type wins when at least 98% of them parse):
 * BIGINT (plain integers, and no value with a leading zero: `05408` is an identifier, so VARCHAR),
 * DOUBLE (plain decimals, same leading-zero rule), DATE (the candidate format that parses the most
 * values; M/D/Y before D/M/Y when both parse everything, and the column is marked ambiguous), TIMESTAMP
 * (ISO date-times without a format; else a date in one of the DATE_FORMATS orders, a space and a time
 * `H:MM`, `H:MM:SS`, optionally with AM/PM: `12/1/2010 8:26`, chosen and marked ambiguous as dates are),
 * BOOLEAN (true/false/yes/no), else VARCHAR. The missing tokens (NA, N/A, null, None, -, \N, NaN, <NA>, #N/A) are left out of
 * the count, and become NULL, only when the column is typed; a text column keeps them. Numbers with `,`
 * thousands separators (`1,234.50`, only possible inside quotes in a comma-delimited file) count as
 * numbers, and the plan records the separator.
 *
 * Decimal commas, in a file whose delimiter is not `,` (`;`, tab, `|`): a column is DOUBLE with decimal
 * `,` (and thousands `.` or space when values have them: `-1.234,56`, `1 234,56`) when 98% of its values
 * read so and some value proves the comma is a decimal mark (`2,50`, `0,5`, `1.234,56`: anything a
 * thousands comma cannot read) more often than others prove it a thousands separator (`1,234,567`,
 * `1,234.50`). Integers still make BIGINT first. A column of values like `1,234` only proves neither: it
 * keeps the thousands reading of a comma-delimited file, and the plan's `reason` says it was a guess.
 * Comma-delimited files never try a decimal comma.
 *
 * Identifiers stay text even when their values look numeric, and the plan says why (`reason`):
 * - unsigned integers among which letter-prefixed numbers (`C536379` among `536365`) explain the other
 *   values: Online Retail's cancelled invoices would otherwise be quarantined as bad integers (the rule
 *   also names the reason when the prefixed values are over 2% and the column is text anyway);
 * - a column named like an identifier (last word `id`, `no`, `nbr`, or ending in `code`, `number`:
 *   `InvoiceNo`, `customer_id`, `POSTALCODE`) whose values are unsigned integers (`17850.0` counts) of
 *   one width of at least 4 digits (98% of them) with many distinct values (100, or a tenth of them in a
 *   small sample). Small dimension numbers (`Store` 1..45, `shop_id` 0..59) and sequential ids of mixed
 *   widths (`Row ID` 1..9994) stay integers.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  CURRENCY_CODES,
  CURRENCY_MARK_PATTERN,
  CURRENCY_SIGN_PATTERN,
  CURRENCY_SYMBOLS,
} from '@etl/common/currency';
import type { ColumnType } from '@etl/common/dataset-state';
import { withThreads } from '@etl/common/warehouse';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import {
  COLUMN_BATCH,
  countWhere,
  type JsonRow,
  queryRows,
  toCount,
  unpivotedAggregates,
} from './duckdb-session';
import {
  describeEpoch,
  EPOCH_FORMATS,
  type EpochFormat,
  EXCEL_SERIAL,
  EXCEL_SERIAL_RANGE,
  epochRange,
} from './epoch-formats';
import { DEFAULT_MISSING_TOKENS } from './profile';
import { DEFAULT_SAMPLE_ROWS } from './sample-rows';
import { summaryMarkSql } from './summary-rows';

export type { ColumnType };

export const DATE_FORMATS = [
  '%Y-%m-%d',
  '%m/%d/%Y',
  '%d/%m/%Y',
  '%Y/%m/%d',
  '%Y.%m.%d',
  '%d.%m.%Y',
  '%m-%d-%Y',
  '%d-%m-%Y',
  // Two-digit years (`04-30-22`, Amazon's sales reports): 00-68 are 20xx, 69-99 are 19xx, as strptime reads them.
  '%m/%d/%y',
  '%d/%m/%y',
  '%d.%m.%y',
  '%m-%d-%y',
  '%d-%m-%y',
  // Month names, English, any case (`05-Jan-2021`, Oracle's `05-JAN-21`, `Jan 5, 2021`, `5 January 2021`):
  // strptime's %b reads only abbreviations and %B only full names, so `May` reads both (not an ambiguity).
  '%d-%b-%Y',
  '%d-%b-%y',
  '%d %b %Y',
  '%d %B %Y',
  '%b %d, %Y',
  '%B %d, %Y',
  '%b %d %Y',
  '%B %d %Y',
  // With the weekday: Excel's long date (`Monday, January 16, 2023`), RFC 2822's (`Mon, 16 Jan 2023`),
  // JavaScript's toDateString (`Mon Jan 16 2023`), British long dates (`Monday, 16 January 2023`,
  // `Monday 16 January 2023`, `Mon 16 Jan 2023`).
  '%A, %B %d, %Y',
  '%a, %d %b %Y',
  '%a %b %d %Y',
  '%A, %d %B %Y',
  '%A %d %B %Y',
  '%a %d %b %Y',
  '%d/%b/%Y',
  // Chinese and Japanese (`2023年1月5日`), Korean (`2023년 1월 5일`).
  '%Y年%m月%d日',
  '%Y년 %m월 %d일',
] as const;

/** The time parts a timestamp format may end with, after a date in a DATE_FORMATS order and a space. */
export const TIME_FORMATS = ['%H:%M', '%H:%M:%S', '%I:%M %p', '%I:%M:%S %p'] as const;

/**
 * Every date order with every time part: `%m/%d/%Y %H:%M` (`12/1/2010 8:26`), ... Date order first, so
 * a tie picks M/D/Y before D/M/Y as for dates. ISO values (`2017-10-02 10:56:33`) are counted here too,
 * but a column of them keeps the plain ISO cast (`isoTimestamp`, no format).
 */
export const TIMESTAMP_FORMATS: readonly string[] = DATE_FORMATS.flatMap((date) =>
  TIME_FORMATS.map((time) => `${date} ${time}`),
);

/**
 * The formats that parse `best` values, the first of them (the choice) first. One that differs from the choice
 * only by %b/%B reads the same dates (`May`), so it is no other reading.
 */
function formatTies(formats: readonly string[], counts: readonly number[], best: number): string[] {
  const chosen = formats[counts.indexOf(best)]!;
  const monthNames = (format: string): string => format.replace('%B', '%b');
  return [chosen, ...formats.filter((f, i) => counts[i] === best && monthNames(f) !== monthNames(chosen))];
}

/** RE2 shape of each strptime directive the shapes know (`%H` and `%m` take 1 or 2 digits, as strptime). */
const DIRECTIVE_SHAPES: Record<string, string> = {
  Y: '[0-9]{4}',
  y: '[0-9]{2}',
  m: '[0-9]{1,2}',
  b: '[A-Za-z]{3}',
  B: '[A-Za-z]{3,9}',
  a: '[A-Za-z]{3}',
  A: '[A-Za-z]{6,9}',
  d: '[0-9]{1,2}',
  G: '[0-9]{4}',
  V: '[0-9]{1,2}',
  H: '[0-9]{1,2}',
  I: '[0-9]{1,2}',
  M: '[0-9]{2}',
  S: '[0-9]{2}',
  p: '[AaPp][Mm]',
  q: '[1-4]',
  '%': '%',
};

/**
 * The RE2 shape of the text a strptime format accepts, or undefined when the format uses a directive
 * the shapes do not know (`%a`, `%f`, `%z`: a profile's format is then cast unguarded).
 * `try_strptime` is ~5x slower on text that is not a date than on dates, so it only runs behind this
 * cheap match.
 */
export function formatShape(format: string): string | undefined {
  let shape = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%') {
      const directive = DIRECTIVE_SHAPES[format[i + 1] ?? ''];
      if (directive === undefined) return undefined;
      shape += directive;
      i++;
    } else shape += regexLiteral(c);
  }
  return shape;
}

/** RE2 pattern matching `text` as written: `.` as `[.]`, other special characters escaped. */
export function regexLiteral(text: string): string {
  return text.replace(/[.\\^$*+?()[\]{}|]/g, (c) => (c === '.' ? '[.]' : `\\${c}`));
}

/** The shape of a date format (4-digit years): `%d.%m.%Y` -> `[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}`. */
export function dateShape(format: string): string {
  return formatShape(format) ?? '.*';
}

/** Formats joined by it in a plan's `format` are each tried in turn: a column of dates in two formats. */
export const FORMAT_SEPARATOR = '|';

/**
 * `try_strptime` guarded by the format's shape: NULL unless `t` is a date (or date-time) in `format`, or in
 * one of the formats `format` joins with FORMAT_SEPARATOR.
 */
export function dateExpression(t: string, format: string): string {
  if (format.includes(FORMAT_SEPARATOR))
    return `coalesce(${format
      .split(FORMAT_SEPARATOR)
      .map((f) => dateExpression(t, f))
      .join(', ')})`;
  const shape = formatShape(format);
  if (format.includes('%q') && shape !== undefined) return quarterExpression(t, shape);
  const parse = `try_strptime(${t}, ${quoteLiteral(format)})`;
  return shape === undefined
    ? parse
    : `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(shape)}) THEN ${parse} END`;
}

/**
 * `%q`, a quarter 1-4 after a `Q` (`2022-Q1`, `Q1 2022`), is our directive, not strptime's: the DATE of the
 * quarter's first day, built from the value's 4-digit year and its quarter when it has `shape`.
 */
function quarterExpression(t: string, shape: string): string {
  const year = `CAST(regexp_extract(${t}, '[0-9]{4}') AS INTEGER)`;
  const quarter = `CAST(regexp_extract(${t}, 'Q([1-4])', 1) AS INTEGER)`;
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(shape)}) THEN make_date(${year}, ${quarter} * 3 - 2, 1) END`;
}

/** `TRY_CAST` guarded by a pattern: NULL unless `t` matches it and casts. */
export function guardedCast(t: string, pattern: string, type: string): string {
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(pattern)}) THEN TRY_CAST(${t} AS ${type}) END`;
}

/** The missing tokens (`DEFAULT_MISSING_TOKENS`), lower-case as they are compared. */
export const MISSING_TOKENS: readonly string[] = DEFAULT_MISSING_TOKENS.map((token) => token.toLowerCase());

/** Compared lower-case: `Y`/`N` flags (`Promo (Y/N)`), PostgreSQL's `t`/`f`. */
export const TRUE_TOKENS = ['true', 'yes', 'y', 't'] as const;
export const FALSE_TOKENS = ['false', 'no', 'n', 'f'] as const;

/** Share of the non-missing values that must parse for a type to be chosen; the rest is quarantined. */
export const TYPE_THRESHOLD = 0.98;

/** Most cells read to infer types: a table wider than 100 columns samples fewer rows (`inferenceSampleRows`). */
export const SAMPLE_CELLS = 10_000_000;
const MIN_SAMPLE_ROWS = 1_000;

/**
 * The rows sampled from a table of `columns` columns: `sampleRows`, but no more than SAMPLE_CELLS cells
 * (and no fewer than 1,000 rows), so a 1,000-column file is typed from its first 10,000 rows. The sample is
 * read on one thread and held in memory as text: 100,000 rows of 1,000 columns were 1.5 GB to read before
 * any row was typed.
 */
export function inferenceSampleRows(sampleRows: number, columns: number): number {
  return Math.min(sampleRows, Math.max(MIN_SAMPLE_ROWS, Math.floor(SAMPLE_CELLS / Math.max(1, columns))));
}

/** RE2 patterns (DuckDB `regexp_full_match`), stricter than TRY_CAST, which accepts `1.5`, `0x1F`, `1_000` as BIGINT. */
export const INTEGER_PATTERN = '[+-]?[0-9]+';
/** An integer of 19 digits or more: BIGINT holds up to 9,223,372,036,854,775,807. */
const HUGE_INTEGER_PATTERN = '[+-]?[0-9]{19,}';
export const NUMBER_PATTERN = '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?';
const ISO_DATE_TIME = '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?';
/**
 * A date alone counts too (midnight): a column of date-times where midnight is written as the date alone
 * (`2021-03-01`, `2021-03-02 10:00`) is a TIMESTAMP; one of dates alone is still a DATE, tried first.
 */
const TIMESTAMP_PATTERN = `[0-9]{4}-[0-9]{2}-[0-9]{2}|${ISO_DATE_TIME}Z?`;
/**
 * With a UTC offset, as pandas writes an aware date-time: `2020-01-01 00:00:00+00:00`, `...-0500`, or after a
 * space as logs write it (`2023-01-15 10:00:00 +0000`).
 */
const TIMESTAMP_OFFSET_PATTERN = `${ISO_DATE_TIME} ?[+-][0-9]{2}(:?[0-9]{2})?`;
/** Named UTC after it, as event logs write it: `2019-10-01 00:00:00 UTC` (REES46's `event_time`), `... GMT`. */
const TIMESTAMP_UTC_PATTERN = `${ISO_DATE_TIME} ?(UTC|GMT)`;
/**
 * Time-zone abbreviations that name one offset, as US and European logs write them (`2023-01-15 10:00:00
 * PST`). Not CST, CDT, IST or BST, each of which names several (US Central or China, India or Ireland, ...).
 */
const ZONE_OFFSETS: Record<string, string> = {
  EST: '-05:00',
  EDT: '-04:00',
  MST: '-07:00',
  MDT: '-06:00',
  PST: '-08:00',
  PDT: '-07:00',
  AKST: '-09:00',
  AKDT: '-08:00',
  HST: '-10:00',
  WET: '+00:00',
  WEST: '+01:00',
  CET: '+01:00',
  CEST: '+02:00',
  EET: '+02:00',
  EEST: '+03:00',
  MSK: '+03:00',
  JST: '+09:00',
  KST: '+09:00',
  AEST: '+10:00',
  AEDT: '+11:00',
  NZST: '+12:00',
  NZDT: '+13:00',
};
const TIMESTAMP_ZONE_PATTERN = `${ISO_DATE_TIME} ?(${Object.keys(ZONE_OFFSETS).join('|')})`;
/** `:00` after a time of hours and minutes, before what follows: DuckDB reads an offset only after seconds. */
const withSeconds = (t: string): string =>
  `regexp_replace(${t}, '^([0-9-]+[T ][0-9]{2}:[0-9]{2})([+-]|$)', '\\1:00\\2')`;
const zoneOffset = (t: string): string =>
  `CASE regexp_extract(${t}, '([A-Z]+)$', 1) ${Object.entries(ZONE_OFFSETS)
    .map(([zone, offset]) => `WHEN '${zone}' THEN '${offset}'`)
    .join(' ')} END`;

/**
 * An ISO date-time as a TIMESTAMP in UTC: one with an offset is moved by it (a plain cast to TIMESTAMP
 * drops the offset, `10:00+02:00` would read 10:00), and so is one named by a zone of one offset
 * (ZONE_OFFSETS: `10:00 PST` is 18:00); one named UTC or GMT, or with none, is taken as written.
 */
export function isoTimestamp(t: string): string {
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(TIMESTAMP_PATTERN)}) THEN TRY_CAST(${t} AS TIMESTAMP) WHEN regexp_full_match(${t}, ${quoteLiteral(TIMESTAMP_OFFSET_PATTERN)}) THEN timezone('UTC', TRY_CAST(${withSeconds(`regexp_replace(${t}, ' ([+-])', '\\1')`)} AS TIMESTAMPTZ)) WHEN regexp_full_match(${t}, ${quoteLiteral(TIMESTAMP_UTC_PATTERN)}) THEN TRY_CAST(regexp_replace(${t}, ' ?(UTC|GMT)$', '') AS TIMESTAMP) WHEN regexp_full_match(${t}, ${quoteLiteral(TIMESTAMP_ZONE_PATTERN)}) THEN timezone('UTC', TRY_CAST(${withSeconds(`regexp_replace(${t}, ' ?[A-Z]+$', '')`)} || ${zoneOffset(t)} AS TIMESTAMPTZ)) END`;
}
const LEADING_ZERO_PATTERN = '^[+-]?0[0-9]';

/** A time of day on a 24-hour clock: `8:38`, `13:08`, `07:06:11`, `17:45:10.250`. */
const TIME_24_PATTERN = '([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?';
/** On a 12-hour clock: `1:08 PM`, `01:08:30 am`, `1:08PM`. */
const TIME_12_PATTERN = '(0?[1-9]|1[0-2]):[0-5][0-9](:[0-5][0-9])? ?[AaPp][Mm]';
const TIME_12_FORMATS = ['%I:%M %p', '%I:%M:%S %p', '%I:%M%p', '%I:%M:%S%p'];

/**
 * A time of day without a date as a TIME (a point-of-sale export's `Time` beside its `Date` column); NULL for
 * anything else, `25:00` and `13:08 PM` included.
 */
export function timeOfDay(t: string): string {
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(TIME_24_PATTERN)}) THEN TRY_CAST(${t} AS TIME) WHEN regexp_full_match(${t}, ${quoteLiteral(TIME_12_PATTERN)}) THEN CAST(try_strptime(${t}, [${inList(TIME_12_FORMATS)}]) AS TIME) END`;
}

/** A Unix time's text as a TIMESTAMP (UTC); NULL outside 2000-2100, so that the value is quarantined. */
export function epochExpression(t: string, format: EpochFormat): string {
  const [from, to] = epochRange(format);
  // A fraction (Python's time.time(), `1673793000.123`) is kept to the microsecond.
  const n = `TRY_CAST(${t} AS DOUBLE)`;
  return `CASE WHEN regexp_full_match(${t}, '[0-9]{1,13}([.][0-9]{1,9})?') AND ${n} BETWEEN ${from} AND ${to} THEN make_timestamp(CAST(round(${n} * ${EPOCH_FORMATS[format]}) AS BIGINT)) END`;
}

/** An Excel serial date's text as a DATE; NULL outside EXCEL_SERIAL_RANGE, so that the value is quarantined. */
export function excelSerialExpression(t: string): string {
  const [from, to] = EXCEL_SERIAL_RANGE;
  const n = `TRY_CAST(${t} AS INTEGER)`;
  return `CASE WHEN regexp_full_match(${t}, '[0-9]{5}') AND ${n} BETWEEN ${from} AND ${to} THEN DATE '1899-12-30' + ${n} END`;
}

/** A number in parentheses, accounting's way of writing a negative one: `(1,234.50)`, `(3,10)`, `(5)`. */
const PARENTHESIZED_NUMBER = '[(][0-9][0-9., ]*[)]';
/** A number with its minus after it, as SAP and other ERP exports write it: `1.234,56-`, `3-`. */
const TRAILING_MINUS_NUMBER = '[0-9][0-9., ]*-';

/**
 * Text `t` with its no-break spaces (U+00A0, and U+202F as French Excel writes thousands: `1 234,56 €`) as
 * plain spaces, so that a number reads as with a space; any other text as it is. Only a value holding one is
 * copied.
 */
export function noBreakSpaces(t: string): string {
  return `CASE WHEN contains(${t}, '\u00a0') OR contains(${t}, '\u202f') THEN translate(${t}, '\u00a0\u202f', '  ') ELSE ${t} END`;
}

/**
 * Text `t` with a negative number written the usual way: an accounting negative (`(1,234.50)` -> `-1,234.50`),
 * a trailing minus (`1.234,56-` -> `-1.234,56`) or a typographic minus sign (U+2212, `−5.00` -> `-5.00`, as
 * spreadsheets and reports typeset it); any other text as it is. Every number column reads them, and the
 * separators are then read as in any number. Only a value starting with `(` or ending with `-` is matched
 * against a pattern.
 */
export function leadingMinus(t: string): string {
  const parenthesized = `starts_with(${t}, '(') AND regexp_full_match(${t}, ${quoteLiteral(PARENTHESIZED_NUMBER)})`;
  const trailing = `ends_with(${t}, '-') AND regexp_full_match(${t}, ${quoteLiteral(TRAILING_MINUS_NUMBER)})`;
  return `CASE WHEN ${parenthesized} THEN '-' || substr(${t}, 2, length(${t}) - 2) WHEN ${trailing} THEN '-' || substr(${t}, 1, length(${t}) - 1) WHEN starts_with(${t}, '−') THEN '-' || substr(${t}, 2) ELSE ${t} END`;
}

/**
 * Digits in `,` groups: of 3 (`1,234,567`), or as India writes lakhs and crores, of 2 before the last 3
 * (`12,34,567`). Either way every comma separates thousands, hundreds of thousands, ...: no decimal comma
 * reads such a value.
 */
const COMMA_GROUPS = '[0-9]{1,3}(,[0-9]{3})+|[0-9]{1,2}(,[0-9]{2})+,[0-9]{3}';

/**
 * The characters a thousands separator `sep` is written as: itself, and for `'` also the typographic
 * apostrophe Windows' Swiss locales write (`1’234`).
 */
export const thousandsMarks = (sep: string): string[] => (sep === "'" ? ["'", '’'] : [sep]);

/** Whether `v` holds an apostrophe thousands mark: the guard of the apostrophe checks, before RE2. */
const hasApostrophe = (v: string): string =>
  `(${thousandsMarks("'")
    .map((mark) => `contains(${v}, ${quoteLiteral(mark)})`)
    .join(' OR ')})`;

/**
 * RE2 pattern of an integer with an optional thousands separator `sep` (groups of exactly 3 digits; with
 * `,`, India's groups too, COMMA_GROUPS).
 */
export function groupedIntegerPattern(sep: string): string {
  if (sep === ',') return `[+-]?(${COMMA_GROUPS}|[0-9]+)`;
  const s = sep === '.' ? '[.]' : `[${thousandsMarks(sep).join('')}]`;
  return `[+-]?([0-9]{1,3}(${s}[0-9]{3})+|[0-9]+)`;
}

/** A decimal with an optional thousands separator and decimal mark `dec`. */
export function groupedNumberPattern(sep: string | undefined, dec: string): string {
  const d = dec === '.' ? '[.]' : dec;
  const whole = sep === undefined ? '[+-]?[0-9]+' : groupedIntegerPattern(sep);
  return `(${whole}(${d}[0-9]*)?|[+-]?${d}[0-9]+)([eE][+-]?[0-9]+)?`;
}

/** A currency's name as the plan records it: the sign or symbol, or the code without its dot (group 1). */
const CURRENCY_NAME = `(${CURRENCY_MARK_PATTERN}|${CURRENCY_CODES.join('|')})`;
/** A sign or a code, also with an abbreviation's dot (`Rs. 1,299`, `125 kr.`), or a symbol. */
const SYMBOL = `((?:${CURRENCY_SIGN_PATTERN}|${CURRENCY_CODES.join('|')})[.]?|[${CURRENCY_SYMBOLS}])`;
/**
 * A money value around `number`: the symbol before or after it, a sign, accounting parentheses inside or
 * outside the symbol (`($5.00)`, `$(5.00)`), and the accounting format's zero, a dash (`$ -`, `- €`).
 */
const moneyPattern = (number: string): string =>
  [
    `[+-]?${SYMBOL} ?[+-]?${number}`,
    `[+-]?${number} ?${SYMBOL}`,
    `[(]${SYMBOL} ?${number}[)]`,
    `[(]${number} ?${SYMBOL}[)]`,
    `${SYMBOL} ?[(]${number}[)]`,
    `[(]${number}[)] ?${SYMBOL}`,
    `${SYMBOL} ?-|- ?${SYMBOL}`,
  ].join('|');
/**
 * `$1,234.50`, `-$5`, `$-5`, `12.50 €`, accounting negatives `($1,234.50)` and `$(1,234.50)`, and the
 * accounting zero `$ -`: a `.` decimal and optional `,` thousands groups.
 */
const MONEY_PATTERN = moneyPattern(`(${COMMA_GROUPS}|[0-9]+)([.][0-9]+)?`);
/**
 * The same with a decimal comma and `.` or space thousands groups, as money is written where the comma is the
 * decimal mark (`12,50 €`, `1.234,00 €`, `€ 1 234,50`, `(5,00 €)`); tried in comma-delimited files too, where
 * such a value is quoted (a French bakery's `"0,90 €"`): its symbol says it is an amount.
 */
const MONEY_COMMA_PATTERN = moneyPattern(
  '([0-9]{1,3}([.][0-9]{3})+|[0-9]{1,3}( [0-9]{3})+|[0-9]+)(,[0-9]+)?',
);
/** `12%`, `-8.5 %`. */
const PERCENT_PATTERN = '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+) ?%';
/** `12,5 %`, `-8 %`: percentages with a decimal comma, in any file as money with a decimal comma is. */
const PERCENT_COMMA_PATTERN = '[+-]?([0-9]+(,[0-9]*)?|,[0-9]+) ?%';

/** Values with at least one `,` group: the evidence for a thousands separator. */
const GROUPED_NUMBER_PATTERN = `[+-]?(${COMMA_GROUPS})([.][0-9]*)?`;
const GROUPED_INTEGER_PATTERN = `[+-]?(${COMMA_GROUPS})`;
/** A number with a decimal comma and digits after it, with or without `.` or space thousands groups. */
const DECIMAL_COMMA_PATTERN = '[+-]?([0-9]{1,3}([.][0-9]{3})+|[0-9]{1,3}( [0-9]{3})+|[0-9]*),[0-9]+';
/** How a plan's `reason` starts when the values left its reading open: the run summary lists it (`isNumberGuess`). */
const AMBIGUOUS = 'ambiguous: ';

/** Whether a plan's number reading was a guess the values left open (`1,234`, `1.234`). */
export const isNumberGuess = (plan: Pick<ColumnPlan, 'reason'>): boolean =>
  plan.reason?.startsWith(AMBIGUOUS) === true;

/** How the reason of a plan of zero-padded integers starts (`isReadingGuess`). */
const ZERO_PADDED = 'integers zero-padded to a width (08)';
/** How the reason of a plan of dates in two formats starts (`isReadingGuess`). */
const TWO_FORMATS = 'dates in two formats: ';

/**
 * Whether the run summary should say how the plan read its values: a number guess, dates from integers, or
 * dates in two formats.
 */
export const isReadingGuess = (plan: Pick<ColumnPlan, 'reason'>): boolean =>
  isNumberGuess(plan) ||
  plan.reason?.startsWith(ZERO_PADDED) === true ||
  plan.reason?.startsWith(TWO_FORMATS) === true ||
  plan.reason?.startsWith(FROM_INTEGERS) === true ||
  plan.reason?.startsWith(FROM_FRACTIONS) === true ||
  PERIODS.some((p) => plan.reason?.startsWith(fromPeriods(p.unit)) === true);

/** `1,234`: one comma and 3 digits after it, read alike with a thousands comma and a decimal comma. */
const AMBIGUOUS_COMMA_PATTERN = '[+-]?[0-9]{1,3},[0-9]{3}';
/** `1.234`: one `.` and 3 digits after it, read alike with a decimal point and a thousands dot. */
const AMBIGUOUS_DOT_PATTERN = '[+-]?[1-9][0-9]{0,2}[.][0-9]{3}';
/** `1.234.567`: two or more `.` groups, which only a thousands dot reads. */
const DOT_GROUPS_PATTERN = '[+-]?[1-9][0-9]{0,2}([.][0-9]{3}){2,}';

/** How one source column becomes one typed column. */
export interface ColumnPlan {
  /** Header text as found in the file. */
  source: string;
  /** snake_case identifier in the staged table. */
  name: string;
  type: ColumnType;
  /** strptime format, for DATE, and for a TIMESTAMP that is not ISO (`%m/%d/%Y %H:%M`). */
  format?: string;
  /** Another date (or date-time) format parses the same values (e.g. both M/D/Y and D/M/Y). */
  ambiguous: boolean;
  /** With `ambiguous`: every format that parses as many values. */
  candidates?: string[];
  /** Why the values' look was overruled (an identifier kept as text), for the column report. */
  reason?: string;
  /** Whether NA, N/A, null, None, -, \N, NaN, <NA>, #N/A mean NULL in this column. */
  missingTokens: boolean;
  /** Values read as missing (compared lower-case); overrides `missingTokens` when set (a profile). */
  tokens?: readonly string[];
  /** Thousands separator of a BIGINT or DOUBLE column (`1,234.50`). */
  thousands?: string;
  /** Decimal mark of a DOUBLE column (`,` read in `2,50`); `.` when unset. */
  decimal?: string;
  /** Currency symbol of a DOUBLE column of money (`$1,234.50`, `($5.00)` is -5): dropped before the cast. */
  currency?: string;
  /** A DOUBLE column of percentages (`12%`): read as fractions, 0.12, like a discount rate. */
  percent?: boolean;
  /** Zero-pad all-digit text to this width (ZIP codes). */
  pad?: number;
  /** RE2 pattern a text value must match, else the row is quarantined (`invalid_pattern`). */
  pattern?: string;
  /** Values written as Excel's text formula, `="00123"`, or marked `'00123`, read as text (`excelTextSql`). */
  excelText?: true;
  /** Text normalisation applied before anything else (text columns). */
  text?: PlanTextRule;
  /**
   * Set by the schema contract when the column is read with the type it was loaded with although its
   * values now look otherwise: a failing value rejects its row as `type_changed` (discard_row) or becomes
   * NULL (discard_value).
   */
  contract?: { loadedType: ColumnType; onMismatch: 'discard_row' | 'discard_value' };
}

/** Text normalisation of a plan (see profile.ts `text`); NFKC is applied before parsing, by a value map. */
export interface PlanTextRule {
  nbsp: boolean;
  nfc: boolean;
  collapseSpaces: boolean;
}

/** Counts over the sample, per column. */
export interface ColumnStats {
  /** Trimmed non-empty values. */
  values: number;
  missingTokens: number;
  integers: number;
  leadingZeros: number;
  numbers: number;
  /** Integers beyond BIGINT (`12345678901234567890`, a 20-digit reference): a DOUBLE would round them. */
  hugeIntegers?: number;
  /** Numbers with apostrophe thousands groups, as Switzerland writes them (`1'234.50`, `1’234.50`); of those, integers. */
  apostropheGrouped?: number;
  apostropheIntegers?: number;
  /** Parsed values per DATE_FORMATS entry. */
  dates: number[];
  /** ISO date-times, with or without a UTC offset (`isoTimestamp`). */
  timestamps: number;
  /** Times of day without a date (`13:08`, `1:08 PM`: `timeOfDay`). */
  times?: number;
  /** Parsed values per TIMESTAMP_FORMATS entry (counted for columns of date-time shape, not ISO). */
  timestampFormats?: number[];
  booleans: number;
  /** Numbers with `,` thousands groups, e.g. 1,234.50 (not counted in `numbers`). */
  grouped?: number;
  /** Of those, integers (1,234). */
  groupedIntegers?: number;
  /**
   * Values read with a decimal comma (`2,50`, and integers), per thousands separator: none, `.`
   * (`1.234,56`), space (`1 234,56`). Counted only when the delimiter is not `,`, as are the next two.
   */
  decimalComma?: DecimalCommaCounts;
  /** Values only a decimal comma reads (`2,50`, `1.234,56`, `1234,567`): the proof of one. */
  decimalCommaProofs?: number;
  /** Values like `1,234`, read alike with a thousands comma and a decimal comma (also in `grouped`). */
  ambiguousCommas?: number;
  /** Values like `1.234`, read alike with a decimal point and a thousands dot (also in `numbers`). */
  ambiguousDots?: number;
  /** Values like `1.234.567`, which only a thousands dot reads. */
  dotProofs?: number;
  /** Values that are a letter prefix on a number of 3+ digits (`C536379`, `P00285442`). */
  prefixed?: number;
  /** Numbers with a currency symbol (MONEY_PATTERN), and how many carry each symbol, most first. */
  money?: number;
  /** The same written with a decimal comma (`12,50 €`: MONEY_COMMA_PATTERN), in any file. */
  moneyComma?: number;
  /** Of those, values with a `.`: in a value both readings take (`1.234 €`), it can only be a thousands dot. */
  moneyCommaDots?: number;
  currencies?: Array<[symbol: string, count: number]>;
  /** Percentages (`12%`). */
  percents?: number;
  /** The same with a decimal comma (`12,5 %`), in any file. */
  percentsComma?: number;
  /** Evidence for the identifier rules, gathered for numeric columns that may be identifiers. */
  identifier?: IdentifierStats;
}

/** Values that read as numbers with a decimal comma, per thousands separator. */
export interface DecimalCommaCounts {
  none: number;
  dot: number;
  space: number;
}

/** A numeric-looking column's values as codes: unsigned integers (`17850`, `17850.0`) and prefixed ones. */
export interface IdentifierStats {
  /** One of the letter-prefixed values (`C536379`). */
  prefixExample?: string;
  /** Unsigned integers, written with or without a `.0` fraction. */
  codes: number;
  /** Distinct values among them. */
  distinct: number;
  /** The commonest number of digits before any fraction, and how many codes have it. */
  width: number;
  sameWidth: number;
  /** One of the codes. */
  example?: string;
}

export interface TypeChoice {
  type: ColumnType;
  format?: string;
  ambiguous: boolean;
  missingTokens: boolean;
  thousands?: string;
  /** `,` for numbers with a decimal comma (`2,50`). */
  decimal?: string;
  currency?: string;
  percent?: boolean;
  /** Every format that parses as many values as the chosen one (an ambiguous column has 2+). */
  candidates?: string[];
  /** Why a numeric-looking column is text, or why its numbers read the way they do (`1,234`). */
  reason?: string;
}

/** Last words of a column name that say identifier (`invoice_no`, `customer_id`, `store_nbr`). */
const IDENTIFIER_WORDS = ['id', 'no', 'nbr'];
/** Endings that say identifier in any last word (`postal_code`, `postalcode`, `ordernumber`). */
const IDENTIFIER_ENDINGS = ['code', 'number', 'nbr'];

/** Whether a snake_case column name says identifier. */
export function isIdentifierName(name: string): boolean {
  const last = name.split('_').at(-1) ?? '';
  return IDENTIFIER_WORDS.includes(last) || IDENTIFIER_ENDINGS.some((end) => last.endsWith(end));
}

/** Fewest digits of a code the name rule keeps as text: shorter numbers are counts and small dimensions. */
const MIN_CODE_WIDTH = 4;
/** Distinct codes the name rule needs (or a tenth of the codes, in a sample smaller than 1,000). */
const MIN_CODE_DISTINCT = 100;

const formatCount = (n: number): string => n.toLocaleString('en-US');

/**
 * Whether letter-prefixed codes (`C536379`) sit among a column's integers and explain its other values:
 * most of the values that are not integers, for a column the integers alone would make BIGINT; else
 * every value but the 2% the threshold allows is one or the other, and the integers are the most.
 */
function hasPrefixedCodes(stats: ColumnStats, type: ColumnType): boolean {
  const candidates = stats.values - stats.missingTokens;
  const prefixed = stats.prefixed ?? 0;
  if (prefixed === 0 || stats.integers < prefixed) return false;
  return type === 'BIGINT'
    ? 2 * prefixed >= candidates - stats.integers
    : stats.integers + prefixed >= TYPE_THRESHOLD * candidates;
}

/**
 * Why a column whose values look numeric (`type`: what the values alone make it) is an identifier, or
 * undefined when it is not one. Pure over the sampled counts, so the rules read (and test) without SQL;
 * see the module comment.
 */
export function identifierReason(stats: ColumnStats, name: string, type: ColumnType): string | undefined {
  const ids = stats.identifier;
  if (!ids) return undefined;
  const candidates = stats.values - stats.missingTokens;
  // The integers are unsigned (a quantity has signs), and prefixed codes explain the rest.
  if (ids.codes >= stats.integers && hasPrefixedCodes(stats, type)) {
    const example = ids.prefixExample === undefined ? '' : `, e.g. ${ids.prefixExample}`;
    return `identifier: ${formatCount(stats.prefixed ?? 0)} of ${formatCount(candidates)} sampled values are a letter prefix on a number${example}`;
  }
  if ((type !== 'BIGINT' && type !== 'DOUBLE') || !isIdentifierName(name)) return undefined;
  const codes = ids.codes >= TYPE_THRESHOLD * candidates;
  const fixedWidth = ids.width >= MIN_CODE_WIDTH && ids.sameWidth >= TYPE_THRESHOLD * ids.codes;
  const many = ids.distinct >= Math.min(MIN_CODE_DISTINCT, 0.1 * ids.codes);
  if (!codes || !fixedWidth || !many) return undefined;
  const example = ids.example === undefined ? '' : `, e.g. ${ids.example}`;
  return `identifier: named like one (${name}) and its ${formatCount(ids.distinct)} distinct sampled values are ${ids.width}-digit codes${example}`;
}

/** Whether the identifier rules need the evidence of `identifierStats` for this column. */
function mayBeIdentifier(stats: ColumnStats, name: string): boolean {
  const type = chooseValueType(stats).type;
  if (hasPrefixedCodes(stats, type)) return true;
  return (type === 'BIGINT' || type === 'DOUBLE') && isIdentifierName(name);
}

/**
 * The type of a column from its sampled counts; `name` (snake_case) and `stats.identifier` let the
 * identifier rules keep numeric-looking codes as text, with the reason.
 */
export function chooseType(stats: ColumnStats, name = ''): TypeChoice {
  const padded = zeroPaddedTimePart(stats, name);
  if (padded) return padded;
  const choice = chooseValueType(stats);
  if (choice.type !== 'BIGINT' && choice.type !== 'DOUBLE' && choice.type !== 'VARCHAR') return choice;
  const reason = identifierReason(stats, name, choice.type);
  return reason === undefined ? choice : { type: 'VARCHAR', ambiguous: false, missingTokens: false, reason };
}

/** Whether `count` sampled values of a column are enough for a type: 98% of its values not missing. */
const isEnough = (stats: ColumnStats, count: number): boolean =>
  count >= TYPE_THRESHOLD * (stats.values - stats.missingTokens);

/**
 * Words of a name that say a clock or calendar part: `order_hour_of_day`, `month`, `order_dow`; in Spanish,
 * Portuguese, French and German too (`hora`, `mes`, `heure`, `monat`).
 */
const TIME_PART_WORDS = new Set([
  'hour',
  'hours',
  'minute',
  'minutes',
  'day',
  'dow',
  'wday',
  'weekday',
  'week',
  'month',
  'quarter',
  'hora',
  'minuto',
  'dia',
  'semana',
  'mes',
  'trimestre',
  'heure',
  'jour',
  'mois',
  'stunde',
  'monat',
  'quartal',
]);

/**
 * Integers written to a width with leading zeros (`08`, as Instacart's `order_hour_of_day`) in a column
 * named like a clock or calendar part: numbers (an hour, a month), where other zero-padded integers stay
 * text as codes do (`06`, California's FIPS code, keeps its zero).
 */
function zeroPaddedTimePart(stats: ColumnStats, name: string): TypeChoice | undefined {
  if (stats.leadingZeros === 0 || !isEnough(stats, stats.integers) || stats.values === stats.missingTokens)
    return undefined;
  if (!name.split('_').some((word) => TIME_PART_WORDS.has(word))) return undefined;
  return {
    type: 'BIGINT',
    ambiguous: false,
    missingTokens: true,
    reason: `${ZERO_PADDED}, named like a clock or calendar part: read as numbers (a profile's type: string keeps the text)`,
  };
}

/** The type the values alone say, before the identifier rules. */
function chooseValueType(stats: ColumnStats): TypeChoice {
  const candidates = stats.values - stats.missingTokens;
  const text: TypeChoice = { type: 'VARCHAR', ambiguous: false, missingTokens: false };
  if (candidates <= 0) return text;
  const enough = (count: number): boolean => isEnough(stats, count);
  const typed = (type: ColumnType, format?: string, ambiguous = false): TypeChoice => ({
    type,
    ...(format === undefined ? {} : { format }),
    ambiguous,
    missingTokens: true,
  });
  const money = moneyChoice(stats, candidates, enough);
  if (money) return money;
  if (stats.leadingZeros === 0 && enough(stats.integers)) return typed('BIGINT');
  const decimalComma = stats.leadingZeros === 0 ? decimalCommaThousands(stats, enough) : undefined;
  if (decimalComma !== undefined)
    return { ...typed('DOUBLE'), ...(decimalComma === '' ? {} : { thousands: decimalComma }), decimal: ',' };
  if (stats.leadingZeros === 0 && isDotGrouped(stats) === 'proven')
    return { ...typed('BIGINT'), thousands: '.' };
  if (stats.leadingZeros === 0 && enough(stats.numbers)) {
    const huge = stats.hugeIntegers ?? 0;
    if (huge === 0) return typed('DOUBLE');
    // Two references a digit apart would load as one number: the digits are kept as text.
    return {
      ...text,
      reason: `${formatCount(huge)} sampled values are integers of more digits than a 64-bit integer holds, which a floating-point number would round: kept as text`,
    };
  }
  const grouped = stats.grouped ?? 0;
  if (stats.leadingZeros === 0 && grouped > 0) {
    const guess = thousandsCommaGuess(stats);
    const reason = guess === undefined ? {} : { reason: guess };
    if (enough(stats.integers + (stats.groupedIntegers ?? 0)))
      return { ...typed('BIGINT'), thousands: ',', ...reason };
    if (enough(stats.numbers + grouped)) return { ...typed('DOUBLE'), thousands: ',', ...reason };
  }
  const apostrophes = stats.apostropheGrouped ?? 0;
  if (stats.leadingZeros === 0 && apostrophes > 0) {
    if (enough(stats.integers + (stats.apostropheIntegers ?? 0)))
      return { ...typed('BIGINT'), thousands: "'" };
    if (enough(stats.numbers + apostrophes)) return { ...typed('DOUBLE'), thousands: "'" };
  }
  const best = Math.max(...stats.dates);
  if (best > 0 && enough(best)) {
    const ties = formatTies(DATE_FORMATS, stats.dates, best); // first in DATE_FORMATS order: M/D/Y before D/M/Y
    return {
      ...typed('DATE', ties[0], ties.length > 1),
      ...(ties.length > 1 ? { candidates: [...ties] } : {}),
    };
  }
  if (enough(stats.timestamps)) return typed('TIMESTAMP');
  const formats = stats.timestampFormats ?? [];
  const bestTimestamp = Math.max(0, ...formats);
  if (bestTimestamp > 0 && enough(bestTimestamp)) {
    const ties = formatTies(TIMESTAMP_FORMATS, formats, bestTimestamp);
    return {
      ...typed('TIMESTAMP', ties[0], ties.length > 1),
      ...(ties.length > 1 ? { candidates: ties } : {}),
    };
  }
  if (enough(stats.times ?? 0)) return typed('TIME');
  const two = twoDateFormats(stats.dates, enough);
  if (two) return { ...typed('DATE', two.format), reason: two.reason };
  if (enough(stats.booleans)) return typed('BOOLEAN');
  return demotedText(stats, candidates) ?? text;
}

/**
 * A date format's shape as tokens no two of which match the same text: 4 digits, 1 or 2 digits (`%y` too),
 * letters, and its literals. Two formats of different skeletons never read the same value.
 */
const skeleton = (format: string): string =>
  format
    .replaceAll('%Y', '4')
    .replace(/%[ymd]/g, 'n')
    .replace(/%[aAbB]/g, 'w');
const DATE_SKELETONS = DATE_FORMATS.map(skeleton);

/**
 * Dates written in two formats that never read the same value (a merged export: `2023-01-15` and
 * `01/16/2023`), enough for a DATE together: the pair reading the most values, each format clear of its own
 * shape's others (`01/02/2023` alone leaves M/D/Y and D/M/Y tied: no pair). The counts add up because no value
 * reads in both.
 */
function twoDateFormats(
  counts: readonly number[],
  enough: (count: number) => boolean,
): { format: string; reason: string } | undefined {
  const clear = counts.map(
    (count, f) =>
      count > 0 && counts.every((n, g) => g === f || DATE_SKELETONS[g] !== DATE_SKELETONS[f] || n < count),
  );
  let best: [number, number] | undefined;
  for (let f = 0; f < counts.length; f++) {
    for (let g = f + 1; g < counts.length; g++) {
      if (DATE_SKELETONS[f] === DATE_SKELETONS[g] || !clear[f] || !clear[g]) continue;
      if (!best || counts[f]! + counts[g]! > counts[best[0]]! + counts[best[1]]!) best = [f, g];
    }
  }
  if (!best || !enough(counts[best[0]]! + counts[best[1]]!)) return undefined;
  const [first, second] = counts[best[1]]! > counts[best[0]]! ? [best[1], best[0]] : best;
  const [a, b] = [DATE_FORMATS[first]!, DATE_FORMATS[second]!];
  return {
    format: `${a}${FORMAT_SEPARATOR}${b}`,
    reason: `${TWO_FORMATS}${formatCount(counts[first]!)} sampled values ${a} and ${formatCount(counts[second]!)} ${b}: each read in its own (a profile's format sets one)`,
  };
}

/**
 * Money and percentages. A column whose values are numbers, some with one currency symbol (`$1,234.50`,
 * `($5.00)`), is DOUBLE with that `currency`; with several symbols it stays text, with the reason: one
 * number column cannot hold dollars and euros. A column of numbers at least half of them written with `%`
 * is DOUBLE `percent`, every value read as a fraction (`12%` and `12` are 0.12).
 */
function moneyChoice(
  stats: ColumnStats,
  candidates: number,
  enough: (count: number) => boolean,
): TypeChoice | undefined {
  if (stats.leadingZeros > 0) return undefined;
  const comma = isCommaMoney(stats);
  const money = (comma ? stats.moneyComma : stats.money) ?? 0;
  // Plain numbers beside the amounts: with a decimal comma; in a comma-delimited file (no such counts), integers.
  const numbers = comma ? (stats.decimalComma?.none ?? stats.integers) : stats.numbers + (stats.grouped ?? 0);
  if (money > 0 && enough(money + numbers)) {
    const symbols = stats.currencies ?? [];
    const [symbol = '$', count = money] = symbols[0] ?? [];
    const separators = comma ? { thousands: '.', decimal: ',' } : { thousands: ',' };
    // The other symbols' values are then quarantined, as any value that fails a column's type.
    if (enough(count + numbers))
      return { type: 'DOUBLE', ambiguous: false, missingTokens: true, ...separators, currency: symbol };
    return {
      type: 'VARCHAR',
      ambiguous: false,
      missingTokens: false,
      reason: `amounts in ${symbols.length} currencies (${symbols.map(([s, n]) => `${formatCount(n)} ${s}`).join(', ')}): kept as text`,
    };
  }
  const percents = stats.percents ?? 0;
  if (percents > 0 && 2 * percents >= candidates && enough(percents + stats.numbers))
    return { type: 'DOUBLE', ambiguous: false, missingTokens: true, percent: true };
  // `12,5 %` reads only with a decimal comma, `8 %` either way: more values read so than with a point.
  const commaPercents = stats.percentsComma ?? 0;
  const commaNumbers = stats.decimalComma?.none ?? stats.integers;
  if (commaPercents > percents && 2 * commaPercents >= candidates && enough(commaPercents + commaNumbers))
    return { type: 'DOUBLE', ambiguous: false, missingTokens: true, percent: true, decimal: ',' };
  return undefined;
}

/**
 * Money read with a decimal comma: when more values read so than with a decimal point (`12,50 €` reads only
 * so), or when every value reads both ways and some has a `.`, which is then `.` followed by three digits:
 * a thousands dot (`1.234 €`), as amounts are not written to the thousandth.
 */
function isCommaMoney(stats: ColumnStats): boolean {
  const comma = stats.moneyComma ?? 0;
  const point = stats.money ?? 0;
  return comma > point || (comma > 0 && comma === point && (stats.moneyCommaDots ?? 0) > 0);
}

/** The currency symbols each column of `stats` with money writes in the sample, with their counts, most first. */
async function currencySymbols(
  connection: DuckDBConnection,
  stats: readonly ColumnStats[],
): Promise<Map<number, Array<[string, number]>>> {
  const out = new Map<number, Array<[string, number]>>();
  for (const [i, s] of stats.entries()) {
    if (!s.money && !s.moneyComma) continue;
    const pattern = isCommaMoney(s) ? MONEY_COMMA_PATTERN : MONEY_PATTERN;
    const rows = await queryRows(
      connection,
      `SELECT regexp_extract(v${i}, ${quoteLiteral(CURRENCY_NAME)}, 1) AS symbol, count(*) AS n FROM ${INFER_SAMPLE}
       WHERE regexp_full_match(v${i}, ${quoteLiteral(pattern)}) GROUP BY symbol ORDER BY n DESC, symbol`,
    );
    out.set(
      i,
      rows.map((r) => [String(r['symbol']), toCount(r['n'])]),
    );
  }
  return out;
}

/** Share of the values a type must read for a text column to say what it nearly was. */
const DEMOTED_SHARE = 0.5;

/**
 * Text, with the reason, for a column most of whose values read as one type but too few for it: the
 * report says so, as a later version of the dataset will be held to it (schema-contract.ts).
 */
function demotedText(stats: ColumnStats, candidates: number): TypeChoice | undefined {
  const bestDate = Math.max(0, ...stats.dates);
  const options: Array<[string, number]> = [
    ['integers', stats.integers],
    ['numbers', stats.numbers + (stats.grouped ?? 0)],
    [`dates (${DATE_FORMATS[stats.dates.indexOf(bestDate)] ?? ''})`, bestDate],
    ['date-times', Math.max(stats.timestamps, ...(stats.timestampFormats ?? []))],
    ['times of day', stats.times ?? 0],
  ];
  const [what, count] = options.reduce((best, o) => (o[1] > best[1] ? o : best));
  if (count < DEMOTED_SHARE * candidates || stats.leadingZeros > 0) return undefined;
  return {
    type: 'VARCHAR',
    ambiguous: false,
    missingTokens: false,
    reason: `${formatCount(count)} of ${formatCount(candidates)} sampled values read as ${what}, fewer than the ${TYPE_THRESHOLD * 100}% a type needs: kept as text`,
  };
}

/**
 * The thousands separator of a column read with a decimal comma (`''` for none), or undefined when its
 * values do not prove a decimal comma or too few read so. A separator is taken only when it reads more
 * values than none does (`1.234,56` among `2,50`).
 */
function decimalCommaThousands(
  stats: ColumnStats,
  enough: (count: number) => boolean,
): '' | '.' | ' ' | undefined {
  const counts = stats.decimalComma;
  const proofs = stats.decimalCommaProofs ?? 0;
  if (counts === undefined || proofs === 0 || proofs <= thousandsCommaProofs(stats)) return undefined;
  const separator = counts.dot >= counts.space ? '.' : ' ';
  const grouped = Math.max(counts.dot, counts.space);
  if (grouped > counts.none && enough(grouped)) return separator;
  return enough(counts.none) ? '' : undefined;
}

/**
 * Whether a column is integers with `.` thousands groups, in a file not delimited by `,` (where a decimal
 * comma, and so a thousands dot, is possible): 98% of its values are integers or dot-grouped, and some
 * value has two groups (`1.234.567`, no decimal point reads it) more often than others prove a decimal
 * point (`1.5`, `0.250`, `1234.567`): 'proven'. With every dotted value like `1.234` and no proof either way:
 * 'ambiguous', which the file decides (`dotsByFile`).
 */
function isDotGrouped(stats: ColumnStats): 'proven' | 'ambiguous' | undefined {
  if (stats.decimalComma === undefined) return undefined;
  const ambiguous = stats.ambiguousDots ?? 0;
  const proofs = stats.dotProofs ?? 0;
  const pointProofs = stats.numbers - stats.integers - ambiguous;
  if (ambiguous + proofs === 0 || !isEnough(stats, stats.integers + ambiguous + proofs)) return undefined;
  if (proofs > pointProofs) return 'proven';
  return proofs === 0 && pointProofs === 0 ? 'ambiguous' : undefined;
}

/** Values only a thousands comma reads (`1,234,567`, `1,234.50`). */
const thousandsCommaProofs = (stats: ColumnStats): number =>
  (stats.grouped ?? 0) - (stats.ambiguousCommas ?? 0);

/**
 * The report's word on a thousands comma that was a guess: in a file where a decimal comma was possible,
 * every grouped value was like `1,234` and no value proved either reading.
 */
function thousandsCommaGuess(stats: ColumnStats): string | undefined {
  if (stats.decimalComma === undefined || (stats.decimalCommaProofs ?? 0) > 0) return undefined;
  const ambiguous = stats.ambiguousCommas ?? 0;
  if (ambiguous === 0 || thousandsCommaProofs(stats) > 0) return undefined;
  return `${AMBIGUOUS}${formatCount(ambiguous)} sampled values like 1,234 read with "," as a thousands separator or as a decimal mark, and no value proves which; read as thousands (a profile's decimal: "," reads them as decimals)`;
}

const BLANKS = [' ', '\t', '\r', '\n'];
/**
 * Whether text starts or ends with a blank. A first character below `!` (the blanks, and control characters,
 * which `trim` leaves as they are) is one comparison where four prefix LIKEs were (1M rows of 20 columns: the
 * guard 0.25 s -> 0.15 s); the last character still needs a suffix LIKE a blank.
 */
const HAS_EDGE_BLANK = (sql: string): string =>
  [`${sql} < '!'`, ...BLANKS.map((blank) => `${sql} LIKE ${quoteLiteral(`%${blank}`)}`)].join(' OR ');

/**
 * Trimmed text of a SQL expression: ASCII blanks only (a no-break space is content). `trim` allocates a
 * new string for every value; the guard (a comparison and suffix checks, no allocation) makes it 3x
 * cheaper on the usual data, where few values need it.
 */
export function trimmed(sql: string): string {
  return `CASE WHEN ${HAS_EDGE_BLANK(sql)} THEN ${trimBlanks(sql)} ELSE ${sql} END`;
}

/** `trimmed` without the guard, for an expression that should appear once (the guard repeats it 6 times). */
export const trimBlanks = (sql: string): string => `trim(${sql}, ${quoteLiteral(BLANKS.join(''))})`;

export const inList = (values: readonly string[]): string => values.map(quoteLiteral).join(', ');

/** Any of the date formats' shapes; the per-format counts only run for columns where this is common. */
const ANY_DATE_SHAPE =
  '([0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}|[0-9]{1,2}[-/ ][A-Za-z]{3,9}[-/ ][0-9]{2,4}|([A-Za-z]{3,9},? )?[A-Za-z]{3,9} [0-9]{1,2},? [0-9]{4}|[A-Za-z]{3,9},? [0-9]{1,2} [A-Za-z]{3,9} [0-9]{4}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日|[0-9]{4}년 [0-9]{1,2}월 [0-9]{1,2}일)';
/** Any of the timestamp formats' shapes, likewise. */
const ANY_TIMESTAMP_SHAPE = `${ANY_DATE_SHAPE} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( [AaPp][Mm])?`;
/** A letter prefix on a number: `C536379` (a cancelled invoice), `P00285442` (a product). */
export const PREFIXED_CODE_PATTERN = '[A-Za-z]{1,3}[0-9]{3,}';
/** An unsigned integer, also written with a zero fraction (`17850.0`): a code, for the identifier rules. */
const CODE_PATTERN = '[0-9]+([.]0+)?';

/** Regular expressions guard the casts: RE2 rejects text faster than a failing TRY_CAST or strptime. */
const CHECKS = {
  values: (v: string) => `${v} <> ''`,
  tokens: (v: string) => `lower(${v}) IN (${inList(MISSING_TOKENS)})`,
  integers: (v: string) => `${guardedCast(v, INTEGER_PATTERN, 'BIGINT')} IS NOT NULL`,
  hugeIntegers: (v: string) =>
    `strlen(${v}) >= 19 AND regexp_full_match(${v}, ${quoteLiteral(HUGE_INTEGER_PATTERN)}) AND TRY_CAST(${v} AS BIGINT) IS NULL`,
  zeros: (v: string) => `regexp_matches(${v}, ${quoteLiteral(LEADING_ZERO_PATTERN)})`,
  numbers: (v: string) => `${guardedCast(v, NUMBER_PATTERN, 'DOUBLE')} IS NOT NULL`,
  dateish: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(ANY_DATE_SHAPE)})`,
  timestamps: (v: string) => `${isoTimestamp(v)} IS NOT NULL`,
  times: (v: string) => `contains(${v}, ':') AND ${timeOfDay(v)} IS NOT NULL`,
  timestampish: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(ANY_TIMESTAMP_SHAPE)})`,
  booleans: (v: string) => `lower(${v}) IN (${inList([...TRUE_TOKENS, ...FALSE_TOKENS])})`,
  grouped: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(GROUPED_NUMBER_PATTERN)})`,
  groupedInts: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(GROUPED_INTEGER_PATTERN)})`,
  apostropheGrouped: (v: string) =>
    `${hasApostrophe(v)} AND regexp_full_match(${v}, ${quoteLiteral(groupedNumberPattern("'", '.'))})`,
  apostropheIntegers: (v: string) =>
    `${hasApostrophe(v)} AND regexp_full_match(${v}, ${quoteLiteral(groupedIntegerPattern("'"))})`,
  prefixed: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(PREFIXED_CODE_PATTERN)})`,
  money: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(MONEY_PATTERN)})`,
  moneyComma: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(MONEY_COMMA_PATTERN)})`,
  moneyCommaDots: (v: string) =>
    `contains(${v}, '.') AND regexp_full_match(${v}, ${quoteLiteral(MONEY_COMMA_PATTERN)})`,
  percents: (v: string) =>
    `contains(${v}, '%') AND regexp_full_match(${v}, ${quoteLiteral(PERCENT_PATTERN)})`,
  percentsComma: (v: string) =>
    `contains(${v}, '%') AND regexp_full_match(${v}, ${quoteLiteral(PERCENT_COMMA_PATTERN)})`,
  commaNumbers: (v: string) =>
    `regexp_full_match(${v}, ${quoteLiteral(groupedNumberPattern(undefined, ','))})`,
  commaNumbersDot: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(groupedNumberPattern('.', ','))})`,
  commaNumbersSpace: (v: string) =>
    `regexp_full_match(${v}, ${quoteLiteral(groupedNumberPattern(' ', ','))})`,
  commaProofs: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(DECIMAL_COMMA_PATTERN)}) AND NOT regexp_full_match(${v}, ${quoteLiteral(AMBIGUOUS_COMMA_PATTERN)})`,
  ambiguousCommas: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(AMBIGUOUS_COMMA_PATTERN)})`,
  ambiguousDots: (v: string) =>
    `contains(${v}, '.') AND regexp_full_match(${v}, ${quoteLiteral(AMBIGUOUS_DOT_PATTERN)})`,
  dotProofs: (v: string) =>
    `contains(${v}, '.') AND regexp_full_match(${v}, ${quoteLiteral(DOT_GROUPS_PATTERN)})`,
};
type Check = keyof typeof CHECKS;
const ALL_CHECKS = Object.keys(CHECKS) as Check[];
/** The decimal-comma counts, left out for a comma-delimited file. */
const DECIMAL_COMMA_CHECKS: Check[] = [
  'commaNumbers',
  'commaNumbersDot',
  'commaNumbersSpace',
  'commaProofs',
  'ambiguousCommas',
  'ambiguousDots',
  'dotProofs',
];
const NUMERIC_CHECKS: Check[] = [
  'integers',
  'hugeIntegers',
  'apostropheGrouped',
  'apostropheIntegers',
  'zeros',
  'numbers',
  'grouped',
  'groupedInts',
  'prefixed',
  ...DECIMAL_COMMA_CHECKS,
];
/** Whether some value of a column reads as a number: else every numeric check can be left out. */
const NUMBER_CHECKS: Check[] = [
  'integers',
  'numbers',
  'grouped',
  'apostropheGrouped',
  'commaNumbersDot',
  'commaNumbersSpace',
];
const SHAPE_CHECKS: Check[] = [
  'dateish',
  'timestamps',
  'timestampish',
  'times',
  'money',
  'moneyComma',
  'moneyCommaDots',
  'percents',
  'percentsComma',
];

/** The temporary table of trimmed sample values (`v0..vN`) that inference leaves for the candidate keys. */
export const INFER_SAMPLE = 'infer_sample';

/** Rows of the first pass, which rules out the types a column cannot have (see `neededChecks`). */
const PREFIX_ROWS = 5_000;

/** A count of a column's sampled values where `where` holds of one: `s<column>_<name>` in the results. */
interface Count {
  name: string;
  where: (value: string) => string;
}

/** Each column's counts of `checks`. */
function countChecks(columns: ReadonlyArray<{ checks: readonly Check[] }>): Count[][] {
  return columns.map(({ checks }) => checks.map((check): Count => ({ name: check, where: CHECKS[check] })));
}

/**
 * The counts (each column's) over the first `rows` rows of the sample, as `s<column>_<name>`. The columns
 * that take the same counts are counted together over their values unpivoted (`unpivotedAggregates`), so
 * that a query's expressions are its counts once, not once a column: binding them took about 0.3 ms each,
 * 19 s for the checks of 1,947 columns (M5's shape), and most of a narrow sample's time too. The sample is
 * one DuckDB row group, which one thread scans: split into `parts` rowid ranges (one per thread), the
 * scan uses every core.
 */
async function sampleCounts(
  connection: DuckDBConnection,
  counts: ReadonlyArray<readonly Count[]>,
  rows: number,
  parts = 1,
): Promise<JsonRow> {
  const size = Math.ceil(rows / parts);
  const ranges = Array.from(
    { length: parts },
    (_, k) => `SELECT * FROM ${INFER_SAMPLE} WHERE rowid >= ${k * size} AND rowid < ${(k + 1) * size}`,
  );
  const groups = new Map<string, number[]>();
  for (const [i, list] of counts.entries()) {
    if (list.length === 0) continue;
    const key = list.map((c) => c.name).join(',');
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  const out: JsonRow = {};
  for (const columns of groups.values()) {
    const list = counts[columns[0]!]!;
    const results = await unpivotedAggregates(
      connection,
      columns.map((i) => `v${i}`),
      list.map((c) => `${countWhere(c.where('value'))} AS ${c.name}`).join(', '),
      `(${ranges.join(' UNION ALL ')})`,
    );
    for (const [k, row] of results.entries())
      for (const c of list) out[`s${columns[k]}_${c.name}`] = row?.[c.name] ?? 0;
  }
  return out;
}

/** The checks a value without a digit or a dash may pass; every other needs one (`$ -`, a zero, has the dash). */
const SIGNLESS_CHECKS: Check[] = ['values', 'tokens', 'booleans'];

/**
 * Whether column `i` has no value with a digit or a dash, by the first pass's counts: over the whole sample
 * when it is no longer than PREFIX_ROWS, else over that prefix, where its values must be more than the
 * threshold lets fail (as in `neededChecks`).
 */
function withoutSigns(first: Record<string, unknown>, i: number, rows: number): boolean {
  if (toCount(first[`s${i}_signs`]) > 0) return false;
  const candidates = toCount(first[`s${i}_values`]) - toCount(first[`s${i}_tokens`]);
  return rows <= PREFIX_ROWS || candidates > (1 - TYPE_THRESHOLD) * rows;
}

/**
 * The checks the full sample still needs for a column, given the counts over its first rows. A family
 * of checks is left out when not one of the prefix's values matched it and the prefix alone holds more
 * values than the threshold lets fail over the whole sample: the type is then impossible, so the
 * choice is the same as with every count, and a text column skips every regular expression. The
 * counts left out are reported as 0.
 */
function neededChecks(
  prefix: Record<string, unknown>,
  i: number,
  rows: number,
  checks: readonly Check[],
): Check[] {
  const n = (check: Check) => toCount(prefix[`s${i}_${check}`]);
  const candidates = n('values') - n('tokens');
  const decided = candidates > (1 - TYPE_THRESHOLD) * rows;
  const impossible = (checks: Check[]) => decided && checks.every((check) => n(check) === 0);
  return checks.filter((check) => {
    if (NUMERIC_CHECKS.includes(check)) return !impossible(NUMBER_CHECKS);
    if (SHAPE_CHECKS.includes(check)) return !impossible([check]);
    return true;
  });
}

const DATE_COUNTS = DATE_FORMATS.map(
  (format, f): Count => ({ name: `date${f}`, where: (v) => `${dateExpression(v, format)} IS NOT NULL` }),
);

const TIMESTAMP_COUNTS = TIMESTAMP_FORMATS.map(
  (format, f): Count => ({ name: `ts${f}`, where: (v) => `${dateExpression(v, format)} IS NOT NULL` }),
);

/**
 * The identifier evidence of columns `columns` of the sample: their unsigned integers grouped by width
 * (distinct values of different widths differ, so the per-width distinct counts add up), and one
 * letter-prefixed value.
 */
async function identifierStats(
  connection: DuckDBConnection,
  columns: readonly number[],
): Promise<Map<number, IdentifierStats>> {
  const out = new Map<number, IdentifierStats>();
  if (columns.length === 0) return out;
  const rows: JsonRow[] = [];
  // One branch a column: a batch of columns per query keeps the plan small (COLUMN_BATCH).
  for (let start = 0; start < columns.length; start += COLUMN_BATCH) {
    const batch = columns.slice(start, start + COLUMN_BATCH);
    rows.push(...(await queryRows(connection, identifierSql(batch))));
  }
  for (const i of columns) out.set(i, { codes: 0, distinct: 0, width: 0, sameWidth: 0 });
  for (const row of rows) {
    const stats = out.get(toCount(row['i']))!;
    if (row['prefixed'] != null) stats.prefixExample = String(row['prefixed']);
    if (row['width'] == null) continue;
    const n = toCount(row['n']);
    stats.codes += n;
    stats.distinct += toCount(row['d']);
    if (n > stats.sameWidth) {
      stats.width = toCount(row['width']);
      stats.sameWidth = n;
      stats.example = String(row['example']);
    }
  }
  return out;
}

/** The identifier evidence query of `columns`: their codes by width, and a prefixed value. */
function identifierSql(columns: readonly number[]): string {
  const code = quoteLiteral(CODE_PATTERN);
  const prefixed = quoteLiteral(PREFIXED_CODE_PATTERN);
  return columns
    .map(
      (i) => `SELECT ${i} AS i, length(split_part(v${i}, '.', 1)) AS width, count(*) AS n,
  count(DISTINCT v${i}) AS d, min(v${i}) AS example, NULL AS prefixed
FROM ${INFER_SAMPLE} WHERE regexp_full_match(v${i}, ${code}) GROUP BY width
UNION ALL
SELECT ${i}, NULL, 0, 0, NULL, min(v${i}) FROM ${INFER_SAMPLE} WHERE regexp_full_match(v${i}, ${prefixed})`,
    )
    .join('\nUNION ALL\n');
}

export interface InferOptions {
  /** Rows sampled from the start (DEFAULT_SAMPLE_ROWS). */
  sampleRows?: number;
  /** Every row instead of a sample, read on every thread (a column whose later rows broke its type). */
  wholeFile?: boolean;
  /**
   * The files' delimiter (`,` when unset). Any other leaves the comma free to be a decimal mark (`2,50`),
   * so only then is a decimal comma tried.
   */
  delimiter?: string;
}

/**
 * Plans the columns of `relation` (raw VARCHAR columns `rawColumns`, in file order: a table, or the files'
 * `read_csv`) from its first `sampleRows` rows, whose trimmed values stay in the temporary table
 * `INFER_SAMPLE`.
 */
export async function inferColumnPlans(
  connection: DuckDBConnection,
  relation: string,
  rawColumns: readonly string[],
  headers: readonly string[],
  names: readonly string[],
  options: InferOptions = {},
): Promise<{ plans: ColumnPlan[]; stats: ColumnStats[] }> {
  const sampleRows = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  // In a file delimited by `,`, a decimal comma sits in a quoted value (`"0,05"`, as spreadsheets of a
  // decimal-comma locale export): its counts are taken only for columns with a comma in their first rows.
  const commaDelimited = (options.delimiter ?? ',') === ',';
  const withoutDecimalComma = ALL_CHECKS.filter((c) => !DECIMAL_COMMA_CHECKS.includes(c));
  const values = rawColumns.map((c, i) => `${trimmed(quoteIdentifier(c))} AS v${i}`);
  // Read as the cleaning reads them: `(1,234.50)` and `1.234,56-` are negative numbers.
  // One step a level, each reading the level below's columns: nested in one expression, `noBreakSpaces` is
  // written out at each of `leadingMinus`'s ten uses of it, and binding that took 11 s for 1,947 columns.
  const spaced = rawColumns.map((_, i) => `${noBreakSpaces(`v${i}`)} AS v${i}`);
  const signed = rawColumns.map((_, i) => `${leadingMinus(`v${i}`)} AS v${i}`);
  const [threads] = await queryRows(connection, "SELECT current_setting('threads') AS n");
  const parts = toCount(threads?.['n']);
  const create = (limit: string) =>
    connection.run(
      `CREATE OR REPLACE TEMP TABLE ${INFER_SAMPLE} AS SELECT ${signed.join(', ')}
       FROM (SELECT ${spaced.join(', ')} FROM (SELECT ${values.join(', ')} FROM ${relation}${limit}))`,
    );
  // A LIMIT over a file read by several threads parses far past the rows it keeps; one thread stops there.
  await (options.wholeFile ? create('') : withThreads(connection, 1, () => create(` LIMIT ${sampleRows}`)));
  // A footer of totals (`Total,,,120,1523.40`) is no data: in a small file its `Total` alone would keep the
  // date column under the threshold, so text. Left out wherever it sits, as the sample does not know where a
  // file ends; a row of that shape mid-file costs the inference one row of evidence, nothing more.
  await connection.run(
    `DELETE FROM ${INFER_SAMPLE} WHERE ${summaryMarkSql(
      rawColumns.map((_, i) => `v${i}`),
      headers,
    )} IS NOT NULL`,
  );
  const excelText = await unwrapExcelText(connection, rawColumns.length);
  const [sampled] = await queryRows(connection, `SELECT count(*) AS n FROM ${INFER_SAMPLE}`);
  const rows = toCount(sampled?.['n']);
  // A small sample is not worth a scan per thread: each rowid range is one more branch of every query.
  const scanParts = rows > PREFIX_ROWS ? parts : 1;
  // First pass, over the first rows: a column none of whose values has a digit or a dash (names, cities,
  // categories) can only be text or boolean, so the later passes leave its other checks out, each of which
  // would run on every one of its sampled values.
  const first = await sampleCounts(
    connection,
    countChecks(rawColumns.map(() => ({ checks: ['values', 'tokens'] }))).map((counts) => [
      ...counts,
      { name: 'signs', where: (v) => `regexp_matches(${v}, '[0-9-]')` },
      ...(commaDelimited ? [{ name: 'commas', where: (v: string) => `contains(${v}, ',')` }] : []),
    ]),
    Math.min(rows, PREFIX_ROWS),
  );
  const checksOf = (i: number): Check[] =>
    commaDelimited && toCount(first[`s${i}_commas`]) === 0 ? withoutDecimalComma : ALL_CHECKS;
  let needed = rawColumns.map((_, i) => ({
    i,
    checks: withoutSigns(first, i, rows)
      ? checksOf(i).filter((c) => SIGNLESS_CHECKS.includes(c))
      : checksOf(i),
  }));
  if (rows > PREFIX_ROWS) {
    const prefix = await sampleCounts(connection, countChecks(needed), PREFIX_ROWS);
    needed = needed.map(({ i, checks }) => ({ i, checks: neededChecks(prefix, i, rows, checks) }));
  }
  const base = await sampleCounts(connection, countChecks(needed), rows, scanParts);
  // Second pass, over the same sample, only for columns that look like dates (or non-ISO date-times)
  // often enough to be typed so, or to say they nearly were (demotedText).
  const often = (i: number, check: Check, share = DEMOTED_SHARE): boolean => {
    const candidates = toCount(base[`s${i}_values`]) - toCount(base[`s${i}_tokens`]);
    return candidates > 0 && toCount(base[`s${i}_${check}`]) >= share * candidates;
  };
  const indexes = rawColumns.map((_, i) => i);
  const dates = await sampleCounts(
    connection,
    indexes.map((i) => [
      ...(often(i, 'dateish') ? DATE_COUNTS : []),
      ...(often(i, 'timestampish') && !often(i, 'timestamps', TYPE_THRESHOLD) ? TIMESTAMP_COUNTS : []),
    ]),
    rows,
    scanParts,
  );
  const count = (i: number, check: Check): number => toCount(base[`s${i}_${check}`]);
  const stats = rawColumns.map(
    (_, i): ColumnStats => ({
      values: toCount(base[`s${i}_values`]),
      missingTokens: toCount(base[`s${i}_tokens`]),
      integers: toCount(base[`s${i}_integers`]),
      hugeIntegers: toCount(base[`s${i}_hugeIntegers`]),
      apostropheGrouped: toCount(base[`s${i}_apostropheGrouped`]),
      apostropheIntegers: toCount(base[`s${i}_apostropheIntegers`]),
      leadingZeros: toCount(base[`s${i}_zeros`]),
      numbers: toCount(base[`s${i}_numbers`]),
      dates: DATE_FORMATS.map((_, f) => toCount(dates[`s${i}_date${f}`])),
      timestamps: toCount(base[`s${i}_timestamps`]),
      times: toCount(base[`s${i}_times`]),
      timestampFormats: TIMESTAMP_FORMATS.map((_, f) => toCount(dates[`s${i}_ts${f}`])),
      booleans: toCount(base[`s${i}_booleans`]),
      grouped: toCount(base[`s${i}_grouped`]),
      groupedIntegers: toCount(base[`s${i}_groupedInts`]),
      prefixed: toCount(base[`s${i}_prefixed`]),
      money: toCount(base[`s${i}_money`]),
      percents: toCount(base[`s${i}_percents`]),
      // A comma-delimited file's column is read with a decimal comma only when some value proves one.
      ...(!commaDelimited || count(i, 'commaProofs') > 0
        ? {
            decimalComma: {
              none: count(i, 'commaNumbers'),
              dot: count(i, 'commaNumbersDot'),
              space: count(i, 'commaNumbersSpace'),
            },
            decimalCommaProofs: count(i, 'commaProofs'),
            ambiguousCommas: count(i, 'ambiguousCommas'),
            ambiguousDots: count(i, 'ambiguousDots'),
            dotProofs: count(i, 'dotProofs'),
          }
        : {}),
      moneyComma: count(i, 'moneyComma'),
      moneyCommaDots: count(i, 'moneyCommaDots'),
      percentsComma: count(i, 'percentsComma'),
    }),
  );
  // Third pass, for columns that may be identifiers: letter-prefixed codes seen, or a numeric column whose
  // name says identifier.
  const maybeIdentifiers = indexes.filter((i) => mayBeIdentifier(stats[i]!, names[i]!));
  for (const [i, currencies] of await currencySymbols(connection, stats))
    stats[i] = { ...stats[i]!, currencies };
  for (const [i, identifier] of await identifierStats(connection, maybeIdentifiers))
    stats[i] = { ...stats[i]!, identifier };
  const plans = stats.map((s, i) => ({
    source: headers[i] ?? '',
    name: names[i]!,
    ...chooseType(s, names[i]!),
    ...(excelText.has(i) ? { excelText: true as const } : {}),
  }));
  const read = await integerTimes(connection, dayFirstWithDecimalCommas(dotsByFile(plans, stats)));
  return { plans: await yearPeriods(connection, read), stats };
}

/**
 * A value behind Excel's text marker, the leading apostrophe: a number kept as text (`'00123`), or a value
 * an export guarded against formula injection (`'-12.50`, `'=SUM(A1)`, `'+44 20 7946 0958`). `'90s` and
 * `'til` are not: the apostrophe is theirs.
 */
const APOSTROPHE_MARKED = `'([+-]?[0-9][0-9.,]*|[-+=@].*)`;

const apostropheMarked = (sql: string): string =>
  `(${sql} LIKE '''%' AND regexp_full_match(${sql}, ${quoteLiteral(APOSTROPHE_MARKED)}))`;

/**
 * Text of a value written as Excel's text formula, `="00123"` (as exports write codes and numbers that a
 * spreadsheet would otherwise turn into numbers, dropping their leading zeros): what it quotes; of a value
 * behind Excel's text marker (`APOSTROPHE_MARKED`): what follows the apostrophe. Other values as they are.
 */
export const excelTextSql = (sql: string): string =>
  `CASE WHEN ${sql} LIKE '="%"' THEN replace(${sql}[3:-2], '""', '"') WHEN ${apostropheMarked(sql)} THEN ${sql}[2:] ELSE ${sql} END`;

/**
 * The sample's columns holding Excel text formulas or marked values (`excelTextSql`), read as what they
 * quote or mark in the sample.
 */
async function unwrapExcelText(connection: DuckDBConnection, columns: number): Promise<Set<number>> {
  const [counts] = await queryRows(
    connection,
    `SELECT ${Array.from({ length: columns }, (_, i) => `${countWhere(`v${i} LIKE '="%"' OR ${apostropheMarked(`v${i}`)}`)} AS x${i}`).join(', ')} FROM ${INFER_SAMPLE}`,
  );
  const found = new Set(
    Array.from({ length: columns }, (_, i) => i).filter((i) => toCount(counts?.[`x${i}`]) > 0),
  );
  if (found.size > 0)
    await connection.run(
      `UPDATE ${INFER_SAMPLE} SET ${[...found].map((i) => `v${i} = ${excelTextSql(`v${i}`)}`).join(', ')}`,
    );
  return found;
}

/** A name that says time: `timestamp`, `ts`, `event_time`, `created_at`, `unix_time`, `epoch`. */
const TIME_NAME = /(^|_)(ts|timestamp|time|datetime|epoch|unix|unixtime)(_|$)|(^|_)(at|on)$/;
/** A name that says date: `order_date`, `date_key`, `day`, `dt`, `yyyymmdd`. */
const DATE_NAME = /date|(^|_)(day|dt|yyyymmdd|ymd)(_|$)/;
/**
 * How the reason of a plan read from integers (or from seconds with a fraction) starts: the run summary lists
 * it (`isReadingGuess`).
 */
const FROM_INTEGERS = 'integers named like a ';
const FROM_FRACTIONS = 'numbers with fractions named like a ';
/** A year and a month, an ISO week or a quarter, without a day: the names that allow reading it as a date, and its formats. */
const PERIODS = [
  {
    unit: 'month',
    /** `month`, `year_month`, `period`, `billing_month`, `mes`, `monat`, `mois`. */
    name: /month|period|date|(^|_)(ym|yyyymm|yearmonth|mes|monat|mois)(_|$)/,
    /** `2022-01`, `01/2022`, `Jan-2022`, `January 2022`, Excel's `Jan-22`. */
    formats: ['%Y-%m', '%Y/%m', '%m/%Y', '%m-%Y', '%b-%Y', '%b %Y', '%B %Y', '%b-%y'],
  },
  {
    unit: 'week',
    /** `week`, `iso_week`, `year_week`, `wk`, `period`, `semana`, `woche`, `kw` (Kalenderwoche), `semaine`. */
    name: /week|period|date|(^|_)(wk|yw|yearweek|semana|woche|kw|semaine)(_|$)/,
    /** ISO 8601 weeks: `2023-W03`, `2023W03`; each read as its Monday, as ISO weeks start. */
    formats: ['%G-W%V', '%GW%V'],
  },
  {
    unit: 'quarter',
    /** `quarter`, `fiscal_quarter`, `qtr`, `period`, `quartal`, `trimestre`. */
    name: /quarter|period|date|(^|_)(qtr|yq|yearquarter|quartal|trimestre)(_|$)/,
    /** `2022-Q1`, `2022 Q1`, `2022Q1`, `Q1 2022`, `Q1-2022`, `Q1/2022`. */
    formats: ['%Y-Q%q', '%Y Q%q', '%YQ%q', '%Y/Q%q', 'Q%q %Y', 'Q%q-%Y', 'Q%q/%Y'],
  },
] as const;
/** How the reason of a plan read from year-months or year-quarters starts (`isReadingGuess`). */
const fromPeriods = (unit: (typeof PERIODS)[number]['unit']): string => `year and ${unit} without a day`;

/**
 * Integer columns whose name and every sampled value say date or time: named like a date and all
 * `YYYYMMDD` from 1900 to 2100 (`20230105`, a data warehouse's date key), DATEs in format `%Y%m%d`, or all
 * Excel serial dates from 1970 to 2100 (`44927`, a workbook's dates saved as numbers), format `excel_serial`; named
 * like a time and all Unix times from 2000 to 2100, in seconds or all in milliseconds, TIMESTAMPs
 * (`EPOCH_FORMATS`). Each with the reason, which the run summary carries. Another integer column (a
 * quantity, an id) is left alone, whatever its values.
 */
async function integerTimes(connection: DuckDBConnection, plans: ColumnPlan[]): Promise<ColumnPlan[]> {
  const out = [...plans];
  for (const [i, plan] of plans.entries()) {
    const unmarked = plan.thousands === undefined && plan.reason === undefined;
    const whole = plan.type === 'BIGINT' && unmarked;
    // Seconds with a fraction, as Python's time.time() writes them: only as a time.
    const fractional =
      plan.type === 'DOUBLE' &&
      unmarked &&
      plan.decimal === undefined &&
      plan.currency === undefined &&
      !plan.percent;
    const [date, time] = [DATE_NAME.test(plan.name), TIME_NAME.test(plan.name)];
    if (!(whole && (date || time)) && !(fractional && time)) continue;
    const [range] = await queryRows(
      connection,
      `SELECT min(n) AS lo, max(n) AS hi,
         count(*) FILTER (WHERE try_strptime(n::VARCHAR, '%Y%m%d') IS NULL) AS not_dates
       FROM (SELECT TRY_CAST(${trimBlanks(`v${i}`)} AS ${whole ? 'BIGINT' : 'DOUBLE'}) AS n FROM ${INFER_SAMPLE}) WHERE n IS NOT NULL`,
    );
    const [lo, hi] = [Number(range?.['lo']), Number(range?.['hi'])];
    if (whole && date && toCount(range?.['not_dates']) === 0 && lo >= 19000101 && hi <= 21001231) {
      out[i] = {
        ...plan,
        type: 'DATE',
        format: '%Y%m%d',
        reason: `${FROM_INTEGERS}date, every sampled one a date written YYYYMMDD: read as dates (${lo}; a profile's type: integer keeps the numbers)`,
      };
      continue;
    }
    if (whole && date && lo >= EXCEL_SERIAL_RANGE[0] && hi <= EXCEL_SERIAL_RANGE[1]) {
      const example = new Date(Date.UTC(1899, 11, 30) + lo * 86_400_000).toISOString().slice(0, 10);
      out[i] = {
        ...plan,
        type: 'DATE',
        format: EXCEL_SERIAL,
        reason: `${FROM_INTEGERS}date, every sampled one an Excel serial date from 1970 to 2100: read as dates (${lo} is ${example}; a profile's type: integer keeps the numbers)`,
      };
      continue;
    }
    if (!time) continue;
    const format = (Object.keys(EPOCH_FORMATS) as EpochFormat[]).find((f) => {
      const [from, to] = epochRange(f);
      return lo >= from && hi <= to;
    });
    if (format === undefined) continue;
    const example = new Date((lo * EPOCH_FORMATS[format]) / 1_000)
      .toISOString()
      .replace('T', ' ')
      .slice(0, 19);
    out[i] = {
      ...plan,
      type: 'TIMESTAMP',
      format,
      reason: `${whole ? FROM_INTEGERS : FROM_FRACTIONS}time, every sampled one ${describeEpoch(format)}: read as date-times in UTC (${lo} is ${example}; a profile's type: ${whole ? 'integer' : 'number'} keeps the numbers)`,
    };
  }
  return out;
}

/**
 * Text columns named like a month (a quarter), a period or a date whose every sampled value is a year and a
 * month (a quarter) in one of PERIODS' formats, from 1900 to 2100 (`2022-01`, a monthly report's `Month`;
 * `2022-Q1`): DATEs, the first day of each month (quarter), with the reason, which the run summary carries.
 * A monthly or quarterly sales table then has an event time.
 */
async function yearPeriods(connection: DuckDBConnection, plans: ColumnPlan[]): Promise<ColumnPlan[]> {
  const out = [...plans];
  for (const [i, plan] of plans.entries()) {
    if (plan.type !== 'VARCHAR' || plan.reason !== undefined) continue;
    const periods = PERIODS.filter((p) => p.name.test(plan.name));
    const formats = periods.flatMap((p) => p.formats.map((format) => ({ unit: p.unit, format })));
    if (formats.length === 0) continue;
    const v = trimBlanks(`v${i}`);
    const reads = formats.map(
      ({ format }, f) =>
        `count(*) FILTER (WHERE year(${dateExpression(v, format)}) BETWEEN 1900 AND 2100) AS f${f}`,
    );
    const [row] = await queryRows(
      connection,
      `SELECT count(*) FILTER (WHERE ${CHECKS.values(v)} AND NOT ${CHECKS.tokens(v)}) AS n,
              ${reads.join(', ')}
       FROM ${INFER_SAMPLE}`,
    );
    const n = toCount(row?.['n']);
    const found = formats.find((_, f) => n > 0 && toCount(row?.[`f${f}`]) === n);
    if (found === undefined) continue;
    const { unit, format } = found;
    const [first] = await queryRows(
      connection,
      `SELECT ${v} AS text, strftime(${dateExpression(v, format)}, '%Y-%m-%d') AS day FROM ${INFER_SAMPLE}
       WHERE ${dateExpression(v, format)} IS NOT NULL ORDER BY 2 LIMIT 1`,
    );
    out[i] = {
      ...plan,
      type: 'DATE',
      format,
      missingTokens: true,
      reason: `${fromPeriods(unit)}, every sampled value ${format}: read as the first day of each ${unit} (${String(first?.['text'])} is ${String(first?.['day'])}; a profile's type: string keeps the text)`,
    };
  }
  return out;
}

/**
 * A column whose every dotted value reads both ways (`1.234`: a decimal point, or a thousands dot) is read
 * as the rest of the file writes numbers: with thousands dots when another column writes decimals with a
 * comma (`12,50`), else with a decimal point. Either way the plan's reason says it was a guess, and the
 * run summary carries it (`guesses`).
 */
function dotsByFile(plans: ColumnPlan[], stats: readonly ColumnStats[]): ColumnPlan[] {
  const comma = plans.find((p) => p.decimal === ',');
  return plans.map((plan, i) => {
    const s = stats[i]!;
    const readByPoint = plan.type === 'DOUBLE' && plan.decimal === undefined && plan.thousands === undefined;
    if (!readByPoint || plan.currency || plan.percent || isDotGrouped(s) !== 'ambiguous') return plan;
    const values = `${formatCount(s.ambiguousDots ?? 0)} sampled values like 1.234 read with "." as a decimal mark or as a thousands separator, and no value proves which`;
    if (comma)
      return {
        ...plan,
        type: 'BIGINT',
        thousands: '.',
        reason: `${AMBIGUOUS}${values}; read as thousands, as the file writes decimals with a comma (column ${comma.name}) (a profile's decimal: "." reads them as decimals)`,
      };
    return {
      ...plan,
      reason: `${AMBIGUOUS}${values}; read as decimals (a profile's type: integer with thousands: "." reads them as thousands)`,
    };
  });
}

/**
 * A file that writes decimals with a comma (`12,50`) comes from where dates are day-first: its
 * ambiguous date columns are read D/M/Y, still marked ambiguous and with the reason, instead of the
 * M/D/Y a tie otherwise picks.
 */
function dayFirstWithDecimalCommas(plans: ColumnPlan[]): ColumnPlan[] {
  const comma = plans.find((p) => p.decimal === ',');
  if (!comma) return plans;
  return plans.map((plan) => {
    const dayFirst = plan.format?.replace('%m/%d', '%d/%m').replace('%m-%d', '%d-%m');
    if (!plan.ambiguous || !dayFirst || dayFirst === plan.format || !plan.candidates?.includes(dayFirst))
      return plan;
    return {
      ...plan,
      format: dayFirst,
      reason: `day first, as the file writes decimals with a comma (column ${comma.name})`,
    };
  });
}
