/** Transformer settings: the base service settings plus how much of the machine DuckDB may use. */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { baseConfigSchema, memorySize } from '@etl/common/config';
import { findWorkspaceRoot } from '@etl/common/workspace-root';
import { z } from 'zod';
import { DEFAULT_SAMPLE_ROWS } from './sample-rows';

/**
 * `<repo>/profiles`: the folder beside the workspace root found above this module (source tree or a
 * bundle under services/transformer/dist), else `profiles` in the working directory (a container image).
 */
export function defaultProfilesDir(from = import.meta.dirname): string {
  const root = findWorkspaceRoot(from);
  return root ? path.join(root, 'profiles') : path.resolve('profiles');
}

export const transformerConfigSchema = baseConfigSchema.extend({
  DUCKDB_THREADS: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe("DuckDB worker threads per request; unset uses DuckDB's default (the number of cores)."),
  DUCKDB_MEMORY_LIMIT: memorySize()
    .default('1GB')
    .describe(
      'DuckDB memory_limit per request; beyond it DuckDB spills to TRANSFORM_TEMP_DIR (1GB keeps a 5M-row, 1 GB file under 1.5 GiB of process memory at the speed of 2GB; bench/RESULTS.md).',
    ),
  TRANSFORM_SAMPLE_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SAMPLE_ROWS)
    .describe(
      'Rows (from the start of the data) read to infer column types; the rest is cast and checked, and a column the later rows break (more than 2% of its values not its type, or values where the sample had none) is typed again on every row (docs/cleaning.md). A table wider than 333 columns reads fewer: at most 10 million cells, at least 1,000 rows.',
    ),
  TRANSFORM_TEMP_DIR: z
    .string()
    .min(1)
    .default(tmpdir())
    .describe('Folder for per-request scratch files (downloaded and transcoded CSV, Parquet, DuckDB spill).'),
  DUCKDB_MAX_TEMP_SIZE: memorySize()
    .optional()
    .describe(
      "DuckDB max_temp_directory_size: how much it may spill to disk; unset uses DuckDB's default (90% of free space).",
    ),
  MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(4 * 1024 ** 3)
    .describe(
      'Largest total size of the raw CSV files of one run; above it the transform answers 413 INPUT_TOO_LARGE.',
    ),
  PROFILES_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Folder of the dataset profiles (<name>.yaml) a transform request can name; unset: <repo>/profiles (found above the code), else ./profiles.',
    ),
});

export type TransformerConfig = z.infer<typeof transformerConfigSchema>;
