/**
 * Configuration is parsed once at start from the environment, validated with zod, and documented with
 * `.describe()` on every field. A bad value stops the process with a message naming the variable.
 */
import { z } from 'zod';

/** Defaults of the BigQuery read-query limits, shared by the config schema and BigQueryWarehouse. */
export const BIGQUERY_QUERY_LIMIT_DEFAULTS = { maxBytesBilled: 10 * 1024 ** 3, timeoutMs: 30_000 } as const;

/** A DuckDB memory size setting, e.g. 512MB or 2GB. */
export function memorySize() {
  return z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB or 2GB');
}

const baseConfigObject = z.object({
  ETL_MODE: z
    .enum(['local', 'gcp'])
    .default('local')
    .describe('Adapter set: local (folder + DuckDB) or gcp (Cloud Storage + BigQuery).'),
  ETL_DATA_DIR: z
    .string()
    .min(1)
    .default('.etl')
    .describe('Local mode: folder holding blobs/ and warehouse.duckdb.'),
  WAREHOUSE_MEMORY_LIMIT: memorySize()
    .default('1GB')
    .describe(
      "Local mode: DuckDB memory_limit of the warehouse file (loads, queries); a load beyond it spills to DuckDB's temp folder next to the file, and one that cannot (a table of thousands of columns) is a 413 WAREHOUSE_MEMORY_LIMIT_EXCEEDED with nothing written.",
    ),
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface a service listens on; loopback unless set (on Cloud Run, Terraform sets 0.0.0.0).'),
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8080)
    .describe('Port a service listens on; 0 picks a free one.'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info')
    .describe('Minimum log level.'),
  GCP_PROJECT: z
    .string()
    .min(1)
    .optional()
    .describe('Google Cloud project id (trace links, cloud adapters).'),
  BODY_LIMIT: z.string().default('256kb').describe('Largest JSON request body a service accepts.'),
  GCP_REGION: z
    .string()
    .min(1)
    .optional()
    .describe('gcp mode: BigQuery location of the dataset and its jobs, e.g. EU, US or europe-west1.'),
  ETL_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'expected a Cloud Storage bucket name')
    .optional()
    .describe('gcp mode: Cloud Storage bucket for run data and the Parquet files staged for BigQuery.'),
  BIGQUERY_DATASET: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,1024}$/, 'expected a BigQuery dataset id (letters, digits, _)')
    .optional()
    .describe('gcp mode: BigQuery dataset the loader writes tables into.'),
  BIGQUERY_MAX_BYTES_BILLED: z.coerce
    .number()
    .int()
    .min(10 * 1024 * 1024)
    .default(BIGQUERY_QUERY_LIMIT_DEFAULTS.maxBytesBilled)
    .describe(
      'gcp mode: most bytes one read query (insights app, analyze stage) may bill (maximumBytesBilled); a query over it is refused unbilled. Default 10 GiB; at least 10 MiB, BigQuery bills 10 MB per table read.',
    ),
  BIGQUERY_QUERY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(6 * 3600 * 1000)
    .default(BIGQUERY_QUERY_LIMIT_DEFAULTS.timeoutMs)
    .describe(
      'gcp mode: longest a read query may run (jobTimeoutMs) before BigQuery cancels it and the caller gets a 504.',
    ),
  GCS_API_ENDPOINT: z
    .url()
    .optional()
    .describe('gcp mode: Cloud Storage endpoint of an emulator or test fake; unset = Google with ADC.'),
  BIGQUERY_API_ENDPOINT: z
    .url()
    .optional()
    .describe('gcp mode: BigQuery endpoint of an emulator or test fake; unset = Google with ADC.'),
});

/** Cross-field rule: the cloud adapters cannot start without these. Zod keeps it through `.extend()`. */
export const baseConfigSchema = baseConfigObject.superRefine((config, ctx) => {
  if (config.ETL_MODE !== 'gcp') return;
  for (const name of ['GCP_PROJECT', 'ETL_BUCKET', 'BIGQUERY_DATASET'] as const) {
    if (!config[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when ETL_MODE=gcp' });
  }
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` against `schema`; throws ConfigError listing every bad variable by name. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const value = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
    const shown = value === undefined ? 'unset' : `got ${JSON.stringify(value)}`;
    return `${name}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(issues);
}

/** For a process entry point: parse or print every issue and exit 1. */
export function loadConfig<S extends z.ZodType>(schema: S, env = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** Markdown rows documenting a config schema: name, default, description. */
export function describeConfig(
  schema: z.ZodObject,
): Array<{ name: string; default: string; description: string }> {
  return Object.entries(schema.shape).map(([name, field]) => {
    const json = z.toJSONSchema(field as z.ZodType, { unrepresentable: 'any', io: 'input' }) as {
      default?: unknown;
      description?: string;
    };
    return {
      name,
      default: json.default === undefined ? '' : String(json.default),
      description: (field as z.ZodType).description ?? json.description ?? '',
    };
  });
}
