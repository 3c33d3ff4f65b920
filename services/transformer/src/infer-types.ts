/**
 * Column type inference, in one DuckDB aggregate over the first rows. Kept apart from the cleaning so a
 * profile (a later feature) can replace or override the plan it returns.
 *
 * Rules, applied to trimmed, non-empty values (a type wins when at least 98% of them parse):
 * BIGINT (plain integers, and no value with a leading zero: `05408` is an identifier, so VARCHAR),
 * DOUBLE (plain decimals, same leading-zero rule), DATE (the candidate format that parses the most
 * values; M/D/Y before D/M/Y when both parse everything, and the column is marked ambiguous), TIMESTAMP
 * (ISO date-times), BOOLEAN (true/false/yes/no), else VARCHAR. The missing tokens (NA, N/A, null, None,
 * -) are left out of the count, and become NULL, only when the column is typed; a text column keeps them.
 * Numbers with `,` thousands separators (`1,234.50`, only possible inside quotes in a comma-delimited file)
 * count as numbers, and the plan records the separator.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse';
import { type JsonRow, queryRows, toCount } from './duckdb-session';

export type ColumnType = 'BIGINT' | 'DOUBLE' | 'DATE' | 'TIMESTAMP' | 'BOOLEAN' | 'VARCHAR';

export const DATE_FORMATS = [
  '%Y-%m-%d',
  '%m/%d/%Y',
  '%d/%m/%Y',
  '%Y/%m/%d',
  '%d.%m.%Y',
  '%m-%d-%Y',
  '%d-%m-%Y',
] as const;

/**
 * The shape each date format accepts (4-digit years). `try_strptime` is ~5x slower on text that is not a
 * date than on dates, so it only runs behind this cheap RE2 match.
 */
export function dateShape(format: string): string {
  return format
    .replaceAll('%Y', '[0-9]{4}')
    .replaceAll('%m', '[0-9]{1,2}')
    .replaceAll('%d', '[0-9]{1,2}')
    .replaceAll('.', '[.]');
}

/** `try_strptime` guarded by the format's shape: NULL unless `t` is a date in `format`. */
export function dateExpression(t: string, format: string): string {
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(dateShape(format))}) THEN try_strptime(${t}, ${quoteLiteral(format)}) END`;
}

/** `TRY_CAST` guarded by a pattern: NULL unless `t` matches it and casts. */
export function guardedCast(t: string, pattern: string, type: string): string {
  return `CASE WHEN regexp_full_match(${t}, ${quoteLiteral(pattern)}) THEN TRY_CAST(${t} AS ${type}) END`;
}

/** Compared lower-case. */
export const MISSING_TOKENS = ['na', 'n/a', 'null', 'none', '-'] as const;

export const TRUE_TOKENS = ['true', 'yes'] as const;
export const FALSE_TOKENS = ['false', 'no'] as const;

/** Share of the non-missing values that must parse for a type to be chosen; the rest is quarantined. */
export const TYPE_THRESHOLD = 0.98;

export const DEFAULT_SAMPLE_ROWS = 100_000;

/** RE2 patterns (DuckDB `regexp_full_match`), stricter than TRY_CAST, which accepts `1.5`, `0x1F`, `1_000` as BIGINT. */
export const INTEGER_PATTERN = '[+-]?[0-9]+';
export const NUMBER_PATTERN = '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?';
export const TIMESTAMP_PATTERN =
  '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?Z?';
const LEADING_ZERO_PATTERN = '^[+-]?0[0-9]';

/** RE2 pattern of an integer with an optional thousands separator `sep` (groups of exactly 3 digits). */
export function groupedIntegerPattern(sep: string): string {
  const s = sep === '.' ? '[.]' : sep === ' ' ? ' ' : sep;
  return `[+-]?([0-9]{1,3}(${s}[0-9]{3})+|[0-9]+)`;
}

/** A decimal with an optional thousands separator and decimal mark `dec`. */
export function groupedNumberPattern(sep: string | undefined, dec: string): string {
  const d = dec === '.' ? '[.]' : dec;
  const whole = sep === undefined ? '[+-]?[0-9]+' : groupedIntegerPattern(sep);
  return `(${whole}(${d}[0-9]*)?|[+-]?${d}[0-9]+)([eE][+-]?[0-9]+)?`;
}

/** Values with at least one `,` group: the evidence for a thousands separator. */
const GROUPED_NUMBER_PATTERN = '[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?';
const GROUPED_INTEGER_PATTERN = '[+-]?[0-9]{1,3}(,[0-9]{3})+';

/** How one source column becomes one typed column. */
export interface ColumnPlan {
  /** Header text as found in the file. */
  source: string;
  /** snake_case identifier in the staged table. */
  name: string;
  type: ColumnType;
  /** strptime format, for DATE. */
  format?: string;
  /** Another date format parses the same values (e.g. both M/D/Y and D/M/Y). */
  ambiguous: boolean;
  /** With `ambiguous`: every date format that parses as many values. */
  candidates?: string[];
  /** Whether NA, N/A, null, None, - mean NULL in this column. */
  missingTokens: boolean;
  /** Values read as missing (compared lower-case); overrides `missingTokens` when set (a profile). */
  tokens?: readonly string[];
  /** Thousands separator of a BIGINT or DOUBLE column (`1,234.50`). */
  thousands?: string;
  /** Decimal mark of a DOUBLE column; `.` when unset. */
  decimal?: string;
  /** Zero-pad all-digit text to this width (ZIP codes). */
  pad?: number;
  /** RE2 pattern a text value must match, else the row is quarantined (`invalid_pattern`). */
  pattern?: string;
  /** Text normalisation applied before anything else (text columns). */
  text?: PlanTextRule;
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
  /** Parsed values per DATE_FORMATS entry. */
  dates: number[];
  timestamps: number;
  booleans: number;
  /** Numbers with `,` thousands groups, e.g. 1,234.50 (not counted in `numbers`). */
  grouped?: number;
  /** Of those, integers (1,234). */
  groupedIntegers?: number;
}

export interface TypeChoice {
  type: ColumnType;
  format?: string;
  ambiguous: boolean;
  missingTokens: boolean;
  thousands?: string;
  /** Every date format that parses as many values as the chosen one (an ambiguous column has 2+). */
  candidates?: string[];
}

export function chooseType(stats: ColumnStats): TypeChoice {
  const candidates = stats.values - stats.missingTokens;
  const text: TypeChoice = { type: 'VARCHAR', ambiguous: false, missingTokens: false };
  if (candidates <= 0) return text;
  const enough = (count: number): boolean => count >= TYPE_THRESHOLD * candidates;
  const typed = (type: ColumnType, format?: string, ambiguous = false): TypeChoice => ({
    type,
    ...(format === undefined ? {} : { format }),
    ambiguous,
    missingTokens: true,
  });
  if (stats.leadingZeros === 0 && enough(stats.integers)) return typed('BIGINT');
  if (stats.leadingZeros === 0 && enough(stats.numbers)) return typed('DOUBLE');
  const grouped = stats.grouped ?? 0;
  if (stats.leadingZeros === 0 && grouped > 0) {
    if (enough(stats.integers + (stats.groupedIntegers ?? 0))) return { ...typed('BIGINT'), thousands: ',' };
    if (enough(stats.numbers + grouped)) return { ...typed('DOUBLE'), thousands: ',' };
  }
  const best = Math.max(...stats.dates);
  if (best > 0 && enough(best)) {
    const index = stats.dates.indexOf(best); // first in DATE_FORMATS order: M/D/Y before D/M/Y
    const ties = DATE_FORMATS.filter((_, i) => stats.dates[i] === best);
    return {
      ...typed('DATE', DATE_FORMATS[index], ties.length > 1),
      ...(ties.length > 1 ? { candidates: [...ties] } : {}),
    };
  }
  if (enough(stats.timestamps)) return typed('TIMESTAMP');
  if (enough(stats.booleans)) return typed('BOOLEAN');
  return text;
}

const BLANKS = [' ', '\t', '\r', '\n'];
const HAS_EDGE_BLANK = (sql: string): string =>
  BLANKS.flatMap((blank) => [
    `${sql} LIKE ${quoteLiteral(`${blank}%`)}`,
    `${sql} LIKE ${quoteLiteral(`%${blank}`)}`,
  ]).join(' OR ');

/**
 * Trimmed text of a SQL expression: ASCII blanks only (a no-break space is content). `trim` allocates a
 * new string for every value; the LIKE guard (prefix/suffix checks, no allocation) makes it 3x cheaper
 * on the usual data, where few values need it.
 */
export function trimmed(sql: string): string {
  return `CASE WHEN ${HAS_EDGE_BLANK(sql)} THEN trim(${sql}, ${quoteLiteral(BLANKS.join(''))}) ELSE ${sql} END`;
}

export const inList = (values: readonly string[]): string => values.map(quoteLiteral).join(', ');

const filtered = (condition: string): string => `count(*) FILTER (WHERE ${condition})`;

/** Any of the date formats' shapes; the per-format counts only run for columns where this is common. */
const ANY_DATE_SHAPE = '[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}';

/** Regular expressions guard the casts: RE2 rejects text faster than a failing TRY_CAST or strptime. */
const CHECKS = {
  values: (v: string) => `${v} <> ''`,
  tokens: (v: string) => `lower(${v}) IN (${inList(MISSING_TOKENS)})`,
  integers: (v: string) => `${guardedCast(v, INTEGER_PATTERN, 'BIGINT')} IS NOT NULL`,
  zeros: (v: string) => `regexp_matches(${v}, ${quoteLiteral(LEADING_ZERO_PATTERN)})`,
  numbers: (v: string) => `${guardedCast(v, NUMBER_PATTERN, 'DOUBLE')} IS NOT NULL`,
  dateish: (v: string) => `regexp_full_match(${v}, ${quoteLiteral(ANY_DATE_SHAPE)})`,
  timestamps: (v: string) => `${guardedCast(v, TIMESTAMP_PATTERN, 'TIMESTAMP')} IS NOT NULL`,
  booleans: (v: string) => `lower(${v}) IN (${inList([...TRUE_TOKENS, ...FALSE_TOKENS])})`,
  grouped: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(GROUPED_NUMBER_PATTERN)})`,
  groupedInts: (v: string) =>
    `${v} LIKE '%,%' AND regexp_full_match(${v}, ${quoteLiteral(GROUPED_INTEGER_PATTERN)})`,
};
type Check = keyof typeof CHECKS;
const ALL_CHECKS = Object.keys(CHECKS) as Check[];
const NUMERIC_CHECKS: Check[] = ['integers', 'zeros', 'numbers', 'grouped', 'groupedInts'];

/** The temporary table of trimmed sample values (`v0..vN`) that inference leaves for the candidate keys. */
export const INFER_SAMPLE = 'infer_sample';

/** Rows of the first pass, which rules out the types a column cannot have (see `neededChecks`). */
const PREFIX_ROWS = 5_000;

/** Filtered counts as [expression, alias] pairs. */
type Count = [string, string];

function countChecks(columns: ReadonlyArray<{ i: number; checks: readonly Check[] }>): Count[] {
  return columns.flatMap(({ i, checks }) =>
    checks.map((check): Count => [filtered(CHECKS[check](`v${i}`)), `s${i}_${check}`]),
  );
}

/**
 * The counts over the first `rows` rows of the sample. The sample is one DuckDB row group, which one
 * thread scans: split into `parts` rowid ranges (one per thread) and summed, the scan uses every core.
 */
async function sampleCounts(
  connection: DuckDBConnection,
  counts: readonly Count[],
  rows: number,
  parts: number,
): Promise<JsonRow> {
  if (counts.length === 0) return {};
  const select = (where: string) =>
    `SELECT ${counts.map(([sql, alias]) => `${sql} AS ${alias}`).join(',\n')} FROM ${INFER_SAMPLE} WHERE ${where}`;
  const size = Math.ceil(rows / parts);
  const ranges = Array.from(
    { length: parts },
    (_, k) => `rowid >= ${k * size} AND rowid < ${(k + 1) * size}`,
  );
  const [row = {}] = await queryRows(
    connection,
    `SELECT ${counts.map(([, alias]) => `sum(${alias}) AS ${alias}`).join(', ')} FROM (${ranges.map(select).join('\nUNION ALL\n')})`,
  );
  return row;
}

/**
 * The checks the full sample still needs for a column, given the counts over its first rows. A family
 * of checks is left out when not one of the prefix's values matched it and the prefix alone holds more
 * values than the threshold lets fail over the whole sample: the type is then impossible, so the
 * choice is the same as with every count, and a text column skips every regular expression. The
 * counts left out are reported as 0.
 */
function neededChecks(prefix: Record<string, unknown>, i: number, rows: number): Check[] {
  const n = (check: Check) => toCount(prefix[`s${i}_${check}`]);
  const candidates = n('values') - n('tokens');
  const decided = candidates > (1 - TYPE_THRESHOLD) * rows;
  const impossible = (checks: Check[]) => decided && checks.every((check) => n(check) === 0);
  return ALL_CHECKS.filter((check) => {
    if (NUMERIC_CHECKS.includes(check)) return !impossible(['integers', 'numbers', 'grouped']);
    if (check === 'dateish' || check === 'timestamps') return !impossible([check]);
    return true;
  });
}

function dateCounts(v: string, i: number): Count[] {
  return DATE_FORMATS.map(
    (format, f): Count => [filtered(`${dateExpression(v, format)} IS NOT NULL`), `s${i}_date${f}`],
  );
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
  sampleRows = DEFAULT_SAMPLE_ROWS,
): Promise<{ plans: ColumnPlan[]; stats: ColumnStats[] }> {
  const values = rawColumns.map((c, i) => `${trimmed(quoteIdentifier(c))} AS v${i}`);
  // A LIMIT over a file read by several threads parses far past the rows it keeps; one thread stops there.
  const [threads] = await queryRows(connection, "SELECT current_setting('threads') AS n");
  await connection.run('SET threads = 1');
  try {
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${INFER_SAMPLE} AS SELECT ${values.join(', ')} FROM ${relation} LIMIT ${sampleRows}`,
    );
  } finally {
    await connection.run(`SET threads = ${toCount(threads?.['n'])}`);
  }
  const parts = toCount(threads?.['n']);
  const [sampled] = await queryRows(connection, `SELECT count(*) AS n FROM ${INFER_SAMPLE}`);
  const rows = toCount(sampled?.['n']);
  const all = rawColumns.map((_, i) => ({ i, checks: ALL_CHECKS }));
  let needed = all;
  if (rows > PREFIX_ROWS) {
    const prefix = await sampleCounts(connection, countChecks(all), PREFIX_ROWS, 1);
    needed = all.map(({ i }) => ({ i, checks: neededChecks(prefix, i, rows) }));
  }
  const base = await sampleCounts(connection, countChecks(needed), rows, parts);
  // Second pass, over the same sample, only for columns that look like dates often enough.
  const dateish = rawColumns.flatMap((_, i) => {
    const candidates = toCount(base[`s${i}_values`]) - toCount(base[`s${i}_tokens`]);
    return candidates > 0 && toCount(base[`s${i}_dateish`]) >= TYPE_THRESHOLD * candidates ? [i] : [];
  });
  const dates = await sampleCounts(
    connection,
    dateish.flatMap((i) => dateCounts(`v${i}`, i)),
    rows,
    parts,
  );
  const stats = rawColumns.map(
    (_, i): ColumnStats => ({
      values: toCount(base[`s${i}_values`]),
      missingTokens: toCount(base[`s${i}_tokens`]),
      integers: toCount(base[`s${i}_integers`]),
      leadingZeros: toCount(base[`s${i}_zeros`]),
      numbers: toCount(base[`s${i}_numbers`]),
      dates: DATE_FORMATS.map((_, f) => toCount(dates[`s${i}_date${f}`])),
      timestamps: toCount(base[`s${i}_timestamps`]),
      booleans: toCount(base[`s${i}_booleans`]),
      grouped: toCount(base[`s${i}_grouped`]),
      groupedIntegers: toCount(base[`s${i}_groupedInts`]),
    }),
  );
  const plans = stats.map((s, i) => ({ source: headers[i] ?? '', name: names[i]!, ...chooseType(s) }));
  return { plans, stats };
}
