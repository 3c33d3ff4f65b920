/**
 * Columns typed on the first rows that the later rows break. The inference reads a sample from the start
 * of the files (DEFAULT_SAMPLE_ROWS); a file sorted by date can hold only whole quantities in its first
 * rows and halves after them, or only days up to 12 at its start. When, over every row, a column's values fail its type
 * more often than the inference would have allowed (TYPE_THRESHOLD), or fail a reading the sample left
 * open (a date order, a thousands mark), or hold values where the sample held none, the column is typed
 * again on every row and the table is made again; the run summary says so. Without this, every later
 * value was quarantined (and the quality gate failed the run), or loaded as text.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier } from '@etl/common/warehouse/sql';
import { castExpression, invalidCountsSql, missingTokensOf } from './clean-sql';
import { countWhere, queryRows, toCount } from './duckdb-session';
import {
  type ColumnPlan,
  type ColumnStats,
  excelTextSql,
  FALSE_TOKENS,
  type InferOptions,
  inferColumnPlans,
  inList,
  isNumberGuess,
  TRUE_TOKENS,
  TYPE_THRESHOLD,
  trimmed,
} from './infer-types';

export interface RetypedColumn {
  index: number;
  /** Values that did not read as the sample's type, and values not missing, over every row. */
  invalid: number;
  values: number;
  /** What the sample chose. */
  type: ColumnPlan['type'];
  format?: string;
}

/**
 * The columns of `typed` to type again on every row, among those the inference typed (`plans` still hold
 * its type: neither a profile nor the schema contract chose it): those whose failures pass the threshold,
 * or whose reading the sample left open (an ambiguous date order, `1,234`: `isNumberGuess`) and which fail
 * at all, and text columns the sample held no value of that hold values. Not the readings every sampled
 * value must fit (Unix times, periods): one bad value later is quarantined there.
 */
export async function columnsToRetype(
  connection: DuckDBConnection,
  inferred: { plans: readonly ColumnPlan[]; stats: readonly ColumnStats[] },
  plans: readonly ColumnPlan[],
): Promise<RetypedColumn[]> {
  const invalid = new Map(
    (await queryRows(connection, invalidCountsSql())).map((row) => [toCount(row['i']), toCount(row['n'])]),
  );
  const asInferred = (i: number) =>
    plans[i]!.type === inferred.plans[i]?.type && plans[i]!.format === inferred.plans[i]?.format;
  const failing = [...invalid.keys()].filter((i) => plans[i]!.type !== 'VARCHAR' && asInferred(i));
  const unsampled = plans.flatMap((plan, i) => {
    const stats = inferred.stats[i];
    return plan.type === 'VARCHAR' && asInferred(i) && stats?.values === stats?.missingTokens ? [i] : [];
  });
  const candidates = [...failing, ...unsampled];
  if (candidates.length === 0) return [];
  // Words keep a column text: one of those is not worth typing the table again.
  const words = unsampled.map((i) => `${countWhere(isWordSql(`v${i}`))} AS w${i}`);
  const [counts] = await queryRows(
    connection,
    `SELECT ${[...candidates.map((i) => `count(v${i}) AS n${i}`), ...words].join(', ')} FROM typed`,
  );
  return candidates.flatMap((i) => {
    const failed = invalid.get(i) ?? 0;
    const values = toCount(counts?.[`n${i}`]) + failed;
    const plan = plans[i]!;
    if (!breaks(plan, failed, values, toCount(counts?.[`w${i}`]))) return [];
    return [
      { index: i, invalid: failed, values, type: plan.type, ...(plan.format ? { format: plan.format } : {}) },
    ];
  });
}

/**
 * Whether a column's every row breaks what its sample said: `failed` of its `values` (not missing) are not
 * its type, or, for text the sample held no value of, at most 2% of them are `words`.
 */
function breaks(plan: ColumnPlan, failed: number, values: number, words: number): boolean {
  if (plan.type === 'VARCHAR') return values > 0 && words <= (1 - TYPE_THRESHOLD) * values;
  return (failed > 0 && (plan.ambiguous || isNumberGuess(plan))) || failed > (1 - TYPE_THRESHOLD) * values;
}

/** Text with no digit that is no boolean: a word, which keeps a column text. */
const isWordSql = (v: string): string =>
  `NOT regexp_matches(${v}, '[0-9]') AND lower(${v}) NOT IN (${inList([...TRUE_TOKENS, ...FALSE_TOKENS])})`;

/**
 * The same rule over `relation`, every row as text in `rawColumns` (`etl profile`'s parsed rows): the indexes
 * of the columns to infer again from every row.
 */
export async function columnsBrokenInText(
  connection: DuckDBConnection,
  relation: string,
  rawColumns: readonly string[],
  inferred: { plans: readonly ColumnPlan[]; stats: readonly ColumnStats[] },
): Promise<number[]> {
  const { plans, stats } = inferred;
  const candidates = plans.flatMap((plan, i) =>
    plan.type !== 'VARCHAR' || stats[i]?.values === stats[i]?.missingTokens ? [i] : [],
  );
  if (candidates.length === 0) return [];
  const counts = candidates.flatMap((i) => {
    const plan = plans[i]!;
    const text = trimmed(quoteIdentifier(rawColumns[i]!));
    const t = plan.excelText ? excelTextSql(text) : text;
    const tokens = missingTokensOf(plan);
    const value = `${t} <> ''${tokens.length > 0 ? ` AND lower(${t}) NOT IN (${inList(tokens)})` : ''}`;
    const failed = plan.type === 'VARCHAR' ? isWordSql(t) : `${castExpression(plan, t)} IS NULL`;
    return [`${countWhere(value)} AS n${i}`, `${countWhere(`${value} AND ${failed}`)} AS f${i}`];
  });
  const [row] = await queryRows(connection, `SELECT ${counts.join(', ')} FROM ${relation}`);
  return candidates.filter((i) => {
    const values = toCount(row?.[`n${i}`]);
    const failed = toCount(row?.[`f${i}`]);
    return breaks(plans[i]!, plans[i]!.type === 'VARCHAR' ? 0 : failed, values, failed);
  });
}

/** A table's columns as the inference reads them: raw text columns, header names, cleaned names. */
export interface InferredColumns {
  rawColumns: readonly string[];
  headers: readonly string[];
  names: readonly string[];
}

/**
 * The plans of columns `indexes` of `relation` inferred from every row, put in place of the sample's in
 * `inferred`. It replaces the inference's sample table: the caller infers the sample after it, or again.
 */
export async function inferFromEveryRow(
  connection: DuckDBConnection,
  relation: string,
  indexes: readonly number[],
  columns: InferredColumns,
  options: InferOptions,
): Promise<(inferred: { plans: ColumnPlan[]; stats: ColumnStats[] }) => void> {
  const pick = <T>(list: readonly T[]) => indexes.map((i) => list[i]!);
  const everyRow = await inferColumnPlans(
    connection,
    `(SELECT ${pick(columns.rawColumns).join(', ')} FROM ${relation})`,
    pick(columns.rawColumns),
    pick(columns.headers),
    pick(columns.names),
    { ...options, wholeFile: true },
  );
  return (inferred) => {
    for (const [k, i] of indexes.entries()) {
      inferred.plans[i] = everyRow.plans[k]!;
      inferred.stats[i] = everyRow.stats[k]!;
    }
  };
}

/** What the run summary says of a column typed again on every row (nothing when it reads as before). */
export function retypedNote(column: RetypedColumn, plan: ColumnPlan, sampleRows: number): string | undefined {
  if (plan.type === column.type && plan.format === column.format) return undefined;
  const now = plan.format ? `${plan.type} (${plan.format})` : plan.type;
  const first = `its first ${formatCount(sampleRows)} rows`;
  if (column.type === 'VARCHAR')
    return `column ${plan.name}: no value in ${first} and ${formatCount(column.values)} after them; typed on every row: ${now}`;
  const was = column.format ? `${column.type} (${column.format})` : column.type;
  return `column ${plan.name}: ${formatCount(column.invalid)} of its ${formatCount(column.values)} values did not read as ${was}, the type of ${first}; typed on every row instead: ${now}`;
}

const formatCount = (n: number): string => n.toLocaleString('en-US');
