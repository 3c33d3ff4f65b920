/**
 * Bottom-k sketches of columns' values: the k smallest hashes of their distinct trimmed values. Two
 * sketches estimate how many values two columns share (schema-contract.ts `sketchSimilarity`), which is
 * how a renamed column is told from a new one without keeping the old values.
 *
 * Two scans of the inference sample (per batch of columns: COLUMN_BATCH), in time proportional to its cells:
 * distinct counts first, then each column's distinct hashes below a cut that keeps about 4k of them
 * (grouped over the columns unpivoted: `unpivotedAggregates`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { aggregateRow, toCount, unpivotedAggregates } from './duckdb-session';

export const SKETCH_SIZE = 32;

const MAX_HASH = (1n << 64n) - 1n;

/** Per column `v<i>` of `table` (text), its sketch: up to SKETCH_SIZE hashes as 16-digit hex, ascending. */
export async function valueSketches(
  connection: DuckDBConnection,
  table: string,
  columns: number,
): Promise<string[][]> {
  if (columns === 0) return [];
  const indexes = Array.from({ length: columns }, (_, i) => i);
  const distinct = await aggregateRow(
    connection,
    indexes.map((i) => [`approx_count_distinct(v${i}) AS d${i}`]),
    (aggregates) => `SELECT ${aggregates.join(', ')} FROM ${table}`,
  );
  const cut = (i: number): bigint => {
    const d = toCount(distinct[`d${i}`]);
    if (d <= SKETCH_SIZE * 4) return MAX_HASH;
    return (MAX_HASH / BigInt(d)) * BigInt(SKETCH_SIZE * 4);
  };
  // Without FILTER (see countWhere): the NULL of a value left out is dropped below.
  const lists = await unpivotedAggregates(
    connection,
    indexes.map((i) => `CASE WHEN v${i} <> '' AND hash(v${i}) <= ${cut(i)}::UBIGINT THEN hash(v${i}) END`),
    'list(DISTINCT value) AS h',
    table,
  );
  return indexes.map((i) =>
    ((lists[i]?.['h'] as unknown[] | null | undefined) ?? [])
      .filter((h) => h !== null)
      .map((h) => BigInt(h as bigint | string | number))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, SKETCH_SIZE)
      .map((h) => h.toString(16).padStart(16, '0')),
  );
}
