/**
 * The insights app on BigQuery, as on Cloud Run: its JSON API over a BigQueryWarehouse on the fake GCS and
 * fake BigQuery (which run BigQuery SQL and refuse DuckDB's), compared with the same app over DuckDB for the
 * same rows. The ML page's tables are written by the loader's analyze stage on each warehouse. Besides the
 * Superstore-shaped `sales`, the warehouse holds a Walmart-shaped dataset (`walmart_train` among three tables,
 * integer and boolean dimensions, no orders; analyzed too) and an Online Retail one (derived amount, TIMESTAMP
 * invoice dates, customers and products), whose SQL is built from their column roles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { type BlobStore, LocalBlobStore } from '@etl/common/storage';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { DuckDbWarehouse, type Warehouse } from '@etl/common/warehouse';
import { BigQueryWarehouse } from '@etl/common/warehouse/bigquery';
import { createInsightsApp } from '@etl/insights/app';
import { createLoaderApp } from '@etl/loader/app';
import { DateDay, Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type FakeBigQuery, startFakeBigQuery } from '../fakes/bigquery';
import { type FakeGcs, startFakeGcs } from '../fakes/gcs';
import {
  loadDataset,
  RETAIL,
  retailTables,
  WALMART,
  walmartLines,
  walmartTables,
} from '../insights/datasets';

const PROJECT = 'test';
const BUCKET = 'etl-insights';
const DATASET = 'etl';
const SOURCE = 'local/files/sales';
const OTHER = 'sample/generated/sales';
const DAY = 86_400_000;

type Express = ReturnType<typeof createInsightsApp>;

let gcs: FakeGcs;
let bq: FakeBigQuery;
let dir: string;
let bigquery: BigQueryWarehouse;
let gcsStore: GcsBlobStore;
let duckdb: DuckDbWarehouse;
let localStore: LocalBlobStore;
let onBigQuery: Express;
let onDuckDb: Express;

/**
 * 26 months of order lines (2022-01-03 .. 2024-02-29) from 12 customers in 3 regions, 2 categories, 3
 * segments, 4 products; one or two orders a day, with a yearly cycle.
 */
function salesTable(seed: number, from = Date.UTC(2022, 0, 3), to = Date.UTC(2024, 1, 29)): Table {
  const rows: Array<Record<string, string | number | Date>> = [];
  let n = 0;
  for (let t = from; t <= to; t += DAY) {
    const month = new Date(t).getUTCMonth();
    for (let k = 0; k < 1 + (n % 2); k++) {
      n++;
      const customer = (n * 5 + seed) % 12;
      const product = (n * 3) % 4;
      const sales = 100 + 60 * Math.sin((2 * Math.PI * month) / 12) + ((n * 37 + seed) % 90);
      const discount = [0, 0.1, 0.3, 0.5][n % 4]!;
      rows.push({
        order_id: `o${seed}-${Math.ceil(n / 2)}`,
        order_date: new Date(t),
        customer_id: `c${customer}`,
        customer_name: `Customer ${customer}`,
        segment: ['Consumer', 'Corporate', 'Home Office'][customer % 3]!,
        region: ['East', 'West', 'Central'][n % 3]!,
        product_id: `p${product}`,
        product_name: ['Chair', 'Phone', 'Desk', 'Lamp'][product]!,
        category: product % 2 === 0 ? 'Furniture' : 'Technology',
        sales,
        discount,
        profit: sales * (0.25 - discount),
      });
    }
  }
  const column = (name: string) => rows.map((r) => r[name]!);
  const text = (name: string) => vectorFromArray(column(name) as string[], new Utf8());
  const float = (name: string) => vectorFromArray(column(name) as number[], new Float64());
  return new Table({
    order_id: text('order_id'),
    order_date: vectorFromArray(column('order_date') as Date[], new DateDay()),
    customer_id: text('customer_id'),
    customer_name: text('customer_name'),
    segment: text('segment'),
    region: text('region'),
    product_id: text('product_id'),
    product_name: text('product_name'),
    category: text('category'),
    sales: float('sales'),
    discount: float('discount'),
    profit: float('profit'),
  });
}

beforeAll(async () => {
  gcs = await startFakeGcs({ buckets: [BUCKET] });
  bq = await startFakeBigQuery({ gcs, projectId: PROJECT, datasets: [DATASET], pollsUntilDone: 0 });
  gcsStore = new GcsBlobStore({ bucket: BUCKET, projectId: PROJECT, apiEndpoint: gcs.url });
  bigquery = new BigQueryWarehouse({
    projectId: PROJECT,
    dataset: DATASET,
    apiEndpoint: bq.url,
    store: gcsStore,
    poll: { initialDelayMs: 2, maxDelayMs: 20 },
  });
  dir = await mkdtemp(path.join(tmpdir(), 'insights-bigquery-'));
  duckdb = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  localStore = new LocalBlobStore(path.join(dir, 'blobs'));

  for (const target of [
    { warehouse: bigquery as Warehouse, store: gcsStore as BlobStore },
    { warehouse: duckdb, store: localStore },
  ]) {
    await loadDataset(target, {
      runId: 'r0',
      source: OTHER,
      tables: { sales: salesTable(7, Date.UTC(2023, 0, 1), Date.UTC(2023, 2, 31)) },
      loadedAt: '2026-01-01T00:00:00Z',
    });
    await loadDataset(target, {
      runId: 'r1',
      source: SOURCE,
      tables: { sales: salesTable(1) },
      loadedAt: '2026-02-01T00:00:00Z',
    });
    await loadDataset(target, {
      runId: 'rw',
      source: WALMART,
      tables: walmartTables(),
      loadedAt: '2025-12-02T00:00:00Z',
    });
    await loadDataset(target, {
      runId: 'rr',
      source: RETAIL,
      tables: retailTables(),
      loadedAt: '2025-12-01T00:00:00Z',
    });
    // Walmart analyzed before r1, so the latest analysis stays r1's.
    for (const [runId, at] of [
      ['rw', '2026-02-15T00:00:00Z'],
      ['r1', '2026-03-01T00:00:00Z'],
    ] as const) {
      const loader = createLoaderApp({
        ...target,
        logger: createSilentLogger(),
        now: () => new Date(at),
        tableau: undefined,
      });
      const analyzed = await request(loader).post('/v1/analyze').send({ runId });
      expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
    }
  }
  onBigQuery = createInsightsApp({ warehouse: bigquery, store: gcsStore, logger: createSilentLogger() });
  onDuckDb = createInsightsApp({ warehouse: duckdb, store: localStore, logger: createSilentLogger() });
});
afterAll(async () => {
  await bq?.close();
  await gcs?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Non-integer numbers to 9 significant digits, deeply: the engines may add up in another order. */
function approximately(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return expect.closeTo(value, 9 - Math.ceil(Math.log10(Math.abs(value) + 1)));
  }
  if (Array.isArray(value)) return value.map(approximately);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, approximately(v)]));
  }
  return value;
}

async function get(app: Express, url: string): Promise<Record<string, unknown>> {
  const res = await request(app).get(url);
  expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body as Record<string, unknown>;
}

/** The same URL on both apps: the BigQuery answer, after checking it equals DuckDB's. */
async function both(url: string): Promise<Record<string, unknown>> {
  const [fromBigQuery, fromDuckDb] = await Promise.all([get(onBigQuery, url), get(onDuckDb, url)]);
  expect(fromBigQuery, url).toEqual(approximately(fromDuckDb));
  return fromBigQuery;
}

interface Kpi {
  value: number;
}

describe('insights app on BigQuery (fake GCS + fake BigQuery)', () => {
  test('KPIs equal the SQL totals of the range and agree with DuckDB', async () => {
    const body = (await both('/api/kpis?from=2023-03-01&to=2023-08-31')) as Record<string, Kpi>;
    const [totals] = await bigquery.query(
      `SELECT sum(sales) AS revenue, count(DISTINCT order_id) AS orders, sum(profit) AS profit FROM sales
       WHERE _source = $1 AND order_date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)`,
      [SOURCE, '2023-03-01', '2023-08-31'],
    );
    expect(body.revenue!.value).toBeCloseTo(totals!.revenue as number, 6);
    expect(body.orders!.value).toBe(totals!.orders);
    expect(body.profitMargin!.value).toBeCloseTo(
      (totals!.profit as number) / (totals!.revenue as number),
      12,
    );
    expect(body.previousRange).toEqual({ from: '2022-08-29', to: '2023-02-28' }); // 184 days before
  });

  test('region and category filters narrow every figure, on BigQuery as on DuckDB', async () => {
    const all = (await both('/api/kpis')) as Record<string, Kpi>;
    const west = (await both('/api/kpis?region=West&category=Furniture')) as Record<string, Kpi>;
    const range = all.range as unknown as { from: string; to: string };
    expect(range).toEqual({ from: '2023-03-02', to: '2024-02-29' }); // the last 365 days of data
    const [totals] = await bigquery.query(
      `SELECT sum(sales) AS revenue FROM sales WHERE _source = $1 AND region = $2 AND category = $3
       AND order_date >= CAST($4 AS DATE) AND order_date <= CAST($5 AS DATE)`,
      [SOURCE, 'West', 'Furniture', range.from, range.to],
    );
    expect(west.revenue!.value).toBeCloseTo(totals!.revenue as number, 6);
    expect(west.revenue!.value).toBeLessThan(all.revenue!.value / 3);
    await both('/api/breakdown?by=segment&region=West');
    await both('/api/top?kind=customers&limit=5&category=Technology');
    await both('/api/filters');
    // Another dataset by name; its rows are never mixed into the default one.
    const other = (await both(`/api/kpis?source=${OTHER}`)) as Record<string, Kpi>;
    expect(other.source).toBe(OTHER);
  });

  test('revenue by day, ISO week (Monday) and month agrees with DuckDB and adds up to the KPI', async () => {
    const kpis = (await both('/api/kpis')) as Record<string, Kpi>;
    for (const grain of ['day', 'week', 'month']) {
      const body = await both(`/api/revenue?grain=${grain}`);
      const points = body.points as Array<{ period: string; revenue: number }>;
      expect(points.length).toBeGreaterThan(grain === 'month' ? 11 : 50);
      const total = points.reduce((sum, p) => sum + p.revenue, 0);
      // Day and week points lie inside the range; the first month and week may start before it.
      if (grain === 'day') expect(total).toBeCloseTo(kpis.revenue!.value, 6);
      for (const { period } of points) {
        const date = new Date(`${period}T00:00:00Z`);
        if (grain === 'week') expect(date.getUTCDay(), period).toBe(1);
        if (grain === 'month') expect(date.getUTCDate(), period).toBe(1);
      }
    }
  });

  test("the ML page's data is served from the analyze stage's BigQuery tables", async () => {
    const forecast = await both('/api/forecast');
    expect(forecast).toMatchObject({ available: true, source: SOURCE });
    const points = forecast.points as Array<{ month: string; forecast: number | null }>;
    expect(points).toHaveLength(26 + 12);
    expect(points[0]!.month).toBe('2022-01');
    expect(points.at(-1)).toMatchObject({ month: '2025-02', forecast: expect.any(Number) });
    expect(await both('/api/segments')).toMatchObject({ available: true });
    const anomalies = await both('/api/anomalies');
    expect((anomalies.points as unknown[]).length).toBe(788); // every day 2022-01-03 .. 2024-02-29
    expect(await both('/api/drivers')).toMatchObject({ available: true });
    const metrics = await both('/api/metrics');
    expect(metrics).toMatchObject({ available: true, runId: 'r1', analyzedAt: '2026-03-01T00:00:00.000Z' });
    const freshness = await get(onBigQuery, '/api/freshness');
    expect(freshness.warehouse).toEqual((await get(onDuckDb, '/api/freshness')).warehouse);
    expect(freshness.analysis).toEqual({ runId: 'r1', analyzedAt: '2026-03-01T00:00:00.000Z' });
  });

  test('a Walmart-shaped dataset: the same datasets, filters, KPIs, series, breakdowns and ML results', async () => {
    const datasets = await both('/api/datasets');
    expect((datasets.datasets as Array<{ id: string }>).map((d) => d.id)).toEqual([
      SOURCE,
      OTHER,
      WALMART,
      RETAIL,
    ]);
    const source = `source=${encodeURIComponent(WALMART)}`;
    const filters = await both(`/api/filters?${source}`);
    expect(filters).toMatchObject({
      table: 'walmart_train',
      roles: { event_time: 'date', amount: 'weekly_sales', order_id: null },
      grains: ['week', 'month'],
      defaultGrain: 'month',
    });
    expect((filters.dimensions as Array<{ name: string }>).map((d) => d.name)).toEqual([
      'dept',
      'store',
      'is_holiday',
      'type', // lent by walmart_stores
    ]);
    const kpis = (await both(`/api/kpis?${source}`)) as Record<string, Kpi>;
    expect(kpis.orders!.value).toBe(walmartLines().length); // rows: there is no order id
    expect(kpis).not.toHaveProperty('profitMargin');
    await both(`/api/kpis?${source}&store=2&is_holiday=false&from=2011-03-01&to=2011-09-30`);
    for (const grain of ['week', 'month']) await both(`/api/revenue?${source}&grain=${grain}&dept=5`);
    for (const by of ['dept', 'store', 'is_holiday']) await both(`/api/breakdown?${source}&by=${by}`);
    expect(await both(`/api/top?${source}&kind=customers`)).toMatchObject({ available: false });
    expect(await both(`/api/metrics?${source}`)).toMatchObject({
      metrics: {
        join_walmart_stores: { value: 1, note: 'walmart_train.store -> walmart_stores: lends type' },
        join_walmart_features: { value: 0 },
      },
    });
    const forecast = await both(`/api/forecast?${source}`);
    expect(forecast).toMatchObject({ available: true, source: WALMART, grain: 'week' });
    expect((forecast.points as Array<{ month: string }>)[0]!.month).toBe('2011-01-03'); // the Monday of its week
    await both(`/api/anomalies?${source}`);
    expect(await both(`/api/drivers?${source}`)).toMatchObject({ available: true });
    expect(await both(`/api/segments?${source}`)).toMatchObject({ available: true, profiles: [] });
    const bad = await request(onBigQuery).get(`/api/breakdown?${source}&by=region`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('region');
  });

  test("Walmart's fact view: train joined to stores on store; breakdowns and filters by the store type", async () => {
    const source = `source=${encodeURIComponent(WALMART)}`;
    const datasets = await both('/api/datasets');
    const walmart = (datasets.datasets as Array<Record<string, unknown>>).find((d) => d.id === WALMART);
    expect(walmart).toMatchObject({
      relations: [{ join: 'walmart_train.store -> walmart_stores', key: 'store', dimensions: ['type'] }],
      notJoined: [{ table: 'walmart_features' }],
    });
    const retail = (datasets.datasets as Array<Record<string, unknown>>).find((d) => d.id === RETAIL);
    expect(retail).toMatchObject({
      relations: [],
      notJoined: [
        { table: 'online_retail_countries', reason: expect.stringContaining('country is not unique') },
      ],
    });
    const range = '&from=2011-03-01&to=2011-09-30';
    const [train] = await bigquery.query(
      `SELECT sum(weekly_sales) AS revenue, sum(IF(store = 2, weekly_sales, 0)) AS store_2 FROM walmart_train
       WHERE _source = $1 AND date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)`,
      [WALMART, '2011-03-01', '2011-09-30'],
    );
    const byType = await both(`/api/breakdown?${source}&by=type${range}`);
    const groups = byType.groups as Array<{ key: string; revenue: number }>;
    expect(groups.map((g) => g.key)).toEqual(['C', 'B', 'A']);
    expect(groups.reduce((sum, g) => sum + g.revenue, 0)).toBeCloseTo(train!.revenue as number, 6);
    const kpis = (await both(`/api/kpis?${source}${range}`)) as Record<string, Kpi>;
    expect(kpis.revenue!.value).toBeCloseTo(train!.revenue as number, 6);
    const typeB = (await both(`/api/kpis?${source}&type=B${range}`)) as Record<string, Kpi>;
    expect(typeB.revenue!.value).toBeCloseTo(train!.store_2 as number, 6);
    await both(`/api/revenue?${source}&type=A&grain=week`);
    await both(`/api/breakdown?${source}&by=store&type=C`);
    expect(await both(`/api/drivers?${source}`)).toMatchObject({
      groups: expect.arrayContaining([expect.objectContaining({ dimension: 'type', key: 'B' })]),
    });
  });

  test('an Online Retail-shaped dataset: derived amount, TIMESTAMP dates, top customers and products', async () => {
    const source = `source=${encodeURIComponent(RETAIL)}`;
    expect(await both(`/api/filters?${source}`)).toMatchObject({
      roles: { amount: 'quantity * unit_price', event_time: 'invoice_date' },
      dimensions: [{ name: 'country' }],
    });
    const kpis = (await both(`/api/kpis?${source}&from=2011-02-01&to=2011-02-28`)) as Record<string, Kpi>;
    expect(kpis.units!.value).toBeGreaterThan(0);
    await both(`/api/revenue?${source}&grain=day&country=France`);
    await both(`/api/breakdown?${source}&by=country`);
    expect(await both(`/api/top?${source}&kind=customers&limit=5`)).toMatchObject({ available: true });
    expect(await both(`/api/top?${source}&kind=products`)).toMatchObject({
      available: true,
      column: 'stock_code',
    });
    expect(await both(`/api/forecast?${source}`)).toEqual({ available: false, source: RETAIL });
  });

  test('every query of the app carries the bytes-billed cap and the timeout', async () => {
    await both('/api/revenue?grain=week&region=Central');
    // Reads (the app's and the analyze stage's), not the loader's replace transactions.
    const reads = [...bq.jobs.values()].filter((j) => {
      const sql = j.configuration.query?.query ?? '';
      return /\bFROM (`?\w+`?|INFORMATION_SCHEMA)/.test(sql) && !/^\s*BEGIN TRANSACTION/.test(sql);
    });
    expect(reads.length).toBeGreaterThan(5);
    for (const job of reads) {
      expect(job.configuration).toMatchObject({
        query: { maximumBytesBilled: String(10 * 1024 ** 3) },
        jobTimeoutMs: '30000',
      });
    }
  });

  test('a query over the bytes-billed cap or past the timeout is a clear JSON error, and is not cached', async () => {
    const limited = new BigQueryWarehouse({
      projectId: PROJECT,
      dataset: DATASET,
      apiEndpoint: bq.url,
      store: gcsStore,
      queryLimits: { maxBytesBilled: 100 * 1024 * 1024, timeoutMs: 1000 },
    });
    const app = createInsightsApp({ warehouse: limited, store: gcsStore, logger: createSilentLogger() });

    bq.inject({ kind: 'bytesBilled', bytes: 5 * 1024 ** 3, query: 'prev_revenue' });
    const tooBig = await request(app).get('/api/kpis?region=East');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatchObject({ code: 'QUERY_BYTES_LIMIT', retryable: false });
    expect(tooBig.body.error.message).toContain(
      'more than the cap of 104857600 bytes (BIGQUERY_MAX_BYTES_BILLED)',
    );
    expect(JSON.stringify(tooBig.body)).not.toMatch(/\n\s+at /); // no stack

    bq.inject({ kind: 'delay', ms: 5000, query: 'prev_revenue' });
    const slow = await request(app).get('/api/kpis?region=East');
    expect(slow.status).toBe(504);
    expect(slow.body.error).toMatchObject({ code: 'QUERY_TIMEOUT', retryable: true });
    expect(slow.body.error.message).toContain('ran longer than 1000 ms (BIGQUERY_QUERY_TIMEOUT_MS)');

    // Failures are not cached: the same request answers once the warehouse does.
    expect((await request(app).get('/api/kpis?region=East')).status).toBe(200);
  });
});
