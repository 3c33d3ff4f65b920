/**
 * `_etl_tables`: one row per dataset (`source`) and loaded table, written by every `Warehouse.load` in the
 * load's own transaction (a failed load leaves the previous row), replacing that dataset's row of the table.
 * It records what was loaded (run, version, time, the columns with their warehouse types) and the column roles
 * the transform stage decided, so the analyze stage and the insights app read the roles a profile set instead
 * of guessing them again from names. The leading `_` keeps it apart from data tables: a loaded table's name
 * starts with a letter (`assertTableName`).
 */
import type { ColumnInfo, Roles } from '../roles';
import type { LoadRequest } from './warehouse';

export const TABLE_METADATA = '_etl_tables';

/** Its columns, in order, with their type in each engine. */
export const TABLE_METADATA_COLUMNS = [
  { name: 'source', duckdb: 'VARCHAR', bigquery: 'STRING' },
  { name: 'table_name', duckdb: 'VARCHAR', bigquery: 'STRING' },
  { name: 'run_id', duckdb: 'VARCHAR', bigquery: 'STRING' },
  { name: 'source_version', duckdb: 'VARCHAR', bigquery: 'STRING' },
  { name: 'loaded_at', duckdb: 'TIMESTAMPTZ', bigquery: 'TIMESTAMP' },
  // JSON as text: `[{name, type}]` of the load's columns (lineage columns not included), types as the
  // warehouse loaded them.
  { name: 'columns_json', duckdb: 'VARCHAR', bigquery: 'STRING' },
  // JSON as text: the roles (`rolesSchema` of @etl/common/contracts); NULL when the load named none (a
  // quarantine, a feature table, the ML results).
  { name: 'roles_json', duckdb: 'VARCHAR', bigquery: 'STRING' },
] as const;

/** The values of one table's row, in `TABLE_METADATA_COLUMNS` order. */
export function tableMetadataValues(
  request: LoadRequest,
  table: string,
  columns: readonly ColumnInfo[],
  roles: Roles | undefined,
): [string, string, string, string, string, string, string | null] {
  return [
    request.source,
    table,
    request.runId,
    request.sourceVersion,
    request.loadedAt.toISOString(),
    JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type }))),
    roles === undefined ? null : JSON.stringify(roles),
  ];
}
