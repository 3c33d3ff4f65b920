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
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { arrowToParquetParts, partsCheck } from '../arrow';
import { duckdb } from '../duckdb';
import {
  DataRejectedError,
  diskFullError,
  errorMessage,
  freeBytesAt,
  isDiskFullError,
  isOutOfMemory,
  isPipelineError,
  PayloadTooLargeError,
  UpstreamUnavailableError,
} from '../errors';
import type { Logger } from '../logging';
import type { ColumnInfo, Roles } from '../roles';
import { assertTableName } from '../storage/object-keys';
import { asReady } from './as-ready';
import { planWidening } from './column-compat';
import { DUCKDB_OWN_SCHEMA, duckDbDialect } from './dialect';
import { withThreads } from './duckdb-threads';
import { toJsonSafeRow } from './json-safe-row';
import { quoteIdentifier, quoteLiteral } from './sql';
import { TABLE_METADATA, TABLE_METADATA_COLUMNS, tableMetadataValues } from './table-metadata';
import type { LoadRequest, Row, SessionOptions, TableLoad, TableLoadResult, Warehouse } from './warehouse';

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
  /** The connection of the session (`session`) the current operation runs in, if any. */
  private readonly held = new AsyncLocalStorage<DuckDBConnection>();

  constructor(private readonly options: DuckDbWarehouseOptions) {
    this.location = path.resolve(options.file);
  }

  /**
   * Each table is converted to Parquet a part at a time (`arrowToParquetParts`) onto local files, and
   * DuckDB inserts the parts written so far on its threads while this thread converts the next ones. All
   * in one transaction; the close checkpoints, so a load answers once it is in the main file
   * (bench/RESULTS.md: what that costs and why it stays).
   */
  async load(request: LoadRequest): Promise<TableLoadResult[]> {
    const tables = request.tables.map((t) => ({ ...t, table: assertTableName(t.table) }));
    const lap = stepTimer(request.onStepTimed);
    const scratch = await mkdtemp(path.join(tmpdir(), 'etl-load-'));
    try {
      return await this.withConnection(async (connection) => {
        lap('open');
        await connection.run('BEGIN TRANSACTION');
        try {
          const results: TableLoadResult[] = [];
          for (const [i, t] of tables.entries()) {
            const parts = parquetPartFiles(t, path.join(scratch, String(i)), this.options.partRows);
            results.push(await replaceSlice(connection, t, parts, request));
          }
          lap('convert and insert');
          await connection.run('COMMIT');
          lap('commit');
          return results;
        } catch (error) {
          // A COMMIT that failed (the disk filled while it wrote the log) has ended the transaction
          // itself, and ROLLBACK then fails with "no transaction is active": the answer is the first error.
          await connection.run('ROLLBACK').catch(() => {});
          throw error;
        }
      }, lap);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(sql, params as never);
      // A DATE is a JS Date at UTC midnight: as `YYYY-MM-DD`, the way BigQuery answers it; a TIME is
      // microseconds since midnight: as `HH:MM:SS[.ffffff]`, likewise.
      const types = reader.columnTypes();
      const { DATE, TIME } = duckdb().DuckDBTypeId;
      const named = (id: number) => reader.columnNames().filter((_, i) => types[i]!.typeId === id);
      const dates = named(DATE);
      const times = named(TIME);
      return reader.getRowObjectsJS().map((values) => {
        const row = toJsonSafeRow(values);
        for (const name of dates) if (typeof row[name] === 'string') row[name] = row[name].slice(0, 10);
        for (const name of times) if (typeof values[name] === 'bigint') row[name] = timeText(values[name]);
        return row;
      });
    });
  }

  /**
   * The operations `work` makes, and only those (told apart by their async context), use the connection the
   * session opened; anyone else's wait for the file's turn as usual. A load inside a session commits as
   * always, and its checkpoint happens when the session closes the file.
   */
  async session<T>(work: () => Promise<T>, options: SessionOptions = {}): Promise<T> {
    if (this.held.getStore()) return work();
    return this.withConnection((connection) => this.held.run(connection, work), undefined, options.readOnly);
  }

  async close(): Promise<void> {
    // Nothing is held open between operations.
  }

  private async withConnection<T>(
    work: (connection: DuckDBConnection) => Promise<T>,
    lap?: (step: string) => void,
    readOnly = this.readOnly,
  ): Promise<T> {
    // Inside a session the file is open and the turn taken: the session's connection is used as it is.
    const held = this.held.getStore();
    const done = held ? undefined : await takeTurn(this.location);
    try {
      return held ? await work(held) : await this.openAndRun(work, lap, readOnly);
    } catch (error) {
      throw await this.mapError(error);
    } finally {
      done?.();
    }
  }

  private get readOnly(): boolean {
    return this.options.settings?.access_mode?.toUpperCase() === 'READ_ONLY';
  }

  /**
   * A full disk -> 507 naming the file and the free space; an invalidated database -> 503; DuckDB out of
   * its memory limit -> 413 naming the limit (final: the same load needs the same memory; the transaction
   * was rolled back, nothing is written).
   */
  private async mapError(error: unknown): Promise<unknown> {
    if (isPipelineError(error)) return error;
    if (isDiskFullError(error)) {
      const free = await freeBytesAt(path.dirname(this.location));
      return diskFullError(error, {
        what: `the warehouse ${this.location}`,
        ...(free === undefined ? {} : { freeBytes: free }),
      });
    }
    if (isOutOfMemory(error)) {
      const limit = this.options.settings?.memory_limit ?? 'DuckDB default';
      return new PayloadTooLargeError(
        `the warehouse ${this.location} needs more memory than its limit (WAREHOUSE_MEMORY_LIMIT = ${limit}) for this operation; nothing was written: raise WAREHOUSE_MEMORY_LIMIT or load fewer columns (${errorMessage(error).split('\n')[0]})`,
        { cause: error, details: { memoryLimit: limit } },
        'WAREHOUSE_MEMORY_LIMIT_EXCEEDED',
      );
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

  /** `lap('close')` follows closing the database, which checkpoints it (see `load`). */
  private async openAndRun<T>(
    work: (connection: DuckDBConnection) => Promise<T>,
    lap: ((step: string) => void) | undefined,
    readOnly: boolean,
  ): Promise<T> {
    const settings = readOnly
      ? { ...this.options.settings, access_mode: 'READ_ONLY' }
      : this.options.settings;
    await mkdir(path.dirname(this.location), { recursive: true });
    const deadline = Date.now() + (this.options.lockTimeoutMs ?? 5_000);
    let instance: DuckDBInstance | undefined;
    let walSetAside = false;
    while (!instance) {
      try {
        instance = await duckdb().DuckDBInstance.create(this.location, settings);
      } catch (error) {
        if (UNREADABLE_WAL.test(String(error)) && !walSetAside && !readOnly) {
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
      lap?.('close');
    }
  }
}

/** Microseconds since midnight as BigQuery writes a TIME: `13:08:00`, `13:08:00.250000`. */
function timeText(micros: bigint): string {
  const seconds = Number(micros / 1_000_000n);
  const fraction = Number(micros % 1_000_000n);
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
  return fraction === 0 ? clock : `${clock}.${String(fraction).padStart(6, '0')}`;
}

/** `lap(step)` reports the time since the previous lap (or since the timer was made) as `step`. */
function stepTimer(onStepTimed: ((step: string, ms: number) => void) | undefined): (step: string) => void {
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    onStepTimed?.(step, now - last);
    last = now;
  };
}

/** The table's Parquet parts as local files, in order. */
async function* parquetPartFiles(
  load: TableLoad,
  prefix: string,
  partRows: number | undefined,
): AsyncGenerator<string> {
  let n = 0;
  for await (const part of arrowToParquetParts(load.arrow, partRows, partsCheck(load), 'local')) {
    const file = `${prefix}-${n++}.parquet`;
    await writeFile(file, part);
    yield file;
  }
}

/**
 * Widest table inserted on all threads. Each inserting thread holds a block of 256 KiB or more per column
 * of the rows it has not yet written: 2,000 columns of 2,100 rows (33 MB of numbers) ran out of a 1 GB
 * limit on 2 threads and loaded on one. A wider table is inserted on one thread; no slower, measured on
 * 1,000 columns x 100,000 rows (26 s on one thread, 36 s on two). Beyond what one thread holds in
 * WAREHOUSE_MEMORY_LIMIT (about 3,800 columns at 1 GB), the load is a 413 (`mapError`).
 */
const WIDE_INSERT_COLUMNS = 100;

async function replaceSlice(
  connection: DuckDBConnection,
  load: TableLoad,
  parts: AsyncGenerator<string>,
  request: LoadRequest,
): Promise<TableLoadResult> {
  const { table } = load;
  const target = quoteIdentifier(table);
  const lineage = `$1::VARCHAR AS _source, $2::VARCHAR AS _run_id, $3::TIMESTAMPTZ AS _loaded_at, $4::VARCHAR AS _source_version`;
  const params = [request.source, request.runId, request.loadedAt.toISOString(), request.sourceVersion];
  // There is always a first part (an empty table gives one, with the schema): every part has the schema.
  const first = await parts.next();
  if (first.done) throw new Error(`expected at least one Parquet part for ${table}`);
  const firstSource = `read_parquet(${quoteLiteral(first.value)})`;
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${target} AS SELECT *, ${lineage} FROM ${firstSource} LIMIT 0`,
    params,
  );
  const columns = await alignColumns(connection, table, firstSource);
  const deleted = await connection.runAndReadAll(`DELETE FROM ${target} WHERE _source = $1`, [
    request.source,
  ]);
  // Parts are inserted in order (insertion order is kept) while the next ones are converted. An insert
  // takes every part converted since the previous one began: a part is one row group, which one DuckDB
  // thread reads, and a statement of several parts reads them on all threads (1M rows: 2.7 s a part at a
  // time, 1.35 s in one statement).
  const insert = async (files: string[]): Promise<number> => {
    const sources = files.map(quoteLiteral).join(', ');
    try {
      const result = await connection.runAndReadAll(
        `INSERT INTO ${target} BY NAME SELECT *, ${lineage} FROM read_parquet([${sources}])`,
        params,
      );
      await Promise.all(files.map((file) => rm(file, { force: true })));
      return changedRows(result.getRows());
    } catch (error) {
      throw conversionError(table, error) ?? error;
    }
  };
  const insertAll = async (): Promise<number> => {
    let rowsLoaded = 0;
    for await (const files of asReady(parts, [first.value])) rowsLoaded += await insert(files);
    return rowsLoaded;
  };
  const rowsLoaded =
    columns.length > WIDE_INSERT_COLUMNS ? await withThreads(connection, 1, insertAll) : await insertAll();
  await recordTable(connection, request, table, columns, load.roles);
  return { table, rowsLoaded, rowsReplaced: changedRows(deleted.getRows()) };
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
      `SELECT column_name, data_type FROM duckdb_columns() WHERE ${DUCKDB_OWN_SCHEMA} AND table_name = $1 ORDER BY column_index`,
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
