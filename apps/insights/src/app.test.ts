import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { getJson, LocalBlobStore, manifestKey, putJson } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createInsightsApp } from './app';

let dir: string;
let store: LocalBlobStore;
let warehouse: DuckDbWarehouse;

const SOURCE = 'local/files/sales';

/**
 * Five order lines of the dataset under test (four orders), plus one line of an older, unrelated dataset
 * that must never be counted. With from=2024-01-11, to=2024-01-20 (10 days) the previous period is
 * 2024-01-01..2024-01-10:
 *   current   o2 200 (-10), o4 400 (+100)            -> revenue 600, 2 orders, AOV 300, margin 0.15
 *   previous  o1 100 (+20) + 300 (+30), o3 50 (+5)   -> revenue 450, 2 orders, AOV 225, margin 55/450
 */
const LINES = [
  ['o1', '2024-01-10', 'c1', 'Ann', 'Consumer', 'West', 'p1', 'Chair', 'Furniture', 100, 20],
  ['o1', '2024-01-10', 'c1', 'Ann', 'Consumer', 'West', 'p2', 'Phone', 'Technology', 300, 30],
  ['o2', '2024-01-20', 'c2', 'Bob', 'Corporate', 'East', 'p1', 'Chair', 'Furniture', 200, -10],
  ['o3', '2024-01-05', 'c3', 'Cy', 'Consumer', 'East', 'p2', 'Phone', 'Technology', 50, 5],
  ['o4', '2024-01-15', 'c1', 'Ann', 'Home Office', 'West', 'p2', 'Phone', 'Technology', 400, 100],
] as const;

async function insertLines(
  lines: ReadonlyArray<readonly (string | number)[]>,
  source: string,
  runId: string,
  loadedAt: string,
): Promise<void> {
  await warehouse.query(
    `CREATE TABLE IF NOT EXISTS sales (order_id VARCHAR, order_date DATE, customer_id VARCHAR, customer_name VARCHAR,
       segment VARCHAR, region VARCHAR, product_id VARCHAR, product_name VARCHAR, category VARCHAR, sales DOUBLE,
       profit DOUBLE, _source VARCHAR, _run_id VARCHAR, _loaded_at TIMESTAMPTZ, _source_version VARCHAR)`,
  );
  await warehouse.query('DELETE FROM sales WHERE _source = $1', [source]);
  const width = 15;
  const rows = lines.map((_, i) => {
    const p = (k: number) => `$${i * width + k}`;
    return `(${p(1)}, ${p(2)}::DATE, ${[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(p).join(', ')}, ${p(14)}::TIMESTAMPTZ, ${p(15)})`;
  });
  await warehouse.query(
    `INSERT INTO sales VALUES ${rows.join(', ')}`,
    lines.flatMap((line) => [...line, source, runId, loadedAt, 'v1']),
  );
}

async function writeManifests(
  runId: string,
  rowsLoaded: number,
  rejects: number,
  changed = true,
): Promise<void> {
  await putJson(store, manifestKey(runId, 'extract'), {
    runId,
    dataset: { id: SOURCE, version: `v-${runId}`, previousVersion: null, changed },
  });
  if (!changed) return;
  await putJson(store, manifestKey(runId, 'transform'), {
    runId,
    tables: [
      {
        name: 'sales',
        rowsIn: rowsLoaded + rejects + 1,
        rowsOut: rowsLoaded,
        rowsQuarantined: rejects,
        rowsDuplicate: 1,
      },
    ],
  });
  await putJson(store, manifestKey(runId, 'load'), {
    runId,
    dataset: { id: SOURCE, version: `v-${runId}` },
    tables: [
      { name: 'sales', rowsLoaded, rowsReplaced: 0 },
      { name: 'sales_rejects', rowsLoaded: rejects, rowsReplaced: 0 },
    ],
    loadedAt: '2026-01-02T00:00:00.000Z',
  });
}

let templateDir: string;

/** The base warehouse is built once and copied for each test: DuckDB file opens dominate the run time. */
beforeAll(async () => {
  templateDir = await mkdtemp(path.join(tmpdir(), 'insights-template-'));
  warehouse = new DuckDbWarehouse({ file: path.join(templateDir, 'warehouse.duckdb') });
  await insertLines(
    [['x1', '2024-01-12', 'c9', 'Zed', 'Consumer', 'West', 'p9', 'Desk', 'Furniture', 99_999, 1]],
    'sample/generated/sales',
    'r0',
    '2026-01-01T00:00:00Z',
  );
  await insertLines(LINES, SOURCE, 'r1', '2026-01-02T00:00:00Z');
});
afterAll(async () => {
  await rm(templateDir, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'insights-'));
  await copyFile(path.join(templateDir, 'warehouse.duckdb'), path.join(dir, 'warehouse.duckdb'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  await writeManifests('r1', 5, 2);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const app = (cacheSeconds = 60) =>
  createInsightsApp({ warehouse, store, logger: createSilentLogger() }, { cacheSeconds, pollSeconds: 7 });

describe('GET /api/kpis', () => {
  test('revenue, orders, AOV and margin with the previous period of equal length (exact)', async () => {
    const res = await request(app()).get('/api/kpis?from=2024-01-11&to=2024-01-20');
    expect(res.status).toBe(200);
    expect(res.body.source).toBe(SOURCE);
    expect(res.body.range).toEqual({ from: '2024-01-11', to: '2024-01-20' });
    expect(res.body.previousRange).toEqual({ from: '2024-01-01', to: '2024-01-10' });
    expect(res.body.revenue).toEqual({
      value: 600,
      previous: 450,
      change: 150 / 450,
      changeKind: 'relative',
    });
    expect(res.body.orders).toEqual({ value: 2, previous: 2, change: 0, changeKind: 'relative' });
    expect(res.body.averageOrderValue).toEqual({
      value: 300,
      previous: 225,
      change: 75 / 225,
      changeKind: 'relative',
    });
    expect(res.body.profitMargin.value).toBeCloseTo(0.15, 12);
    expect(res.body.profitMargin.previous).toBeCloseTo(55 / 450, 12);
    expect(res.body.profitMargin.change).toBeCloseTo(0.15 - 55 / 450, 12);
    expect(res.body.profitMargin.changeKind).toBe('points');
  });

  test('region and category filters apply to both periods', async () => {
    const west = (await request(app()).get('/api/kpis?from=2024-01-11&to=2024-01-20&region=West')).body;
    expect(west.revenue).toEqual({ value: 400, previous: 400, change: 0, changeKind: 'relative' });
    expect(west.profitMargin.value).toBeCloseTo(0.25, 12);
    expect(west.profitMargin.previous).toBeCloseTo(0.125, 12);
    const furniture = (await request(app()).get('/api/kpis?from=2024-01-11&to=2024-01-20&category=Furniture'))
      .body;
    expect(furniture.revenue).toEqual({ value: 200, previous: 100, change: 1, changeKind: 'relative' });
  });

  test('without dates: the last 365 days of data, clipped to the first order date', async () => {
    const body = (await request(app()).get('/api/kpis')).body;
    expect(body.range).toEqual({ from: '2024-01-05', to: '2024-01-20' });
    expect(body.revenue.value).toBe(1050);
    expect(body.orders.value).toBe(4);
    expect(body.revenue.previous).toBe(0);
    expect(body.revenue.change).toBeNull(); // no previous revenue: no relative change
  });

  test('another dataset can be asked for by source; an unknown one is 404', async () => {
    const other = (await request(app()).get('/api/kpis?source=sample/generated/sales')).body;
    expect(other.revenue.value).toBe(99_999);
    const missing = await request(app()).get('/api/kpis?source=nope/x/y');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('nope/x/y');
  });
});

describe('monitoring series', () => {
  test('/api/revenue by day, week and month', async () => {
    const day = (await request(app()).get('/api/revenue?grain=day&from=2024-01-10&to=2024-01-20')).body;
    expect(day.points).toEqual([
      { period: '2024-01-10', revenue: 400, orders: 1, profit: 50 },
      { period: '2024-01-15', revenue: 400, orders: 1, profit: 100 },
      { period: '2024-01-20', revenue: 200, orders: 1, profit: -10 },
    ]);
    const week = (await request(app()).get('/api/revenue?grain=week')).body;
    expect(week.points.map((p: { period: string }) => p.period)).toEqual([
      '2024-01-01',
      '2024-01-08',
      '2024-01-15',
    ]);
    const month = (await request(app()).get('/api/revenue?grain=month')).body;
    expect(month).toMatchObject({
      grain: 'month',
      points: [{ period: '2024-01-01', revenue: 1050, orders: 4 }],
    });
    // Without a grain: the dataset's default, here days (16 days of data, a date every 5 days).
    expect((await request(app()).get('/api/revenue')).body).toMatchObject({ grain: 'day' });
  });

  test('/api/breakdown shares add up to 1', async () => {
    const body = (await request(app()).get('/api/breakdown?by=region')).body;
    expect(body.groups).toEqual([
      { key: 'West', revenue: 800, orders: 2, profit: 150, margin: 150 / 800, share: 800 / 1050 },
      { key: 'East', revenue: 250, orders: 2, profit: -5, margin: -5 / 250, share: 250 / 1050 },
    ]);
    const segments = (await request(app()).get('/api/breakdown?by=segment&region=West')).body.groups;
    // 400 each: equal revenue is ordered by key.
    expect(segments.map((g: { key: string }) => g.key)).toEqual(['Consumer', 'Home Office']);
  });

  test('/api/top products and customers', async () => {
    const products = (await request(app()).get('/api/top?kind=products')).body.items;
    expect(products).toEqual([
      { id: 'p2', name: 'Phone', revenue: 750, orders: 3, profit: 135 },
      { id: 'p1', name: 'Chair', revenue: 300, orders: 2, profit: 10 },
    ]);
    const customers = (await request(app()).get('/api/top?kind=customers&limit=1')).body.items;
    expect(customers).toEqual([{ id: 'c1', name: 'Ann', revenue: 800, orders: 2, profit: 150 }]);
  });

  test('/api/filters lists the dimensions with their values by revenue, the dates, grains and datasets', async () => {
    const body = (await request(app()).get('/api/filters')).body;
    expect(body).toMatchObject({
      source: SOURCE,
      table: 'sales',
      roles: { event_time: 'order_date', amount: 'sales', order_id: 'order_id', profit: 'profit' },
      // Best of each family first (category, region, segment); values by revenue, highest first.
      dimensions: [
        { name: 'category', values: ['Technology', 'Furniture'] },
        { name: 'region', values: ['West', 'East'] },
        { name: 'segment', values: ['Consumer', 'Home Office', 'Corporate'] },
      ],
      minDate: '2024-01-05',
      maxDate: '2024-01-20',
      defaultRange: { from: '2024-01-05', to: '2024-01-20' },
      grains: ['day', 'week'],
      defaultGrain: 'day',
    });
    expect(body.sources.map((s: { id: string }) => s.id)).toEqual([SOURCE, 'sample/generated/sales']);
  });
});

describe('runs and freshness', () => {
  test('/api/freshness reports the last successful run from its manifests and the warehouse', async () => {
    await writeManifests('r2', 0, 0, false); // a later run that found the dataset unchanged
    const body = (await request(app()).get('/api/freshness')).body;
    expect(body.latestRun).toMatchObject({
      runId: 'r1',
      status: 'loaded',
      dataset: SOURCE,
      rowsIn: 8,
      rowsLoaded: 5,
      rowsQuarantined: 2,
      rowsDuplicate: 1,
    });
    expect(body.warehouse).toEqual({
      loadedAt: '2026-01-02T00:00:00.000Z',
      runId: 'r1',
      source: SOURCE,
      rows: 5, // the dataset's rows in its fact table
    });
    expect(body.analysis).toBeNull();
    expect(body.version).toContain('data:r1@');
  });

  test('/api/runs lists every run with its status, newest first', async () => {
    await writeManifests('r2', 0, 0, false);
    await putJson(store, manifestKey('r3', 'extract'), {
      runId: 'r3',
      dataset: { id: SOURCE, changed: true },
    });
    const runs = (await request(app()).get('/api/runs')).body.runs;
    expect(runs.map((r: { runId: string; status: string }) => [r.runId, r.status])).toEqual([
      ['r3', 'incomplete'],
      ['r2', 'skipped'],
      ['r1', 'loaded'],
    ]);
  });

  test("/api/runs shows each run's schema changes (docs/contracts.md)", async () => {
    const change = {
      change: 'widened',
      column: 'quantity',
      from: 'BIGINT',
      to: 'DOUBLE',
      message: 'column quantity widened from BIGINT to DOUBLE',
    };
    const transform = await getJson<{ tables: Array<Record<string, unknown>> }>(
      store,
      manifestKey('r1', 'transform'),
    );
    transform.tables[0]!['schemaChanges'] = [change];
    await putJson(store, manifestKey('r1', 'transform'), transform);
    const [run] = (await request(app()).get('/api/runs')).body.runs;
    expect(run.schemaChanges).toEqual([
      { table: 'sales', change: 'widened', column: 'quantity', message: change.message },
    ]);
  });
});

describe('ML endpoints', () => {
  test('answer available: false before the analyze stage has run', async () => {
    for (const name of ['forecast', 'segments', 'anomalies', 'drivers', 'metrics']) {
      const res = await request(app()).get(`/api/${name}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ available: false, source: SOURCE });
    }
  });
});

describe('caching per run', () => {
  test('results are cached until the latest run changes, then recomputed', async () => {
    const cachedApp = app(3600);
    expect((await request(cachedApp).get('/api/kpis')).body.revenue.value).toBe(1050);
    await insertLines(LINES.slice(0, 2), SOURCE, 'r2', '2026-01-03T00:00:00Z');
    // Within the cache interval, the version is not re-read: still the r1 figures.
    expect((await request(cachedApp).get('/api/kpis')).body.revenue.value).toBe(1050);
    // /api/freshness always re-reads the version (the pages poll it), which drops the stale results.
    expect((await request(cachedApp).get('/api/freshness')).body.version).toContain('data:r2@');
    expect((await request(cachedApp).get('/api/kpis')).body.revenue.value).toBe(400);
  });
});

describe('validation and pages', () => {
  test.each([
    ['/api/revenue?grain=year', 'grain'],
    ['/api/kpis?from=2024-02-30', 'from'],
    ['/api/kpis?from=2024-02-01&to=2024-01-01', 'from must not be after to'],
    ['/api/kpis?regoin=West', 'regoin'],
    ['/api/breakdown', 'by'],
    ['/api/top?kind=products&limit=500', 'limit'],
    ['/api/runs?x=1', 'x'],
  ])('%s is 400 naming %s', async (url, name) => {
    const res = await request(app()).get(url);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
    expect(res.body.error.message).toContain(name);
  });

  test('the pages, their scripts and ECharts are served by the app itself', async () => {
    const page = await request(app()).get('/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain('/vendor/echarts.min.js');
    expect((await request(app()).get('/ml')).text).toContain('ML insights');
    const echarts = await request(app()).get('/vendor/echarts.min.js');
    expect(echarts.status).toBe(200);
    expect(echarts.type).toMatch(/javascript/);
    expect((await request(app()).get('/api/config')).body).toEqual({ pollSeconds: 7, warehouse: 'duckdb' });
  });

  test('a missing warehouse is 503 with a hint, not a crash', async () => {
    const readOnly = new DuckDbWarehouse({
      file: path.join(dir, 'none', 'warehouse.duckdb'),
      settings: { access_mode: 'READ_ONLY' },
    });
    const res = await request(
      createInsightsApp({ warehouse: readOnly, store, logger: createSilentLogger() }),
    ).get('/api/kpis');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'WAREHOUSE_MISSING', retryable: true });
    expect(res.body.error.message).toContain('etl run');
  });
});
