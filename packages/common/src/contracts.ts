/**
 * The request and response of every service, as zod schemas: the single source for validation, for the
 * TypeScript types the callers use, and for each service's /openapi.json.
 */
import { z } from 'zod';

const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TABLE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export const runIdSchema = z
  .string()
  .regex(RUN_ID_PATTERN, 'expected 1-128 letters, digits, _ . - starting with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ..')
  .describe('Run identifier; every object of the run lives under runs/<runId>/.');

export const tableNameSchema = z
  .string()
  .regex(TABLE_PATTERN, 'expected lower-case letters, digits and _ starting with a letter')
  .describe('Warehouse table name.');

/** `sample`, `local:PATH` or `kaggle:OWNER/SLUG[/VERSION]`. */
export const sourceSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => s === 'sample' || s.startsWith('local:') || s.startsWith('kaggle:'), {
    message: 'expected "sample", "local:PATH" or "kaggle:OWNER/SLUG"',
  })
  .describe(
    'Where the data comes from: sample, local:PATH (a .csv, a .zip or a folder) or kaggle:OWNER/SLUG.',
  );

export const datasetSchema = z.object({
  id: z.string().describe('Dataset identity, <kind>/<owner>/<slug>; the warehouse slice a load replaces.'),
  version: z
    .string()
    .describe("Kaggle's version number, or the sha256 of the content for local and sample data."),
  previousVersion: z.string().nullable().describe('Version of the last successful load, null if none.'),
  changed: z.boolean().describe('Whether the version differs from the last successful load.'),
});

export const rawFileSchema = z.object({
  name: z.string().describe('File name inside the run, e.g. orders.csv or data/orders.csv from a zip.'),
  key: z.string().describe('Object key of the raw bytes.'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
});

export const extractRequestSchema = z
  .object({
    runId: runIdSchema,
    source: sourceSchema,
    sample: z
      .object({
        rows: z.number().int().min(1).max(50_000_000).default(10_000),
        seed: z.number().int().default(42),
      })
      .strict()
      .optional()
      .describe('Size and seed of generated data when source is "sample".'),
  })
  .strict();

export const extractResponseSchema = z.object({
  runId: runIdSchema,
  source: z.string(),
  sample: z
    .object({ rows: z.number().int(), seed: z.number().int() })
    .optional()
    .describe('Size and seed of the generated data, for source "sample".'),
  dataset: datasetSchema,
  files: z.array(rawFileSchema),
  manifestKey: z.string(),
});

export const transformRequestSchema = z
  .object({
    runId: runIdSchema,
    table: tableNameSchema.default('sales').describe('Name of the cleaned table.'),
    maxRejectRate: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        'Quality gate: largest share of input rows that may be quarantined before the run fails (422).',
      ),
  })
  .strict();

export const tableCountsSchema = z.object({
  name: tableNameSchema,
  rowsIn: z.number().int().nonnegative(),
  rowsOut: z.number().int().nonnegative(),
  rowsQuarantined: z.number().int().nonnegative(),
  rowsDuplicate: z.number().int().nonnegative(),
  stagedKey: z.string(),
  quarantineKey: z.string(),
});

export const qualitySchema = z.object({
  passed: z.boolean(),
  rejectRate: z.number(),
  maxRejectRate: z.number(),
});

export const transformResponseSchema = z.object({
  runId: runIdSchema,
  tables: z.array(tableCountsSchema),
  quality: qualitySchema,
  reportKey: z.string(),
  manifestKey: z.string(),
});

export const loadRequestSchema = z.object({ runId: runIdSchema }).strict();

export const loadResponseSchema = z.object({
  runId: runIdSchema,
  warehouse: z.enum(['duckdb', 'bigquery']),
  dataset: z.object({ id: z.string(), version: z.string() }),
  tables: z.array(
    z.object({
      name: tableNameSchema,
      rowsLoaded: z.number().int().nonnegative(),
      rowsReplaced: z.number().int().nonnegative(),
    }),
  ),
  loadedAt: z.string(),
  manifestKey: z.string(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    details: z.unknown().optional(),
  }),
});

export type ExtractRequest = z.infer<typeof extractRequestSchema>;
export type ExtractResponse = z.infer<typeof extractResponseSchema>;
export type TransformRequest = z.infer<typeof transformRequestSchema>;
export type TransformResponse = z.infer<typeof transformResponseSchema>;
export type TableCounts = z.infer<typeof tableCountsSchema>;
export type LoadRequest = z.infer<typeof loadRequestSchema>;
export type LoadResponse = z.infer<typeof loadResponseSchema>;
export type RawFile = z.infer<typeof rawFileSchema>;
export type Dataset = z.infer<typeof datasetSchema>;

/** One endpoint of a service, for validation and for its OpenAPI document. */
export interface EndpointContract {
  method: 'post';
  path: string;
  summary: string;
  request: z.ZodType;
  response: z.ZodType;
}

export const extractEndpoint: EndpointContract = {
  method: 'post',
  path: '/v1/extract',
  summary: 'Fetch a dataset (sample, local file or Kaggle) into runs/<runId>/raw/ and report its version.',
  request: extractRequestSchema,
  response: extractResponseSchema,
};

export const transformEndpoint: EndpointContract = {
  method: 'post',
  path: '/v1/transform',
  summary: 'Clean the raw CSV files of a run into Arrow IPC tables, a quarantine and a report.',
  request: transformRequestSchema,
  response: transformResponseSchema,
};

export const loadEndpoint: EndpointContract = {
  method: 'post',
  path: '/v1/load',
  summary: "Load a run's staged tables into the warehouse, replacing the dataset's previous rows.",
  request: loadRequestSchema,
  response: loadResponseSchema,
};
