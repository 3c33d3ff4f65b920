/** The fake's own protocol, over raw HTTP: the honesty checks the adapter tests do not reach. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeGcs, startFakeGcs } from '../gcs/fake-gcs-server';
import { type FakeBigQuery, startFakeBigQuery } from './fake-bigquery-server';

let gcs: FakeGcs;
let bq: FakeBigQuery;
beforeEach(async () => {
  gcs = await startFakeGcs({ buckets: ['b'] });
  bq = await startFakeBigQuery({ gcs, projectId: 'p', datasets: ['d'], pollsUntilDone: 0 });
});
afterEach(async () => {
  await bq.close();
  await gcs.close();
});

/** The parts of REST replies these tests read. */
interface Reply {
  error: { message: string; errors: Array<{ reason: string }> };
  status: { state: string; errorResult: { reason: string; message: string } };
  schema: { fields: unknown[] };
  rows: unknown[];
}

const api = (path: string) => `${bq.url}/bigquery/v2/projects/p${path}`;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Reply }> {
  const res = await fetch(api(path), {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (res.status === 204 ? {} : await res.json()) as Reply };
}

async function runScript(jobId: string, query: string): Promise<Reply> {
  const inserted = await call('POST', '/jobs', {
    jobReference: { jobId },
    configuration: { query: { query } },
  });
  expect(inserted.status).toBe(200);
  for (;;) {
    const job = await call('GET', `/jobs/${jobId}`);
    if (job.json.status.state === 'DONE') return job.json;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** jobs.query with `d` as the default dataset: the rows as plain values, or the error. */
async function query(sql: string): Promise<{ status: number; rows: unknown[][]; error?: Reply['error'] }> {
  const res = await call('POST', '/queries', {
    query: sql,
    useLegacySql: false,
    defaultDataset: { projectId: 'p', datasetId: 'd' },
  });
  const rows = ((res.json.rows ?? []) as Array<{ f: Array<{ v: unknown }> }>).map((r) => r.f.map((c) => c.v));
  return { status: res.status, rows, error: res.json.error };
}

describe('fake BigQuery server', () => {
  test('a duplicate job id is 409 Already Exists', async () => {
    await runScript('j1', 'SELECT 1 AS x');
    const again = await call('POST', '/jobs', {
      jobReference: { jobId: 'j1' },
      configuration: { query: { query: 'SELECT 1' } },
    });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toBe('Already Exists: Job p:US.j1');
  });

  test('a script that fails inside a transaction commits nothing', async () => {
    await call('POST', '/datasets/d/tables', {
      tableReference: { tableId: 't' },
      schema: { fields: [{ name: 'a', type: 'INTEGER' }] },
    });
    await runScript('seed', 'INSERT INTO `p.d.t` (a) VALUES (1)');
    const failed = await runScript(
      'bad',
      'BEGIN TRANSACTION;\nDELETE FROM `p.d.t` WHERE TRUE;\nINSERT INTO `p.d.t` (a) SELECT nope FROM `p.d.t`;\nCOMMIT TRANSACTION;',
    );
    expect(failed.status.errorResult.reason).toBe('invalidQuery');
    expect(await bq.sql('SELECT count(*)::INT AS n FROM d.t')).toEqual([{ n: 1 }]);
  });

  test('DDL on a permanent table inside a transaction is refused, as in BigQuery', async () => {
    const job = await runScript(
      'ddl',
      'BEGIN TRANSACTION;\nCREATE TABLE `p.d.x` (a INT64);\nCOMMIT TRANSACTION;',
    );
    expect(job.status.errorResult.message).toMatch(/DDL statements on permanent tables are not supported/);
    expect(await bq.tables('d')).toEqual([]);
  });

  test('query results carry TIMESTAMP cells as int64 microseconds', async () => {
    const res = await call('POST', '/queries', {
      query: 'SELECT @at AS loaded_at',
      queryParameters: [
        {
          name: 'at',
          parameterType: { type: 'TIMESTAMP' },
          parameterValue: { value: '2026-01-02T03:04:05Z' },
        },
      ],
    });
    expect(res.json.schema.fields).toEqual([{ name: 'loaded_at', type: 'TIMESTAMP', mode: 'NULLABLE' }]);
    expect(res.json.rows).toEqual([{ f: [{ v: String(Date.parse('2026-01-02T03:04:05Z') * 1000) }] }]);
  });

  test('a load job whose source object is missing fails with notFound', async () => {
    const inserted = await call('POST', '/jobs', {
      jobReference: { jobId: 'load1' },
      configuration: {
        load: {
          sourceUris: ['gs://b/missing.parquet'],
          sourceFormat: 'PARQUET',
          destinationTable: { datasetId: 'd', tableId: 't' },
          writeDisposition: 'WRITE_TRUNCATE',
        },
      },
    });
    expect(inserted.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const job = await call('GET', '/jobs/load1');
    expect(job.json.status.errorResult).toEqual({
      reason: 'notFound',
      message: 'Not found: URI gs://b/missing.parquet',
    });
  });

  test('missing datasets and tables are 404 with BigQuery wording', async () => {
    expect((await call('GET', '/datasets/nope')).json.error.message).toBe('Not found: Dataset p:nope');
    expect((await call('GET', '/datasets/d/tables/nope')).json.error.message).toBe(
      'Not found: Table p:d.nope',
    );
  });
});

describe('BigQuery SQL in the fake: translated to DuckDB', () => {
  test('DATE_TRUNC: WEEK starts on Sunday, WEEK(MONDAY) and ISOWEEK on Monday; MONTH, DAY', async () => {
    // 2024-01-10 is a Wednesday.
    const { rows } = await query(
      `SELECT DATE_TRUNC(DATE '2024-01-10', WEEK) AS sunday, DATE_TRUNC(DATE '2024-01-10', WEEK(MONDAY)) AS monday,
              DATE_TRUNC(DATE '2024-01-10', ISOWEEK) AS iso, DATE_TRUNC(DATE '2024-01-07', ISOWEEK) AS iso_of_sunday,
              DATE_TRUNC(DATE '2024-01-10', MONTH) AS month, DATE_TRUNC(DATE '2024-01-10', DAY) AS day`,
    );
    expect(rows).toEqual([
      ['2024-01-07', '2024-01-08', '2024-01-08', '2024-01-01', '2024-01-01', '2024-01-10'],
    ]);
  });

  test('FORMAT_DATE, DATE_DIFF, CAST to BigQuery types, SAFE_DIVIDE, string literals', async () => {
    const { rows, error } = await query(
      `SELECT FORMAT_DATE('%Y-%m', DATE '2024-03-05') AS ym, DATE_DIFF(DATE '2024-03-05', DATE '2024-02-28', DAY) AS days,
              CAST('42' AS INT64) AS i, CAST('0.5' AS FLOAT64) AS f, CAST(DATE '2024-03-05' AS STRING) AS s,
              SAFE_DIVIDE(1, 0) AS nothing, SAFE_DIVIDE(1, 4) AS quarter, "double-quoted" AS dq, 'it\\'s' AS esc`,
    );
    expect(error).toBeUndefined();
    expect(rows).toEqual([
      ['2024-03', '6', '42', '0.5', '2024-03-05', null, '0.25', 'double-quoted', "it's"],
    ]);
  });

  test('INFORMATION_SCHEMA.TABLES lists the default dataset (or the named one)', async () => {
    await call('POST', '/datasets/d/tables', {
      tableReference: { tableId: 'sales' },
      schema: { fields: [{ name: 'a', type: 'INTEGER' }] },
    });
    expect((await query('SELECT table_name FROM INFORMATION_SCHEMA.TABLES')).rows).toEqual([['sales']]);
    expect((await query('SELECT table_name FROM `p.d`.INFORMATION_SCHEMA.TABLES')).rows).toEqual([['sales']]);
    const none = await call('POST', '/queries', {
      query: 'SELECT table_name FROM INFORMATION_SCHEMA.TABLES',
    });
    expect(none.json.error.message).toMatch(/missing dataset while no default dataset is set/);
  });

  test("INFORMATION_SCHEMA.COLUMNS lists a table's columns with BigQuery's type names", async () => {
    await call('POST', '/datasets/d/tables', {
      tableReference: { tableId: 'sales' },
      schema: {
        fields: [
          { name: 'order_date', type: 'DATE' },
          { name: 'sales', type: 'FLOAT' },
          { name: 'store', type: 'INTEGER' },
          { name: 'region', type: 'STRING' },
          { name: 'is_holiday', type: 'BOOLEAN' },
          { name: 'at_time', type: 'TIMESTAMP' },
          { name: 'price', type: 'NUMERIC' },
        ],
      },
    });
    const sql = `SELECT column_name, data_type FROM INFORMATION_SCHEMA.COLUMNS
                 WHERE table_name = 'sales' ORDER BY ordinal_position`;
    const expected = [
      ['order_date', 'DATE'],
      ['sales', 'FLOAT64'],
      ['store', 'INT64'],
      ['region', 'STRING'],
      ['is_holiday', 'BOOL'],
      ['at_time', 'TIMESTAMP'],
      ['price', 'NUMERIC'],
    ];
    expect((await query(sql)).rows).toEqual(expected);
    expect((await query(sql.replace('INFORMATION_SCHEMA', '`p.d`.INFORMATION_SCHEMA'))).rows).toEqual(
      expected,
    );
  });
});

describe('DuckDB-only SQL is refused with 400 invalidQuery, as BigQuery refuses it', () => {
  test.each([
    ['a :: cast', 'SELECT 1::INT64 AS x', /Unexpected ":"/],
    ['a $1 placeholder', 'SELECT $1 AS x', /Illegal input character "\$"/],
    ['strftime', "SELECT strftime(DATE '2024-01-01', '%Y') AS y", /Function not found: strftime/],
    ["date_trunc('month', d)", "SELECT date_trunc('month', DATE '2024-01-10') AS m", /DATE_TRUNC/],
    [
      "date_diff('day', a, b)",
      "SELECT date_diff('day', DATE '2024-01-01', DATE '2024-01-10') AS d",
      /DATE_DIFF/,
    ],
    ['FILTER (WHERE ...)', 'SELECT count(*) FILTER (WHERE x > 1) AS n FROM UNNEST([1, 2]) AS x', /FILTER/],
    ['arg_max', 'SELECT arg_max(x, x) AS m FROM UNNEST([1, 2]) AS x', /Function not found: arg_max/],
    ['regr_slope', 'SELECT regr_slope(x, x) AS m FROM UNNEST([1, 2]) AS x', /Function not found: regr_slope/],
    ['a DuckDB type name', 'SELECT CAST(1 AS VARCHAR) AS s', /Type not found: VARCHAR/],
    ['a double-quoted table name', 'SELECT 1 FROM "sales"', /Unexpected string literal "sales"/],
    ['a double-quoted qualified column', 'SELECT "t".a FROM d.t', /Unexpected string literal "t"/],
    ['a reserved word as an alias', 'SELECT 1 AS rows', /Unexpected keyword ROWS/],
  ])('%s', async (_name, sql, message) => {
    const { status, error } = await query(sql);
    expect(status).toBe(400);
    expect(error?.errors[0]?.reason).toBe('invalidQuery');
    expect(error?.message).toMatch(message);
  });
});

describe('query limits', () => {
  test('a job records maximumBytesBilled and jobTimeoutMs; a query billing more is bytesBilledLimitExceeded', async () => {
    await call('POST', '/datasets/d/tables', {
      tableReference: { tableId: 't' },
      schema: { fields: [{ name: 'a', type: 'INTEGER' }] },
    });
    bq.inject({ kind: 'bytesBilled', bytes: 2 * 1024 ** 3, query: /FROM `p\.d\.t`/ });
    const configuration = {
      query: { query: 'SELECT count(*) AS n FROM `p.d.t`', maximumBytesBilled: String(1024 ** 3) },
      jobTimeoutMs: '5000',
    };
    const inserted = await call('POST', '/jobs', { jobReference: { jobId: 'capped' }, configuration });
    expect(inserted.status).toBe(200);
    const results = await call('GET', '/queries/capped?timeoutMs=5000');
    expect(results.status).toBe(400);
    expect(results.json.error.errors[0]?.reason).toBe('bytesBilledLimitExceeded');
    expect(results.json.error.message).toBe(
      'Query exceeded limit for bytes billed: 1073741824. 2147483648 or higher required.',
    );
    expect(bq.jobs.get('capped')?.configuration).toEqual(configuration);
    // Every query reading a table bills at least 10 MB: a smaller cap refuses it.
    await call('POST', '/jobs', {
      jobReference: { jobId: 'tiny' },
      configuration: { query: { query: 'SELECT a FROM `p.d.t`', maximumBytesBilled: '1000' } },
    });
    expect((await call('GET', '/queries/tiny')).json.error.errors[0]?.reason).toBe(
      'bytesBilledLimitExceeded',
    );
  });

  test('a job running past jobTimeoutMs is cancelled with reason timeout; getQueryResults waits for it', async () => {
    bq.inject({ kind: 'delay', ms: 2000 });
    await call('POST', '/jobs', {
      jobReference: { jobId: 'slow' },
      configuration: { query: { query: 'SELECT 1 AS one' }, jobTimeoutMs: '300' },
    });
    const started = Date.now();
    const results = await call('GET', '/queries/slow?timeoutMs=5000');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(results.json.error.errors[0]?.reason).toBe('timeout');

    bq.inject({ kind: 'delay', ms: 200 });
    await call('POST', '/jobs', {
      jobReference: { jobId: 'late' },
      configuration: { query: { query: 'SELECT 1 AS one' }, jobTimeoutMs: '5000' },
    });
    const late = await call('GET', '/queries/late?timeoutMs=5000');
    expect(late.status).toBe(200);
    expect(late.json.rows).toEqual([{ f: [{ v: '1' }] }]);
  });
});
