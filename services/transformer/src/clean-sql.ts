/**
 * The cleaning, as DuckDB SQL built from the column plans: trim, empty (and, in typed columns, the
 * missing tokens) -> NULL, casts with explicit formats, the columns whose non-empty value failed its cast,
 * then exact-duplicate detection. Identifiers are internal (`c<i>` raw, `t<i>` trimmed text, `v<i>` typed)
 * until the final projection renames them to the planned, quoted names. A row keeps the list of its failed
 * columns (`__failed`) rather than a flag a column: a table of N columns stores N values, not 2N (DuckDB
 * holds a block of memory per stored column while it writes).
 */

import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import { balancedSql, WIDE_TABLE_COLUMNS } from './duckdb-session';
import { describeEpoch, EXCEL_SERIAL, EXCEL_SERIAL_RANGE, epochRange, isEpochFormat } from './epoch-formats';
import {
  type ColumnPlan,
  type ColumnType,
  dateExpression,
  epochExpression,
  excelSerialExpression,
  excelTextSql,
  FALSE_TOKENS,
  FORMAT_SEPARATOR,
  groupedIntegerPattern,
  groupedNumberPattern,
  guardedCast,
  INTEGER_PATTERN,
  inList,
  isoTimestamp,
  leadingMinus,
  MISSING_TOKENS,
  NUMBER_PATTERN,
  noBreakSpaces,
  regexLiteral,
  TRUE_TOKENS,
  thousandsMarks,
  timeOfDay,
  trimBlanks,
  trimmed,
} from './infer-types';
import { type NumberedRows, rawColumn } from './parse-csv';
import { NOT_DATA_REASONS, summaryMarkSql } from './summary-rows';

const value = (i: number): string => `v${i}`;
const text = (i: number): string => `t${i}`;

type CastPlan = Pick<ColumnPlan, 'type' | 'format' | 'thousands' | 'decimal' | 'currency' | 'percent'>;

/**
 * Money and percentages as a plain number's text: `($1,234.50)` and `$(1,234.50)` -> `-1,234.50`, `$-5` ->
 * `-5`, `12.50 €` -> `12.50`, the accounting zero `$ -` -> `0`, `8.5 %` -> `8.5`; the separators are then read
 * as in any number.
 */
function unitlessText(plan: CastPlan, t: string): string {
  if (plan.currency !== undefined) {
    // A code or a sign may carry an abbreviation's dot (`Rs. 1,299`, `125 kr.`); a one-character symbol not.
    const symbol = regexLiteral(plan.currency) + ([...plan.currency].length > 1 ? '[.]?' : '');
    const bare = `regexp_replace(${t}, ${quoteLiteral(`${symbol}| `)}, '', 'g')`;
    return `regexp_replace(regexp_replace(${bare}, '^[(](.*)[)]$', '-\\1'), '^-$', '0')`;
  }
  return plan.percent ? `regexp_replace(${t}, ' ?%$', '')` : t;
}

/** Text of a number in plain form: thousands separators dropped, decimal mark `.`. */
function plainNumber(plan: CastPlan, t: string): string {
  let out = t;
  for (const mark of plan.thousands === undefined ? [] : thousandsMarks(plan.thousands))
    out = `replace(${out}, ${quoteLiteral(mark)}, '')`;
  if (plan.decimal !== undefined && plan.decimal !== '.')
    out = `replace(${out}, ${quoteLiteral(plan.decimal)}, '.')`;
  return out;
}

/** The typed expression of trimmed, non-empty text `t`; NULL when `t` does not parse. */
export function castExpression(plan: CastPlan, t: string): string {
  const separators = plan.thousands !== undefined || (plan.decimal !== undefined && plan.decimal !== '.');
  // A negative number may be written `(1,234.50)` or `1.234,56-`; money reads its own (`($5.00)`, unitlessText).
  // A no-break space reads as a space where a number may hold spaces: thousands groups (`1 234,50`), a currency
  // or a percent sign after a space (`1 234,56 €`). Elsewhere it fails the number, as any other letter.
  const spaced = plan.thousands === ' ' || plan.currency !== undefined || plan.percent ? noBreakSpaces(t) : t;
  const n = leadingMinus(spaced);
  switch (plan.type) {
    case 'BIGINT':
      if (plan.thousands !== undefined)
        return `CASE WHEN regexp_full_match(${n}, ${quoteLiteral(groupedIntegerPattern(plan.thousands))}) THEN TRY_CAST(${plainNumber(plan, n)} AS BIGINT) END`;
      return guardedCast(n, INTEGER_PATTERN, 'BIGINT');
    case 'DOUBLE':
      if (plan.currency !== undefined || plan.percent) {
        const unitless = unitlessText(plan, spaced);
        const plain = plainNumber(plan, unitless);
        // `5.2%` is read as `5.2e-2`, the double nearest 0.052; 5.2 / 100 would be 0.052000000000000005.
        const number = plan.percent
          ? `COALESCE(TRY_CAST(${plain} || 'e-2' AS DOUBLE), TRY_CAST(${plain} AS DOUBLE) / 100)`
          : `TRY_CAST(${plain} AS DOUBLE)`;
        return `CASE WHEN regexp_full_match(${unitless}, ${quoteLiteral(groupedNumberPattern(plan.thousands, plan.decimal ?? '.'))}) THEN ${number} END`;
      }
      if (separators)
        return `CASE WHEN regexp_full_match(${n}, ${quoteLiteral(groupedNumberPattern(plan.thousands, plan.decimal ?? '.'))}) THEN TRY_CAST(${plainNumber(plan, n)} AS DOUBLE) END`;
      return guardedCast(n, NUMBER_PATTERN, 'DOUBLE');
    case 'DATE':
      if (plan.format === EXCEL_SERIAL) return excelSerialExpression(t);
      return `CAST(${dateExpression(t, plan.format ?? '%Y-%m-%d')} AS DATE)`;
    case 'TIMESTAMP':
      if (isEpochFormat(plan.format)) return epochExpression(t, plan.format);
      if (plan.format !== undefined) return dateExpression(t, plan.format);
      return isoTimestamp(t);
    case 'TIME':
      return timeOfDay(t);
    case 'BOOLEAN':
      return `CASE WHEN lower(${t}) IN (${inList(TRUE_TOKENS)}) THEN true WHEN lower(${t}) IN (${inList(FALSE_TOKENS)}) THEN false END`;
    case 'VARCHAR':
      return t;
  }
}

export function invalidReason(type: ColumnType, plan?: Pick<ColumnPlan, 'pattern' | 'contract'>): string {
  if (plan?.contract) return 'type_changed';
  if (type === 'VARCHAR' && plan?.pattern !== undefined) return 'invalid_pattern';
  return `invalid_${type.toLowerCase()}`;
}

/** "is not a date in format %m/%d/%Y", completing `column order_date: "13/45/2024" ...`. */
export function invalidDescription(
  plan: Pick<ColumnPlan, 'type' | 'format' | 'pattern' | 'thousands' | 'decimal' | 'currency' | 'percent'>,
): string {
  const separators = [
    ...(plan.currency === undefined ? [] : [`currency ${JSON.stringify(plan.currency)}`]),
    ...(plan.percent ? ['a percentage'] : []),
    ...(plan.thousands === undefined ? [] : [`thousands separator ${JSON.stringify(plan.thousands)}`]),
    ...(plan.decimal === undefined ? [] : [`decimal mark ${JSON.stringify(plan.decimal)}`]),
  ];
  const withSeparators = separators.length ? ` (${separators.join(', ')})` : '';
  switch (plan.type) {
    case 'BIGINT':
      return `is not an integer${withSeparators}`;
    case 'DOUBLE':
      return `is not a number${withSeparators}`;
    case 'DATE':
      if (plan.format === EXCEL_SERIAL)
        return `is not an Excel serial date from 1970 to 2100 (${EXCEL_SERIAL_RANGE.join(' to ')})`;
      return `is not a date in format ${(plan.format ?? '%Y-%m-%d').split(FORMAT_SEPARATOR).join(' or ')}`;
    case 'TIMESTAMP':
      if (isEpochFormat(plan.format))
        return `is not ${describeEpoch(plan.format)} (${epochRange(plan.format).join(' to ')})`;
      return plan.format === undefined
        ? 'is not an ISO date-time'
        : `is not a date-time in format ${plan.format}`;
    case 'TIME':
      return 'is not a time of day (13:08, 13:08:30, 1:08 PM)';
    case 'BOOLEAN':
      return 'is not a boolean (true/false/yes/no)';
    case 'VARCHAR':
      return plan.pattern === undefined ? 'is not text' : `does not match the pattern ${plan.pattern}`;
  }
}

/** Whether values can fail this column (a cast, or a text pattern), so it has a flag `b<i>`. */
const isTyped = (plan: ColumnPlan): boolean => plan.type !== 'VARCHAR' || plan.pattern !== undefined;

/** Whether a failed value rejects its row; under the contract's discard_value it only becomes NULL. */
const rejectsRow = (plan: ColumnPlan): boolean =>
  isTyped(plan) && plan.contract?.onMismatch !== 'discard_value';

/** The tokens read as missing in this column, lower-case. */
export function missingTokensOf(plan: ColumnPlan): string[] {
  if (plan.tokens !== undefined)
    return [...new Set(plan.tokens.map((t) => t.trim().toLowerCase()).filter(Boolean))];
  return plan.missingTokens ? [...MISSING_TOKENS] : [];
}

/** nbsp -> space, NFC, collapsed blanks: the text rule of a plan over SQL text `sql`. */
export function normalizeTextSql(plan: ColumnPlan, sql: string): string {
  const rule = plan.text;
  if (!rule || plan.type !== 'VARCHAR') return sql;
  let out = sql;
  if (rule.nbsp) out = `replace(replace(${out}, chr(160), ' '), chr(8239), ' ')`;
  if (rule.nfc) out = `nfc_normalize(${out})`;
  if (rule.collapseSpaces) out = `regexp_replace(${out}, '[ \t]{2,}', ' ', 'g')`;
  return out;
}

/** Zero-padding of all-digit text to `plan.pad` characters. */
function padSql(plan: ColumnPlan, t: string): string {
  if (plan.pad === undefined || plan.type !== 'VARCHAR') return t;
  return `CASE WHEN length(${t}) < ${plan.pad} AND regexp_full_match(${t}, '[0-9]+') THEN lpad(${t}, ${plan.pad}, '0') ELSE ${t} END`;
}

const anyOf = (conditions: readonly string[]): string => balancedSql('OR', conditions);

export interface TypedRowsOptions {
  /** Keep every row's raw text in `__raw` (a profile's rules can reject any row), not only failed rows'. */
  rawTextOfAll: boolean;
  /** Columns read through their NFKC value map `nfkc_<i>` (see refine.ts `createNfkcMaps`). */
  nfkc: readonly number[];
  /** The file's own columns, the first ones: the raw text leaves out those its path adds (partitions). */
  fileColumns?: number;
}

/**
 * The typing query over one file's `read_csv` relation (`relation`, text columns c0..cN): per row
 * `__file`, the typed values `v<i>`, `__failed` (the indexes of the typed columns whose value failed, NULL
 * when none did), `__bad` (a failure that rejects the row), `__dup`
 * (false until `markDuplicatesSql`), `__hash` of the values (duplicates are looked for among equal
 * hashes only, computed here while the rows are typed in parallel), and what the quarantine needs: `__raw` (the fields re-assembled as a
 * CSV line; for failed rows only unless `rawTextOfAll`), `__reason` and `__message` (failed rows). Rows
 * come out in file order, so the table they are inserted into is numbered by its rowid (`numberRows`).
 * `__summary` marks a row shaped like a footer of totals (summary-rows.ts), which is quarantined once its
 * position in the file is known; such a row keeps its `__raw` for that.
 */
export function typedRowsSql(
  plans: readonly ColumnPlan[],
  relation: string,
  fileIndex: number,
  options: TypedRowsOptions,
): string {
  const raw = plans.map((_, i) => quoteIdentifier(rawColumn(i)));
  const nfkc = new Set(options.nfkc);
  // An NFKC column is cleaned from its mapped value `n<i>`; the map's join does not keep the order, so
  // the rows are numbered before it and sorted after.
  const source =
    nfkc.size === 0
      ? relation
      : `(SELECT r.*, ${options.nfkc.map((i) => `coalesce(m${i}.target, r.${raw[i]}) AS n${i}`).join(', ')}
   FROM (SELECT *, row_number() OVER () AS __order FROM ${relation}) r
   ${options.nfkc.map((i) => `LEFT JOIN nfkc_${i} m${i} ON m${i}.source = r.${raw[i]}`).join(' ')})`;
  const keys = [...raw, ...(nfkc.size ? ['__order'] : [])].join(', ');
  // One level a step, each referring to the one below by name, so no expression is written twice
  // (NULLIF(x, '') is `CASE WHEN x = '' THEN NULL ELSE x END`): a wide table is planned without the
  // common-subexpression optimizer (duckdb-session.ts), which would otherwise have computed it once. Each
  // level also costs DuckDB a vector per column it passes on, per thread, so a level passes on only what
  // the levels above read.
  const inputOf = (i: number): string => (nfkc.has(i) ? `n${i}` : raw[i]!);
  const normalizes = plans.some((plan, i) => normalizeTextSql(plan, inputOf(i)) !== inputOf(i));
  const normalized = plans.map((plan, i) => `${normalizeTextSql(plan, inputOf(i))} AS ${text(i)}`);
  const trimmedText = plans.map((plan, i) => {
    const trim = trimmed(normalizes ? text(i) : inputOf(i));
    return `${plan.excelText ? excelTextSql(trim) : trim} AS ${text(i)}`;
  });
  // The default missing tokens (`N/A`, `#DIV/0!`) fail every cast but money's (`-` is its zero): in a
  // column cast to another type, they are looked for only where the cast failed, not in every value (`lower`
  // of every cell cost a fifth of the typing at 1M rows). A profile's own tokens (`-1`, `999`) may cast, and
  // text casts nothing: theirs are dropped before the cast.
  const castsText = (plan: ColumnPlan) =>
    plan.type !== 'VARCHAR' && plan.tokens === undefined && plan.currency === undefined;
  // Each column's tokens, looked for before its cast or after it.
  const early = plans.map((plan) => (castsText(plan) ? [] : missingTokensOf(plan)));
  const late = plans.map((plan) => (castsText(plan) ? missingTokensOf(plan) : []));
  const withoutMissing = plans.map((_, i) => {
    const tokens = early[i]!;
    const missing = [
      `${text(i)} = ''`,
      ...(tokens.length > 0 ? [`lower(${text(i)}) IN (${inList(tokens)})`] : []),
    ];
    return `CASE WHEN ${missing.join(' OR ')} THEN NULL ELSE ${text(i)} END AS ${text(i)}`;
  });
  const cast = plans.flatMap((plan, i) => [
    ...(isTyped(plan) ? [text(i)] : []),
    `${plan.type === 'VARCHAR' ? padSql(plan, text(i)) : castExpression(plan, text(i))} AS ${value(i)}`,
  ]);
  const afterCast = plans.flatMap((plan, i) => {
    const tokens = late[i]!;
    const kept = isTyped(plan) ? [text(i)] : [];
    if (tokens.length === 0) return [...kept, value(i)];
    return [
      `CASE WHEN ${value(i)} IS NULL AND ${text(i)} IS NOT NULL AND lower(${text(i)}) IN (${inList(tokens)}) THEN NULL ELSE ${text(i)} END AS ${text(i)}`,
      value(i),
    ];
  });
  const tokensAfterCast = late.some((tokens) => tokens.length > 0);
  const castLevel = `SELECT ${keys}, ${cast.join(', ')} FROM (`;
  // Marked from the text (a footer's label may sit in a typed column, `Total` in a date), and only where no
  // date holds a date: such a row is no footer (`provesNoFooter`), and most rows are that, so the
  // label checks of every cell (a fifth of the typing at 1M rows) run for few rows.
  const mark = summaryMarkSql(
    plans.map((plan, i) => (isTyped(plan) ? text(i) : value(i))),
    plans.map((plan) => plan.source),
  );
  const dated = plans.flatMap((plan, i) => (provesNoFooter(plan) ? [`${value(i)} IS NULL`] : []));
  const summary = `${dated.length === 0 ? mark : `CASE WHEN ${balancedSql('AND', dated)} THEN ${mark} END`} AS __summary`;
  const values = plans.map((_, i) => value(i));
  const typed = plans.flatMap((plan, i) => (isTyped(plan) ? [i] : []));
  const failed =
    typed.length === 0
      ? 'NULL::INTEGER[]'
      : `CASE WHEN ${anyOf(typed.map((i) => failedSql(plans[i]!, i)))} THEN list_filter([${typed.map((i) => `CASE WHEN ${failedSql(plans[i]!, i)} THEN ${i} END`).join(', ')}], lambda i: i IS NOT NULL) END`;
  const rejecting = plans.flatMap((plan, i) => (rejectsRow(plan) ? [failedSql(plan, i)] : []));
  const bad = rejecting.length === 0 ? 'false' : anyOf(rejecting);
  const wide = plans.length > WIDE_TABLE_COLUMNS;
  const onBad = (sql: string) => `CASE WHEN __bad THEN ${sql} END`;
  // A summary row may type cleanly, yet its raw text is needed should it be quarantined as a footer.
  const onQuarantinable = (sql: string) => `CASE WHEN __bad OR __summary IS NOT NULL THEN ${sql} END`;
  // The raw fields as one list (of failed rows, unless a wide table's raw text is kept for every row), for
  // the message and a wide table's raw text: one expression in place of one a column.
  const fields = `[${raw.join(', ')}]`;
  const own = options.fileColumns ?? raw.length;
  const rawText = wide
    ? `array_to_string(list_transform(${own < raw.length ? `__fields[1:${own}]` : '__fields'}, lambda x: ${csvField('x')}), ',')`
    : `concat_ws(',', ${raw.slice(0, own).map(csvField).join(', ')})`;
  return `SELECT ${fileIndex}::INTEGER AS __file, ${values.join(', ')}, __failed, __bad, false AS __dup,
  hash(${values.join(', ')}) AS __hash,
  ${wide ? (options.rawTextOfAll ? rawText : onQuarantinable(rawText)) : '__raw'} AS __raw, __summary,
  ${onBad(failureReason(plans))}::VARCHAR AS __reason,
  ${onBad(failureMessage(plans))}::VARCHAR AS __message
FROM (
  SELECT ${values.join(', ')}, __failed, __bad, __summary${nfkc.size ? ', __order' : ''},
    ${options.rawTextOfAll && wide ? fields : onQuarantinable(fields)} AS __fields${wide ? '' : `,\n    ${options.rawTextOfAll ? rawText : onQuarantinable(rawText)} AS __raw`} FROM (
  SELECT ${keys}, ${values.join(', ')}, ${failed} AS __failed, ${bad} AS __bad, ${summary} FROM (
    ${tokensAfterCast ? `SELECT ${keys}, ${afterCast.join(', ')} FROM (${castLevel}` : castLevel}
      SELECT ${keys}, ${withoutMissing.join(', ')} FROM (
        SELECT ${keys}, ${trimmedText.join(', ')} FROM ${
          normalizes ? `(\n          SELECT ${keys}, ${normalized.join(', ')} FROM ${source})` : source
        })))))${tokensAfterCast ? ')' : ''}${nfkc.size ? '\nORDER BY __order' : ''}`;
}

/**
 * Whether a value of this column proves its row is no footer of totals (summary-rows.ts): a date, date-time
 * or time written with separators or month names is neither a label nor a number. Not one written as digits
 * alone (`20230105`, an Excel serial, a Unix time), which a footer's total could be.
 */
function provesNoFooter(plan: ColumnPlan): boolean {
  if (plan.type === 'TIME') return true;
  if (plan.type !== 'DATE' && plan.type !== 'TIMESTAMP') return false;
  if (plan.format === undefined) return true;
  if (isEpochFormat(plan.format) || plan.format === EXCEL_SERIAL) return false;
  return plan.format
    .split(FORMAT_SEPARATOR)
    .every((format) => /[^%]|%[aAbB]/.test(format.replace(/%[^aAbB]/g, '')));
}

/** Whether column `i`'s value failed (`t<i>` its text, `v<i>` its value): its flag. */
function failedSql(plan: ColumnPlan, i: number): string {
  const failed =
    plan.type === 'VARCHAR'
      ? `NOT regexp_full_match(${value(i)}, ${quoteLiteral(plan.pattern ?? '.*')})`
      : `${value(i)} IS NULL`;
  return `(${text(i)} IS NOT NULL AND ${failed})`;
}

/** A SQL list literal of `values`, read by column index `i` as `list[i + 1]` (NULL where a value is undefined). */
const listByColumn = (values: ReadonlyArray<string | undefined>): string =>
  `[${values.map((v) => (v === undefined ? 'NULL' : quoteLiteral(v))).join(', ')}]`;

/** The indexes in `__failed` of the columns whose failure rejects the row. */
function rejectedSql(plans: readonly ColumnPlan[]): string {
  if (plans.every((plan) => !isTyped(plan) || rejectsRow(plan))) return '__failed';
  const rejects = `[${plans.map((plan) => rejectsRow(plan)).join(', ')}]`;
  return `list_filter(__failed, lambda i: ${rejects}[i + 1])`;
}

/**
 * `invalid_<type>` (or `type_changed`) of the first failing column. Read from lists by column index, as
 * is the message: one expression over `__failed` whatever the width (an expression a column costs DuckDB
 * vectors a column, per thread).
 */
function failureReason(plans: readonly ColumnPlan[]): string {
  if (!plans.some(rejectsRow)) return 'NULL';
  const reasons = plans.map((plan) => (rejectsRow(plan) ? invalidReason(plan.type, plan) : undefined));
  return `${listByColumn(reasons)}[${rejectedSql(plans)}[1] + 1]`;
}

/** Every failing column with its trimmed raw value, e.g. `column sales: "abc" is not a number`. */
function failureMessage(plans: readonly ColumnPlan[]): string {
  if (!plans.some(rejectsRow)) return 'NULL';
  const before = listByColumn(plans.map((plan) => `column ${plan.name}: `));
  const after = listByColumn(
    plans.map(
      (plan) => ` ${invalidDescription(plan)}${plan.contract ? ', the type the table was loaded with' : ''}`,
    ),
  );
  const part = `${before}[i + 1] || CAST(to_json(${trimBlanks('__fields[i + 1]')}) AS VARCHAR) || ${after}[i + 1]`;
  return `array_to_string(list_transform(${rejectedSql(plans)}, lambda i: ${part}), '; ')`;
}

/**
 * `duplicates`: rows equal in every typed column to an earlier valid row (file order), with the line of
 * the row kept. Rows are grouped by a 64-bit hash first, and only rows sharing a hash are compared
 * column by column, so the window sorts a handful of rows, not the table.
 */
export function createDuplicatesTableSql(plans: readonly ColumnPlan[], where = 'NOT __bad'): string {
  const values = plans.map((_, i) => value(i)).join(', ');
  return `CREATE TABLE duplicates AS
WITH repeated AS (SELECT __hash FROM typed WHERE ${where} GROUP BY __hash HAVING count(*) > 1)
SELECT __rowid, __line, __file, __kept_line, __kept_file FROM (
  SELECT __rowid, __line, __file,
         row_number() OVER w AS __n, first_value(__line) OVER w AS __kept_line, first_value(__file) OVER w AS __kept_file
  FROM typed WHERE ${where} AND __hash IN (SELECT __hash FROM repeated)
  WINDOW w AS (PARTITION BY ${values} ORDER BY __rowid))
WHERE __n > 1`;
}

/**
 * Sets `__dup` on the rows of `duplicates`: an update of a few rows in place, so the staged rows stay a
 * filter over `typed` in its stored (file) order, with no join or sort.
 */
export const markDuplicatesSql = (rows: NumberedRows): string =>
  `UPDATE ${rows.table} SET __dup = true WHERE ${rows.rowid} IN (SELECT __rowid FROM duplicates)`;

/** The staged rows with their final names, in file order (`typed` is stored in file order). */
export function stagedQuerySql(plans: readonly ColumnPlan[]): string {
  const columns = plans.map((plan, i) => `${value(i)} AS ${quoteIdentifier(plan.name)}`).join(', ');
  return `SELECT ${columns} FROM typed WHERE NOT __bad AND NOT __dup`;
}

/** A raw field as it would appear in a CSV line (RFC 4180 quoting when needed; NULL as empty). */
function csvField(c: string): string {
  return `CASE WHEN ${c} IS NULL THEN '' WHEN regexp_matches(${c}, '[",\\r\\n]') THEN '"' || replace(${c}, '"', '""') || '"' ELSE ${c} END`;
}

/** A line of spaces or tabs alone (below a file's data, by a hand edit): one field short, yet no record. */
const BLANK_LINE = `regexp_full_match(raw, '[ \t]*')`;
/**
 * A comment line among the records (`# store B closed`, `// source: ...`) that does not parse as one: no
 * record either. A `#` line that parses (`#12,Widget,3`) is data.
 */
const COMMENT_LINE = `regexp_full_match(raw, '[ \t]*(#|//).*')`;

/**
 * `quarantine`: rows that failed a cast (reason `invalid_<type>` of the first failing column, message
 * naming every failing column and value; `raw` re-assembled from the fields, quoted as CSV), the rows of
 * `extraRejects` (profile rules: a table of `__rowid, __line, __file, reason, message`, whose raw text
 * `typed` keeps) and records DuckDB could not parse (reason `unparseable_line`, `raw` the original text;
 * `empty_row` for a line of blanks, `comment_line` for a comment).
 * `file` joins `files`.
 */
export function createQuarantineTableSql(extraRejects?: string): string {
  return `CREATE TABLE quarantine AS
SELECT q.line, q.raw, q.reason, q.message, f.name AS file FROM (
  SELECT __file AS file_index, __line AS line, __raw AS raw, __reason AS reason, __message AS message
  FROM typed WHERE __bad
  UNION ALL${
    extraRejects === undefined
      ? ''
      : `
  SELECT x.__file, x.__line, t.__raw, x.reason, x.message
  FROM ${extraRejects} x JOIN typed t ON t.__rowid = x.__rowid
  UNION ALL`
  }
  SELECT __file, line, raw,
    CASE WHEN ${BLANK_LINE} THEN 'empty_row' WHEN ${COMMENT_LINE} THEN 'comment_line' ELSE 'unparseable_line' END,
    CASE WHEN ${BLANK_LINE} THEN 'line ' || line || ' has only blanks, not data'
      WHEN ${COMMENT_LINE} THEN 'line ' || line || ' is a comment, not data'
      ELSE 'record could not be parsed: ' || message END
  FROM rejects
) q JOIN files f ON f.__file = q.file_index
ORDER BY q.file_index, q.line`;
}

/**
 * Per column index `i` with a failed value, the rows `n` it failed in (from `__failed`). A summary row's
 * label is no bad value of its column (`Total` in a date column), nor a repeated header's name.
 */
export const invalidCountsSql = (): string =>
  `SELECT i, count(*) AS n FROM (SELECT unnest(__failed) AS i FROM typed WHERE __failed IS NOT NULL AND coalesce(__reason, '') NOT IN (${NOT_DATA_REASONS.map(quoteLiteral).join(', ')})) GROUP BY i`;
