/**
 * Faults in what the services depend on: the blob store failing mid-write (LocalBlobStore fed a stream
 * that errors half-way; GcsBlobStore on the fake GCS with connections dropped mid-upload and 503 storms),
 * and, with the real services in gcp mode on the fakes, a 503 storm from Cloud Storage, a BigQuery
 * jobs.insert whose job was created but whose response was lost, and a Kaggle download dropped half-way.
 * Every pipeline run ends with exact row counts and no duplicate, counted in the fake BigQuery.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalBlobStore } from '@etl/common/storage';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { BigQueryWarehouse } from '@etl/common/warehouse/bigquery';
import { generateSalesCsv } from '@etl/sample-data';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FakeBigQuery, startFakeBigQuery } from '../fakes/bigquery';
import { type FakeGcs, startFakeGcs } from '../fakes/gcs';
import { type FakeKaggle, startFakeKaggle } from '../fakes/kaggle';
import { runEtl, type Stack, startStack, tableFacts } from './harness';

const BUCKET = 'etl-chaos';
const PROJECT = 'chaos';
const DATASET = 'etl';

/** A stream that sends `good` bytes, then fails. */
function breakingStream(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
      } else this.destroy(new Error('disk read failed half-way'));
    },
  });
}

describe('LocalBlobStore: a stream that errors half-way', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'etl-chaos-local-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('the write fails, no partial object under the key, no temp file left, the old version intact', async () => {
    const store = new LocalBlobStore(root);
    const key = 'runs/r1/raw/sales.csv';
    await expect(store.put(key, breakingStream(randomBytes(512 * 1024)))).rejects.toThrow(/half-way/);
    expect(await store.exists(key)).toBe(false);
    expect(await readdir(path.join(root, 'runs/r1/raw'))).toEqual([]);

    await store.put(key, 'a,b\n1,2\n');
    await expect(store.put(key, breakingStream(randomBytes(512 * 1024)))).rejects.toThrow(/half-way/);
    expect((await store.get(key)).toString()).toBe('a,b\n1,2\n');
    expect(await readdir(path.join(root, 'runs/r1/raw'))).toEqual(['sales.csv']);
    // ifAbsent (the lease's create) fails the same way: nothing created.
    await expect(
      store.put('datasets/x/y/z/lease.json', breakingStream(Buffer.from('{')), { ifAbsent: true }),
    ).rejects.toThrow(/half-way/);
    expect(await store.exists('datasets/x/y/z/lease.json')).toBe(false);
  });
});

describe('GcsBlobStore on the fake GCS: dropped connections and 503 storms', () => {
  let gcs: FakeGcs;
  const fast = { maxRetries: 2, maxRetryDelayMs: 1000, retryDelayMultiplier: 0.01, totalTimeoutMs: 20_000 };
  beforeEach(async () => {
    gcs = await startFakeGcs({ buckets: [BUCKET] });
  });
  afterEach(async () => {
    await gcs.close();
  });
  const store = (maxRetries = fast.maxRetries) =>
    new GcsBlobStore({
      bucket: BUCKET,
      projectId: PROJECT,
      apiEndpoint: gcs.url,
      retry: { ...fast, maxRetries },
    });

  test('every upload connection dropped mid-body: a retryable 503 naming the object, nothing visible', async () => {
    gcs.inject({ method: 'PUT', path: 'upload_id=', destroyAfterBytes: 256 * 1024, times: 10 });
    gcs.inject({ method: 'POST', path: 'uploadType=resumable', destroyAfterBytes: 0, times: 10 });
    const body = randomBytes(2 * 1024 * 1024);
    const failure = store().put('runs/r1/staged/sales.arrow', Readable.from([body]));
    await expect(failure).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(failure).rejects.toThrow(`gs://${BUCKET}/runs/r1/staged/sales.arrow`);
    expect(gcs.read(BUCKET, 'runs/r1/staged/sales.arrow')).toBeUndefined();
  });

  test('a stream body whose source fails half-way: the upload is abandoned, nothing visible', async () => {
    const s = new GcsBlobStore({ bucket: BUCKET, projectId: PROJECT, apiEndpoint: gcs.url, retry: fast });
    await expect(s.put('runs/r2/raw/broken.csv', breakingStream(randomBytes(300 * 1024)))).rejects.toThrow();
    expect(gcs.read(BUCKET, 'runs/r2/raw/broken.csv')).toBeUndefined();
  });

  test('a 503 storm on reads longer than the retry budget: retryable 503; shorter: read through', async () => {
    const s = new GcsBlobStore({ bucket: BUCKET, projectId: PROJECT, apiEndpoint: gcs.url, retry: fast });
    await s.put('runs/r3/raw/a.csv', 'a\n1\n');
    gcs.inject({ method: 'GET', path: '/o/runs%2Fr3%2Fraw%2Fa.csv', status: 503, times: 3 });
    await expect(s.get('runs/r3/raw/a.csv')).rejects.toMatchObject({ status: 503, retryable: true });
    gcs.inject({ method: 'GET', path: '/o/runs%2Fr3%2Fraw%2Fa.csv', status: 503, times: 2 });
    expect((await s.get('runs/r3/raw/a.csv')).toString()).toBe('a\n1\n');
  });
});

describe('the pipeline in gcp mode on the fakes (services as child processes)', () => {
  let gcs: FakeGcs;
  let bigquery: FakeBigQuery;
  let kaggle: FakeKaggle;
  let stack: Stack;
  let dataDir: string;
  let warehouse: BigQueryWarehouse;
  let kaggleCsv: Buffer;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-gcp-'));
    gcs = await startFakeGcs({ buckets: [BUCKET] });
    bigquery = await startFakeBigQuery({ gcs, projectId: PROJECT, datasets: [DATASET] });
    kaggleCsv = Buffer.from(await text(generateSalesCsv({ rows: 20_000, seed: 5 })));
    kaggle = await startFakeKaggle({
      datasets: { 'acme/sales': { version: 3, files: { 'sales.csv': kaggleCsv } } },
      token: 'kaggle-test-token',
    });
    warehouse = new BigQueryWarehouse({
      projectId: PROJECT,
      dataset: DATASET,
      apiEndpoint: bigquery.url,
      store: new GcsBlobStore({ bucket: BUCKET, projectId: PROJECT, apiEndpoint: gcs.url }),
    });
    stack = await startStack(dataDir, {
      ETL_MODE: 'gcp',
      GCP_PROJECT: PROJECT,
      ETL_BUCKET: BUCKET,
      BIGQUERY_DATASET: DATASET,
      GCS_API_ENDPOINT: gcs.url,
      BIGQUERY_API_ENDPOINT: bigquery.url,
      METADATA_SERVER_DETECTION: 'none',
      KAGGLE_API_BASE: kaggle.url,
      KAGGLE_API_TOKEN: 'kaggle-test-token',
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await kaggle?.close();
    await bigquery?.close();
    await gcs?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function expectExactlyLoaded(source: string, runId: string, rowsLoaded: number): Promise<void> {
    const rows = await warehouse.query(
      `SELECT _run_id, COUNT(*) AS n FROM sales WHERE _source = '${source}' GROUP BY _run_id`,
    );
    expect(rows.map((r) => ({ run: r._run_id, n: Number(r.n) }))).toEqual([{ run: runId, n: rowsLoaded }]);
    const facts = await tableFacts(warehouse, 'sales');
    expect(facts.distinct).toBe(facts.rows);
  }

  test('a storm of 503s from Cloud Storage on uploads: retried by the client, the run completes', async () => {
    const before = gcs.requests.length;
    gcs.inject({ method: 'POST', path: '/upload/', status: 503, times: 3 });
    const result = await runEtl({
      urls: stack.urls,
      runId: 'gcp-storm',
      source: 'sample',
      options: { sample: { rows: 5000, seed: 1 } },
    });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(gcs.requests.slice(before).filter((r) => r.status === 503)).toHaveLength(3);
    const sales = result.tables[0]!;
    expect(sales.rowsIn).toBe(5000);
    expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(5000);
    await expectExactlyLoaded('sample/generated/sales', 'gcp-storm', sales.rowsLoaded);
  });

  test('BigQuery created the load job but the response was lost: the job is adopted, nothing loads twice', async () => {
    bigquery.inject({ kind: 'loseResponse', method: 'POST', path: /\/jobs\?/, times: 1 });
    const before = bigquery.requests.filter((r) => r.kind === 'jobs.insert').length;
    const result = await runEtl({
      urls: stack.urls,
      runId: 'gcp-lost',
      source: 'sample',
      force: true,
      options: { sample: { rows: 5000, seed: 2 } },
    });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    const inserts = bigquery.requests.filter((r) => r.kind === 'jobs.insert').slice(before);
    expect(inserts.filter((r) => r.status === 0)).toHaveLength(1); // the lost response
    expect(inserts.filter((r) => r.status === 409)).toHaveLength(1); // its retry, adopted
    const loadJobs = [...bigquery.jobs.values()].filter(
      (j) => j.configuration.load && j.jobId.startsWith('etl_load_gcp_lost_'),
    );
    expect(loadJobs).toHaveLength(2); // sales and sales_rejects, once each
    await expectExactlyLoaded('sample/generated/sales', 'gcp-lost', result.tables[0]!.rowsLoaded);
  });

  test('a Kaggle download dropped half-way: resumed with Range, checksum verified, exact rows', async () => {
    kaggle.setFaults({ dropDownload: { times: 1 } });
    const result = await runEtl({ urls: stack.urls, runId: 'gcp-kaggle', source: 'kaggle:acme/sales' });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    const storage = kaggle.requests.filter((r) => r.method === 'storage');
    expect(storage.map((r) => r.status)).toEqual([200, 206]);
    expect(storage[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    // The bytes that landed are the bytes Kaggle published: same SHA-256 in the manifest and in storage.
    const sha = createHash('sha256').update(kaggleCsv).digest('hex');
    const manifest = JSON.parse(gcs.read(BUCKET, 'runs/gcp-kaggle/manifest/extract.json')!.toString());
    expect(manifest.files).toEqual([expect.objectContaining({ name: 'sales.csv', sha256: sha })]);
    expect(gcs.read(BUCKET, 'runs/gcp-kaggle/raw/sales.csv')!.equals(kaggleCsv)).toBe(true);
    const sales = result.tables[0]!;
    expect(sales.rowsIn).toBe(20_000);
    expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(20_000);
    await expectExactlyLoaded('kaggle/acme/sales', 'gcp-kaggle', sales.rowsLoaded);
  });
});
