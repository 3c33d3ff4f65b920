/**
 * The insights API on datasets that are not Superstore-shaped, several in one warehouse: Supermarket sales
 * (`total`, invoices, no customers), Walmart (weekly sales per store and department in `walmart_train`, next
 * to a features and a stores table; no orders), Online Retail (amount = quantity * unit_price, TIMESTAMP
 * invoice dates, customers and products) and a dataset with no dated table. Every expected figure is computed
 * here from the generated rows, or by SQL over the fact table alone, not through the app.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { createInsightsApp } from '@etl/insights/app';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  loadDataset,
  productsTables,
  RETAIL,
  type RetailLine,
  retailLines,
  retailTables,
  SUPERMARKET,
  supermarketLines,
  supermarketTables,
  WALMART,
  WALMART_STORE_TYPES,
  type WalmartLine,
  walmartLines,
  walmartTables,
} from './datasets';

const PRODUCTS = 'local/files/products';

let dir: string;
let warehouse: DuckDbWarehouse;
let app: ReturnType<typeof createInsightsApp>;
const supermarket = supermarketLines();
const walmart = walmartLines();
const retail = retailLines();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'insights-datasets-'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  const store = new LocalBlobStore(path.join(dir, 'blobs'));
  const target = { warehouse, store };
  await loadDataset(target, {
    runId: 'r1',
    source: RETAIL,
    tables: retailTables(retail),
    loadedAt: '2026-01-01T00:00:00Z',
  });
  await loadDataset(target, {
    runId: 'r2',
    source: SUPERMARKET,
    tables: supermarketTables(supermarket),
    loadedAt: '2026-01-02T00:00:00Z',
  });
  await loadDataset(target, {
    runId: 'r3',
    source: WALMART,
    tables: walmartTables(walmart),
    loadedAt: '2026-01-03T00:00:00Z',
  });
  await loadDataset(target, {
    runId: 'r4',
    source: PRODUCTS,
    tables: productsTables(),
    loadedAt: '2026-01-04T00:00:00Z',
  });
  app = createInsightsApp({ warehouse, store, logger: createSilentLogger() }, { cacheSeconds: 60 });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the replies are plain JSON the assertions check field by field
async function get(url: string): Promise<Record<string, any>> {
  const res = await request(app).get(url);
  expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

const q = (source: string, params: Record<string, string> = {}) =>
  `?${new URLSearchParams({ source, ...params }).toString()}`;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const inRange = (date: string, from: string, to: string) => date >= from && date <= to;
const retailDay = (l: RetailLine) => l.invoice_date.toISOString().slice(0, 10);

/** Sum of `value` per key, highest first (ties by key), as [key, total] pairs. */
function totalsBy<T>(rows: T[], key: (r: T) => string, value: (r: T) => number): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(key(r), (totals.get(key(r)) ?? 0) + value(r));
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

describe('datasets', () => {
  test('/api/datasets lists every dataset newest first, each with its fact table, roles and dimensions', async () => {
    const body = await get('/api/datasets');
    expect(body.datasets.map((d: { id: string }) => d.id)).toEqual([PRODUCTS, WALMART, SUPERMARKET, RETAIL]);
    // The newest dataset has no dated table: the default is the newest one that can be shown.
    expect(body.default).toBe(WALMART);
    const [products, walmartSet, supermarketSet, retailSet] = body.datasets;
    expect(products).toMatchObject({ table: null, rows: 2, tables: [{ name: 'products', rows: 2 }] });
    expect(products.reason).toMatch(
      /^no table of dataset local\/files\/products has both an event time and an amount: products has no event time/,
    );
    expect(walmartSet).toMatchObject({
      table: 'walmart_train',
      rows: walmart.length,
      loadedAt: '2026-01-03T00:00:00.000Z',
      runId: 'r3',
      tables: [
        { name: 'walmart_features', rows: 150 },
        { name: 'walmart_stores', rows: 3 },
        { name: 'walmart_train', rows: walmart.length },
      ],
      relations: [
        {
          join: 'walmart_train.store -> walmart_stores',
          table: 'walmart_stores',
          key: 'store',
          dimensions: ['type'],
        },
      ],
      notJoined: [
        {
          table: 'walmart_features',
          reason: 'walmart_features is dated (event time date), so it is not a dimension table',
        },
      ],
      roles: {
        event_time: 'date',
        amount: 'weekly_sales',
        order_id: null,
        customer_id: null,
        quantity: null,
        profit: null,
      },
      dimensions: ['dept', 'store', 'is_holiday', 'type'],
      analyzed: false,
      reason: null,
    });
    expect(supermarketSet).toMatchObject({
      table: 'supermarket_sales',
      roles: {
        event_time: 'date',
        amount: 'total',
        order_id: 'invoice_id',
        quantity: 'quantity',
        customer_id: null,
        profit: null,
      },
      dimensions: ['product_line', 'branch', 'customer_type', 'payment', 'city'],
    });
    expect(retailSet).toMatchObject({
      table: 'online_retail',
      roles: {
        event_time: 'invoice_date',
        amount: 'quantity * unit_price',
        order_id: 'invoice_no',
        customer_id: 'customer_id',
        product_id: 'stock_code',
        product_name: 'description',
      },
      dimensions: ['country'],
      relations: [],
      notJoined: [
        {
          table: 'online_retail_countries',
          reason:
            'online_retail_countries has no key certain to match one row per row of online_retail: country is not unique (4 rows, 3 distinct values)',
        },
      ],
    });
  });

  test('every endpoint answers 200 for every dataset', async () => {
    for (const source of [WALMART, SUPERMARKET, RETAIL, PRODUCTS]) {
      for (const url of [
        '/api/filters',
        '/api/kpis',
        '/api/revenue',
        '/api/revenue?grain=week',
        '/api/top?kind=products',
        '/api/top?kind=customers',
        '/api/forecast',
        '/api/segments',
        '/api/anomalies',
        '/api/drivers',
        '/api/metrics',
      ]) {
        const [pathname, extra] = url.split('?');
        await get(`${pathname}${q(source, Object.fromEntries(new URLSearchParams(extra ?? '')))}`);
      }
    }
  });

  test('a dataset without a fact table answers 200 with the reason, and empty figures', async () => {
    const kpis = await get(`/api/kpis${q(PRODUCTS)}`);
    expect(kpis).toMatchObject({ source: PRODUCTS, table: null, revenue: { value: null } });
    expect(kpis.reason).toContain('products has no event time');
    expect(await get(`/api/filters${q(PRODUCTS)}`)).toMatchObject({
      source: PRODUCTS,
      dimensions: [],
      grains: [],
    });
    expect(await get(`/api/forecast${q(PRODUCTS)}`)).toEqual({ available: false, source: PRODUCTS });
  });
});

describe('KPIs from roles', () => {
  test('Supermarket: revenue = total, orders = distinct invoices, units = quantity; no margin', async () => {
    const [from, to] = ['2019-02-01', '2019-02-28'];
    const body = await get(`/api/kpis${q(SUPERMARKET, { from, to })}`);
    const current = supermarket.filter((l) => inRange(l.date, from, to));
    const previous = supermarket.filter((l) => inRange(l.date, '2019-01-04', '2019-01-31')); // 28 days before
    const revenue = sum(current.map((l) => l.total));
    const orders = new Set(current.map((l) => l.invoice_id)).size;
    expect(body.previousRange).toEqual({ from: '2019-01-04', to: '2019-01-31' });
    expect(body.revenue.value).toBeCloseTo(revenue, 6);
    expect(body.revenue.previous).toBeCloseTo(sum(previous.map((l) => l.total)), 6);
    expect(body.orders).toMatchObject({ value: orders, previous: previous.length });
    expect(body.averageOrderValue.value).toBeCloseTo(revenue / orders, 9);
    expect(body.units).toMatchObject({ value: sum(current.map((l) => l.quantity)) });
    expect(body).not.toHaveProperty('profitMargin');
    expect(body.columns).toEqual({ revenue: 'total', orders: 'invoice_id', units: 'quantity', profit: null });
  });

  test('Walmart: revenue = weekly_sales, orders are rows (no order id); no units, no margin', async () => {
    const body = await get(`/api/kpis${q(WALMART)}`); // the default range: all 50 weeks (under 365 days)
    expect(body.range).toEqual({ from: '2011-01-07', to: '2011-12-16' });
    expect(body.revenue.value).toBeCloseTo(sum(walmart.map((l) => l.weekly_sales)), 6);
    expect(body.orders.value).toBe(walmart.length);
    expect(body).not.toHaveProperty('units');
    expect(body).not.toHaveProperty('profitMargin');
    expect(body.columns).toEqual({ revenue: 'weekly_sales', orders: null, units: null, profit: null });
  });

  test('Online Retail: the derived amount nets the cancellation; TIMESTAMP dates compare by day', async () => {
    const [from, to] = ['2011-01-04', '2011-01-31'];
    const body = await get(`/api/kpis${q(RETAIL, { from, to })}`);
    const current = retail.filter((l) => inRange(retailDay(l), from, to));
    expect(current.some((l) => l.quantity < 0)).toBe(true);
    expect(body.revenue.value).toBeCloseTo(sum(current.map((l) => l.quantity * l.unit_price)), 6);
    expect(body.orders.value).toBe(new Set(current.map((l) => l.invoice_no)).size);
    expect(body.units.value).toBe(sum(current.map((l) => l.quantity)));
    expect(body.columns.revenue).toBe('quantity * unit_price');
  });

  test('a dimension filter narrows the figures: integer and boolean dimensions match their text', async () => {
    const store2 = await get(`/api/kpis${q(WALMART, { store: '2' })}`);
    expect(store2.revenue.value).toBeCloseTo(
      sum(walmart.filter((l) => l.store === 2).map((l) => l.weekly_sales)),
      6,
    );
    const holidays = await get(`/api/kpis${q(WALMART, { is_holiday: 'true', dept: '9' })}`);
    const expected = walmart.filter((l) => l.is_holiday && l.dept === 9);
    expect(holidays.orders.value).toBe(expected.length);
    expect(holidays.revenue.value).toBeCloseTo(sum(expected.map((l) => l.weekly_sales)), 6);
    // A value is a bound parameter, never SQL.
    const injected = await get(`/api/kpis${q(SUPERMARKET, { payment: "Cash' OR '1'='1" })}`);
    expect(injected.revenue.value).toBe(0);
  });
});

describe('series, dimensions and top lists', () => {
  test("/api/filters: the dataset's dimensions (up to 4), values by revenue, and the grains its dates support", async () => {
    const body = await get(`/api/filters${q(SUPERMARKET)}`);
    expect(body.dimensions.map((d: { name: string }) => d.name)).toEqual([
      'product_line',
      'branch',
      'customer_type',
      'payment',
    ]);
    expect(body.dimensions[0].values).toEqual(
      totalsBy(
        supermarket,
        (l) => l.product_line,
        (l) => l.total,
      ).map(([k]) => k),
    );
    expect(body).toMatchObject({
      table: 'supermarket_sales',
      minDate: '2019-01-01',
      maxDate: '2019-03-30',
      grains: ['day', 'week', 'month'],
      defaultGrain: 'week', // 3 months are too few points; 13 weeks are enough
    });
    // Weekly dates: no day grain; 12 months: monthly by default.
    const weekly = await get(`/api/filters${q(WALMART)}`);
    expect(weekly).toMatchObject({ grains: ['week', 'month'], defaultGrain: 'month' });
    expect(weekly.dimensions).toEqual([
      { name: 'dept', values: ['9', '5', '1'] },
      { name: 'store', values: ['3', '2', '1'] },
      { name: 'is_holiday', values: ['false', 'true'] },
      { name: 'type', values: ['C', 'B', 'A'] }, // from walmart_stores, joined on store
    ]);
  });

  test('/api/revenue: weekly points start on Mondays and add up to the KPI', async () => {
    const kpis = await get(`/api/kpis${q(WALMART)}`);
    const body = await get(`/api/revenue${q(WALMART)}`);
    expect(body.grain).toBe('month');
    expect(body.points).toHaveLength(12);
    const weeks = await get(`/api/revenue${q(WALMART, { grain: 'week' })}`);
    expect(weeks.points).toHaveLength(50);
    for (const p of weeks.points) expect(new Date(`${p.period}T00:00:00Z`).getUTCDay()).toBe(1);
    expect(weeks.points[0]).toEqual({ period: '2011-01-03', revenue: expect.any(Number), orders: 9 });
    expect(sum(weeks.points.map((p: { revenue: number }) => p.revenue))).toBeCloseTo(kpis.revenue.value, 6);
    const units = await get(`/api/revenue${q(SUPERMARKET, { grain: 'month' })}`);
    expect(units.points.map((p: { units: number }) => p.units)).toEqual(
      ['2019-01', '2019-02', '2019-03'].map((m) =>
        sum(supermarket.filter((l) => l.date.startsWith(m)).map((l) => l.quantity)),
      ),
    );
  });

  test('/api/breakdown by a dimension: revenue per value, highest first; no profit without a profit column', async () => {
    const body = await get(`/api/breakdown${q(SUPERMARKET, { by: 'product_line' })}`);
    const expected = totalsBy(
      supermarket,
      (l) => l.product_line,
      (l) => l.total,
    );
    expect(body.groups.map((g: { key: string }) => g.key)).toEqual(expected.map(([k]) => k));
    for (const [i, g] of (body.groups as Array<{ revenue: number }>).entries()) {
      expect(g.revenue).toBeCloseTo(expected[i]![1], 6);
    }
    expect(sum(body.groups.map((g: { share: number }) => g.share))).toBeCloseTo(1, 12);
    expect(Object.keys(body.groups[0]).sort()).toEqual(['key', 'orders', 'revenue', 'share']);
    const stores = await get(`/api/breakdown${q(WALMART, { by: 'store', dept: '1' })}`);
    expect(stores.groups).toHaveLength(3);
    expect(stores.groups.map((g: { orders: number }) => g.orders)).toEqual([50, 50, 50]);
  });

  test('/api/top: products and customers when those roles exist, available: false otherwise', async () => {
    const customers = await get(
      `/api/top${q(RETAIL, { kind: 'customers', limit: '3', from: '2011-01-03', to: '2011-03-31' })}`,
    );
    const expected = totalsBy(
      retail.filter((l) => l.customer_id !== null),
      (l) => String(l.customer_id),
      (l) => l.quantity * l.unit_price,
    ).slice(0, 3);
    expect(customers.items.map((i: { id: string }) => i.id)).toEqual(expected.map(([k]) => k));
    for (const [i, c] of (customers.items as Array<{ revenue: number }>).entries()) {
      expect(c.revenue).toBeCloseTo(expected[i]![1], 6);
    }
    const products = await get(`/api/top${q(RETAIL, { kind: 'products', limit: '1' })}`);
    expect(products).toMatchObject({ available: true, column: 'stock_code' });
    expect(products.items[0]).toMatchObject({ name: expect.stringMatching(/[A-Z]/) });
    expect(await get(`/api/top${q(WALMART, { kind: 'customers' })}`)).toMatchObject({
      available: false,
      reason: expect.stringContaining('no customer column'),
      items: [],
    });
  });
});

describe('the fact view: dimensions of related tables', () => {
  const typeOf = (l: WalmartLine) => WALMART_STORE_TYPES[l.store]!;
  const [from, to] = ['2011-03-01', '2011-09-30'];
  const inWeeks = walmart.filter((l) => inRange(l.date, from, to));

  /** Revenue of the range by SQL over walmart_train alone: what no join may change. */
  async function trainRevenue(where = '', params: unknown[] = []): Promise<number> {
    const [row] = await warehouse.query(
      `SELECT sum(weekly_sales) AS revenue FROM walmart_train
       WHERE _source = $1 AND date BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE) ${where}`,
      [WALMART, from, to, ...params],
    );
    return Number(row!.revenue);
  }

  test("a breakdown by the stores table's type: revenue per type, adding up to the fact table's total", async () => {
    const body = await get(`/api/breakdown${q(WALMART, { by: 'type', from, to })}`);
    const expected = totalsBy(inWeeks, typeOf, (l) => l.weekly_sales);
    expect(body.groups.map((g: { key: string }) => g.key)).toEqual(['C', 'B', 'A']);
    for (const [i, g] of (body.groups as Array<{ revenue: number; orders: number }>).entries()) {
      expect(g.revenue).toBeCloseTo(expected[i]![1], 6);
      expect(g.orders).toBe(inWeeks.length / 3); // one store per type: every row met one store
    }
    const total = await trainRevenue();
    expect(sum(body.groups.map((g: { revenue: number }) => g.revenue))).toBeCloseTo(total, 6);
    // The same total as the KPI, which joins nothing: the unique key leaves every row counted once.
    const kpis = await get(`/api/kpis${q(WALMART, { from, to })}`);
    expect(kpis.revenue.value).toBeCloseTo(total, 6);
    expect(kpis.orders.value).toBe(inWeeks.length);
  });

  test("a filter on type narrows every figure, alone or with the fact table's own dimensions", async () => {
    const typeB = await get(`/api/kpis${q(WALMART, { type: 'B', from, to })}`);
    expect(typeB.revenue.value).toBeCloseTo(await trainRevenue('AND store = 2'), 6);
    expect(typeB.orders.value).toBe(inWeeks.filter((l) => typeOf(l) === 'B').length);
    const byStore = await get(`/api/breakdown${q(WALMART, { by: 'store', type: 'C', dept: '5', from, to })}`);
    expect(byStore.groups).toEqual([
      expect.objectContaining({
        key: '3',
        orders: inWeeks.filter((l) => l.store === 3 && l.dept === 5).length,
      }),
    ]);
    const points = await get(`/api/revenue${q(WALMART, { type: 'A', from, to, grain: 'month' })}`);
    expect(sum(points.points.map((p: { revenue: number }) => p.revenue))).toBeCloseTo(
      await trainRevenue('AND store = 1'),
      6,
    );
    expect((await get(`/api/kpis${q(WALMART, { type: 'D', from, to })}`)).revenue.value).toBe(0);
  });

  test('a related table whose key is not unique is not joined: its columns are no dimension', async () => {
    const res = await request(app).get(`/api/breakdown${q(RETAIL, { by: 'region' })}`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(
      'expected a dimension of dataset local/files/online-retail (country)',
    );
    // And the fact table's figures are its own: every line once.
    const kpis = await get(`/api/kpis${q(RETAIL, { from: '2011-01-03', to: '2011-03-31' })}`);
    expect(kpis.orders.value).toBe(new Set(retail.map((l) => l.invoice_no)).size);
  });
});

describe('validation', () => {
  test.each([
    [
      `/api/breakdown${q(WALMART, { by: 'region' })}`,
      'by: expected a dimension of dataset kaggle/walmart/recruiting (dept, store, is_holiday, type), found region',
    ],
    [`/api/kpis${q(SUPERMARKET, { region: 'West' })}`, 'unknown query parameter region'],
    [`/api/revenue${q(WALMART, { category: 'x', grain: 'week' })}`, 'category'],
    [`/api/top${q(PRODUCTS, { kind: 'products', store: '1' })}`, 'store'],
  ])('%s is 400 naming the dimension', async (url, message) => {
    const res = await request(app).get(url);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
    expect(res.body.error.message).toContain(message);
  });

  test('an unknown dataset is 404 naming it and the loaded ones', async () => {
    const res = await request(app).get('/api/kpis?source=kaggle/nope/none');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('kaggle/nope/none');
    expect(res.body.error.message).toContain(WALMART);
  });
});
