/**
 * The three services' HTTP apps in process, over one blob store and one warehouse (DuckDB on a file, or the
 * BigQuery fake with the GCS fake as its store): a run is the three POSTs the workflow makes, so a test sees
 * the status codes and bodies a workflow would.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { type BlobStore, LocalBlobStore } from '@etl/common/storage';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { DuckDbWarehouse, type Warehouse } from '@etl/common/warehouse';
import { BigQueryWarehouse } from '@etl/common/warehouse/bigquery';
import { createExtractorApp } from '@etl/extractor/app';
import { createLoaderApp } from '@etl/loader/app';
import { createTransformerApp } from '@etl/transformer/app';
import request from 'supertest';
import { type FakeBigQuery, startFakeBigQuery } from '../fakes/bigquery/fake-bigquery-server';
import { type FakeGcs, startFakeGcs } from '../fakes/gcs/fake-gcs-server';

export interface StageAnswer {
  stage: 'extract' | 'transform' | 'load';
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any;
}

export interface RunOutcome {
  /** The last stage called: the load when every stage answered 200. */
  last: StageAnswer;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  transform?: any;
}

export interface Pipeline {
  warehouse: Warehouse;
  store: BlobStore;
  /** A folder for source files. */
  dir: string;
  /** Writes `csv` to `file` (under `dir`) and runs it as `local:<path>`. */
  run(
    file: string,
    csv: string,
    options?: { transform?: Record<string, unknown>; load?: Record<string, unknown> },
  ): Promise<RunOutcome>;
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startPipeline(engine: 'duckdb' | 'bigquery'): Promise<Pipeline> {
  const dir = await mkdtemp(path.join(tmpdir(), 'etl-contracts-'));
  const logger = createSilentLogger();
  let gcs: FakeGcs | undefined;
  let bq: FakeBigQuery | undefined;
  let store: BlobStore;
  let warehouse: Warehouse;
  if (engine === 'duckdb') {
    store = new LocalBlobStore(path.join(dir, 'blobs'));
    warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  } else {
    gcs = await startFakeGcs({ buckets: ['etl'] });
    bq = await startFakeBigQuery({ gcs, projectId: 'test-project', datasets: ['sales'] });
    const gcsStore = new GcsBlobStore({ bucket: 'etl', projectId: 'test-project', apiEndpoint: gcs.url });
    store = gcsStore;
    warehouse = new BigQueryWarehouse({
      projectId: 'test-project',
      dataset: 'sales',
      apiEndpoint: bq.url,
      store: gcsStore,
      poll: { initialDelayMs: 2, maxDelayMs: 10 },
    });
  }
  const apps: Record<StageAnswer['stage'], ReturnType<typeof createLoaderApp>> = {
    extract: createExtractorApp({ store, logger }),
    transform: createTransformerApp({
      store,
      logger,
      tempDir: dir,
      duckdb: { threads: 2, memoryLimit: '1GB' },
    }),
    load: createLoaderApp({ store, warehouse, logger }),
  };
  let runs = 0;
  const post = async (stage: StageAnswer['stage'], body: object): Promise<StageAnswer> => {
    const res = await request(apps[stage]).post(`/v1/${stage}`).send(body);
    return { stage, status: res.status, body: res.body };
  };
  return {
    warehouse,
    store,
    dir,
    async run(file, csv, options = {}) {
      const runId = `run-${++runs}`;
      const source = path.join(dir, file);
      await mkdir(path.dirname(source), { recursive: true });
      await writeFile(source, csv);
      const extracted = await post('extract', { runId, source: `local:${source}` });
      if (extracted.status !== 200) return { last: extracted };
      const transformed = await post('transform', { runId, ...options.transform });
      if (transformed.status !== 200) return { last: transformed };
      const loaded = await post('load', { runId, ...options.load });
      return { last: loaded, transform: transformed.body };
    },
    query: (sql) => warehouse.query(sql),
    async close() {
      await warehouse.close();
      await bq?.close();
      await gcs?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
