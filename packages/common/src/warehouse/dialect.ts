/**
 * The few SQL forms that differ between DuckDB and BigQuery (GoogleSQL), for the read queries of the
 * insights app and the analyze stage. Everything else those queries need is written once, in SQL valid in
 * both engines:
 *   - casts: `CAST(x AS INT64)`, `CAST(x AS STRING)` (DuckDB knows both names; never `::`);
 *   - conditional aggregates: `sum(IF(cond, x, NULL))`, `count(DISTINCT IF(cond, id, NULL))` (no `FILTER`);
 *   - a date as 'YYYY-MM-DD': `dateText(x)`; division: `a / nullif(b, 0)`; `max_by`, `any_value`, `corr`,
 *     `covar_pop`, `var_pop` (not `arg_max`, `regr_slope`);
 *   - `GROUP BY 1, 2`, unquoted lowercase identifiers for fixed names (in BigQuery "x" is a STRING
 *     literal), `dialect.identifier(name)` for names found in data (a column picked by its role), and
 *     aliases that are not BigQuery reserved words (`rows`, `range`, `at` are);
 *   - parameters as `$1..$n`: BigQueryWarehouse sends them as `@p1..@pn`.
 * test/fakes/bigquery runs BigQuery SQL in DuckDB and rejects the DuckDB-only forms, so a leak fails tests.
 */

import { quoteBigQueryIdentifier, quoteIdentifier } from './sql';

export type DateGrain = 'day' | 'week' | 'month';

export interface SqlDialect {
  readonly name: 'duckdb' | 'bigquery';
  /**
   * The first day of the day, ISO week or month holding `date`, as a DATE. Weeks start on Monday (ISO
   * 8601), as DuckDB's `date_trunc('week')` does; BigQuery's plain `WEEK` would start on Sunday.
   */
  truncateDate(date: string, grain: DateGrain): string;
  /** Whole days from `start` to `end` (positive when `end` is later), as an integer. */
  dayDiff(start: string, end: string): string;
  /** A relation with a `table_name` column: the tables of the warehouse's own schema or dataset. */
  readonly tables: string;
  /**
   * A relation with `table_name`, `column_name`, `data_type` and `ordinal_position`: the columns of the
   * warehouse's own tables, types in the engine's spelling (DuckDB `DOUBLE`, BigQuery `FLOAT64`).
   */
  readonly columns: string;
  /** A quoted identifier: `"name"` in DuckDB, `` `name` `` in BigQuery. */
  identifier(name: string): string;
}

/** The warehouse file's own tables: not those of the temp or system catalogs. */
export const DUCKDB_OWN_SCHEMA = "database_name = current_database() AND schema_name = 'main'";

export const duckDbDialect: SqlDialect = {
  name: 'duckdb',
  // date_trunc returns a TIMESTAMP in DuckDB; the cast keeps both engines returning a DATE.
  truncateDate: (date, grain) => `CAST(date_trunc('${grain}', ${date}) AS DATE)`,
  dayDiff: (start, end) => `date_diff('day', ${start}, ${end})`,
  // DuckDB's own catalog functions, not its information_schema views over them: the same rows, and a
  // query of information_schema.columns took 25 ms on a fresh opening against 3 ms (bench/RESULTS.md).
  tables: `(SELECT table_name FROM duckdb_tables() WHERE ${DUCKDB_OWN_SCHEMA})`,
  columns: `(SELECT table_name, column_name, data_type, column_index AS ordinal_position FROM duckdb_columns() WHERE ${DUCKDB_OWN_SCHEMA})`,
  identifier: quoteIdentifier,
};

const BIGQUERY_PART: Record<DateGrain, string> = { day: 'DAY', week: 'ISOWEEK', month: 'MONTH' };

export const bigQueryDialect: SqlDialect = {
  name: 'bigquery',
  truncateDate: (date, grain) => `DATE_TRUNC(${date}, ${BIGQUERY_PART[grain]})`,
  dayDiff: (start, end) => `DATE_DIFF(${end}, ${start}, DAY)`,
  // Resolved against the query's default dataset, which BigQueryWarehouse always sets.
  tables: 'INFORMATION_SCHEMA.TABLES',
  columns: 'INFORMATION_SCHEMA.COLUMNS',
  identifier: quoteBigQueryIdentifier,
};

/** A DATE as 'YYYY-MM-DD' text; the same in both engines. */
export function dateText(date: string): string {
  return `CAST(${date} AS STRING)`;
}
