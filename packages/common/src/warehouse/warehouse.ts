/**
 * Where cleaned tables end up: DuckDB in embedded mode, BigQuery in the cloud. A load replaces the rows of
 * one dataset (the slice) in a single transaction, so a re-run never duplicates rows and a failed load
 * leaves the previous rows in place.
 */

import type { ArrowInput } from '../arrow';
import type { Roles } from '../roles';
import type { SqlDialect } from './dialect';

export type Row = Record<string, unknown>;

/** Lineage columns added to every loaded row. `_source` is the slice key a re-load replaces. */
export const LINEAGE_COLUMNS = ['_source', '_run_id', '_loaded_at', '_source_version'] as const;

export interface TableLoad {
  /** Target table; validated with assertTableName. */
  table: string;
  /** The rows, as an Arrow IPC file: bytes, or a local file (read a record batch at a time). */
  arrow: ArrowInput;
  /**
   * The rows the file must hold (its manifest's count) and its object key: counted while the file is
   * converted, and a different count refuses the load (DataRejectedError) before anything is committed.
   */
  expect?: { rows: number; objectKey: string };
  /**
   * Layout of the table when the load creates it (from the dataset's profile): a DATE or TIMESTAMP column
   * to partition by day, and columns to cluster by. BigQuery applies them; DuckDB has no such layout. An
   * existing table keeps its layout.
   */
  partitionBy?: string;
  clusterBy?: string[];
  /**
   * The table's column roles as the transform stage decided them; recorded with the load in `_etl_tables`
   * (see ./table-metadata), NULL there when absent.
   */
  roles?: Roles;
}

export interface LoadRequest {
  tables: TableLoad[];
  /** Dataset identity; rows already loaded under it are replaced. */
  source: string;
  runId: string;
  sourceVersion: string;
  loadedAt: Date;
  /** Told how long each step of the load took (a DuckDB load: open, convert and insert, commit, close). */
  onStepTimed?: (step: string, ms: number) => void;
}

export interface TableLoadResult {
  table: string;
  rowsLoaded: number;
  /** Rows of the same source that this load replaced (0 on a first load). */
  rowsReplaced: number;
}

export interface Warehouse {
  readonly kind: 'duckdb' | 'bigquery';
  /** Human-readable location, for messages. */
  readonly location: string;
  /** The SQL forms that differ between the engines (date truncation, day difference, table list). */
  readonly dialect: SqlDialect;
  /**
   * Replaces the slice `source` of every table, and the dataset's row of each table in `_etl_tables`, all in
   * one transaction.
   */
  load(request: LoadRequest): Promise<TableLoadResult[]>;
  /** Runs read-only SQL; `params` bind to `$1..$n` (DuckDB) or `@name` (BigQuery). */
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * Runs `work`, whose operations on this warehouse share one opening of it: a stage's many small queries
   * then pay one open and one close (DuckDB: the file opened once, checkpointed once at the end; BigQuery:
   * nothing to share). Other callers' operations in this process wait until it ends. With `readOnly` (work
   * that only queries), other processes may read meanwhile (DuckDB: opened read-only; a load inside fails).
   */
  session<T>(work: () => Promise<T>, options?: SessionOptions): Promise<T>;
  close(): Promise<void>;
}

export interface SessionOptions {
  readOnly?: boolean;
}
