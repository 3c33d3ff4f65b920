import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import type { ExtractResponse, LoadResponse } from '@etl/common/contracts';
import { createSilentLogger } from '@etl/common/logging';
import {
  type BlobStore,
  GcsBlobStore,
  getJson,
  LocalBlobStore,
  manifestKey,
  putJson,
} from '@etl/common/storage';
import { BigQueryWarehouse, DuckDbWarehouse, type Row, type Warehouse } from '@etl/common/warehouse';
import { computeRfm, discountEffect } from '@etl/ml';
import { DateDay, Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FakeBigQuery, startFakeBigQuery } from '../../../test/fakes/bigquery';
import { type FakeGcs, startFakeGcs } from '../../../test/fakes/gcs';
import { type AnalyzeDeps, analyze, ML_TABLES } from './analyze';
import { createLoaderApp } from './app';

let dir: string;
let store: LocalBlobStore;
let warehouse: DuckDbWarehouse;
let deps: AnalyzeDeps;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'analyze-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  deps = { store, warehouse, logger: createSilentLogger(), now: () => new Date('2026-02-01T00:00:00Z') };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Line {
  order_id: string;
  order_date: string;
  customer_id: string;
  customer_name: string;
  segment: string;
  region: string;
  category: string;
  sales: number;
  discount: number;
  profit: number;
}

const SPIKE_DAY = '2023-06-15';
const DAY = 86_400_000;

/** Two orders a day from 30 customers, a yearly cycle, a trend, and one planted spike day. */
function makeLines(months: number, customers = 30): Line[] {
  const lines: Line[] = [];
  const start = Date.UTC(2021, 0, 1);
  const end = Date.UTC(2021, months, 1);
  let n = 0;
  for (let t = start; t < end; t += DAY) {
    const iso = new Date(t).toISOString().slice(0, 10);
    const month = new Date(t).getUTCMonth();
    for (let k = 0; k < 2; k++) {
      n++;
      const customer = (n * 7) % customers;
      const discount = [0, 0.1, 0.2, 0.5][n % 4]!;
      const sales =
        iso === SPIKE_DAY && k === 0
          ? 60_000
          : 200 + 80 * Math.sin((2 * Math.PI * month) / 12) + (t - start) / (30 * DAY) + ((n * 37) % 50);
      lines.push({
        order_id: `o${n}`,
        order_date: iso,
        customer_id: `c${customer}`,
        customer_name: `Customer ${customer}`,
        segment: customer % 3 === 0 ? 'Corporate' : 'Consumer',
        region: ['East', 'West', 'Central'][n % 3]!,
        category: ['Furniture', 'Technology'][n % 2]!,
        sales,
        discount,
        profit: sales * (0.3 - discount),
      });
    }
  }
  return lines;
}

/** What extract and load leave behind: the two manifests and the dataset's rows in `sales`. */
async function loadRun(
  runId: string,
  lines: Line[],
  source = 'local/files/sales',
  target: { warehouse: Warehouse; store: BlobStore } = { warehouse, store },
): Promise<void> {
  const column = <K extends keyof Line>(key: K) => lines.map((l) => l[key]);
  const table = new Table({
    order_id: vectorFromArray(column('order_id'), new Utf8()),
    order_date: vectorFromArray(
      lines.map((l) => new Date(`${l.order_date}T00:00:00Z`)),
      new DateDay(),
    ),
    customer_id: vectorFromArray(column('customer_id'), new Utf8()),
    customer_name: vectorFromArray(column('customer_name'), new Utf8()),
    segment: vectorFromArray(column('segment'), new Utf8()),
    region: vectorFromArray(column('region'), new Utf8()),
    category: vectorFromArray(column('category'), new Utf8()),
    sales: vectorFromArray(column('sales'), new Float64()),
    discount: vectorFromArray(column('discount'), new Float64()),
    profit: vectorFromArray(column('profit'), new Float64()),
  });
  await target.warehouse.load({
    tables: [{ table: 'sales', arrow: writeArrowTable(table) }],
    source,
    runId,
    sourceVersion: `v-${runId}`,
    loadedAt: new Date('2026-01-01T00:00:00Z'),
  });
  const extract: ExtractResponse = {
    runId,
    source: 'local:/data/sales.csv',
    dataset: { id: source, version: `v-${runId}`, previousVersion: null, changed: true },
    files: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  const load: LoadResponse = {
    runId,
    warehouse: target.warehouse.kind,
    dataset: { id: source, version: `v-${runId}` },
    tables: [{ name: 'sales', rowsLoaded: lines.length, rowsReplaced: 0 }],
    loadedAt: '2026-01-01T00:00:00.000Z',
    manifestKey: manifestKey(runId, 'load'),
  };
  await putJson(target.store, manifestKey(runId, 'extract'), extract);
  await putJson(target.store, manifestKey(runId, 'load'), load);
}

async function metrics(): Promise<Record<string, number | string | null>> {
  const rows = await warehouse.query('SELECT metric, value, note FROM ml_metrics');
  return Object.fromEntries(
    rows.map((r) => [String(r.metric), (r.value as number | null) ?? (r.note as string)]),
  );
}

describe('analyze stage', () => {
  test('writes forecast, segments, anomalies, drivers and metrics for the run, then the manifest', async () => {
    const lines = makeLines(40);
    await loadRun('r1', lines);
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response.forecast).toMatchObject({ method: 'holt-winters', months: 40, horizon: 12 });
    expect(response.forecast.holdout?.months).toBe(12);
    expect(response.forecast.holdout!.maeRatio).toBeLessThan(1); // a clean yearly cycle: HW beats the baseline
    expect(response.tables.map((t) => t.name)).toEqual([
      'ml_forecast',
      'ml_segments',
      'ml_segment_profiles',
      'ml_anomalies',
      'ml_drivers',
      'ml_metrics',
    ]);
    expect(await getJson(store, manifestKey('r1', 'analyze'))).toEqual(response);
    expect(manifestKey('r1', 'analyze')).toBe('runs/r1/manifest/analyze.json');

    const forecast = await warehouse.query(
      `SELECT strftime(month, '%Y-%m') AS month, actual, forecast, lower, upper, holdout_forecast, _run_id
       FROM ml_forecast ORDER BY month`,
    );
    expect(forecast.length).toBe(52);
    expect(forecast[0]).toMatchObject({ month: '2021-01', forecast: null, _run_id: 'r1' });
    expect(forecast[39]!.holdout_forecast).toEqual(expect.any(Number));
    expect(forecast[40]).toMatchObject({ month: '2024-05', actual: null });
    expect(forecast[40]!.lower as number).toBeLessThan(forecast[40]!.forecast as number);
    const [monthTotal] = await warehouse.query(
      `SELECT sum(sales) AS revenue FROM sales WHERE order_date >= DATE '2021-03-01' AND order_date < DATE '2021-04-01'`,
    );
    expect(forecast[2]!.actual).toBeCloseTo(monthTotal!.revenue as number, 6);

    // RFM from SQL agrees with the reference implementation in @etl/ml.
    const reference = computeRfm(
      lines.map((l) => ({
        customerId: l.customer_id,
        orderId: l.order_id,
        orderDate: Date.parse(`${l.order_date}T00:00:00Z`),
        sales: l.sales,
      })),
    );
    const segments = await warehouse.query(
      'SELECT customer_id, recency_days, frequency, monetary, segment_label FROM ml_segments ORDER BY customer_id',
    );
    expect(segments.length).toBe(30);
    expect(
      segments.map((s) => ({
        customerId: s.customer_id,
        recencyDays: s.recency_days,
        frequency: s.frequency,
        monetary: s.monetary,
      })),
    ).toEqual(reference.map((r) => ({ ...r, monetary: expect.closeTo(r.monetary, 6) })));
    const profiles = await warehouse.query('SELECT sum(customers)::INT AS n FROM ml_segment_profiles');
    expect(profiles).toEqual([{ n: 30 }]);

    const flagged = await warehouse.query(
      `SELECT strftime(date, '%Y-%m-%d') AS day, direction FROM ml_anomalies WHERE is_anomaly ORDER BY day`,
    );
    expect(flagged).toContainEqual({ day: SPIKE_DAY, direction: 'spike' });

    const m = await metrics();
    expect(m.forecast_method).toBe('holt-winters');
    expect(m.holdout_mae_ratio).toBeCloseTo(response.forecast.holdout!.maeRatio, 9);
    const effect = discountEffect(lines.map((l) => ({ groups: {}, ...l })))!;
    expect(m.discount_margin_slope as number).toBeCloseTo(effect.slope, 9);
    expect(m.discount_margin_correlation as number).toBeCloseTo(effect.correlation, 9);

    const drivers = await warehouse.query(
      `SELECT key, lines, revenue_share FROM ml_drivers WHERE dimension = 'discount' ORDER BY key`,
    );
    expect(drivers.map((d) => d.key)).toEqual(['1-20%', 'none', 'over 40%']);
    expect(drivers.reduce((s, d) => s + (d.lines as number), 0)).toBe(lines.length);
  });

  test('calling again with the same runId returns the stored manifest and rewrites nothing', async () => {
    await loadRun('r1', makeLines(30));
    const first = await analyze({ runId: 'r1' }, deps);
    const second = await analyze({ runId: 'r1' }, { ...deps, now: () => new Date('2030-01-01T00:00:00Z') });
    expect(second).toEqual(first);
    const [row] = await warehouse.query('SELECT count(*)::INT AS n, max(_loaded_at) AS at FROM ml_forecast');
    expect(row).toEqual({ n: 42, at: '2026-02-01T00:00:00.000Z' });
    expect(first.forecast.holdout).toBeNull(); // 30 months: Holt-Winters, but too short for a holdout year
  });

  test('short histories fall back to seasonal naive; fewer than 10 customers skip segmentation', async () => {
    await loadRun('r1', makeLines(18, 6));
    const response = await analyze({ runId: 'r1' }, deps);
    expect(response.forecast.method).toBe('seasonal-naive');
    expect(response.segments).toBeNull();
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM ml_segments')).toEqual([{ n: 0 }]);
    expect((await metrics()).customers).toBe(6);
  });

  test('a run whose dataset rows were replaced by a later run is a 409 conflict', async () => {
    await loadRun('r1', makeLines(12));
    await loadRun('r2', makeLines(13));
    await expect(analyze({ runId: 'r1' }, deps)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('loaded by run r1, found run r2'),
    });
  });

  test('re-analyzing a newer run replaces the dataset results instead of appending', async () => {
    await loadRun('r1', makeLines(30));
    await analyze({ runId: 'r1' }, deps);
    await loadRun('r2', makeLines(36));
    await analyze({ runId: 'r2' }, deps);
    expect(await warehouse.query('SELECT count(*)::INT AS n, min(_run_id) AS run FROM ml_forecast')).toEqual([
      { n: 48, run: 'r2' },
    ]);
  });
});

describe('POST /v1/analyze', () => {
  test('answers 200 with the analyze response', async () => {
    await loadRun('r1', makeLines(14));
    const res = await request(createLoaderApp(deps)).post('/v1/analyze').send({ runId: 'r1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: 'r1', forecast: { method: 'seasonal-naive', months: 14 } });
  });

  test('a run that was never loaded is 404 naming the manifest', async () => {
    const res = await request(createLoaderApp(deps)).post('/v1/analyze').send({ runId: 'nope' });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('runs/nope/manifest/extract.json');
  });

  test('unknown fields are 400', async () => {
    const res = await request(createLoaderApp(deps)).post('/v1/analyze').send({ runId: 'r1', x: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
  });

  test('is listed in /openapi.json', async () => {
    const openapi = (await request(createLoaderApp(deps)).get('/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/load', '/v1/analyze']));
  });
});

/**
 * The same stage on BigQuery (BigQueryWarehouse over the fake GCS and fake BigQuery, which run BigQuery SQL
 * and refuse DuckDB's): the same data must give the same ml_* tables as on DuckDB.
 */
describe('analyze stage on BigQuery', () => {
  let gcs: FakeGcs;
  let bq: FakeBigQuery;
  let bigquery: BigQueryWarehouse;
  let gcsStore: GcsBlobStore;

  beforeAll(async () => {
    gcs = await startFakeGcs({ buckets: ['etl'] });
    bq = await startFakeBigQuery({ gcs, projectId: 'test', datasets: ['sales'], pollsUntilDone: 0 });
    gcsStore = new GcsBlobStore({ bucket: 'etl', projectId: 'test', apiEndpoint: gcs.url });
    bigquery = new BigQueryWarehouse({
      projectId: 'test',
      dataset: 'sales',
      apiEndpoint: bq.url,
      store: gcsStore,
      poll: { initialDelayMs: 2, maxDelayMs: 20 },
    });
  });
  afterAll(async () => {
    await bq?.close();
    await gcs?.close();
  });

  /** Every ml_* table in a stable order, dates as text (the engines return DATE cells differently). */
  const ML_QUERIES: Record<(typeof ML_TABLES)[number], string> = {
    ml_forecast: `SELECT CAST(month AS STRING) AS month, actual, fitted, forecast, lower, upper, holdout_forecast,
                         holdout_lower, holdout_upper, holdout_naive, method FROM ml_forecast ORDER BY 1`,
    ml_segments: `SELECT customer_id, customer_name, recency_days, frequency, monetary, segment, segment_label
                  FROM ml_segments ORDER BY customer_id`,
    ml_segment_profiles: `SELECT segment, segment_label, customers, customer_share, mean_recency_days,
                                 mean_frequency, mean_monetary, revenue_share FROM ml_segment_profiles ORDER BY segment`,
    ml_anomalies: `SELECT CAST(date AS STRING) AS date, revenue, baseline, scale, score, is_anomaly, direction
                   FROM ml_anomalies ORDER BY 1`,
    ml_drivers: `SELECT dimension, key, lines, revenue, revenue_share, profit, profit_share, margin
                 FROM ml_drivers ORDER BY dimension, key`,
    ml_metrics: 'SELECT metric, value, note FROM ml_metrics ORDER BY metric',
  };

  /** Numbers equal to 9 significant digits: sums may add up in another order. */
  const approximately = (rows: Row[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k,
          typeof v === 'number' && !Number.isInteger(v)
            ? expect.closeTo(v, 9 - Math.ceil(Math.log10(Math.abs(v) + 1)))
            : v,
        ]),
      ),
    );

  test('writes the same ml_* tables as on DuckDB, with every query job capped', async () => {
    const lines = makeLines(40);
    await loadRun('r1', lines);
    await loadRun('r1', lines, 'local/files/sales', { warehouse: bigquery, store: gcsStore });
    const onDuckDb = await analyze({ runId: 'r1' }, deps);
    const onBigQuery = await analyze({ runId: 'r1' }, { ...deps, warehouse: bigquery, store: gcsStore });

    expect(onBigQuery).toEqual({ ...onDuckDb, forecast: expect.anything(), segments: expect.anything() });
    expect(onBigQuery.forecast).toEqual({
      ...onDuckDb.forecast,
      holdout: approximately([onDuckDb.forecast.holdout as unknown as Row])[0],
    });
    expect(onBigQuery.segments).toEqual({
      ...onDuckDb.segments,
      silhouette: expect.closeTo(onDuckDb.segments!.silhouette, 9),
    });
    expect(await bq.tables('sales')).toEqual([...ML_TABLES, 'sales'].sort());
    for (const [table, sql] of Object.entries(ML_QUERIES)) {
      const expected = await warehouse.query(sql);
      expect(expected.length, table).toBeGreaterThan(0);
      expect(await bigquery.query(sql), table).toEqual(approximately(expected));
    }
    const lineage =
      'SELECT _source, _run_id, max(_loaded_at) AS at_time, count(*) AS n FROM ml_metrics GROUP BY 1, 2';
    expect(await bigquery.query(lineage)).toEqual(await warehouse.query(lineage));

    // The stage's read queries each carried the limits (the load's own jobs are not capped).
    const reads = [...bq.jobs.values()].filter((j) => j.configuration.query?.query.includes('FROM sales'));
    expect(reads.length).toBeGreaterThanOrEqual(6);
    for (const job of reads) {
      expect(job.configuration).toMatchObject({
        query: { maximumBytesBilled: String(10 * 1024 ** 3) },
        jobTimeoutMs: '30000',
      });
    }
  });

  test('a read over the bytes-billed cap fails the stage with 413 naming the cap, and writes nothing', async () => {
    await loadRun('r2', makeLines(14), 'local/files/capped', { warehouse: bigquery, store: gcsStore });
    bq.inject({ kind: 'bytesBilled', bytes: 20 * 1024 ** 3, query: 'customer_id' });
    const failure = analyze({ runId: 'r2' }, { ...deps, warehouse: bigquery, store: gcsStore });
    await expect(failure).rejects.toMatchObject({
      status: 413,
      code: 'QUERY_BYTES_LIMIT',
      message: expect.stringContaining('BIGQUERY_MAX_BYTES_BILLED'),
    });
    expect(await gcsStore.exists(manifestKey('r2', 'analyze'))).toBe(false);
  });
});
