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

/** `sample`, `local:PATH`, `kaggle:OWNER/SLUG[/VERSION]` or `gs://BUCKET/OBJECT`. */
export const sourceSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (s) => s === 'sample' || s.startsWith('local:') || s.startsWith('kaggle:') || s.startsWith('gs://'),
    { message: 'expected "sample", "local:PATH", "kaggle:OWNER/SLUG" or "gs://BUCKET/OBJECT"' },
  )
  .describe(
    'Where the data comes from: sample, local:PATH (a .csv, a .zip or a folder), kaggle:OWNER/SLUG or ' +
      'gs://BUCKET/OBJECT (a .csv or .zip object in Cloud Storage, e.g. from an Eventarc upload event).',
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
    profile: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a profile name: letters, digits, _ . -')
      .refine((s) => !s.includes('..'), 'must not contain ..')
      .optional()
      .describe(
        "Dataset profile: the name of a YAML file in the transformer's PROFILES_DIR (without .yaml). Without it, everything is inferred. A request table or maxRejectRate overrides the profile's.",
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
  kind: z
    .enum(['cleaned', 'features'])
    .optional()
    .describe(
      'cleaned: the table of the input rows; features: an ML feature table derived from it (no rejects of its own, its quarantine is empty). Absent means cleaned.',
    ),
  partitionBy: z
    .string()
    .optional()
    .describe('Column the warehouse table should be partitioned by (a date).'),
  clusterBy: z.array(z.string()).optional().describe('Columns the warehouse table should be clustered by.'),
});

export const qualityCheckSchema = z.object({
  name: z.string().describe('reject_rate, min_rows, a profile check name, or duplicates_<columns>.'),
  passed: z.boolean(),
  value: z
    .number()
    .describe('The measured figure: a share of the input rows, or a count for row and key checks.'),
  threshold: z.number().describe('The limit the value is held to.'),
  severity: z
    .enum(['error', 'reject', 'warning'])
    .describe(
      'error: failing fails the run (422); reject: its rows were quarantined; warning: reported only.',
    ),
});

export const qualitySchema = z.object({
  passed: z.boolean(),
  rejectRate: z.number(),
  maxRejectRate: z.number(),
  checks: z
    .array(qualityCheckSchema)
    .optional()
    .describe('Every check of the profile, when the request named one.'),
});

export const transformResponseSchema = z.object({
  runId: runIdSchema,
  tables: z.array(tableCountsSchema),
  quality: qualitySchema,
  profile: z.string().optional().describe('The profile the run was cleaned with, when one was named.'),
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

export const refreshRequestSchema = z.object({ runId: runIdSchema }).strict();

export const refreshResponseSchema = z.object({
  runId: runIdSchema,
  status: z
    .enum(['refreshed', 'queued', 'skipped'])
    .describe(
      'refreshed: the extract refresh job finished successfully; queued: Tableau already had a refresh of ' +
        'the target queued and it could not be followed (no job id); skipped: Tableau is not configured.',
    ),
  reason: z.string().optional().describe('Why the refresh was skipped or not followed.'),
  target: z
    .object({
      kind: z.enum(['datasource', 'workbook']),
      id: z.string().describe('LUID of the data source or workbook.'),
      name: z.string().optional(),
    })
    .optional()
    .describe('What was refreshed.'),
  jobId: z.string().optional().describe('Tableau job id of the extract refresh.'),
  adopted: z
    .boolean()
    .optional()
    .describe('True when Tableau answered "already queued" (409093) and the existing job was followed.'),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  ms: z.number().int().nonnegative().optional().describe('Time spent refreshing and waiting, in ms.'),
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
export type QualityCheck = z.infer<typeof qualityCheckSchema>;
export type LoadRequest = z.infer<typeof loadRequestSchema>;
export type LoadResponse = z.infer<typeof loadResponseSchema>;
export type RefreshRequest = z.infer<typeof refreshRequestSchema>;
export type RefreshResponse = z.infer<typeof refreshResponseSchema>;
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

export const refreshEndpoint: EndpointContract = {
  method: 'post',
  path: '/v1/refresh',
  summary:
    'Refresh the Tableau extract (data source or workbook) after a load and wait for the job; answers ' +
    'status "skipped" when TABLEAU_* is not configured.',
  request: refreshRequestSchema,
  response: refreshResponseSchema,
};

export const analyzeRequestSchema = z.object({ runId: runIdSchema }).strict();

export const analyzeResponseSchema = z.object({
  runId: runIdSchema,
  dataset: z.object({ id: z.string(), version: z.string() }),
  forecast: z.object({
    method: z.enum(['holt-winters', 'seasonal-naive', 'naive']).describe('Model used; see docs/insights.md.'),
    months: z.number().int().describe('Months of history the forecast is fitted on.'),
    horizon: z.number().int(),
    holdout: z
      .object({
        months: z.number().int(),
        maeRatio: z.number().describe('MAE(Holt-Winters) / MAE(seasonal naive) on the held-out months.'),
        mase: z.number(),
        smape: z.number(),
        maseNaive: z.number(),
        smapeNaive: z.number(),
      })
      .nullable()
      .describe('Out-of-sample check on the last 12 months; null with less than 36 months of data.'),
  }),
  segments: z
    .object({ k: z.number().int(), silhouette: z.number(), customers: z.number().int() })
    .nullable()
    .describe('Customer segmentation; null with fewer than 10 customers.'),
  anomalies: z.object({ days: z.number().int(), flagged: z.number().int(), rule: z.string() }),
  tables: z.array(z.object({ name: z.string(), rowsLoaded: z.number().int().nonnegative() })),
  analyzedAt: z.string(),
  manifestKey: z.string(),
});

export type AnalyzeRequest = z.infer<typeof analyzeRequestSchema>;
export type AnalyzeResponse = z.infer<typeof analyzeResponseSchema>;

export const analyzeEndpoint: EndpointContract = {
  method: 'post',
  path: '/v1/analyze',
  summary:
    "Forecast, segment customers and flag anomalies on a loaded run's dataset; writes the ml_* tables.",
  request: analyzeRequestSchema,
  response: analyzeResponseSchema,
};
