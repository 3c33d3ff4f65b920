/**
 * DuckDB's Node API, loaded with `require` on first use. The package is CommonJS: imported from ESM, Node
 * first lexes each of its ~40 files for their named exports, which was ~70 ms of every DuckDB service's
 * start; and a service that needs DuckDB only for its requests loads it after it listens (bench/RESULTS.md).
 * DuckDB's types come from '@duckdb/node-api' with `import type`.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

let api: typeof DuckDB | undefined;

export function duckdb(): typeof DuckDB {
  api ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;
  return api;
}
