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

/** `sample`, `local:PATH`, `kaggle:OWNER/SLUG[/VERSION]`, `gs://BUCKET/OBJECT` or `gs://BUCKET/PREFIX/`. */
export const sourceSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (s) => s === 'sample' || s.startsWith('local:') || s.startsWith('kaggle:') || s.startsWith('gs://'),
    {
      message:
        'expected "sample", "local:PATH", "kaggle:OWNER/SLUG", "gs://BUCKET/OBJECT" or "gs://BUCKET/PREFIX/"',
    },
  )
  .describe(
    'Where the data comes from: sample, local:PATH (a table file (.csv/.tsv/.txt, .json/.jsonl, .parquet, ' +
      '.xlsx), a .gz of one, a .zip (zips inside it unpacked too) or a folder), kaggle:OWNER/SLUG, ' +
      'gs://BUCKET/OBJECT (a table file, .gz or .zip object in Cloud Storage, e.g. from an Eventarc upload event) ' +
      'or gs://BUCKET/PREFIX/ (every object under the prefix, as a folder).',
  );

export const datasetSchema = z.object({
  id: z.string().describe('Dataset identity, <kind>/<owner>/<slug>; the warehouse slice a load replaces.'),
  version: z
    .string()
    .describe("Kaggle's version number, or the sha256 of the content for local and sample data."),
  previousVersion: z.string().nullable().describe('Version of the last successful load, null if none.'),
  changed: z.boolean().describe('Whether the version differs from the last successful load.'),
  location: z
    .string()
    .optional()
    .describe(
      "A local dataset's resolved path: what tells two files of the same name apart (docs/datasets.md).",
    ),
});

/** How a table file is read: delimited text (CSV, TSV, TXT, any delimiter), JSON or JSON lines, Parquet, Excel. */
export const TABLE_FORMATS = ['delimited', 'json', 'parquet', 'xlsx'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export const rawFileSchema = z.object({
  name: z
    .string()
    .describe(
      'File name inside the run: orders.csv, data/orders.csv from a zip, train.csv.zip/train.csv from a zip inside one.',
    ),
  key: z.string().describe('Object key of the raw bytes.'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  format: z
    .enum(TABLE_FORMATS)
    .default('delimited')
    .describe('How the file is read: delimited text, json (JSON array or JSON lines), parquet or xlsx.'),
});

export const skippedFileSchema = z.object({
  name: z.string().describe('The file, as named in the dataset (with the archives it came from).'),
  reason: z.string().describe('Why it is not a table: not a data format, empty, header only, ...'),
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
  skippedFiles: z
    .array(skippedFileSchema)
    .default([])
    .describe('Files of the dataset that hold no table (README, images, empty files), each with the reason.'),
  manifestKey: z.string(),
});

/**
 * What a run does with a column whose values no longer fit the type the dataset's table was loaded with
 * (docs/contracts.md). Every mode but `freeze` adds new columns and keeps missing ones as NULL.
 */
export const CONTRACT_MODES = ['discard_row', 'discard_value', 'evolve', 'freeze'] as const;
export type ContractMode = (typeof CONTRACT_MODES)[number];
export const DEFAULT_CONTRACT_MODE: ContractMode = 'discard_row';

export const SCHEMA_CHANGE_KINDS = [
  'added',
  'missing',
  'renamed',
  'widened',
  'type_changed',
  'format_changed',
  'variant',
] as const;

export const schemaChangeSchema = z.object({
  change: z
    .enum(SCHEMA_CHANGE_KINDS)
    .describe(
      'added/missing: a column new in or absent from this version; renamed: a missing column and an added one with mostly the same values; widened: a type that holds the old one (BIGINT -> DOUBLE, DATE -> TIMESTAMP); type_changed: values that no longer fit the loaded type; format_changed: a date format the new values prove; variant: values of a new type kept in <column>__v2.',
    ),
  column: z.string(),
  from: z.string().optional().describe('The loaded type, format or (renamed) column name.'),
  to: z.string().optional().describe('The type, format or column name of this version.'),
  rows: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('type_changed: rows rejected (discard_row) or values set to NULL (discard_value).'),
  refused: z.boolean().optional().describe('True when the contract (freeze) refused the change.'),
  message: z.string(),
});
export type SchemaChange = z.infer<typeof schemaChangeSchema>;

export const transformRequestSchema = z
  .object({
    runId: runIdSchema,
    table: tableNameSchema
      .optional()
      .describe(
        'Name of the cleaned table of a one-table dataset (400 when the dataset has several). Without it, tables are named from their files (docs/datasets.md).',
      ),
    tables: z
      .record(z.string().min(1).max(256), tableNameSchema)
      .optional()
      .describe(
        'Table names for the files matching each glob (`*` and `?`, matched against the file name and its path), e.g. {"train*.csv": "weekly_sales"}.',
      ),
    contract: z
      .enum(CONTRACT_MODES)
      .optional()
      .describe(
        "Schema contract against the schema the dataset was last loaded with (docs/contracts.md); the profile's, else discard_row.",
      ),
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

const columnRoleSchema = z.object({
  column: z.string().describe('The column, as named in the warehouse.'),
  confidence: z
    .number()
    .min(0)
    .max(1)
    .describe('How sure the name makes the inference (1: an exact, specific name).'),
  evidence: z.string().describe('Why: the name it matched, as what, and the type.'),
});

export const rolesSchema = z
  .object({
    event_time: columnRoleSchema.optional(),
    amount: z
      .union([
        columnRoleSchema,
        z.object({
          column: z.null().describe('No column holds the amount: it is derived.'),
          derived: z
            .literal('quantity * unit_price')
            .describe('Computed from the quantity and unit price roles.'),
          confidence: z.number().min(0).max(1),
          evidence: z.string(),
        }),
      ])
      .optional()
      .describe('The amount: a column, or derived (column null) as quantity * unit_price.'),
    quantity: columnRoleSchema.optional(),
    unit_price: columnRoleSchema.optional(),
    order_id: columnRoleSchema.optional(),
    customer_id: columnRoleSchema.optional(),
    customer_name: columnRoleSchema.optional(),
    product_id: columnRoleSchema.optional(),
    product_name: columnRoleSchema.optional(),
    profit: columnRoleSchema.optional(),
    discount: columnRoleSchema.optional(),
    event_type: columnRoleSchema.optional(),
    dimensions: z.array(columnRoleSchema).describe('Columns to break revenue down by, best first.'),
    notes: z.array(z.string()).describe('Columns named like a role their type rules out.'),
    returns: z
      .object({
        net: z
          .boolean()
          .describe(
            'True when some rows are returns or cancellations: they are kept, so sums are net of them.',
          ),
        negativeAmounts: z.number().int().nonnegative().describe('Rows with a negative amount.'),
        negativeQuantities: z.number().int().nonnegative().describe('Rows with a negative quantity.'),
        cancelledOrders: z
          .number()
          .int()
          .nonnegative()
          .describe('Rows whose order id is C and a digit (a cancelled invoice, as in Online Retail).'),
        evidence: z.string(),
      })
      .optional()
      .describe(
        'Returns and cancellations measured on the rows; absent when the roles come from names alone.',
      ),
    sales: z
      .object({
        column: z.string().describe('The event type or order status column.'),
        mode: z
          .enum(['only', 'except'])
          .default('only')
          .describe('only: the rows with one of `values` are the sales; except: every row but those.'),
        values: z
          .array(z.string())
          .describe('Values that name a sale (purchase, buy; only) or no sale (Cancelled; except).'),
        rows: z.number().int().nonnegative().describe('Rows that are sales.'),
        otherRows: z.number().int().nonnegative().describe('The other rows, left out of every sum.'),
        evidence: z.string(),
      })
      .optional()
      .describe(
        'The rows that are sales when an event type (an event log) or an order status (cancelled orders) ' +
          'says so, measured on the rows: every sum over the amount reads only them. Absent when every row is a sale.',
      ),
  })
  .describe(
    "Column roles: inferred from names and types, with the dataset profile's `roles:` over them " +
      '(@etl/common/roles; docs/insights.md).',
  );

export const tableCountsSchema = z.object({
  name: tableNameSchema,
  files: z
    .array(z.string())
    .optional()
    .describe(
      'The raw files (or workbook sheets, as FILE#SHEET) whose rows form the table; absent for feature tables.',
    ),
  naming: z
    .string()
    .optional()
    .describe('How the name was fixed up when the file name alone was not a valid, unique table name.'),
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
  quality: qualitySchema.optional().describe("This table's quality gate; absent for feature tables."),
  schemaChanges: z
    .array(schemaChangeSchema)
    .optional()
    .describe(
      'How this version differs from the schema the table was last loaded with; absent on a first load.',
    ),
  guesses: z
    .array(z.object({ column: z.string().optional(), message: z.string() }))
    .optional()
    .describe(
      'Readings the data left open and the transformer chose, so that the run summary says them: a date column that reads both M/D/Y and D/M/Y (a profile `format` settles it), title lines skipped above a header (`source.skipLines`).',
    ),
  notes: z
    .array(z.object({ message: z.string() }))
    .optional()
    .describe(
      "What the transformer did to the table's files that no reading of their values decided, so that the run summary states it: partition folders' values added as columns, DOS's end-of-file mark left out, mixed line endings evened.",
    ),
  roles: rolesSchema
    .optional()
    .describe(
      "The cleaned table's column roles (event time, amount, ...), decided at transform time: inferred from " +
        "its columns and types, overridden by the profile's `roles:`. The loader records them in the " +
        'warehouse (`_etl_tables`). Absent for feature tables.',
    ),
});

export const transformResponseSchema = z.object({
  runId: runIdSchema,
  tables: z.array(tableCountsSchema),
  quality: qualitySchema.describe(
    'All tables together: passed when every table passed; rejectRate over all their input rows.',
  ),
  skippedFiles: z
    .array(skippedFileSchema)
    .default([])
    .describe('Table files found to hold no table while reading them (e.g. an empty workbook sheet).'),
  profile: z.string().optional().describe('The profile the run was cleaned with, when one was named.'),
  reportKey: z.string(),
  manifestKey: z.string(),
});

export const loadRequestSchema = z
  .object({
    runId: runIdSchema,
    allowShrink: z
      .boolean()
      .default(false)
      .describe(
        "Replace a table's loaded rows even when the new version has fewer than LOAD_MIN_VOLUME_RATIO of them (422 VOLUME_DROP otherwise).",
      ),
  })
  .strict();

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
  /**
   * Tables an earlier version of the dataset loaded and this one has no file for: their rows of the dataset
   * stay as they were (`version` is the version they were loaded from), and are named here so that they are
   * not mistaken for this version's.
   */
  tablesNotInVersion: z
    .array(
      z.object({
        name: tableNameSchema,
        rows: z.number().int().nonnegative(),
        version: z.string().nullable(),
      }),
    )
    .optional(),
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
export type LoadRequestInput = z.input<typeof loadRequestSchema>;
export type LoadResponse = z.infer<typeof loadResponseSchema>;
export type RefreshRequest = z.infer<typeof refreshRequestSchema>;
export type RefreshResponse = z.infer<typeof refreshResponseSchema>;
export type RawFile = z.infer<typeof rawFileSchema>;
export type Dataset = z.infer<typeof datasetSchema>;
export type SkippedFile = z.infer<typeof skippedFileSchema>;

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
  summary:
    'Clean the raw table files of a run into one Arrow IPC table each, their quarantines and a report.',
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

export const ANALYZE_OUTPUTS = ['forecast', 'anomalies', 'segments', 'drivers', 'discount_margin'] as const;
/** Finest first. */
export const ANALYZE_GRAINS = ['day', 'week', 'month', 'quarter'] as const;

export const analyzeResponseSchema = z.object({
  runId: runIdSchema,
  dataset: z.object({ id: z.string(), version: z.string() }),
  status: z
    .enum(['succeeded', 'partial', 'skipped'])
    .describe(
      'succeeded: every output computed; partial: some skipped (see `skipped`); skipped: no table of the ' +
        'dataset has an event time and an amount, so nothing was computed.',
    ),
  table: z
    .string()
    .nullable()
    .describe(
      'The fact table analyzed: of the tables with an event time and an amount, the one with most rows.',
    ),
  roles: rolesSchema.nullable().describe("The fact table's roles; null without a fact table."),
  relations: z
    .array(
      z.object({
        join: z
          .string()
          .describe('`walmart_train.store -> walmart_stores`: fact table, key and related table.'),
        table: z.string(),
        key: z.string(),
        dimensions: z.array(z.string()).describe('The columns the related table lends the fact table.'),
      }),
    )
    .optional()
    .describe(
      'Related tables joined to the fact table on a key unique in them (docs/insights.md, "The fact view"); ' +
        'absent from manifests written before they were.',
    ),
  notJoined: z
    .array(z.object({ table: z.string(), reason: z.string() }))
    .optional()
    .describe("The dataset's other tables that are not joined, each with the reason."),
  skipped: z
    .array(z.object({ output: z.enum(ANALYZE_OUTPUTS), reason: z.string() }))
    .describe(
      'Outputs that could not be computed, each with the reason (also rows skipped_<output> of ml_metrics).',
    ),
  forecast: z
    .object({
      grain: z
        .enum(ANALYZE_GRAINS)
        .describe(
          'month with >= 24 months of data, else week with >= 16 weeks, else day; never finer than the dates themselves; quarter (>= 8) for quarterly dates.',
        ),
      method: z
        .enum(['holt-winters', 'seasonal-naive', 'naive'])
        .describe('Model used; see docs/insights.md.'),
      months: z
        .number()
        .int()
        .describe('Calendar months the history spans (first to last month with a date).'),
      periods: z.number().int().describe('Points of history the forecast is fitted on, at the grain.'),
      horizon: z.number().int().describe('Periods forecast, at the grain.'),
      holdout: z
        .object({
          periods: z.number().int(),
          months: z.number().int().nullable().describe('The held-out months (monthly grain), else null.'),
          maeRatio: z.number().describe('MAE(Holt-Winters) / MAE(seasonal naive) on the held-out periods.'),
          mase: z.number(),
          smape: z.number(),
          maseNaive: z.number(),
          smapeNaive: z.number(),
        })
        .nullable()
        .describe('Out-of-sample check on the last season; null when the history is under three seasons.'),
    })
    .nullable()
    .describe('Revenue forecast; null when skipped.'),
  segments: z
    .object({ k: z.number().int(), silhouette: z.number(), customers: z.number().int() })
    .nullable()
    .describe('Customer segmentation; null when skipped (no customer column, or fewer than 10 customers).'),
  anomalies: z
    .object({
      grain: z
        .enum(ANALYZE_GRAINS)
        .describe('day, or week / month / quarter when the dates themselves are that sparse.'),
      days: z.number().int().describe('Days from the first to the last date.'),
      points: z.number().int().describe('Points scored, at the grain.'),
      flagged: z.number().int(),
      rule: z.string(),
    })
    .nullable(),
  drivers: z
    .object({
      dimensions: z
        .array(z.string())
        .describe('Columns broken down by (plus `discount` bands when present).'),
      groups: z.number().int(),
    })
    .nullable(),
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
    "Forecast, segment customers and flag anomalies on a loaded run's dataset, on the columns found by " +
    'their roles; writes the ml_* tables. What cannot be computed is skipped with a reason, not an error.',
  request: analyzeRequestSchema,
  response: analyzeResponseSchema,
};
