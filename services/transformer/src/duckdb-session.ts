/** One in-memory DuckDB per request: opened with the request's limits, always closed afterwards. */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { errorMessage, isPipelineError, PayloadTooLargeError } from '@etl/common/errors';

export interface DuckDbSettings {
  /** Worker threads; DuckDB's default (all cores) when unset. */
  threads?: number;
  /** e.g. "2GB"; DuckDB spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
  /** e.g. "10GB": the most DuckDB may spill to `tempDirectory`. */
  maxTempDirectorySize?: string;
}

/** DuckDB's answer when a query needs more than memory_limit plus what it may spill. */
const OUT_OF_MEMORY = /Out of Memory Error|could not allocate|max_temp_directory_size/i;

export const isOutOfMemory = (error: unknown): boolean => OUT_OF_MEMORY.test(errorMessage(error));

export type JsonRow = Record<string, unknown>;

export async function withDuckDb<T>(
  settings: DuckDbSettings,
  tempDirectory: string,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const options: Record<string, string> = {
    temp_directory: tempDirectory,
    preserve_insertion_order: 'true',
    // The IN-clause optimizer turns each `lower(t) IN ('na', 'n/a', ...)` (two per typed column) into a join
    // with its own hash table per thread: a 64-column file of 5 rows ran out of 1 GB in the typing query,
    // and memory grew with columns, not rows. Without it that query takes 0.1 s and a few MB.
    disabled_optimizers: 'in_clause',
  };
  if (settings.threads !== undefined) options['threads'] = String(settings.threads);
  if (settings.memoryLimit !== undefined) options['memory_limit'] = settings.memoryLimit;
  if (settings.maxTempDirectorySize !== undefined)
    options['max_temp_directory_size'] = settings.maxTempDirectorySize;
  const instance = await DuckDBInstance.create(':memory:', options);
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

export function toCount(value: unknown): number {
  const count = Number(value ?? 0);
  if (!Number.isSafeInteger(count)) throw new Error(`expected a count, got ${JSON.stringify(value)}`);
  return count;
}
