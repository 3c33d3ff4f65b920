/**
 * `etl run` in gcp mode, end to end: the real CLI starts the three services as child processes with
 * ETL_MODE=gcp, and they reach the fake GCS and fake BigQuery servers (run here, in the test process)
 * through the official clients with GCS_API_ENDPOINT / BIGQUERY_API_ENDPOINT, as they would reach Google.
 * Nothing here touches DuckDB directly or uses `etl query` (which reads the embedded warehouse): rows are
 * counted with BigQuery queries sent to the fake. The ML stage runs too (ML_INSIGHTS defaults on): its
 * BigQuery SQL goes through the fake, which refuses DuckDB-only SQL.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { BigQueryWarehouse } from '@etl/common/warehouse/bigquery';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { etl, parseJsonStdout } from '../e2e/cli';
import { type FakeBigQuery, startFakeBigQuery } from '../fakes/bigquery';
import { type FakeGcs, startFakeGcs } from '../fakes/gcs';

const ML_TABLES = [
  'ml_anomalies',
  'ml_drivers',
  'ml_forecast',
  'ml_metrics',
  'ml_segment_profiles',
  'ml_segments',
];
const PROJECT = 'test';
const BUCKET = 'etl-gcp-test';
const DATASET = 'etl';

interface Summary {
  runId: string;
  status: string;
  source: string;
  datasetVersion: string | null;
  tables: Array<{
    name: string;
    rowsIn: number;
    rowsLoaded: number;
    rowsQuarantined: number;
    rowsDuplicate: number;
  }>;
}

let gcs: FakeGcs;
let bigquery: FakeBigQuery;
let warehouse: BigQueryWarehouse;
let dataDir: string;
let env: Record<string, string>;
let first: Summary;

beforeAll(async () => {
  gcs = await startFakeGcs({ buckets: [BUCKET] });
  bigquery = await startFakeBigQuery({ gcs, projectId: PROJECT, datasets: [DATASET] });
  // Queries go through the fake's REST API, with the same adapter the loader uses.
  warehouse = new BigQueryWarehouse({
    projectId: PROJECT,
    dataset: DATASET,
    apiEndpoint: bigquery.url,
    store: new GcsBlobStore({ bucket: BUCKET, projectId: PROJECT, apiEndpoint: gcs.url }),
  });
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-gcp-'));
  env = {
    ETL_MODE: 'gcp',
    GCP_PROJECT: PROJECT,
    ETL_BUCKET: BUCKET,
    BIGQUERY_DATASET: DATASET,
    GCS_API_ENDPOINT: gcs.url,
    BIGQUERY_API_ENDPOINT: bigquery.url,
    METADATA_SERVER_DETECTION: 'none',
  };
});
afterAll(async () => {
  await bigquery?.close();
  await gcs?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function run(...args: string[]) {
  return etl(['run', '--json', '--rows', '2000', '--data-dir', dataDir, ...args], env);
}

async function count(where = 'TRUE', table = 'sales'): Promise<number> {
  const [row] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  return Number(row?.n);
}

/** Job ids the fake has created, by kind, in creation order; the load stage's only, not the ML stage's. */
function jobIds(kind: 'load' | 'query'): string[] {
  return [...bigquery.jobs.values()]
    .filter((job) =>
      kind === 'load'
        ? job.configuration.load && !job.configuration.load.destinationTable?.tableId.startsWith('ml_')
        : job.configuration.query && !job.configuration.query.query.includes('.ml_'),
    )
    .map((job) => job.jobId);
}

function objectNames(): string[] {
  return [...gcs.objects.values()]
    .filter((o) => o.bucket === BUCKET)
    .map((o) => o.name)
    .sort();
}

describe('etl run with ETL_MODE=gcp (services on the fake GCS and BigQuery)', () => {
  test('the sample lands in BigQuery with exact row accounting, its run data in Cloud Storage', async () => {
    const result = await run('--run-id', 'gcp-1');
    expect(result.code, result.stderr).toBe(0);
    first = parseJsonStdout<Summary>(result);
    expect(first).toMatchObject({ runId: 'gcp-1', status: 'succeeded', source: 'sample' });
    expect(first.tables.map((t) => t.name)).toEqual(['sales']);
    const sales = first.tables[0]!;
    expect(sales.rowsIn).toBe(2000);
    expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(2000);
    expect(sales.rowsQuarantined).toBeGreaterThan(0);
    expect(sales.rowsDuplicate).toBeGreaterThan(0);

    expect(await count()).toBe(sales.rowsLoaded);
    expect(await count("_run_id = 'gcp-1' AND _source = 'sample/generated/sales'")).toBe(sales.rowsLoaded);
    expect(await count('TRUE', 'sales_rejects')).toBe(sales.rowsQuarantined);
    // The ML stage wrote its tables for the dataset; the stage tables are dropped.
    expect(await bigquery.tables(DATASET)).toEqual(['_etl_tables', ...ML_TABLES, 'sales', 'sales_rejects']);
    expect(await count("_run_id = 'gcp-1' AND metric = 'forecast_method'", 'ml_metrics')).toBe(1);
    expect(await count("_source = 'sample/generated/sales'", 'ml_forecast')).toBeGreaterThan(12);
    // Its read queries carried the bytes-billed cap and the timeout.
    const reads = [...bigquery.jobs.values()].filter((job) =>
      /\bFROM `?(sales|lines|margins)\b/.test(job.configuration.query?.query ?? ''),
    );
    expect(reads.length).toBeGreaterThanOrEqual(6);
    for (const job of reads) {
      expect(job.configuration.query?.maximumBytesBilled).toBe(String(10 * 1024 ** 3));
      expect(job.configuration.jobTimeoutMs).toBe('30000');
    }
    // Nothing went to the embedded adapters: the data dir holds only the services' logs.
    expect((await readdir(dataDir)).sort()).toEqual(['logs']);

    expect(objectNames()).toEqual([
      'datasets/sample/generated/sales/state.json',
      'runs/gcp-1/manifest/analyze.json',
      'runs/gcp-1/manifest/extract.json',
      'runs/gcp-1/manifest/load.json',
      'runs/gcp-1/manifest/transform.json',
      'runs/gcp-1/quarantine/sales.arrow',
      'runs/gcp-1/raw/sales.csv',
      'runs/gcp-1/reports/load.json',
      'runs/gcp-1/reports/transform.json',
      'runs/gcp-1/staged/sales.arrow',
      'runs/gcp-1/staged/sales.schema.json',
    ]); // staging/*.parquet removed after the load
    const raw = gcs.read(BUCKET, 'runs/gcp-1/raw/sales.csv')!.toString('utf8');
    expect(raw.trimEnd().split('\n').length).toBe(2001); // header + 2000 rows
    expect(gcs.read(BUCKET, 'runs/gcp-1/staged/sales.arrow')!.subarray(0, 6).toString()).toBe('ARROW1');
    const manifest = JSON.parse(gcs.read(BUCKET, 'runs/gcp-1/manifest/load.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ runId: 'gcp-1' });

    // One load job per table (sales + rejects) and one replace transaction, each under a deterministic id.
    expect(jobIds('load').every((id) => id.startsWith('etl_load_gcp_1_'))).toBe(true);
    expect(jobIds('load')).toHaveLength(2);
    expect(jobIds('query').filter((id) => id.startsWith('etl_replace_gcp_1_'))).toHaveLength(1);
  });

  test('re-running the same run id with --force answers from the manifests: no new job, no new row', async () => {
    const jobsBefore = bigquery.jobs.size;
    const result = await run('--force', '--run-id', 'gcp-1');
    expect(result.code, result.stderr).toBe(0);
    const again = parseJsonStdout<Summary>(result);
    expect(again.status).toBe('succeeded');
    expect(again.tables).toEqual(first.tables);
    expect(bigquery.jobs.size).toBe(jobsBefore);
    expect(await count()).toBe(first.tables[0]!.rowsLoaded);
  });

  test('a new run of the same data replaces the slice; lost jobs.insert responses are retried and adopted, never loaded twice', async () => {
    // The fake creates the job, then drops the connection (the first two jobs.insert calls): the client
    // retries the POST, gets 409 Already Exists, and the adapter adopts the job it had created.
    bigquery.inject({ kind: 'loseResponse', method: 'POST', path: /\/jobs\?/, times: 1 });
    bigquery.inject({ kind: 'loseResponse', method: 'POST', path: /\/jobs\?/, times: 1 });
    const insertsBefore = bigquery.requests.filter((r) => r.kind === 'jobs.insert').length;
    const result = await run('--force', '--run-id', 'gcp-2');
    expect(result.code, result.stderr).toBe(0);
    const second = parseJsonStdout<Summary>(result);
    expect(second).toMatchObject({ runId: 'gcp-2', status: 'succeeded' });
    // The same rows again: the first run's replaced, the schema unchanged.
    expect(second.tables).toEqual(
      first.tables.map((t) => ({
        ...t,
        rowsReplaced: t.rowsLoaded,
        schemaChanges: [],
        guesses: [],
        notes: [],
      })),
    );

    const inserts = bigquery.requests.filter((r) => r.kind === 'jobs.insert').slice(insertsBefore);
    // Every lost answer (on a load, the replace or a query before them) was retried and adopted (409).
    const jobIdOf = (r: (typeof inserts)[number]) =>
      (r.body as { jobReference?: { jobId?: string } } | undefined)?.jobReference?.jobId;
    const lost = inserts.filter((r) => r.status === 0);
    expect(lost.length).toBeGreaterThan(0);
    for (const r of lost)
      expect(
        inserts.some((o) => o.status === 409 && jobIdOf(o) === jobIdOf(r)),
        jobIdOf(r),
      ).toBe(true);
    const loads = jobIds('load').filter((id) => id.startsWith('etl_load_gcp_2_'));
    expect(loads).toHaveLength(2);
    expect(new Set(jobIds('load')).size).toBe(jobIds('load').length);
    expect(jobIds('query').filter((id) => id.startsWith('etl_replace_gcp_2_'))).toHaveLength(1);

    expect(await count()).toBe(first.tables[0]!.rowsLoaded);
    expect(await count("_run_id = 'gcp-2'")).toBe(first.tables[0]!.rowsLoaded);
    expect(await count('TRUE', 'sales_rejects')).toBe(first.tables[0]!.rowsQuarantined);
    expect(await bigquery.tables(DATASET)).toEqual(['_etl_tables', ...ML_TABLES, 'sales', 'sales_rejects']);
    // The new run's analysis replaced the first one's: one set of results for the dataset.
    expect(await count("metric = 'forecast_method'", 'ml_metrics')).toBe(1);
    expect(await count("_run_id = 'gcp-2'", 'ml_metrics')).toBe(await count('TRUE', 'ml_metrics'));
  });

  test('a dataset of several files: one BigQuery table each, one replace transaction, the README skipped', async () => {
    const folder = path.join(dataDir, 'shop');
    await mkdir(folder);
    const orders = Array.from({ length: 120 }, (_, i) => `O-${i},2024-0${1 + (i % 9)}-1${i % 10},${i + 0.5}`);
    await writeFile(path.join(folder, 'orders.csv'), `Order ID,Order Date,Amount\n${orders.join('\n')}\n`);
    await writeFile(path.join(folder, 'stores.csv'), 'Store,City\n1,Lyon\n2,Nantes\n');
    await writeFile(path.join(folder, 'README.md'), '# shop\n');
    const result = await etl(
      ['run', '--json', '--data-dir', dataDir, '--run-id', 'gcp-3', '--source', `local:${folder}`],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = parseJsonStdout<Summary & { skippedFiles: Array<{ name: string; reason: string }> }>(
      result,
    );
    expect(summary.tables.map((t) => [t.name, t.rowsIn, t.rowsLoaded])).toEqual([
      ['shop_orders', 120, 120],
      ['shop_stores', 2, 2],
    ]);
    expect(summary.skippedFiles.map((f) => f.name)).toEqual(['README.md']);
    expect(await count("_run_id = 'gcp-3'", 'shop_orders')).toBe(120);
    expect(await count("_run_id = 'gcp-3'", 'shop_stores')).toBe(2);
    // Both tables and their rejects: four load jobs, replaced together by one transaction.
    expect(jobIds('load').filter((id) => id.startsWith('etl_load_gcp_3_'))).toHaveLength(4);
    expect(jobIds('query').filter((id) => id.startsWith('etl_replace_gcp_3_'))).toHaveLength(1);
  });
});
