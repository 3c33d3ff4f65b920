/**
 * The cleaning, as DuckDB SQL built from the column plans: trim, empty (and, in typed columns, the
 * missing tokens) -> NULL, casts with explicit formats, a flag per column whose non-empty value failed its
 * cast, then exact-duplicate detection. Identifiers are internal (`c<i>` raw, `v<i>` typed, `b<i>` flag)
 * until the final projection renames them to the planned, quoted names.
 */
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse';
import {
  type ColumnPlan,
  type ColumnType,
  dateExpression,
  FALSE_TOKENS,
  guardedCast,
  INTEGER_PATTERN,
  inList,
  MISSING_TOKENS,
  NUMBER_PATTERN,
  TIMESTAMP_PATTERN,
  TRUE_TOKENS,
  trimmed,
} from './infer-types';
import { rawColumn } from './parse-csv';

const value = (i: number): string => `v${i}`;
const flag = (i: number): string => `b${i}`;
const text = (i: number): string => `t${i}`;

/** The typed expression of trimmed, non-empty text `t`; NULL when `t` does not parse. */
export function castExpression(plan: Pick<ColumnPlan, 'type' | 'format'>, t: string): string {
  switch (plan.type) {
    case 'BIGINT':
      return guardedCast(t, INTEGER_PATTERN, 'BIGINT');
    case 'DOUBLE':
      return guardedCast(t, NUMBER_PATTERN, 'DOUBLE');
    case 'DATE':
      return `CAST(${dateExpression(t, plan.format ?? '%Y-%m-%d')} AS DATE)`;
    case 'TIMESTAMP':
      return guardedCast(t, TIMESTAMP_PATTERN, 'TIMESTAMP');
    case 'BOOLEAN':
      return `CASE WHEN lower(${t}) IN (${inList(TRUE_TOKENS)}) THEN true WHEN lower(${t}) IN (${inList(FALSE_TOKENS)}) THEN false END`;
    case 'VARCHAR':
      return t;
  }
}

export function invalidReason(type: ColumnType): string {
  return `invalid_${type.toLowerCase()}`;
}

/** "is not a date in format %m/%d/%Y", completing `column order_date: "13/45/2024" ...`. */
export function invalidDescription(plan: Pick<ColumnPlan, 'type' | 'format'>): string {
  switch (plan.type) {
    case 'BIGINT':
      return 'is not an integer';
    case 'DOUBLE':
      return 'is not a number';
    case 'DATE':
      return `is not a date in format ${plan.format ?? '%Y-%m-%d'}`;
    case 'TIMESTAMP':
      return 'is not an ISO date-time';
    case 'BOOLEAN':
      return 'is not a boolean (true/false/yes/no)';
    case 'VARCHAR':
      return 'is not text';
  }
}

const isTyped = (plan: ColumnPlan): boolean => plan.type !== 'VARCHAR';

function anyFlag(plans: readonly ColumnPlan[]): string {
  const flags = plans.flatMap((plan, i) => (isTyped(plan) ? [flag(i)] : []));
  return flags.length === 0 ? 'false' : flags.join(' OR ');
}

/**
 * `typed`: one row per parsed record with `__rowid`, `__line`, `__file`, the typed values `v<i>`, the
 * flags `b<i>` of typed columns and `__bad` (any flag set), stored in file order. `sourceOrdered` says
 * whether `source` already yields file order (the ASOF join that numbers lines around rejected records
 * does not, so then the rows are sorted).
 */
export function createTypedTableSql(
  plans: readonly ColumnPlan[],
  sourceOrdered: boolean,
  source = 'numbered',
): string {
  const keys = '__rowid, __line, __file';
  const level1 = plans.map((_, i) => `NULLIF(${trimmed(quoteIdentifier(rawColumn(i)))}, '') AS ${text(i)}`);
  const level2 = plans.map((plan, i) =>
    plan.missingTokens
      ? `CASE WHEN lower(${text(i)}) IN (${inList(MISSING_TOKENS)}) THEN NULL ELSE ${text(i)} END AS ${text(i)}`
      : text(i),
  );
  const level3 = plans.flatMap((plan, i) => [text(i), `${castExpression(plan, text(i))} AS ${value(i)}`]);
  const level4 = plans.flatMap((plan, i) =>
    isTyped(plan) ? [value(i), `(${text(i)} IS NOT NULL AND ${value(i)} IS NULL) AS ${flag(i)}`] : [value(i)],
  );
  return `CREATE TABLE typed AS
SELECT *, ${anyFlag(plans)} AS __bad FROM (
  SELECT ${keys}, ${level4.join(', ')} FROM (
    SELECT ${keys}, ${level3.join(', ')} FROM (
      SELECT ${keys}, ${level2.join(', ')} FROM (
        SELECT ${keys}, ${level1.join(', ')} FROM ${source}))))${sourceOrdered ? '' : '\nORDER BY __rowid'}`;
}

/**
 * `duplicates`: rows equal in every typed column to an earlier valid row (file order), with the line of
 * the row kept. Rows are grouped by a 64-bit hash first, and only rows sharing a hash are compared
 * column by column, so the window sorts a handful of rows, not the table.
 */
export function createDuplicatesTableSql(plans: readonly ColumnPlan[]): string {
  const values = plans.map((_, i) => value(i)).join(', ');
  return `CREATE TABLE duplicates AS
WITH clean AS (SELECT __rowid, __line, __file, ${values}, hash(${values}) AS __hash FROM typed WHERE NOT __bad),
repeated AS (SELECT __hash FROM clean GROUP BY __hash HAVING count(*) > 1)
SELECT __rowid, __line, __file, __kept_line, __kept_file FROM (
  SELECT __rowid, __line, __file,
         row_number() OVER w AS __n, first_value(__line) OVER w AS __kept_line, first_value(__file) OVER w AS __kept_file
  FROM clean WHERE __hash IN (SELECT __hash FROM repeated)
  WINDOW w AS (PARTITION BY ${values} ORDER BY __rowid))
WHERE __n > 1`;
}

/** The staged rows with their final names, in file order (`typed` is stored in file order). */
export function stagedQuerySql(plans: readonly ColumnPlan[], withDuplicates: boolean): string {
  const columns = plans.map((plan, i) => `${value(i)} AS ${quoteIdentifier(plan.name)}`).join(', ');
  if (!withDuplicates) return `SELECT ${columns} FROM typed WHERE NOT __bad`;
  return `SELECT ${columns} FROM typed WHERE NOT __bad AND __rowid NOT IN (SELECT __rowid FROM duplicates) ORDER BY __rowid`;
}

/** A raw field as it would appear in a CSV line (RFC 4180 quoting when needed; NULL as empty). */
function csvField(column: string): string {
  const c = `r.${quoteIdentifier(column)}`;
  return `CASE WHEN ${c} IS NULL THEN '' WHEN regexp_matches(${c}, '[",\\r\\n]') THEN '"' || replace(${c}, '"', '""') || '"' ELSE ${c} END`;
}

/**
 * `quarantine`: rows that failed a cast (reason `invalid_<type>` of the first failing column, message
 * naming every failing column and value; `raw` re-assembled from the fields, quoted as CSV) and records
 * DuckDB could not parse (reason `unparseable_line`, `raw` the original text). `file` joins `files`.
 */
export function createQuarantineTableSql(plans: readonly ColumnPlan[]): string {
  const typed = plans.flatMap((plan, i) => (isTyped(plan) ? [{ plan, i }] : []));
  const reason =
    typed.length === 0
      ? 'NULL'
      : `CASE ${typed.map(({ plan, i }) => `WHEN t.${flag(i)} THEN ${quoteLiteral(invalidReason(plan.type))}`).join(' ')} END`;
  const message =
    typed.length === 0
      ? 'NULL'
      : `concat_ws('; ', ${typed
          .map(
            ({ plan, i }) =>
              `CASE WHEN t.${flag(i)} THEN ${quoteLiteral(`column ${plan.name}: `)} || CAST(to_json(${trimmed(`r.${quoteIdentifier(rawColumn(i))}`)}) AS VARCHAR) || ${quoteLiteral(` ${invalidDescription(plan)}`)} END`,
          )
          .join(', ')})`;
  const rawText = plans.map((_, i) => csvField(rawColumn(i))).join(` || ',' || `);
  return `CREATE TABLE quarantine AS
SELECT q.line, q.raw, q.reason, q.message, f.name AS file FROM (
  SELECT t.__file AS file_index, t.__line AS line, ${rawText} AS raw, ${reason} AS reason, ${message} AS message
  FROM typed t JOIN raw r ON r.rowid = t.__rowid
  WHERE t.__bad
  UNION ALL
  SELECT __file, line, raw, 'unparseable_line', 'record could not be parsed: ' || message FROM rejects
) q JOIN files f ON f.__file = q.file_index
ORDER BY q.file_index, q.line`;
}

/** Per typed column: how many rows its cast rejected. */
export function invalidCountsSql(plans: readonly ColumnPlan[]): string {
  const counts = plans.map(
    (plan, i) => (isTyped(plan) ? `count(*) FILTER (WHERE ${flag(i)})` : '0') + ` AS n${i}`,
  );
  return `SELECT ${counts.join(', ')} FROM typed`;
}
