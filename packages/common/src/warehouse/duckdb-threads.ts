import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Runs `work` with DuckDB's `threads` set to `threads` (unless it is that already), then sets it back.
 */
export async function withThreads<T>(
  connection: DuckDBConnection,
  threads: number,
  work: () => Promise<T>,
): Promise<T> {
  const [[current]] = (await connection.runAndReadAll("SELECT current_setting('threads')")).getRows() as [
    [unknown],
  ];
  const previous = Number(current);
  if (previous === threads) return work();
  await connection.run(`SET threads = ${threads}`);
  const restore = () => connection.run(`SET threads = ${previous}`);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    // In a transaction the failure aborted, SET fails too: the caller rolls back, and must hear why.
    await restore().catch(() => {});
    throw error;
  }
  await restore();
  return result;
}
