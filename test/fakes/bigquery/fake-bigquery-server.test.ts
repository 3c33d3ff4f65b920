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
  error: { message: string };
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
      query: 'SELECT @at AS at',
      queryParameters: [
        {
          name: 'at',
          parameterType: { type: 'TIMESTAMP' },
          parameterValue: { value: '2026-01-02T03:04:05Z' },
        },
      ],
    });
    expect(res.json.schema.fields).toEqual([{ name: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' }]);
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
