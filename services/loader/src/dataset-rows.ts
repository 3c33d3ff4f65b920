/**
 * What the warehouse holds of one dataset: its rows in each table, counted in the warehouse itself (so it
 * holds whatever the dataset state says), and the latest version they were loaded from.
 */
import type { Warehouse } from '@etl/common/warehouse';

export interface DatasetRows {
  rows: number;
  version: string | null;
}

/** The rows of dataset `source` in each of `names` that exists (a table dropped by hand is left out). */
export async function datasetRows(
  warehouse: Warehouse,
  source: string,
  names: readonly string[],
): Promise<Map<string, DatasetRows>> {
  const out = new Map<string, DatasetRows>();
  if (names.length === 0) return out;
  // One opening of the warehouse for all the queries (an opening of a DuckDB file costs ~20 ms); not a
  // read-only one, which fails before the first load has created the file.
  return warehouse.session(() => countRows(warehouse, source, names, out));
}

async function countRows(
  warehouse: Warehouse,
  source: string,
  names: readonly string[],
  out: Map<string, DatasetRows>,
): Promise<Map<string, DatasetRows>> {
  const existing = new Set(
    (await warehouse.query(`SELECT table_name FROM ${warehouse.dialect.tables}`)).map((r) =>
      String(r['table_name']),
    ),
  );
  for (const name of names.filter((n) => existing.has(n))) {
    const [row] = await warehouse.query(
      `SELECT count(*) AS n, max(_source_version) AS version FROM ${warehouse.dialect.identifier(name)} WHERE _source = $1`,
      [source],
    );
    const version = row?.['version'];
    out.set(name, { rows: Number(row?.['n'] ?? 0), version: version == null ? null : String(version) });
  }
  return out;
}
