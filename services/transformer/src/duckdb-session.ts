/** One in-memory DuckDB per request: opened with the request's limits, always closed afterwards. */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface DuckDbSettings {
  /** Worker threads; DuckDB's default (all cores) when unset. */
  threads?: number;
  /** e.g. "2GB"; DuckDB spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
}

export type JsonRow = Record<string, unknown>;

export async function withDuckDb<T>(
  settings: DuckDbSettings,
  tempDirectory: string,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const options: Record<string, string> = { temp_directory: tempDirectory, preserve_insertion_order: 'true' };
  if (settings.threads !== undefined) options['threads'] = String(settings.threads);
  if (settings.memoryLimit !== undefined) options['memory_limit'] = settings.memoryLimit;
  const instance = await DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  try {
    return await work(connection);
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
