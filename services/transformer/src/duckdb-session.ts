/** One in-memory DuckDB per request: opened with the request's limits, always closed afterwards. */
import { availableParallelism, totalmem } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdb } from '@etl/common/duckdb';
import { errorMessage, isOutOfMemory, isPipelineError, PayloadTooLargeError } from '@etl/common/errors';

export interface DuckDbSettings {
  /** Worker threads; DuckDB's default (all cores) when unset. */
  threads?: number;
  /** e.g. "2GB"; DuckDB spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
  /** e.g. "10GB": the most DuckDB may spill to `tempDirectory`. */
  maxTempDirectorySize?: string;
}

export type JsonRow = Record<string, unknown>;

/**
 * The IN-clause optimizer turns each `lower(t) IN ('na', 'n/a', ...)` (two per typed column) into a join with
 * its own hash table per thread: a 64-column file of 5 rows ran out of 1 GB in the typing query, and memory
 * grew with columns, not rows. Without it that query takes 0.1 s and a few MB.
 */
const DISABLED_OPTIMIZERS = ['in_clause'];

/**
 * Widest table that is not "wide": a wider one is planned without the common-subexpression optimizer
 * (`planForColumns`), its typing query writes its per-row expressions over all columns as lists
 * (clean-sql.ts), since DuckDB holds vectors per expression, per thread, and it is typed on as many threads
 * as fit in the memory limit (`typingThreads`).
 */
export const WIDE_TABLE_COLUMNS = 100;

/**
 * `a OP b OP ...` as a balanced tree: a chain nests one level a term, and DuckDB refuses expressions over
 * 1,000 levels deep (a 1,000-column file's failure checks).
 */
export function balancedSql(op: 'AND' | 'OR', parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  const half = Math.ceil(parts.length / 2);
  return `(${balancedSql(op, parts.slice(0, half))} ${op} ${balancedSql(op, parts.slice(half))})`;
}

/**
 * Plans the queries of a table of `columns` columns without the common-subexpression optimizer when it is
 * wider than WIDE_TABLE_COLUMNS. Its planning time grows with the square of a query's expressions: the typing
 * query of a 400-column file took 4.3 s to plan, 3.9 s of them in that optimizer, for 20 rows, and a
 * 1,000-column file would take about half a minute before reading a row. What it saves (an expression
 * written twice in one query, evaluated once) our queries avoid writing (clean-sql.ts), and the per-column
 * aggregates run in batches of COLUMN_BATCH columns, each planned small.
 */
export async function planForColumns(connection: DuckDBConnection, columns: number): Promise<void> {
  if (columns <= WIDE_TABLE_COLUMNS) return;
  const disabled = [...DISABLED_OPTIMIZERS, 'common_subexpressions'].join(',');
  await connection.run(`SET disabled_optimizers = '${disabled}'`);
}

export async function withDuckDb<T>(
  settings: DuckDbSettings,
  tempDirectory: string,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const options: Record<string, string> = {
    temp_directory: tempDirectory,
    preserve_insertion_order: 'true',
    disabled_optimizers: DISABLED_OPTIMIZERS.join(','),
  };
  if (settings.threads !== undefined) options['threads'] = String(settings.threads);
  if (settings.memoryLimit !== undefined) options['memory_limit'] = settings.memoryLimit;
  if (settings.maxTempDirectorySize !== undefined)
    options['max_temp_directory_size'] = settings.maxTempDirectorySize;
  const instance = await duckdb().DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } catch (error) {
    // A clear, final answer naming the limit instead of a bare 500 (and never an OOM kill: DuckDB stops
    // at memory_limit by itself).
    if (!isPipelineError(error) && isOutOfMemory(error)) {
      throw new PayloadTooLargeError(
        `the transform needs more memory than DuckDB may use: DUCKDB_MEMORY_LIMIT = ${settings.memoryLimit ?? 'default'}, DUCKDB_MAX_TEMP_SIZE = ${settings.maxTempDirectorySize ?? 'default'} of spill in ${tempDirectory}; raise them or split the input (${errorMessage(error).split('\n')[0]})`,
        {
          cause: error,
          details: {
            memoryLimit: settings.memoryLimit ?? null,
            maxTempDirectorySize: settings.maxTempDirectorySize ?? null,
          },
        },
        'MEMORY_LIMIT_EXCEEDED',
      );
    }
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Rows as JSON-safe objects (BIGINT arrives as a string: use `toCount`). */
export async function queryRows(connection: DuckDBConnection, sql: string): Promise<JsonRow[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson() as JsonRow[];
}

/**
 * `count(*) FILTER (WHERE condition)`, written without FILTER. DuckDB gives each filtered aggregate of a query
 * its own buffer of the aggregate's whole input (a vector per input column, per thread), so a query of many
 * filtered counts takes memory in aggregates x columns: the type counts of a 200-column file (12 a column)
 * took 5 GB and 44 s for 20 rows, and 500 columns were killed at 24 GB. A CASE inside count() costs the same
 * per row and nothing per aggregate.
 */
export const countWhere = (condition: string): string => `count(CASE WHEN ${condition} THEN 1 END)`;

/**
 * Columns per query of per-column aggregates (`aggregateRow`). Planning a query takes time in the square of
 * its expressions (the common-subexpression optimizer compares them: 7 s to plan the type counts of 400
 * columns), and each DISTINCT aggregate holds a hash table per thread (400 `list(DISTINCT ...)` ran out of
 * 1 GB on 20 rows), so a wide table's aggregates run a batch of columns at a time: time and memory then grow
 * with the columns, not their square. A table of up to this many columns is one query, as before.
 */
export const COLUMN_BATCH = 50;

/**
 * One row of per-column aggregates, queried COLUMN_BATCH columns at a time and merged: `columns` holds each
 * column's aggregates (columns without any are skipped), `select` builds the query of a batch's aggregates
 * (their aliases unique).
 */
export async function aggregateRow<T>(
  connection: DuckDBConnection,
  columns: ReadonlyArray<readonly T[]>,
  select: (aggregates: T[]) => string,
): Promise<JsonRow> {
  const row: JsonRow = {};
  const counted = columns.filter((aggregates) => aggregates.length > 0);
  for (let start = 0; start < counted.length; start += COLUMN_BATCH) {
    const aggregates = counted.slice(start, start + COLUMN_BATCH).flat();
    const [part = {}] = await queryRows(connection, select(aggregates));
    Object.assign(row, part);
  }
  return row;
}

/**
 * Per-value aggregates as one grouped query over the values unpivoted (`unnest`), a row per value in
 * `values`' order (`undefined` for one without rows, as over an empty relation). DuckDB sets up each
 * DISTINCT aggregate of a query on its own: 66 `count(DISTINCT ...)` over a 100-row sample took 0.3-0.5 s,
 * grouped 5-20 ms, and over 100k rows both take the same time (bench/RESULTS.md). `values` are SQL
 * expressions of one type over `from` (a relation, optionally with its WHERE), named `value` in `aggregates`
 * (a SELECT list). COLUMN_BATCH values per query, for the reasons given there.
 */
export async function unpivotedAggregates(
  connection: DuckDBConnection,
  values: readonly string[],
  aggregates: string,
  from: string,
): Promise<Array<JsonRow | undefined>> {
  const out: Array<JsonRow | undefined> = values.map(() => undefined);
  for (let start = 0; start < values.length; start += COLUMN_BATCH) {
    const batch = values.slice(start, start + COLUMN_BATCH);
    const rows = await queryRows(
      connection,
      `SELECT j, ${aggregates} FROM (SELECT unnest([${batch.join(', ')}]) AS value, unnest(range(${batch.length})) AS j FROM ${from}) GROUP BY j`,
    );
    for (const row of rows) out[start + toCount(row['j'])] = row;
  }
  return out;
}

/** DuckDB's size units: KB = 1000 bytes, KiB = 1024 bytes. */
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `memoryLimit` in bytes (`1GB` is 10^9, as DuckDB reads it); DuckDB's default, 80% of the RAM, when unset. */
export function memoryLimitBytes(settings: DuckDbSettings): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(settings.memoryLimit?.trim() ?? '');
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit ? Number(match[1]) * unit : 0.8 * totalmem();
}

/**
 * DuckDB memory the typing query of a table takes per column, per thread: a vector per column at each of
 * its steps (about 0.4 MiB a column in all), and the block each stored column is written into (256 KiB),
 * with room for the rows it spills. Measured on files of 100,000 rows: 800 columns fit in 1 GB on one
 * thread; 1,000 columns did not (953 MiB), and fit in 2 GB on one thread.
 */
export const TYPING_BYTES_PER_COLUMN = 2 ** 20;
/** What the typing query needs besides (the CSV reader's buffers, the rows it spills). */
const TYPING_RESERVE_BYTES = 128 * 2 ** 20;

/**
 * Threads the typing query of a table of `columns` columns may use within the memory limit: the
 * configured ones (all cores by default), fewer for a wide table (WIDE_TABLE_COLUMNS) when they would not
 * fit, and 0 when not even one would (the table is too wide for the limit: `typingMemoryBytes` says what it
 * needs). A narrow table's columns are a small part of its memory, and its limit is DuckDB's to enforce.
 */
export function typingThreads(settings: DuckDbSettings, columns: number): number {
  const configured = settings.threads ?? availableParallelism();
  if (columns <= WIDE_TABLE_COLUMNS) return configured;
  const perThread = columns * TYPING_BYTES_PER_COLUMN;
  const fit = Math.floor((memoryLimitBytes(settings) - TYPING_RESERVE_BYTES) / perThread);
  return Math.max(0, Math.min(configured, fit));
}

/** The memory limit a table of `columns` columns needs for its typing query on one thread. */
export const typingMemoryBytes = (columns: number): number =>
  TYPING_RESERVE_BYTES + columns * TYPING_BYTES_PER_COLUMN;

export function toCount(value: unknown): number {
  const count = Number(value ?? 0);
  if (!Number.isSafeInteger(count)) throw new Error(`expected a count, got ${JSON.stringify(value)}`);
  return count;
}
