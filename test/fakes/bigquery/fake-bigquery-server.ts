/**
 * A small, honest fake of the BigQuery REST API (v2), for tests and as a local emulator. Tables live in a
 * DuckDB database and every statement really runs there:
 *   - load jobs read the staged Parquet from the fake GCS server's objects (`gs://bucket/key`) with
 *     DuckDB's `read_parquet`, into a table created from the job's explicit schema (WRITE_TRUNCATE,
 *     WRITE_APPEND, WRITE_EMPTY);
 *   - query jobs (jobs.insert) and jobs.query translate BigQuery SQL into DuckDB's (`bigquery-sql.ts`:
 *     names, parameters, literals, casts, DATE_TRUNC/DATE_DIFF/FORMAT_DATE, INFORMATION_SCHEMA.TABLES and .COLUMNS)
 *     and refuse DuckDB-only SQL with BigQuery's 400 invalidQuery, so a dialect leak fails tests; the
 *     whole script runs in one DuckDB connection, so `BEGIN TRANSACTION ... COMMIT TRANSACTION` is a
 *     real transaction; as in BigQuery, DDL on permanent tables inside a transaction is refused, and the
 *     result of the last SELECT is kept in an anonymous table for getQueryResults (which waits for a
 *     running job, up to its `timeoutMs`, as BigQuery's does);
 *   - a query job's `maximumBytesBilled` and `jobTimeoutMs` are enforced against what a fault says the
 *     query bills or how long it takes (`bytesBilledLimitExceeded`, `timeout`), and recorded with the job;
 *   - jobs.get, getQueryResults, tables get/insert/patch/delete, datasets get; 409 on a duplicate job id.
 * Every request is recorded; faults can be injected: error statuses for the next N matching requests (or
 * each one with a probability, seeded), a request that is handled but whose response is lost (connection
 * destroyed), load jobs failing with row
 * errors, and query jobs that bill so many bytes or run so long. Cells are encoded as the client expects
 * (TIMESTAMP as int64 microseconds).
 *
 * DuckDB is reached through `DuckDbWarehouse` from @etl/common (the test package does not depend on
 * @duckdb/node-api itself); it opens the file per call, so calls are serialised here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDbWarehouse, quoteIdentifier, quoteLiteral } from '@etl/common/warehouse';
import { type ArmedFault, armFault, loseResponse, type RequestFaultMatch, takeRequestFault } from '../faults';
import type { FakeGcs } from '../gcs/fake-gcs-server';
import { listen } from '../http';
import { ApiError, type QueryParameter, translate } from './bigquery-sql';

export interface FakeBigQueryField {
  name: string;
  type: string;
  mode?: string;
}

export interface FakeJobError {
  reason: string;
  message: string;
  location?: string;
}

export interface FakeBigQueryJob {
  jobId: string;
  projectId: string;
  location: string;
  configuration: {
    load?: {
      sourceUris?: string[];
      sourceFormat?: string;
      destinationTable?: { projectId?: string; datasetId: string; tableId: string };
      schema?: { fields: FakeBigQueryField[] };
      writeDisposition?: string;
      createDisposition?: string;
    };
    query?: {
      query: string;
      queryParameters?: QueryParameter[];
      parameterMode?: string;
      defaultDataset?: { datasetId: string };
      /** int64 as a string, as the API sends it. */
      maximumBytesBilled?: string;
    };
    jobTimeoutMs?: string;
  };
  state: 'RUNNING' | 'DONE';
  errors?: FakeJobError[];
  /** Times jobs.get has returned this job. */
  polls: number;
  outputRows?: number;
  result?: { schema: FakeBigQueryField[]; rows: Array<{ f: Array<{ v: unknown }> }> };
  created: Date;
  /** Settles when the job is DONE. */
  finished?: Promise<void>;
}

export interface FakeBigQueryRequest {
  method: string;
  path: string;
  /** `jobs.insert`, `jobs.get`, `jobs.query`, `jobs.getQueryResults`, `tables.get`, ... or `other`. */
  kind: string;
  body?: unknown;
  /** Status answered; 0 when the response was lost. */
  status: number;
  /** The Authorization header, if any (the fake accepts any bearer token). */
  authorization?: string;
}

/** `status` and `loseResponse` match requests as RequestFaultMatch says (`times`, `probability`, `seed`). */
export type FakeBigQueryFault =
  | ({ kind: 'status'; status: number } & RequestFaultMatch)
  /** The request is handled (a job gets created), then the connection is destroyed instead of answering. */
  | ({ kind: 'loseResponse' } & RequestFaultMatch)
  /** The next load job(s) (into `table`, if given) fail with these row errors. */
  | { kind: 'loadErrors'; errors: FakeJobError[]; table?: string; times?: number }
  /**
   * The next query job(s) (whose SQL matches `query`, if given) bill `bytes`: over the job's
   * maximumBytesBilled they fail with `bytesBilledLimitExceeded`, unbilled, as in BigQuery.
   */
  | { kind: 'bytesBilled'; bytes: number; query?: RegExp | string; times?: number }
  /**
   * The next query job(s) (matching `query`) take `ms` longer: past the job's jobTimeoutMs they are
   * cancelled and fail with `timeout`.
   */
  | { kind: 'delay'; ms: number; query?: RegExp | string; times?: number };

export interface FakeBigQueryOptions {
  /** The fake GCS server whose objects load jobs read. */
  gcs: FakeGcs;
  projectId?: string;
  datasets: string[];
  location?: string;
  /** A job reports RUNNING to this many jobs.get calls before DONE (default 1), to exercise polling. */
  pollsUntilDone?: number;
  port?: number;
  host?: string;
}

export interface FakeBigQuery {
  url: string;
  projectId: string;
  requests: FakeBigQueryRequest[];
  jobs: Map<string, FakeBigQueryJob>;
  inject(fault: FakeBigQueryFault): void;
  /** Runs DuckDB SQL directly against the fake's tables (schema per dataset), for assertions. */
  sql(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Tables of a dataset, sorted. */
  tables(dataset: string): Promise<string[]>;
  close(): Promise<void>;
}

/** BigQuery's smallest bill for a query that reads a table (10 MB). */
const MIN_BYTES_BILLED = 10 * 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failed query job as jobs.query and getQueryResults answer it: its first error, 404 for notFound. */
function jobError(errors: FakeJobError[]): ApiError {
  const first = errors[0]!;
  return new ApiError(first.reason === 'notFound' ? 404 : 400, first.message, first.reason);
}

const DUCKDB_TYPES: Record<string, string> = {
  INTEGER: 'BIGINT',
  INT64: 'BIGINT',
  FLOAT: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,18)',
  STRING: 'VARCHAR',
  BYTES: 'BLOB',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMPTZ',
  DATETIME: 'TIMESTAMP',
  TIME: 'TIME',
};

function bigQueryType(duckType: string): string {
  const t = duckType.toUpperCase();
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$/.test(t))
    return 'INTEGER';
  if (/^(DOUBLE|FLOAT|REAL)$/.test(t)) return 'FLOAT';
  if (t.startsWith('DECIMAL')) return 'NUMERIC';
  if (t === 'BOOLEAN') return 'BOOLEAN';
  if (t === 'DATE') return 'DATE';
  if (t === 'TIME') return 'TIME';
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return 'TIMESTAMP';
  if (t.startsWith('TIMESTAMP')) return 'DATETIME';
  if (t === 'BLOB') return 'BYTES';
  return 'STRING';
}

/** A cell as the REST API encodes it (the client asks for int64 microsecond timestamps). */
function encodeCell(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'TIMESTAMP':
      return String(BigInt(Date.parse(String(value))) * 1000n);
    case 'DATE':
      return String(value).slice(0, 10);
    case 'DATETIME':
      return String(value).replace(/Z$/, '');
    default:
      return String(value);
  }
}

/** Splits a script on `;` outside quotes and comments. */
function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote) {
      current += c;
      if (c === '\\') current += script[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '-' && script[i + 1] === '-') {
      while (i < script.length && script[i] !== '\n') i++;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
      current += c;
    } else if (c === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

function classify(method: string, pathname: string): string {
  const rest = pathname.replace(/^\/bigquery\/v2\/projects\/[^/]+/, '');
  if (rest === '/jobs') return method === 'POST' ? 'jobs.insert' : 'jobs.list';
  if (/^\/jobs\/[^/]+$/.test(rest)) return 'jobs.get';
  if (rest === '/queries') return 'jobs.query';
  if (/^\/queries\/[^/]+$/.test(rest)) return 'jobs.getQueryResults';
  if (/^\/datasets\/[^/]+$/.test(rest)) return 'datasets.get';
  if (/^\/datasets\/[^/]+\/tables$/.test(rest)) return method === 'POST' ? 'tables.insert' : 'tables.list';
  const table = /^\/datasets\/[^/]+\/tables\/[^/]+$/.test(rest);
  if (table)
    return (
      { GET: 'tables.get', DELETE: 'tables.delete', PATCH: 'tables.patch', PUT: 'tables.update' }[method] ??
      'other'
    );
  return 'other';
}

export async function startFakeBigQuery(options: FakeBigQueryOptions): Promise<FakeBigQuery> {
  const projectId = options.projectId ?? 'test-project';
  const location = options.location ?? 'US';
  const datasets = new Set(options.datasets);
  const pollsUntilDone = options.pollsUntilDone ?? 1;
  const jobs = new Map<string, FakeBigQueryJob>();
  const requests: FakeBigQueryRequest[] = [];
  const faults: ArmedFault<FakeBigQueryFault>[] = [];
  const scratch = await mkdtemp(path.join(tmpdir(), 'fake-bigquery-'));
  const engine = new DuckDbWarehouse({ file: path.join(scratch, 'fake.duckdb') });

  // One DuckDB call at a time: the engine opens the file per call.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (sql: string): Promise<Array<Record<string, unknown>>> => {
    const next = queue.then(() => engine.query(sql));
    queue = next.catch(() => undefined);
    return next;
  };
  await run(
    [...datasets, '_results'].map((d) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(d)};`).join('\n') +
      'SELECT 1',
  );

  const tableId = (dataset: string, table: string) => `${quoteIdentifier(dataset)}.${quoteIdentifier(table)}`;
  const requireDataset = (dataset: string) => {
    if (!datasets.has(dataset))
      throw new ApiError(404, `Not found: Dataset ${projectId}:${dataset}`, 'notFound');
  };
  const describe = async (dataset: string, table: string): Promise<FakeBigQueryField[] | undefined> => {
    if (dataset !== '_results') requireDataset(dataset);
    const rows = await run(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${quoteLiteral(dataset)} AND table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`,
    );
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      name: String(r.column_name),
      type: bigQueryType(String(r.data_type)),
      mode: 'NULLABLE',
    }));
  };
  const tableResource = async (dataset: string, table: string) => {
    const schema = await describe(dataset, table);
    if (!schema) throw new ApiError(404, `Not found: Table ${projectId}:${dataset}.${table}`, 'notFound');
    const [count] = await run(`SELECT count(*) AS n FROM ${tableId(dataset, table)}`);
    return {
      kind: 'bigquery#table',
      id: `${projectId}:${dataset}.${table}`,
      tableReference: { projectId, datasetId: dataset, tableId: table },
      type: 'TABLE',
      schema: { fields: schema },
      numRows: String(count?.n ?? 0),
      location,
    };
  };
  const columnsDdl = (fields: FakeBigQueryField[]) =>
    fields
      .map((f) => {
        const type = DUCKDB_TYPES[f.type.toUpperCase()];
        if (!type)
          throw new ApiError(
            400,
            `Invalid schema: unsupported type ${f.type} for field ${f.name}`,
            'invalid',
          );
        return `${quoteIdentifier(f.name)} ${type}`;
      })
      .join(', ');

  const jobResource = (job: FakeBigQueryJob) => ({
    kind: 'bigquery#job',
    id: `${job.projectId}:${job.location}.${job.jobId}`,
    jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
    configuration: job.configuration,
    status: {
      state: job.state,
      ...(job.errors ? { errorResult: job.errors[0], errors: job.errors } : {}),
    },
    statistics: {
      creationTime: String(job.created.getTime()),
      ...(job.configuration.load && job.outputRows !== undefined
        ? { load: { outputRows: String(job.outputRows), inputFiles: '1' } }
        : {}),
      ...(job.configuration.query ? { query: { statementType: 'SCRIPT' } } : {}),
    },
  });

  const executeLoad = async (job: FakeBigQueryJob) => {
    const load = job.configuration.load!;
    const destination = load.destinationTable!;
    requireDataset(destination.datasetId);
    const fault = faults.find(
      (f) => f.kind === 'loadErrors' && f.remaining > 0 && (!f.table || f.table === destination.tableId),
    );
    if (fault && fault.kind === 'loadErrors') {
      fault.remaining -= 1;
      throw Object.assign(new ApiError(400, fault.errors[0]?.message ?? 'load failed', 'invalid'), {
        errors: fault.errors,
      });
    }
    if ((load.sourceFormat ?? 'CSV') !== 'PARQUET')
      throw new ApiError(400, 'the fake loads only PARQUET', 'invalid');
    const files: string[] = [];
    for (const [i, uri] of (load.sourceUris ?? []).entries()) {
      const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
      const data = m ? options.gcs.read(m[1]!, m[2]!) : undefined;
      if (!data) throw new ApiError(404, `Not found: URI ${uri}`, 'notFound');
      const file = path.join(scratch, `${job.jobId}-${i}.parquet`);
      await writeFile(file, data);
      files.push(file);
    }
    const source = `read_parquet([${files.map(quoteLiteral).join(', ')}])`;
    const target = tableId(destination.datasetId, destination.tableId);
    const exists = (await describe(destination.datasetId, destination.tableId)) !== undefined;
    const disposition = load.writeDisposition ?? 'WRITE_APPEND';
    if (!exists && load.createDisposition === 'CREATE_NEVER') {
      throw new ApiError(
        404,
        `Not found: Table ${projectId}:${destination.datasetId}.${destination.tableId}`,
        'notFound',
      );
    }
    const create = load.schema
      ? `CREATE OR REPLACE TABLE ${target} (${columnsDdl(load.schema.fields)});`
      : `CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${source} LIMIT 0;`;
    const statements = ['BEGIN TRANSACTION;'];
    if (!exists || disposition === 'WRITE_TRUNCATE') statements.push(create);
    if (exists && disposition === 'WRITE_EMPTY') {
      const [count] = await run(`SELECT count(*) AS n FROM ${target}`);
      if (Number(count?.n) > 0)
        throw new ApiError(400, `Already Exists: Table ${destination.tableId} is not empty`, 'duplicate');
    }
    statements.push(`INSERT INTO ${target} BY NAME SELECT * FROM ${source};`, 'COMMIT;');
    statements.push(`SELECT count(*) AS n FROM ${source}`);
    try {
      const [count] = await run(statements.join('\n'));
      job.outputRows = Number(count?.n ?? 0);
    } catch (error) {
      throw new ApiError(
        400,
        `Error while reading data, error message: ${error instanceof Error ? error.message : String(error)}; File: ${load.sourceUris?.join(', ')}`,
        'invalid',
      );
    }
  };

  /** Takes the first query fault of `kind` whose pattern matches `sql`. */
  const takeQueryFault = <K extends 'bytesBilled' | 'delay'>(kind: K, sql: string) => {
    const fault = faults.find(
      (f) =>
        f.kind === kind &&
        f.remaining > 0 &&
        (f.query === undefined || (typeof f.query === 'string' ? sql.includes(f.query) : f.query.test(sql))),
    );
    if (fault) fault.remaining -= 1;
    return fault as Extract<FakeBigQueryFault, { kind: K }> | undefined;
  };

  /**
   * The job's limits against what the faults say it bills and how long it runs. BigQuery bills at least
   * 10 MB for a query that reads a table, so a cap under that refuses every such query.
   */
  const enforceLimits = async (job: FakeBigQueryJob, sql: string) => {
    const cap = job.configuration.query?.maximumBytesBilled;
    const billed = Math.max(
      takeQueryFault('bytesBilled', sql)?.bytes ?? 0,
      /\bFROM\b/i.test(sql) ? MIN_BYTES_BILLED : 0,
    );
    if (cap !== undefined && billed > Number(cap)) {
      throw new ApiError(
        400,
        `Query exceeded limit for bytes billed: ${cap}. ${billed} or higher required.`,
        'bytesBilledLimitExceeded',
      );
    }
    const delay = takeQueryFault('delay', sql)?.ms ?? 0;
    const timeout =
      job.configuration.jobTimeoutMs === undefined ? undefined : Number(job.configuration.jobTimeoutMs);
    if (delay > 0) await sleep(timeout === undefined ? delay : Math.min(delay, timeout));
    if (timeout !== undefined && delay > timeout) {
      throw new ApiError(
        400,
        `Job ${projectId}:${job.location}.${job.jobId} timed out after ${timeout} ms (jobTimeoutMs) and was cancelled.`,
        'timeout',
      );
    }
  };

  /** Runs a query or script; returns the result of its last statement when that is a SELECT. */
  const executeQuery = async (job: FakeBigQueryJob): Promise<FakeBigQueryJob['result']> => {
    const query = job.configuration.query!;
    const statements = splitStatements(query.query);
    let inTransaction = false;
    for (const s of statements) {
      if (/^BEGIN(\s+TRANSACTION)?$/i.test(s)) inTransaction = true;
      else if (/^(COMMIT|ROLLBACK)(\s+TRANSACTION)?$/i.test(s)) inTransaction = false;
      else if (inTransaction && /^(CREATE|ALTER|DROP)\s+(?!TEMP(ORARY)?\s)/i.test(s)) {
        throw new ApiError(
          400,
          `DDL statements on permanent tables are not supported inside a transaction: ${s.slice(0, 60)}`,
          'invalidQuery',
        );
      }
    }
    const dataset = query.defaultDataset?.datasetId;
    if (dataset) requireDataset(dataset);
    const context = { projectId, dataset, parameters: query.queryParameters ?? [] };
    const translated = statements.map((s) => translate(s, context));
    await enforceLimits(job, query.query);
    const last = translated.at(-1) ?? '';
    const resultTable = `${quoteIdentifier('_results')}.${quoteIdentifier(`job_${job.jobId.replace(/[^A-Za-z0-9_]/g, '_')}`)}`;
    const returnsRows = /^\s*(SELECT|WITH)\b/i.test(last);
    if (returnsRows) translated[translated.length - 1] = `CREATE OR REPLACE TABLE ${resultTable} AS ${last}`;
    const prologue = dataset ? `SET search_path = ${quoteLiteral(dataset)};\n` : '';
    try {
      await run(`${prologue}${translated.map((s) => `${s};`).join('\n')}\nSELECT 1`);
      if (!returnsRows) return undefined;
      const schema = await describe('_results', resultTable.split('.')[1]!.replaceAll('"', ''));
      const rows = await run(`SELECT * FROM ${resultTable}`);
      const fields = schema ?? [];
      return {
        schema: fields,
        rows: rows.map((row) => ({ f: fields.map((f) => ({ v: encodeCell(f.type, row[f.name]) })) })),
      };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(400, error instanceof Error ? error.message : String(error), 'invalidQuery');
    }
  };

  const execute = async (job: FakeBigQueryJob) => {
    try {
      if (job.configuration.load) await executeLoad(job);
      else if (job.configuration.query) job.result = await executeQuery(job);
      else throw new ApiError(400, 'the fake runs only load and query jobs', 'invalid');
    } catch (error) {
      const errors = (error as { errors?: FakeJobError[] }).errors;
      job.errors = errors ?? [
        {
          reason: error instanceof ApiError ? error.reason : 'internalError',
          message: error instanceof Error ? error.message : String(error),
        },
      ];
    }
    job.state = 'DONE';
  };

  const queryResponse = (job: FakeBigQueryJob, done: boolean) => ({
    kind: 'bigquery#getQueryResultsResponse',
    jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
    jobComplete: done,
    ...(done && job.result
      ? {
          schema: { fields: job.result.schema },
          rows: job.result.rows,
          totalRows: String(job.result.rows.length),
        }
      : done
        ? { totalRows: '0' }
        : {}),
  });

  const handle = async (
    method: string,
    url: URL,
    body: Record<string, unknown>,
  ): Promise<[number, unknown]> => {
    const m = /^\/bigquery\/v2\/projects\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!m) throw new ApiError(404, `fake BigQuery does not implement ${method} ${url.pathname}`, 'notFound');
    if (decodeURIComponent(m[1]!) !== projectId)
      throw new ApiError(404, `Not found: Project ${m[1]}`, 'notFound');
    const rest = m[2]!;
    /** The path's captures (URI-decoded) when `rest` matches `pattern` and the method is `verb`. */
    const route = (verb: string | undefined, pattern: RegExp): string[] | undefined => {
      const m = verb === undefined || verb === method ? pattern.exec(rest) : null;
      return m ? m.slice(1).map((part) => decodeURIComponent(part)) : undefined;
    };
    let r: string[] | undefined;

    if (rest === '/jobs' && method === 'POST') {
      const reference = (body.jobReference ?? {}) as { jobId?: string; location?: string };
      const jobId = reference.jobId ?? randomUUID();
      if (!/^[A-Za-z0-9_-]{1,1024}$/.test(jobId))
        throw new ApiError(400, `Invalid job ID "${jobId}"`, 'invalid');
      if (jobs.has(jobId))
        throw new ApiError(409, `Already Exists: Job ${projectId}:${location}.${jobId}`, 'duplicate');
      const job: FakeBigQueryJob = {
        jobId,
        projectId,
        location: reference.location ?? location,
        configuration: body.configuration as FakeBigQueryJob['configuration'],
        state: 'RUNNING',
        polls: 0,
        created: new Date(),
      };
      jobs.set(jobId, job);
      job.finished = execute(job);
      return [200, jobResource(job)];
    }
    r = route('GET', /^\/jobs\/([^/]+)$/);
    if (r) {
      const job = jobs.get(r[0]!);
      if (!job) throw new ApiError(404, `Not found: Job ${projectId}:${r[0]!}`, 'notFound');
      job.polls += 1;
      const visible =
        job.polls > pollsUntilDone ? job : { ...job, state: 'RUNNING' as const, errors: undefined };
      return [200, jobResource(visible)];
    }
    if (rest === '/queries' && method === 'POST') {
      const jobId = `job_${randomUUID().replaceAll('-', '')}`;
      const job: FakeBigQueryJob = {
        jobId,
        projectId,
        location: String(body.location ?? location),
        configuration: {
          query: {
            query: String(body.query),
            queryParameters: (body.queryParameters as QueryParameter[] | undefined) ?? [],
            ...(body.defaultDataset ? { defaultDataset: body.defaultDataset as { datasetId: string } } : {}),
            ...(body.maximumBytesBilled ? { maximumBytesBilled: String(body.maximumBytesBilled) } : {}),
          },
          ...(body.jobTimeoutMs ? { jobTimeoutMs: String(body.jobTimeoutMs) } : {}),
        },
        state: 'RUNNING',
        polls: 0,
        created: new Date(),
      };
      jobs.set(jobId, job);
      job.finished = execute(job);
      await job.finished;
      if (job.errors) throw jobError(job.errors);
      return [200, { ...queryResponse(job, true), kind: 'bigquery#queryResponse' }];
    }
    r = route('GET', /^\/queries\/([^/]+)$/);
    if (r) {
      const job = jobs.get(r[0]!);
      if (!job) throw new ApiError(404, `Not found: Job ${projectId}:${r[0]!}`, 'notFound');
      // Like BigQuery: wait for a running job up to timeoutMs (default 10 s) before answering incomplete.
      if (job.state !== 'DONE' && job.finished) {
        const wait = Number(url.searchParams.get('timeoutMs') ?? 10_000);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          job.finished,
          new Promise((resolve) => {
            timer = setTimeout(resolve, Number.isFinite(wait) ? wait : 10_000);
          }),
        ]);
        clearTimeout(timer);
      }
      if (job.state === 'DONE' && job.errors) throw jobError(job.errors);
      return [200, queryResponse(job, job.state === 'DONE')];
    }
    r = route('GET', /^\/datasets\/([^/]+)$/);
    if (r) {
      const dataset = r[0]!;
      requireDataset(dataset);
      return [
        200,
        {
          kind: 'bigquery#dataset',
          id: `${projectId}:${dataset}`,
          datasetReference: { projectId, datasetId: dataset },
          location,
        },
      ];
    }
    r = route('POST', /^\/datasets\/([^/]+)\/tables$/);
    if (r) {
      const dataset = r[0]!;
      const reference = body.tableReference as { tableId: string };
      const fields = (body.schema as { fields?: FakeBigQueryField[] } | undefined)?.fields ?? [];
      if (await describe(dataset, reference.tableId)) {
        throw new ApiError(
          409,
          `Already Exists: Table ${projectId}:${dataset}.${reference.tableId}`,
          'duplicate',
        );
      }
      if (fields.length === 0)
        throw new ApiError(400, 'the fake creates tables only with a schema', 'invalid');
      await run(`CREATE TABLE ${tableId(dataset, reference.tableId)} (${columnsDdl(fields)}); SELECT 1`);
      return [200, await tableResource(dataset, reference.tableId)];
    }
    r = route(undefined, /^\/datasets\/([^/]+)\/tables\/([^/]+)$/);
    if (r) {
      const dataset = r[0]!;
      const table = r[1]!;
      if (method === 'GET') return [200, await tableResource(dataset, table)];
      if (method === 'DELETE') {
        await tableResource(dataset, table);
        await run(`DROP TABLE ${tableId(dataset, table)}; SELECT 1`);
        return [204, undefined];
      }
      if (method === 'PATCH' || method === 'PUT') {
        const existing = (await tableResource(dataset, table)).schema.fields;
        const fields = (body.schema as { fields?: FakeBigQueryField[] } | undefined)?.fields;
        if (fields) {
          // As in BigQuery: a schema update may only add (NULLABLE) columns.
          const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
          for (const f of existing) {
            const next = byName.get(f.name.toLowerCase());
            if (!next || DUCKDB_TYPES[next.type.toUpperCase()] !== DUCKDB_TYPES[f.type]) {
              throw new ApiError(
                400,
                `Provided Schema does not match Table ${projectId}:${dataset}.${table}. Field ${f.name} is missing or changed type.`,
                'invalid',
              );
            }
          }
          const known = new Set(existing.map((f) => f.name.toLowerCase()));
          const added = fields.filter((f) => !known.has(f.name.toLowerCase()));
          for (const f of added) {
            await run(`ALTER TABLE ${tableId(dataset, table)} ADD COLUMN ${columnsDdl([f])}; SELECT 1`);
          }
        }
        return [200, await tableResource(dataset, table)];
      }
    }
    throw new ApiError(404, `fake BigQuery does not implement ${method} ${url.pathname}`, 'notFound');
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (status === 204) {
      res.writeHead(204);
      return void res.end();
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };

  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-bigquery');
    const method = req.method ?? 'GET';
    const p = `${url.pathname}${url.search}`;
    const record: FakeBigQueryRequest = { method, path: p, kind: classify(method, url.pathname), status: 0 };
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    requests.push(record);
    let lost = false;
    try {
      const body = await readBody(req);
      if (Object.keys(body).length > 0) record.body = body;
      const fault = takeRequestFault(
        faults,
        method,
        p,
        (f) => f.kind === 'status' || f.kind === 'loseResponse',
      );
      if (fault?.kind === 'status') {
        record.status = fault.status;
        return send(res, fault.status, {
          error: {
            code: fault.status,
            message: `injected fault: ${fault.status}`,
            errors: [
              {
                reason: fault.status === 429 ? 'rateLimitExceeded' : 'backendError',
                message: 'injected fault',
              },
            ],
          },
        });
      }
      if (fault?.kind === 'loseResponse') {
        lost = true;
        loseResponse(res);
      }
      const [status, payload] = await handle(method, url, body);
      if (fault?.kind === 'loseResponse') {
        req.socket.destroy();
        return;
      }
      record.status = status;
      send(res, status, payload);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 500;
      const reason = error instanceof ApiError ? error.reason : 'internalError';
      const message = error instanceof Error ? error.message : String(error);
      record.status = lost ? 0 : status;
      send(res, status, {
        error: { code: status, message, errors: [{ reason, message, domain: 'global' }], status: reason },
      });
    }
  });
  const url = await listen(server, options);

  return {
    url,
    projectId,
    requests,
    jobs,
    inject(fault) {
      faults.push(armFault(fault));
    },
    sql: (sql) => run(sql),
    async tables(dataset) {
      const rows = await run(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(dataset)} ORDER BY table_name`,
      );
      return rows.map((r) => String(r.table_name));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      await queue;
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
