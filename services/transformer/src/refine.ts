/**
 * The cleaning a profile adds on top of the typed rows (`typed`: `v<i>` values, `__bad` for failed
 * casts), all in DuckDB SQL:
 *
 * 1. row rules -> table `rejected` (`__rowid, __line, __file, reason, message`): an empty required column
 *    (`missing_required`), an empty column whose missing strategy is `reject` (`missing_rejected`), a failed
 *    `severity: reject` check (`check_failed`);
 * 2. exact duplicates (every column equal) among the rest -> `duplicates` (dropped unless `exact: keep`);
 * 3. primary-key repeats among the rest -> `rejected` as `duplicate_key` (the first in file order kept);
 * 4. `kept`: the surviving rows; `fill`: imputation values (median, mode, constant); `num_stats`: mean,
 *    standard deviation, min, max, median, MAD for normalisation and outlier columns;
 * 5. `staged_rows`: the staged table with its final names plus `<col>_imputed`, `<col>_outlier`
 *    (robust z-score |0.6745 (x - median) / MAD| > 3.5), `<col>_z`, `<col>_mm`.
 *
 * Reports: repeated key values (`duplicates.keys`, and rows equal but for `duplicates.ignoreColumns`),
 * counted with examples and kept; check results.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityCheck } from '@etl/common/contracts';
import { InvalidRequestError } from '@etl/common/errors';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import { checkFailsSql, parseCheckRule } from './checks';
import { castExpression, createDuplicatesTableSql } from './clean-sql';
import { countWhere, queryRows, toCount } from './duckdb-session';
import type { ColumnPlan } from './infer-types';
import { rawColumn } from './parse-csv';
import type { ColumnProfile, Profile } from './profile';

const value = (i: number): string => `v${i}`;

/** Robust z-score above which a value is an outlier (Iglewicz and Hoaglin). */
export const OUTLIER_THRESHOLD = 3.5;
const EXAMPLES = 20;

export interface RefineInput {
  plans: readonly ColumnPlan[];
  columns: readonly (ColumnProfile | undefined)[];
  profile: Profile;
  profileFile: string;
}

export interface KeyDuplicateReport {
  /** The key columns; for `ignoreColumns`, every other column. */
  columns: string[];
  /** What the columns are: a `duplicates.keys` entry, or the rows equal but for `ignoreColumns`. */
  kind: 'key' | 'ignoring';
  ignored?: string[];
  /** Key values that occur more than once. */
  groups: number;
  /** Rows in those groups (kept). */
  rows: number;
  examples: Array<{ key: Record<string, unknown>; rows: Array<{ file: string; line: number }> }>;
}

export interface RefineResult {
  /** Exact duplicates found (dropped unless `exact: keep`). */
  exactDuplicates: number;
  exactDropped: boolean;
  /** Rows failing each check, before quarantine, by check name. */
  checkFailures: Record<string, number>;
  keyDuplicates: KeyDuplicateReport[];
}

function nameIndex(plans: readonly ColumnPlan[]): (name: string) => number {
  const map = new Map(plans.map((p, i) => [p.name, i]));
  return (name) => {
    const i = map.get(name);
    if (i === undefined) throw new Error(`no column ${name}`);
    return i;
  };
}

/** Steps 1-4: `rejected`, `duplicates`, `kept`, `fill`, `num_stats`. */
export async function refineRows(connection: DuckDBConnection, input: RefineInput): Promise<RefineResult> {
  const { plans, columns, profile } = input;
  const indexOf = nameIndex(plans);
  const pk = new Set(profile.primaryKey ?? []);

  // 1. Row rules.
  const rules: Array<{ reason: string; fails: string; message: string }> = [];
  plans.forEach((plan, i) => {
    const column = columns[i];
    if (column?.required || pk.has(plan.name))
      rules.push({
        reason: 'missing_required',
        fails: `${value(i)} IS NULL`,
        message: quoteLiteral(`column ${plan.name} is required but empty`),
      });
  });
  plans.forEach((plan, i) => {
    if (columns[i]?.missing === 'reject' && !columns[i]?.required && !pk.has(plan.name))
      rules.push({
        reason: 'missing_rejected',
        fails: `${value(i)} IS NULL`,
        message: quoteLiteral(`column ${plan.name} is empty and its missing-value strategy is reject`),
      });
  });
  const checks = profile.quality.checks.map((check) => {
    const rule = parseCheckRule(check.rule);
    const fails = checkFailsSql(rule, (name) => value(indexOf(name)));
    const shown = [rule.left, ...(rule.right.kind === 'column' ? [rule.right.name] : [])]
      .map(
        (name) =>
          `${quoteLiteral(`${name} = `)} || coalesce(CAST(${value(indexOf(name))} AS VARCHAR), 'NULL')`,
      )
      .join(` || ', ' || `);
    return {
      check,
      fails,
      message: `${quoteLiteral(`check ${check.name} failed: ${check.rule.trim()}, with `)} || ${shown}`,
    };
  });
  for (const c of checks)
    if (c.check.severity === 'reject')
      rules.push({ reason: 'check_failed', fails: c.fails, message: c.message });

  if (rules.length === 0) {
    await connection.run(
      'CREATE TABLE rejected (__rowid BIGINT, __line BIGINT, __file INTEGER, reason VARCHAR, message VARCHAR)',
    );
  } else {
    await connection.run(`CREATE TABLE rejected AS
SELECT __rowid, __line, __file, reason, message FROM (
  SELECT __rowid, __line, __file,
         CASE ${rules.map((r) => `WHEN ${r.fails} THEN ${quoteLiteral(r.reason)}`).join(' ')} END AS reason,
         concat_ws('; ', ${rules.map((r) => `CASE WHEN ${r.fails} THEN ${r.message} END`).join(', ')}) AS message
  FROM typed WHERE NOT __bad)
WHERE reason IS NOT NULL`);
  }
  const checkFailures: Record<string, number> = {};
  if (checks.length > 0) {
    const [counts = {}] = await queryRows(
      connection,
      `SELECT ${checks.map((c, j) => `${countWhere(c.fails)} AS n${j}`).join(', ')} FROM typed WHERE NOT __bad`,
    );
    checks.forEach((c, j) => {
      checkFailures[c.check.name] = toCount(counts[`n${j}`]);
    });
  }

  // 2. Exact duplicates among the rows no rule rejected.
  const notRejected = 'NOT __bad AND __rowid NOT IN (SELECT __rowid FROM rejected)';
  await connection.run(createDuplicatesTableSql(plans, notRejected));
  const [dup] = await queryRows(connection, 'SELECT count(*) AS n FROM duplicates');
  const exactDuplicates = toCount(dup?.['n']);
  const exactDropped = profile.duplicates.exact === 'drop';
  const survivors = exactDropped
    ? `${notRejected} AND __rowid NOT IN (SELECT __rowid FROM duplicates)`
    : notRejected;

  // 3. Primary-key repeats.
  if (pk.size > 0) {
    const keyValues = [...pk].map((name) => value(indexOf(name)));
    const shown = [...pk]
      .map((name) => `coalesce(CAST(${value(indexOf(name))} AS VARCHAR), 'NULL')`)
      .join(` || ', ' || `);
    await connection.run(`INSERT INTO rejected
SELECT d.__rowid, d.__line, d.__file, 'duplicate_key',
       ${quoteLiteral(`primary key (${[...pk].join(', ')}) = (`)} || d.__key || ') repeats line ' || d.__kept_line || ' of ' || f.name
FROM (
  SELECT __rowid, __line, __file, ${shown} AS __key,
         row_number() OVER w AS __n, first_value(__line) OVER w AS __kept_line, first_value(__file) OVER w AS __kept_file
  FROM typed WHERE ${survivors}
  WINDOW w AS (PARTITION BY ${keyValues.join(', ')} ORDER BY __rowid)) d
JOIN files f ON f.__file = d.__kept_file
WHERE d.__n > 1`);
  }

  // 4. The kept rows, imputation values and numeric statistics.
  const values = plans.map((_, i) => value(i)).join(', ');
  await connection.run(
    `CREATE TABLE kept AS SELECT __rowid, __line, __file, ${values} FROM typed WHERE ${survivors} AND __rowid NOT IN (SELECT __rowid FROM rejected) ORDER BY __rowid`,
  );
  await createFillTable(connection, input);
  await createNumericStatsTable(connection, input);

  return {
    exactDuplicates,
    exactDropped,
    checkFailures,
    keyDuplicates: await keyDuplicateReports(connection, input),
  };
}

/** Imputation value per column with `missing: { impute }`, one row, columns `f<i>`. */
async function createFillTable(connection: DuckDBConnection, input: RefineInput): Promise<void> {
  const fills: string[] = [];
  const constants: Array<{ i: number; raw: string }> = [];
  input.plans.forEach((plan, i) => {
    const missing = input.columns[i]?.missing;
    if (typeof missing !== 'object') return;
    const v = value(i);
    switch (missing.impute) {
      case 'median':
        fills.push(
          `(SELECT ${plan.type === 'DOUBLE' ? `median(${v})` : `quantile_disc(${v}, 0.5)`} FROM kept) AS f${i}`,
        );
        break;
      case 'mode':
        fills.push(
          `(SELECT ${v} FROM kept WHERE ${v} IS NOT NULL GROUP BY ${v} ORDER BY count(*) DESC, ${v} LIMIT 1) AS f${i}`,
        );
        break;
      case 'constant': {
        const raw = String(missing.value);
        constants.push({ i, raw });
        fills.push(`${castExpression(plan, quoteLiteral(raw))} AS f${i}`);
        break;
      }
    }
  });
  // Scalar subqueries only: exactly one row.
  await connection.run(`CREATE TABLE fill AS SELECT ${['1 AS __one', ...fills].join(', ')}`);
  if (constants.length > 0) {
    const [row = {}] = await queryRows(connection, 'SELECT * FROM fill');
    const bad = constants.filter(({ i }) => row[`f${i}`] === null || row[`f${i}`] === undefined);
    if (bad.length > 0) {
      throw new InvalidRequestError(
        `profile ${input.profileFile}: ${bad.map(({ i, raw }) => `the constant ${JSON.stringify(raw)} of column ${input.plans[i]!.name} is not a valid ${input.plans[i]!.type}`).join('; ')}`,
        { details: { profile: input.profileFile } },
        'INVALID_PROFILE',
      );
    }
  }
}

/** The value of column `i` after imputation. */
function filled(input: RefineInput, i: number, row = 'k'): string {
  return typeof input.columns[i]?.missing === 'object'
    ? `coalesce(${row}.${value(i)}, f.f${i})`
    : `${row}.${value(i)}`;
}

const needsStats = (column: ColumnProfile | undefined): boolean =>
  Boolean(column?.outliers || column?.normalize?.length);

async function createNumericStatsTable(connection: DuckDBConnection, input: RefineInput): Promise<void> {
  const indexes = input.plans.flatMap((_, i) => (needsStats(input.columns[i]) ? [i] : []));
  if (indexes.length === 0) {
    await connection.run('CREATE TABLE num_stats AS SELECT 1 AS __one');
    return;
  }
  const xs = indexes.map((i) => `CAST(${filled(input, i)} AS DOUBLE) AS x${i}`).join(', ');
  const moments = indexes
    .map(
      (i) =>
        `median(x${i}) AS med${i}, avg(x${i}) AS mean${i}, stddev_pop(x${i}) AS sd${i}, min(x${i}) AS min${i}, max(x${i}) AS max${i}`,
    )
    .join(', ');
  const deviations = indexes
    .map((i) => `median(abs(x.x${i} - m.med${i})) AS mad${i}, avg(abs(x.x${i} - m.med${i})) AS meanad${i}`)
    .join(', ');
  await connection.run(`CREATE TABLE num_stats AS
WITH x AS (SELECT ${xs} FROM kept k CROSS JOIN fill f),
m AS (SELECT ${moments} FROM x)
SELECT m.*, ${deviations} FROM x CROSS JOIN m GROUP BY ALL`);
}

/** The staged rows with their final names and the added columns, in file order. */
export function stagedRowsSql(input: RefineInput): string {
  const out: string[] = [];
  const extras: string[] = [];
  input.plans.forEach((plan, i) => {
    out.push(`${filled(input, i)} AS ${quoteIdentifier(plan.name)}`);
    const column = input.columns[i];
    if (!column) return;
    const x = `CAST(${filled(input, i)} AS DOUBLE)`;
    if (typeof column.missing === 'object')
      extras.push(`(k.${value(i)} IS NULL) AS ${quoteIdentifier(`${plan.name}_imputed`)}`);
    if (column.outliers) {
      const robust = `CASE WHEN s.mad${i} > 0 THEN 0.6745 * (${x} - s.med${i}) / s.mad${i} WHEN s.meanad${i} > 0 THEN (${x} - s.med${i}) / (1.253314 * s.meanad${i}) ELSE 0 END`;
      extras.push(
        `coalesce(abs(${robust}) > ${OUTLIER_THRESHOLD}, false) AS ${quoteIdentifier(`${plan.name}_outlier`)}`,
      );
    }
    for (const kind of column.normalize ?? []) {
      extras.push(
        kind === 'zscore'
          ? `CASE WHEN ${x} IS NULL THEN NULL WHEN s.sd${i} > 0 THEN (${x} - s.mean${i}) / s.sd${i} ELSE 0.0 END AS ${quoteIdentifier(`${plan.name}_z`)}`
          : `CASE WHEN ${x} IS NULL THEN NULL WHEN s.max${i} > s.min${i} THEN (${x} - s.min${i}) / (s.max${i} - s.min${i}) ELSE 0.0 END AS ${quoteIdentifier(`${plan.name}_mm`)}`,
      );
    }
  });
  return `SELECT ${[...out, ...extras].join(', ')} FROM kept k CROSS JOIN fill f CROSS JOIN num_stats s ORDER BY k.__rowid`;
}

/** Repeated values of `duplicates.keys`, and rows equal but for `duplicates.ignoreColumns`; rows kept. */
async function keyDuplicateReports(
  connection: DuckDBConnection,
  input: RefineInput,
): Promise<KeyDuplicateReport[]> {
  const { plans, profile } = input;
  const indexOf = nameIndex(plans);
  const sets: Array<{ columns: string[]; kind: 'key' | 'ignoring'; ignored?: string[] }> =
    profile.duplicates.keys.map((columns) => ({ columns, kind: 'key' as const }));
  const ignored = profile.duplicates.ignoreColumns;
  if (ignored.length > 0)
    sets.push({
      columns: plans.map((p) => p.name).filter((n) => !ignored.includes(n)),
      kind: 'ignoring',
      ignored,
    });
  const reports: KeyDuplicateReport[] = [];
  for (const set of sets) {
    const keys = set.columns.map((name) => value(indexOf(name)));
    const grouped = `SELECT ${keys.map((k, j) => `${k} AS k${j}`).join(', ')}, count(*) AS n,
       list({'file': f.name, 'line': k.__line} ORDER BY k.__rowid) AS rows, min(k.__rowid) AS first
FROM kept k JOIN files f ON f.__file = k.__file GROUP BY ALL HAVING count(*) > 1`;
    const [totals] = await queryRows(
      connection,
      `SELECT count(*) AS groups, coalesce(sum(n), 0) AS rows FROM (${grouped})`,
    );
    const examples = await queryRows(
      connection,
      `SELECT * FROM (${grouped}) ORDER BY first LIMIT ${EXAMPLES}`,
    );
    reports.push({
      columns: set.columns,
      kind: set.kind,
      ...(set.ignored ? { ignored: set.ignored } : {}),
      groups: toCount(totals?.['groups']),
      rows: toCount(totals?.['rows']),
      examples: examples.map((row) => ({
        key: Object.fromEntries(set.kind === 'key' ? set.columns.map((name, j) => [name, row[`k${j}`]]) : []),
        rows: (row['rows'] as Array<{ file: string; line: unknown }>).map((r) => ({
          file: String(r.file),
          line: toCount(r.line),
        })),
      })),
    });
  }
  return reports;
}

/** `checks` of the response: reject rate, minimum rows, the profile's checks, repeated keys. */
export function qualityChecks(options: {
  profile: Profile;
  rowsIn: number;
  rowsOut: number;
  rejectRate: number;
  maxRejectRate: number;
  refined: RefineResult;
}): QualityCheck[] {
  const { profile, rowsIn, rowsOut, rejectRate, maxRejectRate, refined } = options;
  const checks: QualityCheck[] = [
    {
      name: 'reject_rate',
      passed: rejectRate <= maxRejectRate,
      value: rejectRate,
      threshold: maxRejectRate,
      severity: 'error',
    },
  ];
  if (profile.quality.minRows !== undefined)
    checks.push({
      name: 'min_rows',
      passed: rowsOut >= profile.quality.minRows,
      value: rowsOut,
      threshold: profile.quality.minRows,
      severity: 'error',
    });
  for (const check of profile.quality.checks) {
    const rate = rowsIn === 0 ? 0 : (refined.checkFailures[check.name] ?? 0) / rowsIn;
    const threshold = check.severity === 'reject' ? maxRejectRate : (check.maxRate ?? 0);
    checks.push({
      name: check.name,
      passed: rate <= threshold,
      value: rate,
      threshold,
      severity: check.severity,
    });
  }
  for (const d of refined.keyDuplicates) {
    const name =
      d.kind === 'key' ? `duplicates_${d.columns.join('_')}` : `duplicates_ignoring_${d.ignored!.join('_')}`;
    checks.push({ name, passed: d.groups === 0, value: d.groups, threshold: 0, severity: 'warning' });
  }
  return checks;
}

/**
 * NFKC for the text columns that ask for it: the distinct non-ASCII values of `relation` (the files'
 * text) are normalised in JavaScript (DuckDB has NFC only) into a value map per column, the table
 * `nfkc_<i>` (source, target), which the typing query joins (clean-sql.ts `typedRowsSql`).
 */
export async function createNfkcMaps(
  connection: DuckDBConnection,
  indexes: readonly number[],
  relation: string,
): Promise<void> {
  for (const i of indexes) {
    const c = quoteIdentifier(rawColumn(i));
    const rows = await queryRows(
      connection,
      `SELECT DISTINCT ${c} AS v FROM ${relation} WHERE regexp_matches(${c}, '[^\\x00-\\x7F]')`,
    );
    const pairs = rows
      .map((row) => String(row['v']))
      .map((from) => [from, from.normalize('NFKC')] as const)
      .filter(([from, to]) => from !== to);
    await connection.run(`CREATE TABLE nfkc_${i} (source VARCHAR, target VARCHAR)`);
    for (let at = 0; at < pairs.length; at += 500) {
      const chunk = pairs.slice(at, at + 500);
      await connection.run(
        `INSERT INTO nfkc_${i} VALUES ${chunk.map(([from, to]) => `(${quoteLiteral(from)}, ${quoteLiteral(to)})`).join(', ')}`,
      );
    }
  }
}
