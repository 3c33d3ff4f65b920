/**
 * Not every row is a sale: a REES46-like `events.csv` (a price on every view, cart and purchase), and an Amazon
 * sale report-like file whose cancelled and returned orders keep their amounts, each run through extract,
 * transform, load and analyze in process. Only the sales rows are summed, in the analyze stage's outputs and in
 * the insights app's figures alike; every row stays loaded. The expected sums are computed here from the rows
 * written, never by the product.
 */
import { createSilentLogger } from '@etl/common/logging';
import { createInsightsApp } from '@etl/insights/app';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runStages, type StagesRun } from './stages-in-process';

const logger = createSilentLogger();
const TYPES = ['view', 'view', 'view', 'cart', 'view', 'remove_from_cart', 'purchase'];

interface Event {
  time: string;
  type: string;
  brand: string;
  price: number;
  user: number;
}

/** 40 days of 14 events a day; the price of every event is its product's. */
const events: Event[] = Array.from({ length: 40 * 14 }, (_, i) => {
  const day = Math.floor(i / 14);
  const date = new Date(Date.UTC(2019, 9, 1 + day)).toISOString().slice(0, 10);
  return {
    time: `${date} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07 UTC`,
    type: TYPES[(i * 5 + day) % TYPES.length]!,
    brand: ['apple', 'samsung', 'xiaomi'][i % 3]!,
    price: 20 + ((i * 37) % 400) + (i % 100) / 100,
    user: 512_000_000 + (i % 17),
  };
});
const purchases = events.filter((e) => e.type === 'purchase');
const revenue = purchases.reduce((sum, e) => sum + e.price, 0);

let run: StagesRun;

beforeAll(async () => {
  const csv = `${[
    'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session',
    ...events.map((e, i) =>
      [
        e.time,
        e.type,
        1_004_000 + (i % 9),
        '2053013555631882655',
        'electronics.smartphone',
        e.brand,
        e.price.toFixed(2),
        e.user,
        `s-${i % 40}`,
      ].join(','),
    ),
  ].join('\n')}\n`;
  run = await runStages('events.csv', csv);
});
afterAll(async () => {
  await run?.cleanup();
});

test('every event is loaded; the analyze stage sums only the purchases', async () => {
  const [loaded] = await run.warehouse.query('SELECT count(*)::INT AS n FROM events');
  expect(loaded?.['n']).toBe(events.length);
  expect(run.analyzed['roles']).toMatchObject({
    event_type: { column: 'event_type' },
    sales: { column: 'event_type', values: ['purchase'], rows: purchases.length },
  });
  const [daily] = await run.warehouse.query('SELECT sum(revenue) AS revenue FROM ml_anomalies');
  expect(daily?.['revenue'] as number).toBeCloseTo(revenue, 6);
  const [lines] = await run.warehouse.query("SELECT value FROM ml_metrics WHERE metric = 'lines'");
  expect(lines?.['value']).toBe(purchases.length);
});

test('the insights app shows the same revenue, and says which rows are sales', async () => {
  const app = createInsightsApp({ warehouse: run.warehouse, store: run.store, logger }, { cacheSeconds: 0 });
  const datasets = await request(app).get('/api/datasets');
  expect(datasets.status).toBe(200);
  const [dataset] = datasets.body.datasets;
  expect(dataset.sales).toMatchObject({ values: ['purchase'], rows: purchases.length });
  const kpis = await request(app).get(
    `/api/kpis?source=${encodeURIComponent(dataset.id)}&from=2019-10-01&to=2019-11-30`,
  );
  expect(kpis.status, JSON.stringify(kpis.body)).toBe(200);
  expect(kpis.body.revenue.value).toBeCloseTo(revenue, 6);
  const brands = await request(app).get(
    `/api/breakdown?source=${encodeURIComponent(dataset.id)}&by=brand&from=2019-10-01&to=2019-11-30`,
  );
  expect(brands.status, JSON.stringify(brands.body)).toBe(200);
  const total = (brands.body.groups as Array<{ revenue: number }>).reduce((sum, r) => sum + r.revenue, 0);
  expect(total).toBeCloseTo(revenue, 6);
});

test('an order status: the cancelled orders are loaded, and left out of the revenue the app shows', async () => {
  const orders = Array.from({ length: 90 }, (_, i) => ({
    id: `171-${1000 + i}`,
    date: new Date(Date.UTC(2022, 3, 1 + (i % 30))).toISOString().slice(0, 10),
    status: i % 7 === 0 ? 'Cancelled' : i % 11 === 0 ? 'Shipped - Returned to Seller' : 'Shipped',
    amount: 300 + ((i * 53) % 700),
  }));
  const csv = `Order ID,Date,Status,Category,Amount\n${orders.map((o, i) => `${o.id},${o.date},${o.status},${['Set', 'kurta'][i % 2]},${o.amount}.00`).join('\n')}\n`;
  const stages = await runStages('Amazon Sale Report.csv', csv);
  try {
    const shipped = orders.filter((o) => o.status === 'Shipped');
    expect(stages.analyzed['roles']).toMatchObject({
      sales: { column: 'status', mode: 'except', rows: shipped.length },
    });
    const app = createInsightsApp(
      { warehouse: stages.warehouse, store: stages.store, logger },
      { cacheSeconds: 0 },
    );
    const [dataset] = (await request(app).get('/api/datasets')).body.datasets;
    const kpis = await request(app).get(
      `/api/kpis?source=${encodeURIComponent(dataset.id)}&from=2022-04-01&to=2022-04-30`,
    );
    expect(kpis.status, JSON.stringify(kpis.body)).toBe(200);
    expect(kpis.body.revenue.value).toBeCloseTo(
      shipped.reduce((sum, o) => sum + o.amount, 0),
      6,
    );
    const [loaded] = await stages.warehouse.query('SELECT count(*)::INT AS n FROM amazon_sale_report');
    expect(loaded?.['n']).toBe(orders.length);
  } finally {
    await stages.cleanup();
  }
});
