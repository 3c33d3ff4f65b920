/** Transformer settings: the base service settings plus how much of the machine DuckDB may use. */
import { tmpdir } from 'node:os';
import { baseConfigSchema } from '@etl/common/config';
import { z } from 'zod';

export const transformerConfigSchema = baseConfigSchema.extend({
  DUCKDB_THREADS: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe("DuckDB worker threads per request; unset uses DuckDB's default (the number of cores)."),
  DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB or 2GB')
    .default('2GB')
    .describe('DuckDB memory_limit per request; beyond it DuckDB spills to TRANSFORM_TEMP_DIR.'),
  TRANSFORM_SAMPLE_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .default(100_000)
    .describe('Rows (from the start of the data) read to infer column types; the rest is cast and checked.'),
  TRANSFORM_TEMP_DIR: z
    .string()
    .min(1)
    .default(tmpdir())
    .describe('Folder for per-request scratch files (downloaded and transcoded CSV, Parquet, DuckDB spill).'),
});

export type TransformerConfig = z.infer<typeof transformerConfigSchema>;
