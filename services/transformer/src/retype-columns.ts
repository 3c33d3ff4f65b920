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
import { invalidCountsSql } from './clean-sql';
import { queryRows, toCount } from './duckdb-session';
import {
  type ColumnPlan,
  type ColumnStats,
  FALSE_TOKENS,
  inList,
  isNumberGuess,
  TRUE_TOKENS,
  TYPE_THRESHOLD,
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
  // Words (no digit, no boolean) keep a column text: one of those is not worth typing the table again.
  const booleans = inList([...TRUE_TOKENS, ...FALSE_TOKENS]);
  const words = unsampled.map(
    (i) =>
      `count(*) FILTER (WHERE NOT regexp_matches(v${i}, '[0-9]') AND lower(v${i}) NOT IN (${booleans})) AS w${i}`,
  );
  const [counts] = await queryRows(
    connection,
    `SELECT ${[...candidates.map((i) => `count(v${i}) AS n${i}`), ...words].join(', ')} FROM typed`,
  );
  return candidates.flatMap((i) => {
    const failed = invalid.get(i) ?? 0;
    const values = toCount(counts?.[`n${i}`]) + failed;
    const plan = plans[i]!;
    const open = plan.ambiguous || isNumberGuess(plan);
    const retype =
      plan.type === 'VARCHAR'
        ? values > 0 && toCount(counts?.[`w${i}`]) <= (1 - TYPE_THRESHOLD) * values
        : open || failed > (1 - TYPE_THRESHOLD) * values;
    if (!retype) return [];
    return [
      { index: i, invalid: failed, values, type: plan.type, ...(plan.format ? { format: plan.format } : {}) },
    ];
  });
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
