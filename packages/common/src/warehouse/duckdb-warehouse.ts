/**
 * Warehouse on a DuckDB file. The file is opened for each operation and closed after it, so other
 * processes (`etl query`, the insights app) can use it between loads; a lock held by another process is
 * retried briefly, then reported as 503 (retryable).
 *
 * A full disk is a 507 naming the file DuckDB could not write and the space free there. A write-ahead log
 * DuckDB cannot replay (torn or corrupt, e.g. after the disk filled) made every later open fail ("Failure
 * while replaying WAL", then 500s on every load); now it is moved aside as `<file>.wal.unreadable-<time>`
 * with a warning naming both files, and the database reopens at its last checkpoint. A database DuckDB
 * invalidated during an operation is a retryable 503: the next operation opens it afresh.
 */
import { mkdir, mkdtemp, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { arrowToParquetParts } from '../arrow';
import {
  DataRejectedError,
  diskFullError,
  isDiskFullError,
  isPipelineError,
  UpstreamUnavailableError,
} from '../errors';
import type { Logger } from '../logging';
import type { ColumnInfo, Roles } from '../roles';
import { assertTableName } from '../storage/object-keys';
import { planWidening } from './column-compat';
import { duckDbDialect } from './dialect';
import { toJsonSafeRow } from './json-safe-row';
import { quoteIdentifier, quoteLiteral } from './sql';
import { TABLE_METADATA, TABLE_METADATA_COLUMNS, tableMetadataValues } from './table-metadata';
import type { LoadRequest, Row, TableLoad, TableLoadResult, Warehouse } from './warehouse';

export interface DuckDbWarehouseOptions {
  /** The database file; created on first use. */
  file: string;
  /** How long to wait for another process's lock before answering 503. */
  lockTimeoutMs?: number;
  /** DuckDB settings (threads, memory_limit, ...). */
  settings?: Record<string, string>;
  /** Rows per Parquet part a load is converted into (`arrowToParquetParts`); for tests. */
  partRows?: number;
  /** Where the recovery of an unreadable write-ahead log is reported. */
  logger?: Logger;
}

const LOCK_ERROR = /Could not set lock|Conflicting lock/i;
const UNREADABLE_WAL = /Failure while replaying WAL|Corrupt WAL/i;
const INVALIDATED = /database has been invalidated/i;

/**
 * Operations on one file in this process take turns. Two DuckDB instances of the same file in one
 * process do not lock each other out (the file lock is per process): both commit, and the last one to
 * close overwrites the other's writes. Found by test/chaos: two loads of different datasets at once
 * both answered 200 and one dataset's rows were gone.
 */
const fileTurns = new Map<string, Promise<void>>();

async function takeTurn(file: string): Promise<() => void> {
  const previous = fileTurns.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  fileTurns.set(file, tail);
  await previous;
  return () => {
    release();
    if (fileTurns.get(file) === tail) fileTurns.delete(file);
  };
}

export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  readonly dialect = duckDbDialect;
  readonly location: string;

  constructor(private readonly options: DuckDbWarehouseOptions) {
    this.location = path.resolve(options.file);
  }

  async load(request: LoadRequest): Promise<TableLoadResult[]> {
    const tables = request.tables.map((t) => ({ ...t, table: assertTableName(t.table) }));
    const scratch = await mkdtemp(path.join(tmpdir(), 'etl-load-'));
    try {
      // One Parquet file per part, written as it is made: never the whole table as Parquet in memory.
      const files: string[][] = [];
      for (const [i, t] of tables.entries()) {
        const parts: string[] = [];
        for await (const part of arrowToParquetParts(t.arrow, this.options.partRows)) {
          const file = path.join(scratch, `${i}-${parts.length}.parquet`);
          await writeFile(file, part);
          parts.push(file);
        }
        files.push(parts);
      }
      return await this.withConnection(async (connection) => {
        await connection.run('BEGIN TRANSACTION');
        try {
          const results: TableLoadResult[] = [];
          for (const [i, t] of tables.entries()) {
            results.push(await replaceSlice(connection, t, files[i]!, request));
          }
          await connection.run('COMMIT');
          return results;
        } catch (error) {
          await connection.run('ROLLBACK');
          throw error;
        }
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowObjectsJS().map(toJsonSafeRow);
    });
  }

  async close(): Promise<void> {
    // Nothing is held open between operations.
  }

  private async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const done = await takeTurn(this.location);
    try {
      return await this.openAndRun(work);
    } catch (error) {
      throw await this.mapError(error);
    } finally {
      done();
    }
  }

  /** A full disk -> 507 naming the file and the free space; an invalidated database -> 503. */
  private get readOnly(): boolean {
    return this.options.settings?.access_mode?.toUpperCase() === 'READ_ONLY';
  }

  private async mapError(error: unknown): Promise<unknown> {
    if (isPipelineError(error)) return error;
    if (isDiskFullError(error)) {
      const free = await statfs(path.dirname(this.location)).then(
        (info) => info.bavail * info.bsize,
        () => undefined,
      );
      return diskFullError(error, {
        what: `the warehouse ${this.location}`,
        ...(free === undefined ? {} : { freeBytes: free }),
      });
    }
    if (INVALIDATED.test(String(error))) {
      return new UpstreamUnavailableError(
        `warehouse ${this.location} was invalidated by a failed write; retry: the next operation reopens it`,
        { cause: error },
        'WAREHOUSE_INVALIDATED',
      );
    }
    return error;
  }

  /** Moves a write-ahead log DuckDB cannot replay aside, so that the database opens at its last checkpoint. */
  private async setAsideUnreadableWal(error: unknown): Promise<void> {
    const wal = `${this.location}.wal`;
    const aside = `${wal}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(wal, aside);
    this.options.logger?.warn(
      { wal, movedTo: aside, error: String(error) },
      `warehouse ${this.location}: its write-ahead log could not be replayed; moved it to ${aside} and reopened the database at its last checkpoint (loads committed after it are not in the warehouse: re-run them, see docs/runbook.md)`,
    );
  }

  private async openAndRun<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.location), { recursive: true });
    const deadline = Date.now() + (this.options.lockTimeoutMs ?? 5_000);
    let instance: DuckDBInstance | undefined;
    let walSetAside = false;
    while (!instance) {
      try {
        instance = await DuckDBInstance.create(this.location, this.options.settings);
      } catch (error) {
        if (UNREADABLE_WAL.test(String(error)) && !walSetAside && !this.readOnly) {
          await this.setAsideUnreadableWal(error);
          walSetAside = true;
          continue;
        }
        if (!LOCK_ERROR.test(String(error)) || Date.now() > deadline) {
          if (LOCK_ERROR.test(String(error))) {
            throw new UpstreamUnavailableError(`warehouse ${this.location} is locked by another process`, {
              cause: error,
            });
          }
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }
}

async function replaceSlice(
  connection: DuckDBConnection,
  load: TableLoad,
  parquetFiles: readonly string[],
  request: LoadRequest,
): Promise<TableLoadResult> {
  const { table } = load;
  const target = quoteIdentifier(table);
  // A list of files is read in list order (insertion order is preserved).
  const source = `read_parquet([${parquetFiles.map(quoteLiteral).join(', ')}])`;
  const lineage = `$1::VARCHAR AS _source, $2::VARCHAR AS _run_id, $3::TIMESTAMPTZ AS _loaded_at, $4::VARCHAR AS _source_version`;
  const params = [request.source, request.runId, request.loadedAt.toISOString(), request.sourceVersion];
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${target} AS SELECT *, ${lineage} FROM ${source} LIMIT 0`,
    params,
  );
  const columns = await alignColumns(connection, table, source);
  const deleted = await connection.runAndReadAll(`DELETE FROM ${target} WHERE _source = $1`, [
    request.source,
  ]);
  const inserted = await connection
    .runAndReadAll(`INSERT INTO ${target} BY NAME SELECT *, ${lineage} FROM ${source}`, params)
    .catch((error: unknown) => {
      throw conversionError(table, error) ?? error;
    });
  await recordTable(connection, request, table, columns, load.roles);
  return { table, rowsLoaded: changedRows(inserted.getRows()), rowsReplaced: changedRows(deleted.getRows()) };
}

/** Replaces the dataset's row of `table` in `_etl_tables` (./table-metadata), in the load's transaction. */
async function recordTable(
  connection: DuckDBConnection,
  request: LoadRequest,
  table: string,
  columns: ColumnInfo[],
  roles: Roles | undefined,
): Promise<void> {
  const definition = TABLE_METADATA_COLUMNS.map((c) => `${c.name} ${c.duckdb}`).join(', ');
  await connection.run(`CREATE TABLE IF NOT EXISTS ${TABLE_METADATA} (${definition})`);
  await connection.run(`DELETE FROM ${TABLE_METADATA} WHERE source = $1 AND table_name = $2`, [
    request.source,
    table,
  ]);
  await connection.run(
    `INSERT INTO ${TABLE_METADATA} VALUES (${TABLE_METADATA_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
    tableMetadataValues(request, table, columns, roles),
  );
}

/**
 * The table takes the load's columns: a column widened where the load's type holds the table's (and refused
 * where it would be a lossy cast, planWidening), a column new in this load added (nullable), so older rows
 * read NULL for it. Returns the load's columns with their types.
 */
async function alignColumns(
  connection: DuckDBConnection,
  table: string,
  source: string,
): Promise<ColumnInfo[]> {
  const existing = (
    await connection.runAndReadAll(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1",
      [table],
    )
  )
    .getRows()
    .map(([name, type]) => ({ name: String(name), type: String(type) }));
  const incoming = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`))
    .getRows()
    .map(([name, type]) => ({ name: String(name), type: String(type) }));
  for (const w of planWidening(table, existing, incoming)) {
    await connection.run(
      `ALTER TABLE ${quoteIdentifier(table)} ALTER COLUMN ${quoteIdentifier(w.column)} SET DATA TYPE ${w.to}`,
    );
  }
  const names = new Set(existing.map((c) => c.name));
  for (const { name, type } of incoming) {
    if (!names.has(name)) {
      await connection.run(
        `ALTER TABLE ${quoteIdentifier(table)} ADD COLUMN ${quoteIdentifier(name)} ${type}`,
      );
    }
  }
  return incoming;
}

/**
 * A value the table's column cannot hold (alignColumns lets through only lossless casts, so this means a
 * table changed under the load) is bad data for this table: 422 naming it, never a 500.
 */
function conversionError(table: string, error: unknown): DataRejectedError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/Conversion Error|Could not convert|out of range/i.test(message)) return undefined;
  return new DataRejectedError(
    `table ${table} cannot hold a value of this load: ${message.replace(/^[A-Za-z ]*Error: /, '')}; nothing was loaded`,
    { cause: error, details: { table } },
    'LOAD_CONVERSION_FAILED',
  );
}

function changedRows(rows: unknown[][]): number {
  return Number(rows[0]?.[0] ?? 0);
}
