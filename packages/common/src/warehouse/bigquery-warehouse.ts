/**
 * Warehouse on a BigQuery dataset. A load, for every table of the request:
 *   Arrow IPC -> Parquet (one conversion) -> `staging/<runId>/<table>.parquet` in the staging bucket ->
 *   a load job (explicit schema, WRITE_TRUNCATE) into `<table>__stage_<runId>`;
 * then ONE multi-statement query job, a BigQuery transaction over all tables, replaces the slice
 * `_source = @source` of each target with the staged rows plus the lineage columns, and the dataset's rows
 * of those tables in `_etl_tables` (./table-metadata). Readers see the old slice or the new one, never a
 * mix, and a failure leaves the previous rows in place.
 *
 * Every job id is deterministic (run, table and a hash of the input), so a retried call cannot load twice:
 * jobs.insert answers 409 and the existing job is adopted and awaited (jobs.get with backoff).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { BigQuery, type BigQueryOptions, type Job, type JobMetadata } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { type ArrowInput, arrowToParquetParts, partsCheck, readArrowSchema } from '../arrow';
import { BIGQUERY_QUERY_LIMIT_DEFAULTS } from '../config';
import {
  DataRejectedError,
  InvalidRequestError,
  NotFoundError,
  QueryBytesLimitError,
  QueryTimeoutError,
  RateLimitedError,
  UpstreamError,
  UpstreamUnavailableError,
} from '../errors';
import type { GcsBlobStore } from '../storage/gcs-blob-store';
import { assertRunId, assertTableName } from '../storage/object-keys';
import { arrowToBigQuerySchema, type BigQueryField, targetSchema } from './arrow-to-bigquery-schema';
import { planWidening, type Widening } from './column-compat';
import { bigQueryDialect } from './dialect';
import { toJsonSafeRow } from './json-safe-row';
import { TABLE_METADATA, TABLE_METADATA_COLUMNS, tableMetadataValues } from './table-metadata';
import type { LoadRequest, Row, SessionOptions, TableLoad, TableLoadResult, Warehouse } from './warehouse';

export interface BigQueryPollOptions {
  /** First wait between jobs.get calls (default 500 ms); each next wait is 1.5x longer. */
  initialDelayMs?: number;
  /** Longest wait between jobs.get calls (default 10 s). */
  maxDelayMs?: number;
  /** Give up waiting for one job after this long (default 30 min); the job keeps running in BigQuery. */
  timeoutMs?: number;
}

export interface BigQueryWarehouseOptions {
  projectId: string;
  dataset: string;
  /** Location of the dataset and its jobs (EU, US, europe-west1, ...). */
  location?: string;
  /** A custom endpoint (an emulator or the test fake), e.g. `http://127.0.0.1:9050`. */
  apiEndpoint?: string;
  /**
   * Where Parquet is staged for load jobs: a GcsBlobStore, because load jobs read `gs://` URIs. Usually
   * the pipeline's own store (keys under `staging/`); its bucket must be readable by BigQuery.
   */
  store: GcsBlobStore;
  /**
   * Credentials. Default: Application Default Credentials; with `apiEndpoint` set, a fixed-token
   * OAuth2Client instead, so an emulator needs no metadata server.
   */
  authClient?: BigQueryOptions['authClient'] | OAuth2Client;
  /** The client's own retries of 429/5xx/network errors (default 5 retries, waits capped at 32 s). */
  retry?: { maxRetries?: number; maxRetryDelayMs?: number };
  poll?: BigQueryPollOptions;
  /** Rows per Parquet part a load is staged in (`arrowToParquetParts`); for tests. */
  partRows?: number;
  /** Limits of every `query()` job (not of loads); defaults: 10 GiB and 30 s. */
  queryLimits?: BigQueryQueryLimits;
}

export interface BigQueryQueryLimits {
  /** `maximumBytesBilled`: BigQuery refuses, unbilled, a query that would bill more (BIGQUERY_MAX_BYTES_BILLED). */
  maxBytesBilled?: number;
  /** `jobTimeoutMs`: BigQuery cancels a query still running after this long (BIGQUERY_QUERY_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * How much longer than jobTimeoutMs the client waits for a result before giving up itself: BigQuery
 * cancels a job on a best-effort basis, so a result may still not arrive.
 */
const CLIENT_TIMEOUT_GRACE_MS = 5_000;

/** How many fresh attempts (new job id suffix) a load may make after adopting a job that failed transiently. */
const MAX_JOB_ATTEMPTS = 3;

/** BigQuery error reasons that a new attempt may fix. */
const TRANSIENT_REASONS = new Set(['backendError', 'internalError', 'rateLimitExceeded', 'jobBackendError']);

interface StagedTable {
  table: string;
  fields: BigQueryField[];
  /** Columns of the target table widened to the staged type before the replace. */
  widen: Widening[];
  layout: Pick<TableLoad, 'partitionBy' | 'clusterBy'>;
  stageTable: string;
  stagingKeys: string[];
  hash: string;
  roles: TableLoad['roles'];
}

interface JobError {
  reason?: string;
  message?: string;
  location?: string;
}

/** A fixed-token client for emulators: every request carries `Authorization: Bearer <token>`. */
export function fixedTokenAuthClient(token = 'emulator'): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 365 * 24 * 3600 * 1000 });
  return client;
}

/** Job ids and table names allow letters, digits, `_` (and `-` for job ids): runIds may hold `.`. */
function sanitize(value: string): string {
  return value.replace(/[^A-Za-z0-9_]/g, '_');
}

/** A short digest of a load's Arrow input (bytes, or a local file streamed through the hash). */
async function arrowDigest(input: ArrowInput): Promise<string> {
  if (input instanceof Uint8Array) return shortHash(input);
  const hash = createHash('sha256');
  await pipeline(createReadStream(input.path), hash);
  return shortHash(hash.digest());
}

function shortHash(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex').slice(0, 12);
}

function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure a new attempt may fix: a backend hiccup, or a transaction that lost to a concurrent one. */
function isTransient(error: JobError | undefined): boolean {
  return TRANSIENT_REASONS.has(error?.reason ?? '') || /concurrent update/i.test(error?.message ?? '');
}

function formatJobErrors(errors: JobError[]): string {
  return errors
    .map((e) => `${e.reason ?? 'error'}${e.location ? ` at ${e.location}` : ''}: ${e.message ?? ''}`.trim())
    .join('; ');
}

/** `_etl_tables` in BigQuery. */
const METADATA_FIELDS: BigQueryField[] = TABLE_METADATA_COLUMNS.map((c) => ({
  name: c.name,
  type: c.bigquery,
  mode: 'NULLABLE',
}));

function stringParameter(name: string, value: string) {
  return { name, parameterType: { type: 'STRING' }, parameterValue: { value } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class BigQueryWarehouse implements Warehouse {
  readonly kind = 'bigquery' as const;
  readonly dialect = bigQueryDialect;
  readonly location: string;
  readonly bigquery: BigQuery;
  readonly queryLimits: Required<BigQueryQueryLimits>;
  private readonly options: BigQueryWarehouseOptions;

  constructor(options: BigQueryWarehouseOptions) {
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(options.dataset)) {
      throw new InvalidRequestError(`invalid BigQuery dataset id ${JSON.stringify(options.dataset)}`);
    }
    this.options = options;
    this.location = `bigquery://${options.projectId}/${options.dataset}`;
    this.queryLimits = {
      maxBytesBilled: options.queryLimits?.maxBytesBilled ?? BIGQUERY_QUERY_LIMIT_DEFAULTS.maxBytesBilled,
      timeoutMs: options.queryLimits?.timeoutMs ?? BIGQUERY_QUERY_LIMIT_DEFAULTS.timeoutMs,
    };
    // google-auth-library is pinned at 10.5.0 in this package while @google-cloud/common resolves its own
    // ^10.6.2 copy: the same OAuth2Client class twice, so the types differ only in private members. The
    // client uses it structurally (getRequestHeaders/request); the fake-backed tests exercise this path.
    const authClient = (options.authClient ?? (options.apiEndpoint ? fixedTokenAuthClient() : undefined)) as
      | BigQueryOptions['authClient']
      | undefined;
    this.bigquery = new BigQuery({
      projectId: options.projectId,
      ...(options.location ? { location: options.location } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(authClient ? { authClient } : {}),
      retryOptions: {
        autoRetry: true,
        maxRetries: options.retry?.maxRetries ?? 5,
        maxRetryDelay: Math.max(0.001, (options.retry?.maxRetryDelayMs ?? 32_000) / 1000),
      },
    });
  }

  /** `project.dataset.table`, backquoted for SQL; names are validated before they get here. */
  private ref(table: string): string {
    return `\`${this.options.projectId}.${this.options.dataset}.${table}\``;
  }

  async load(request: LoadRequest): Promise<TableLoadResult[]> {
    const runId = assertRunId(request.runId);
    const tables = request.tables.map((t) => ({ ...t, table: assertTableName(t.table) }));
    const names = new Set(tables.map((t) => t.table));
    if (names.size !== tables.length)
      throw new InvalidRequestError('a load request names the same table twice');

    // 1. Every table can take its columns (or is widened in step 3): checked before any object or job.
    const planned: Array<{ t: (typeof tables)[number]; fields: BigQueryField[]; widen: Widening[] }> = [];
    for (const t of tables) {
      const fields = arrowToBigQuerySchema(
        t.table,
        await readArrowSchema(t.arrow, `${t.table} (load request)`),
      );
      const existing = await this.existingFields(t.table);
      // BigQuery widens in place only INT64 -> FLOAT64 (ALTER COLUMN SET DATA TYPE), not DATE -> TIMESTAMP.
      const widen = existing
        ? planWidening(t.table, existing, fields, (from, to) => from === 'integer' && to === 'float')
        : [];
      planned.push({ t, fields, widen });
    }

    // 2. Arrow -> Parquet staging objects, a part at a time (memory bounded by a part), per table.
    const staged: StagedTable[] = [];
    for (const { t, fields, widen } of planned) {
      const stagingKeys: string[] = [];
      for await (const part of arrowToParquetParts(t.arrow, this.options.partRows, partsCheck(t))) {
        const key = `staging/${runId}/${t.table}/part-${String(stagingKeys.length).padStart(5, '0')}.parquet`;
        await this.options.store.put(key, part, { contentType: 'application/vnd.apache.parquet' });
        stagingKeys.push(key);
      }
      staged.push({
        table: t.table,
        fields,
        widen,
        layout: { partitionBy: t.partitionBy, clusterBy: t.clusterBy },
        stageTable: `${t.table}__stage_${sanitize(runId)}`,
        stagingKeys,
        hash: await arrowDigest(t.arrow),
        roles: t.roles,
      });
    }

    // 3. One load job per table into its stage table; the jobs run in parallel.
    await Promise.all(
      staged.map((s) =>
        this.runJob(`etl_load_${sanitize(runId)}_${s.table}_${s.hash}`, s.table, this.loadConfiguration(s)),
      ),
    );

    // 4. Target tables exist with every column, widened where planned (outside the transaction: BigQuery
    // allows no DDL in one).
    for (const s of staged) {
      await this.ensureTargetTable(s.table, targetSchema(s.fields), s.layout);
      for (const w of s.widen) await this.widenColumn(s.table, w, runId);
    }
    await this.ensureTargetTable(TABLE_METADATA, METADATA_FIELDS, {});

    // 5. One transaction replaces the slice in every table.
    const replaceJobId = `etl_replace_${sanitize(runId)}_${shortHash(request.source, request.sourceVersion, ...staged.map((s) => `${s.table}:${s.hash}:${JSON.stringify(s.roles ?? null)}`))}`;
    const metadata = staged.map((s) =>
      tableMetadataValues(
        request,
        s.table,
        s.fields.map((f) => ({ name: f.name, type: f.type })),
        s.roles,
      ),
    );
    const job = await this.runJob(replaceJobId, staged.map((s) => s.table).join(', '), {
      query: {
        query: this.replaceScript(staged, metadata),
        useLegacySql: false,
        parameterMode: 'NAMED',
        queryParameters: [
          stringParameter('source', request.source),
          stringParameter('run_id', runId),
          {
            name: 'loaded_at',
            parameterType: { type: 'TIMESTAMP' },
            parameterValue: { value: request.loadedAt.toISOString() },
          },
          stringParameter('source_version', request.sourceVersion),
          // The JSON of each table's `_etl_tables` row; a NULL roles_json is written as a literal NULL.
          ...metadata.flatMap(([, , , , , columnsJson, rolesJson], i) => [
            stringParameter(`columns_${i}`, columnsJson),
            ...(rolesJson === null ? [] : [stringParameter(`roles_${i}`, rolesJson)]),
          ]),
        ],
      },
    });
    const [rows] = await job.getQueryResults({ autoPaginate: true });
    const counts = new Map(
      (rows as Array<{ table_name: string; rows_replaced: number; rows_loaded: number }>).map((r) => [
        r.table_name,
        r,
      ]),
    );

    // 6. Only after success: drop the stage tables and objects. A failed load keeps them, so a retry can
    // adopt the finished load jobs and still find their output.
    await this.dropStaging(staged);

    return staged.map((s) => ({
      table: s.table,
      rowsLoaded: Number(counts.get(s.table)?.rows_loaded ?? 0),
      rowsReplaced: Number(counts.get(s.table)?.rows_replaced ?? 0),
    }));
  }

  /**
   * Runs read-only SQL with the dataset as default. `params` either bind `$1..$n` (as in DuckDB; they are
   * sent as named parameters `@p1..@pn`) or are one object of named parameters for `@name`. Every query
   * job carries the `queryLimits` (maximumBytesBilled, jobTimeoutMs); going over one is a
   * QueryBytesLimitError (413) or QueryTimeoutError (504) naming the limit and its variable.
   */
  async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    const named = params.length === 1 && isPlainObject(params[0]);
    const query = named || params.length === 0 ? sql : dollarToNamed(sql);
    const values: Record<string, unknown> = named
      ? (params[0] as Record<string, unknown>)
      : Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
    const { maxBytesBilled, timeoutMs } = this.queryLimits;
    try {
      // jobTimeoutMs makes the client insert a job (jobs.insert + getQueryResults) instead of jobs.query;
      // `timeoutMs` bounds its own wait for the result.
      const [rows] = await this.bigquery.query(
        {
          query,
          ...(Object.keys(values).length > 0 ? { params: values } : {}),
          defaultDataset: { projectId: this.options.projectId, datasetId: this.options.dataset },
          useLegacySql: false,
          maximumBytesBilled: String(maxBytesBilled),
          jobTimeoutMs: timeoutMs,
          ...(this.options.location ? { location: this.options.location } : {}),
        },
        { timeoutMs: timeoutMs + CLIENT_TIMEOUT_GRACE_MS },
      );
      return (rows as Row[]).map(toJsonSafeRow);
    } catch (error) {
      throw this.mapQueryError(error);
    }
  }

  session<T>(work: () => Promise<T>, _options?: SessionOptions): Promise<T> {
    // Every query is a job of its own: there is no opening to share.
    return work();
  }

  async close(): Promise<void> {
    // The client holds no connections that need closing.
  }

  private loadConfiguration(s: StagedTable): JobMetadata['configuration'] {
    return {
      load: {
        sourceUris: s.stagingKeys.map((key) => this.options.store.uri(key)),
        sourceFormat: 'PARQUET',
        destinationTable: {
          projectId: this.options.projectId,
          datasetId: this.options.dataset,
          tableId: s.stageTable,
        },
        schema: { fields: s.fields },
        writeDisposition: 'WRITE_TRUNCATE',
        createDisposition: 'CREATE_IF_NEEDED',
      },
    };
  }

  private replaceScript(staged: StagedTable[], metadata: ReturnType<typeof tableMetadataValues>[]): string {
    const counts = staged
      .map(
        (s) =>
          `SELECT '${s.table}' AS table_name, (SELECT COUNT(*) FROM ${this.ref(s.table)} WHERE _source = @source) AS rows_replaced, (SELECT COUNT(*) FROM ${this.ref(s.stageTable)}) AS rows_loaded`,
      )
      .join('\nUNION ALL ');
    const statements = staged.flatMap((s) => {
      const columns = s.fields.map((f) => `\`${f.name}\``);
      return [
        `DELETE FROM ${this.ref(s.table)} WHERE _source = @source;`,
        `INSERT INTO ${this.ref(s.table)} (${[...columns, '_source', '_run_id', '_loaded_at', '_source_version'].join(', ')})\n` +
          `SELECT ${[...columns, '@source', '@run_id', '@loaded_at', '@source_version'].join(', ')} FROM ${this.ref(s.stageTable)};`,
      ];
    });
    const names = staged.map((s) => `'${s.table}'`).join(', ');
    const records = metadata.map(
      ([, table, , , , , rolesJson], i) =>
        `(@source, '${table}', @run_id, @source_version, @loaded_at, @columns_${i}, ${rolesJson === null ? 'NULL' : `@roles_${i}`})`,
    );
    return [
      'BEGIN TRANSACTION;',
      `CREATE TEMP TABLE _etl_counts AS\n${counts};`,
      `DELETE FROM ${this.ref(TABLE_METADATA)} WHERE source = @source AND table_name IN (${names});`,
      `INSERT INTO ${this.ref(TABLE_METADATA)} (${TABLE_METADATA_COLUMNS.map((c) => c.name).join(', ')})\nVALUES ${records.join(',\n  ')};`,
      ...statements,
      'COMMIT TRANSACTION;',
      'SELECT table_name, rows_replaced, rows_loaded FROM _etl_counts;',
    ].join('\n');
  }

  /**
   * Creates the target table (partitioned and clustered as its profile says), or adds the columns it lacks
   * (tables.insert / tables.patch, both idempotent). An existing table keeps its layout: BigQuery cannot
   * change partitioning in place.
   */
  private async ensureTargetTable(
    table: string,
    schema: BigQueryField[],
    layout: StagedTable['layout'],
  ): Promise<void> {
    const handle = this.bigquery.dataset(this.options.dataset).table(table);
    try {
      let existing = await this.existingFields(table);
      if (!existing) {
        try {
          await handle.create({
            schema: { fields: schema },
            ...(layout.partitionBy ? { timePartitioning: { type: 'DAY', field: layout.partitionBy } } : {}),
            ...(layout.clusterBy?.length ? { clustering: { fields: layout.clusterBy } } : {}),
          });
          return;
        } catch (error) {
          if (httpStatus(error) !== 409) throw error;
          existing = (await this.existingFields(table)) ?? [];
        }
      }
      const have = new Set(existing.map((f) => f.name.toLowerCase()));
      const missing = schema.filter((f) => !have.has(f.name.toLowerCase()));
      if (missing.length > 0) await handle.setMetadata({ schema: { fields: [...existing, ...missing] } });
    } catch (error) {
      throw this.mapError(error, `preparing table ${this.ref(table)}`);
    }
  }

  /** The columns of `table`, or undefined when it does not exist. */
  private async existingFields(table: string): Promise<BigQueryField[] | undefined> {
    try {
      const [metadata] = await this.bigquery.dataset(this.options.dataset).table(table).getMetadata();
      return (metadata.schema?.fields ?? []) as BigQueryField[];
    } catch (error) {
      // A missing dataset is an error; only a missing table means "not yet created".
      if (
        httpStatus(error) === 404 &&
        !(/dataset/i.test(messageOf(error)) && !/table/i.test(messageOf(error)))
      )
        return undefined;
      throw this.mapError(error, `reading the schema of ${this.ref(table)}`);
    }
  }

  /** ALTER COLUMN ... SET DATA TYPE, as a job with a deterministic id (a retry adopts it). */
  private async widenColumn(table: string, widening: Widening, runId: string): Promise<void> {
    await this.runJob(
      `etl_widen_${sanitize(runId)}_${table}_${shortHash(widening.column, widening.to)}`,
      `widening ${table}.${widening.column} from ${widening.from} to ${widening.to}`,
      {
        query: {
          // Table schemas use the legacy type names (FLOAT); DDL takes the standard ones (FLOAT64).
          query: `ALTER TABLE ${this.ref(table)} ALTER COLUMN \`${widening.column}\` SET DATA TYPE ${widening.to === 'FLOAT' ? 'FLOAT64' : widening.to}`,
          useLegacySql: false,
        },
      },
    );
  }

  /**
   * Inserts a job under a deterministic id, or adopts the existing one (409), and waits until it is DONE.
   * An adopted job that failed transiently gets a fresh attempt (`_a1`, `_a2`); any other failure is
   * raised with the job's error list.
   */
  private async runJob(
    baseId: string,
    what: string,
    configuration: JobMetadata['configuration'],
  ): Promise<Job> {
    for (let attempt = 0; attempt < MAX_JOB_ATTEMPTS; attempt++) {
      const jobId = attempt === 0 ? baseId : `${baseId}_a${attempt}`;
      let adopted = false;
      let job: Job;
      try {
        [job] = await this.bigquery.createJob({
          jobId,
          ...(this.options.location ? { location: this.options.location } : {}),
          configuration,
        });
      } catch (error) {
        if (httpStatus(error) !== 409) {
          // A create response that already holds errors (e.g. an invalid configuration).
          const errors = (error as { errors?: JobError[] }).errors;
          if (errors?.length && httpStatus(error) === undefined) throw this.jobFailed(jobId, what, errors);
          throw this.mapError(error, `job ${jobId} (${what})`);
        }
        adopted = true;
        job = this.bigquery.job(jobId, this.options.location ? { location: this.options.location } : {});
      }
      const metadata = await this.waitForJob(job, what);
      const errorResult = metadata.status?.errorResult as JobError | undefined;
      if (!errorResult) return job;
      const errors = (metadata.status?.errors as JobError[] | undefined) ?? [errorResult];
      if (adopted && isTransient(errorResult)) continue;
      throw this.jobFailed(jobId, what, errors);
    }
    throw new UpstreamUnavailableError(
      `BigQuery job ${baseId} (${what}) failed transiently ${MAX_JOB_ATTEMPTS} times; retry later`,
    );
  }

  private async waitForJob(job: Job, what: string): Promise<JobMetadata> {
    const poll = this.options.poll ?? {};
    let delay = poll.initialDelayMs ?? 500;
    const deadline = Date.now() + (poll.timeoutMs ?? 30 * 60_000);
    for (;;) {
      let metadata: JobMetadata;
      try {
        [metadata] = await job.getMetadata();
      } catch (error) {
        throw this.mapError(error, `job ${job.id} (${what})`);
      }
      if (metadata.status?.state === 'DONE') return metadata;
      if (Date.now() + delay > deadline) {
        throw new UpstreamUnavailableError(
          `BigQuery job ${job.id} (${what}) still ${metadata.status?.state ?? 'unknown'} after ${poll.timeoutMs ?? 1_800_000} ms; a retry adopts it`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 1.5, poll.maxDelayMs ?? 10_000);
    }
  }

  private jobFailed(jobId: string, what: string, errors: JobError[]): Error {
    const message = `BigQuery job ${jobId} for ${what} failed: ${formatJobErrors(errors)}`;
    const reason = errors[0]?.reason ?? '';
    if (isTransient(errors[0])) return new UpstreamUnavailableError(message, { details: { jobId, errors } });
    if (reason === 'accessDenied')
      return new UpstreamError(message, { details: { jobId, errors } }, 'PERMISSION_DENIED');
    return new DataRejectedError(message, { details: { jobId, errors } });
  }

  private async dropStaging(staged: StagedTable[]): Promise<void> {
    const dataset = this.bigquery.dataset(this.options.dataset);
    await Promise.allSettled(
      staged.flatMap((s) => [
        dataset.table(s.stageTable).delete({ ignoreNotFound: true }),
        ...s.stagingKeys.map((key) => this.options.store.delete(key)),
      ]),
    );
  }

  /** A query over a limit names the limit and the variable that sets it; anything else as mapError. */
  private mapQueryError(error: unknown): Error {
    const message = messageOf(error);
    const reasons = ((error as { errors?: JobError[] } | null)?.errors ?? []).map((e) => e.reason);
    const { maxBytesBilled, timeoutMs } = this.queryLimits;
    if (reasons.includes('bytesBilledLimitExceeded')) {
      return new QueryBytesLimitError(
        `BigQuery refused a query on ${this.location}: it would bill more than the cap of ${maxBytesBilled} bytes (BIGQUERY_MAX_BYTES_BILLED); nothing was billed. Narrow the query or raise the cap. BigQuery said: ${message}`,
        { cause: error, details: { limit: 'BIGQUERY_MAX_BYTES_BILLED', maxBytesBilled } },
      );
    }
    // `timeout` is the job's reason when jobTimeoutMs cancels it; the client's own wait ends with
    // "The query did not complete before N ms".
    if (reasons.includes('timeout') || /did not complete before|timed out/i.test(message)) {
      return new QueryTimeoutError(
        `a query on ${this.location} ran longer than ${timeoutMs} ms (BIGQUERY_QUERY_TIMEOUT_MS); BigQuery cancels it. Narrow the query or raise the timeout. BigQuery said: ${message}`,
        { cause: error, details: { limit: 'BIGQUERY_QUERY_TIMEOUT_MS', timeoutMs } },
      );
    }
    return this.mapError(error, `query on ${this.location}`);
  }

  private mapError(error: unknown, what: string): Error {
    const status = httpStatus(error);
    const context = { cause: error };
    const message = messageOf(error);
    if (status === 404) return new NotFoundError(`${what}: not found in BigQuery: ${message}`, context);
    if (status === 401 || status === 403) {
      return new UpstreamError(
        `${what}: BigQuery denied access (${status}): ${message}`,
        context,
        'PERMISSION_DENIED',
      );
    }
    if (status === 400)
      return new InvalidRequestError(`${what}: BigQuery rejected the request: ${message}`, context);
    if (status === 429)
      return new RateLimitedError(`${what}: BigQuery rate limit after retries: ${message}`, context);
    if (
      (status !== undefined && status >= 500) ||
      /ECONNRESET|socket hang up|ETIMEDOUT|ECONNREFUSED/.test(message)
    ) {
      return new UpstreamUnavailableError(`${what}: BigQuery unavailable after retries: ${message}`, context);
    }
    if (status !== undefined)
      return new UpstreamError(`${what}: BigQuery answered ${status}: ${message}`, context);
    return error instanceof Error ? error : new Error(message);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `$1` -> `@p1`, outside string literals and quoted identifiers. */
export function dollarToNamed(sql: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += sql[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      quote = c;
      out += c;
      continue;
    }
    const m = c === '$' ? /^\$(\d+)/.exec(sql.slice(i)) : null;
    if (m) {
      out += `@p${m[1]}`;
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}
