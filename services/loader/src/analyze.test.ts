import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import type { ExtractResponse, LoadResponse } from '@etl/common/contracts';
import { createSilentLogger } from '@etl/common/logging';
import { inferRoles, type Roles } from '@etl/common/roles';
import { salesEvents } from '@etl/common/sales-events';
import { type BlobStore, getJson, LocalBlobStore, manifestKey, putJson } from '@etl/common/storage';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { DuckDbWarehouse, type Row, type Warehouse } from '@etl/common/warehouse';
import { BigQueryWarehouse } from '@etl/common/warehouse/bigquery';
import { computeRfm, discountEffect } from '@etl/ml';
import { Bool, DateDay, Float64, Int32, type Table, TimestampMillisecond, Utf8 } from 'apache-arrow';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FakeBigQuery, startFakeBigQuery } from '../../../test/fakes/bigquery';
import { type FakeGcs, startFakeGcs } from '../../../test/fakes/gcs';
import { type RetailLine, tableOf } from '../../../test/insights/datasets';
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

/** The sales lines as the cleaned table, with `text` columns of their own (e.g. `ship_mode`) after `category`. */
function salesTable(lines: readonly Line[], text: readonly string[] = []): Table {
  return tableOf(
    lines.map((l) => ({ ...l, order_date: new Date(`${l.order_date}T00:00:00Z`) })),
    {
      order_id: new Utf8(),
      order_date: new DateDay(),
      customer_id: new Utf8(),
      customer_name: new Utf8(),
      segment: new Utf8(),
      region: new Utf8(),
      category: new Utf8(),
      ...Object.fromEntries(text.map((name) => [name, new Utf8()])),
      sales: new Float64(),
      discount: new Float64(),
      profit: new Float64(),
    },
  );
}

/** What extract and load leave behind: the two manifests and the dataset's rows in `sales`. */
async function loadRun(
  runId: string,
  lines: Line[],
  source = 'local/files/sales',
  target: { warehouse: Warehouse; store: BlobStore } = { warehouse, store },
): Promise<void> {
  await loadDataset(runId, { sales: salesTable(lines) }, source, target);
}

/** Table `name` of a DATE column and an amount (the rows' two keys, in order), loaded as run r1 and analyzed. */
async function analyzeDated(name: string, rows: Array<Record<string, Date | number>>) {
  const [date, amount] = Object.keys(rows[0]!) as [string, string];
  const table = tableOf(rows, { [date]: new DateDay(), [amount]: new Float64() });
  await loadDataset('r1', { [name]: table }, `local/files/${name}`);
  return analyze({ runId: 'r1' }, deps);
}

async function metrics(): Promise<Record<string, number | string | null>> {
  const rows = await warehouse.query('SELECT metric, value, note FROM ml_metrics');
  return Object.fromEntries(
    rows.map((r) => [String(r.metric), (r.value as number | null) ?? (r.note as string)]),
  );
}

/** What extract and load leave behind for a dataset of several tables (one load, one transaction). */
async function loadDataset(
  runId: string,
  tables: Record<string, Table>,
  source: string,
  target: { warehouse: Warehouse; store: BlobStore } = { warehouse, store },
  roles: Record<string, Roles> = {},
): Promise<void> {
  const results = await target.warehouse.load({
    tables: Object.entries(tables).map(([table, arrow]) => ({
      table,
      arrow: writeArrowTable(arrow),
      ...(roles[table] ? { roles: roles[table] } : {}),
    })),
    source,
    runId,
    sourceVersion: `v-${runId}`,
    loadedAt: new Date('2026-01-01T00:00:00Z'),
  });
  const extract: ExtractResponse = {
    runId,
    source: 'kaggle:owner/dataset',
    dataset: { id: source, version: `v-${runId}`, previousVersion: null, changed: true },
    files: [],
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  const load: LoadResponse = {
    runId,
    warehouse: target.warehouse.kind,
    dataset: { id: source, version: `v-${runId}` },
    tables: results.map((r) => ({ name: r.table, rowsLoaded: r.rowsLoaded, rowsReplaced: 0 })),
    loadedAt: '2026-01-01T00:00:00.000Z',
    manifestKey: manifestKey(runId, 'load'),
  };
  await putJson(target.store, manifestKey(runId, 'extract'), extract);
  await putJson(target.store, manifestKey(runId, 'load'), load);
}

/**
 * Online Retail's shape (2010-12-01 .. 2011-12-09, no Saturdays): three invoices a day of two lines from 15
 * customers in 3 countries, every tenth invoice without a customer; every 25th invoice is cancelled the next
 * day by a `C` invoice with its first line's quantity negated.
 */
function makeRetail(): RetailLine[] {
  const lines: RetailLine[] = [];
  const countries = ['United Kingdom', 'France', 'Germany'];
  let n = 0;
  for (let t = Date.UTC(2010, 11, 1); t <= Date.UTC(2011, 11, 9); t += DAY) {
    if (new Date(t).getUTCDay() === 6) continue;
    const month = new Date(t).getUTCMonth();
    for (let k = 0; k < 3; k++) {
      n++;
      const customer = n % 10 === 0 ? null : 12_000 + ((n * 7) % 15);
      const at = new Date(t + (9 + k) * 3_600_000);
      const invoice = String(536_000 + n);
      const base = {
        invoice_no: invoice,
        invoice_date: at,
        customer_id: customer,
        country: countries[(customer ?? n) % 3]!,
      };
      for (let j = 0; j < 2; j++) {
        const item = (n + j) % 6;
        lines.push({
          ...base,
          stock_code: `8512${item}`,
          description: `ITEM ${item}`,
          quantity: 1 + ((n * 5 + j) % 12),
          unit_price: Math.round((1.5 + item + Math.sin((2 * Math.PI * month) / 12)) * 100) / 100,
        });
      }
      if (n % 25 === 0) {
        const first = lines.at(-2)!;
        lines.push({
          ...first,
          invoice_no: `C${invoice}`,
          invoice_date: new Date(at.getTime() + DAY),
          quantity: -first.quantity,
        });
      }
    }
  }
  return lines;
}

function retailTable(lines: RetailLine[]): Table {
  return tableOf(lines, {
    invoice_no: new Utf8(),
    stock_code: new Utf8(),
    description: new Utf8(),
    quantity: new Int32(),
    invoice_date: new TimestampMillisecond(),
    unit_price: new Float64(),
    customer_id: new Float64(),
    country: new Utf8(),
  });
}

/**
 * Walmart's shape: weekly sales per store and department on Fridays 2010-02-05 .. 2012-10-26 (143 weeks),
 * with a features table (dated, but no sales) and a stores table (no date), as the Kaggle dataset has.
 */
function makeWalmart(): Record<string, Table> {
  const train: Array<{ store: number; dept: number; date: Date; weekly_sales: number; is_holiday: boolean }> =
    [];
  const features: Array<{ store: number; date: Date; temperature: number; fuel_price: number }> = [];
  for (let w = 0; w < 143; w++) {
    const t = Date.UTC(2010, 1, 5) + w * 7 * DAY;
    const month = new Date(t).getUTCMonth();
    const holiday = w % 52 === 42;
    for (let store = 1; store <= 5; store++) {
      features.push({
        store,
        date: new Date(t),
        temperature: 40 + 30 * Math.sin(w / 8),
        fuel_price: 2.5 + w / 100,
      });
      for (const dept of [1, 2, 7, 92]) {
        const weekly_sales =
          store * 1000 +
          dept * 50 +
          (month >= 10 ? 4000 : 0) +
          ((w * 37 + store * 11 + dept) % 500) -
          (dept === 7 && w === 60 ? 9000 : 0);
        train.push({ store, dept, date: new Date(t), weekly_sales, is_holiday: holiday });
      }
    }
  }
  return {
    walmart_train: tableOf(train, {
      store: new Int32(),
      dept: new Int32(),
      date: new DateDay(),
      weekly_sales: new Float64(),
      is_holiday: new Bool(),
    }),
    walmart_features: tableOf(features, {
      store: new Int32(),
      date: new DateDay(),
      temperature: new Float64(),
      fuel_price: new Float64(),
    }),
    walmart_stores: tableOf(
      [
        { store: 1, type: 'A', size: 151_315 },
        { store: 2, type: 'A', size: 202_307 },
        { store: 3, type: 'B', size: 37_392 },
        { store: 4, type: 'B', size: 205_863 },
        { store: 5, type: 'C', size: 34_875 },
      ],
      { store: new Int32(), type: new Utf8(), size: new Int32() },
    ),
    walmart_train_rejects: tableOf(
      [
        { line: 7, reason: 'weekly_sales: not a number' },
        { line: 9, reason: 'date: not a date' },
      ],
      { line: new Int32(), reason: new Utf8() },
    ),
  };
}

describe('analyze stage', () => {
  test('writes forecast, segments, anomalies, drivers and metrics for the run, then the manifest', async () => {
    const lines = makeLines(40);
    await loadRun('r1', lines);
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response.forecast).toMatchObject({ method: 'holt-winters', months: 40, horizon: 12 });
    expect(response.forecast!.holdout?.months).toBe(12);
    expect(response.forecast!.holdout!.maeRatio).toBeLessThan(1); // a clean yearly cycle: HW beats the baseline
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
    expect(m.holdout_mae_ratio).toBeCloseTo(response.forecast!.holdout!.maeRatio, 9);
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
    expect(first.forecast!.holdout).toBeNull(); // 30 months: Holt-Winters, but too short for a holdout year
  });

  test('short histories fall back to seasonal naive; fewer than 10 customers skip segmentation', async () => {
    await loadRun('r1', makeLines(18, 6));
    const response = await analyze({ runId: 'r1' }, deps);
    expect(response.forecast).toMatchObject({ grain: 'week', months: 18, horizon: 13 }); // under 24 months
    expect(response.forecast!.method).toBe('seasonal-naive'); // over one year of weeks: same week last year
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

/**
 * REES46's shape: 60 days of a shop's events, each user viewing, some adding to cart, every third purchasing,
 * with the price on every row; the roles as the transform stage records them, with the purchases as the sales.
 */
function makeEvents() {
  const events: Array<{
    event_time: Date;
    event_type: string;
    product_id: number;
    brand: string;
    price: number;
    user_id: number;
  }> = [];
  for (let d = 0; d < 60; d++) {
    for (let u = 0; u < 12; u++) {
      const at = Date.UTC(2019, 9, 1) + d * DAY + u * 3_600_000;
      const price = 100 + ((d * 13 + u * 7) % 90);
      const row = {
        product_id: 1_000 + (u % 4),
        brand: u % 2 ? 'apple' : 'samsung',
        price,
        user_id: 500 + u,
      };
      events.push({ ...row, event_time: new Date(at), event_type: 'view' });
      if ((d + u) % 2 === 0) events.push({ ...row, event_time: new Date(at + 60_000), event_type: 'cart' });
      if ((d + u) % 3 === 0)
        events.push({ ...row, event_time: new Date(at + 120_000), event_type: 'purchase' });
    }
  }
  const table = tableOf(events, {
    event_time: new TimestampMillisecond(),
    event_type: new Utf8(),
    product_id: new Int32(),
    brand: new Utf8(),
    price: new Float64(),
    user_id: new Int32(),
  });
  const purchases = events.filter((e) => e.event_type === 'purchase');
  const tally = (type: string) => events.filter((e) => e.event_type === type).length;
  const roles = {
    ...inferRoles(
      Object.entries({
        event_time: 'TIMESTAMP',
        event_type: 'VARCHAR',
        product_id: 'INTEGER',
        brand: 'VARCHAR',
        price: 'DOUBLE',
        user_id: 'INTEGER',
      }).map(([name, type]) => ({ name, type })),
    ),
    sales: salesEvents({ column: 'event_type', by: 'event type' }, [
      { value: 'view', n: tally('view') },
      { value: 'cart', n: tally('cart') },
      { value: 'purchase', n: purchases.length },
    ]),
  };
  return { table, roles, purchases, events };
}

describe('analyze stage on any dataset: columns found by their roles', () => {
  test('Online Retail: amount = quantity * unit_price, cancellations kept and netted, weekly forecast', async () => {
    const lines = makeRetail();
    await loadDataset('r1', { online_retail: retailTable(lines) }, 'kaggle/owner/online-retail');
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response).toMatchObject({
      status: 'partial',
      table: 'online_retail',
      skipped: [{ output: 'discount_margin', reason: 'no discount column and no profit column' }],
    });
    expect(response.roles).toMatchObject({
      event_time: { column: 'invoice_date' },
      amount: { column: null, derived: 'quantity * unit_price' },
      order_id: { column: 'invoice_no' },
      customer_id: { column: 'customer_id' },
      product_id: { column: 'stock_code' },
      dimensions: [{ column: 'country' }],
    });
    // 2010-12-01 .. 2011-12-09 spans 13 months: weekly, and over a year of weeks, seasonal naive.
    expect(response.forecast).toMatchObject({
      grain: 'week',
      months: 13,
      horizon: 13,
      method: 'seasonal-naive',
    });
    const weeks = await warehouse.query(
      'SELECT count(*)::INT AS n, count(DISTINCT isodow(month))::INT AS weekdays, min(isodow(month))::INT AS dow FROM ml_forecast',
    );
    expect(weeks).toEqual([{ n: response.forecast!.periods + 13, weekdays: 1, dow: 1 }]); // every period a Monday

    // Every sum is net of the cancellations: daily revenue adds up to sum(quantity * unit_price) of all lines.
    const cancellations = lines.filter((l) => l.quantity < 0);
    const net = lines.reduce((sum, l) => sum + l.quantity * l.unit_price, 0);
    expect(response.anomalies).toMatchObject({ grain: 'day' });
    const [daily] = await warehouse.query('SELECT sum(revenue) AS revenue FROM ml_anomalies');
    expect(daily!.revenue as number).toBeCloseTo(net, 6);
    const m = await metrics();
    expect(m.amount_negative_lines).toBe(cancellations.length);
    // Loaded without recorded roles: the stage measures the returns itself.
    expect(response.roles?.returns).toMatchObject({
      net: true,
      negativeAmounts: cancellations.length,
      negativeQuantities: cancellations.length,
      cancelledOrders: cancellations.length,
    });
    expect(m.amount_net_of_returns).toBe(1);
    expect(m.role_amount).toBeGreaterThan(0);
    expect(m.skipped_discount_margin).toBe('no discount column and no profit column');

    // RFM: monetary net of the customer's returns; cancellation invoices are not purchases.
    const customer = cancellations[0]!.customer_id!;
    const own = lines.filter((l) => l.customer_id === customer);
    const [segment] = await warehouse.query(
      'SELECT frequency, monetary FROM ml_segments WHERE customer_id = $1',
      [String(customer)],
    );
    expect(segment!.monetary as number).toBeCloseTo(
      own.reduce((sum, l) => sum + l.quantity * l.unit_price, 0),
      6,
    );
    expect(segment!.frequency).toBe(new Set(own.filter((l) => l.quantity > 0).map((l) => l.invoice_no)).size);
    expect(response.segments?.customers).toBe(15);

    const drivers = await warehouse.query(
      'SELECT dimension, key, lines, revenue, profit, margin FROM ml_drivers ORDER BY revenue DESC',
    );
    expect(drivers.map((d) => `${d.dimension}: ${d.key}`).sort()).toEqual([
      'country: France',
      'country: Germany',
      'country: United Kingdom',
    ]);
    expect(drivers.reduce((sum, d) => sum + (d.lines as number), 0)).toBe(lines.length);
    expect(drivers.reduce((sum, d) => sum + (d.revenue as number), 0)).toBeCloseTo(net, 6);
    expect(drivers[0]).toMatchObject({ profit: null, margin: null }); // no profit column
  });

  test('Walmart: the sales table is the fact table; weekly dates, store and dept dimensions, no customers', async () => {
    await loadDataset('r1', makeWalmart(), 'kaggle/walmart/recruiting');
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response.table).toBe('walmart_train');
    expect(response.status).toBe('partial');
    expect(response.roles).toMatchObject({
      event_time: { column: 'date' },
      amount: { column: 'weekly_sales' },
      dimensions: [{ column: 'dept' }, { column: 'store' }, { column: 'is_holiday' }],
    });
    expect(response.skipped.map((s) => s.output)).toEqual(['segments', 'discount_margin']);
    expect(response.skipped[0]!.reason).toContain('no customer column');
    expect(response.segments).toBeNull();
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM ml_segments')).toEqual([{ n: 0 }]);

    // 2010-02 .. 2012-10 is 33 months: monthly Holt-Winters, too short for a holdout year.
    expect(response.forecast).toMatchObject({
      grain: 'month',
      months: 33,
      periods: 33,
      method: 'holt-winters',
    });
    expect(response.forecast!.holdout).toBeNull();
    // The dates are a week apart: anomalies are scored per week, not on six empty days out of seven.
    expect(response.anomalies).toMatchObject({ grain: 'week', points: 143 });
    const drop = await warehouse.query(
      `SELECT strftime(date, '%Y-%m-%d') AS week, direction FROM ml_anomalies WHERE is_anomaly`,
    );
    expect(drop).toContainEqual({ week: '2011-03-28', direction: 'drop' }); // week 60, dept 7's dip

    // The stores table lends its type (joined on store, unique there); the dated features table is not joined.
    expect(response.relations).toEqual([
      {
        join: 'walmart_train.store -> walmart_stores',
        table: 'walmart_stores',
        key: 'store',
        dimensions: ['type'],
      },
    ]);
    expect(response.notJoined).toEqual([
      {
        table: 'walmart_features',
        reason: 'walmart_features is dated (event time date), so it is not a dimension table',
      },
    ]);
    expect(response.drivers).toEqual({
      dimensions: ['dept', 'store', 'is_holiday', 'type'],
      groups: 4 + 5 + 2 + 3,
    });
    const byStore = await warehouse.query(
      `SELECT key, lines FROM ml_drivers WHERE dimension = 'store' ORDER BY key`,
    );
    expect(byStore).toEqual([1, 2, 3, 4, 5].map((k) => ({ key: String(k), lines: 4 * 143 })));
    // Stores 1, 2 are type A, 3, 4 type B, 5 type C: the join adds no line and loses none.
    const byType = await warehouse.query(
      `SELECT key, lines, revenue FROM ml_drivers WHERE dimension = 'type' ORDER BY key`,
    );
    expect(byType.map((r) => [r.key, r.lines])).toEqual([
      ['A', 2 * 4 * 143],
      ['B', 2 * 4 * 143],
      ['C', 4 * 143],
    ]);
    const [train] = await warehouse.query('SELECT sum(weekly_sales) AS revenue FROM walmart_train');
    expect(byType.reduce((sum, r) => sum + (r.revenue as number), 0)).toBeCloseTo(
      train!.revenue as number,
      6,
    );
    const m = await metrics();
    expect(m.fact_table).toBe(2860);
    expect(m.join_walmart_stores).toBe(1);
    expect(m.join_walmart_features).toBe(0);
    expect(m.skipped_segments).toContain('no customer column');
  });

  test('drivers: a dimension passed over lets the next candidate in; candidates past the choice are not named', async () => {
    // Candidates in role order: category (1 value), region, segment (one per line), ship_mode, city.
    const lines = makeLines(12).map((l, i) => ({
      ...l,
      category: 'Furniture',
      segment: `s${i}`,
      ship_mode: ['Standard', 'First'][i % 2]!,
      city: ['Paris', 'Lyon', 'Nice'][i % 3]!,
    }));
    const sales = salesTable(lines, ['ship_mode', 'city']);
    await loadDataset('r1', { sales }, 'local/files/sales');
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response.roles?.dimensions.map((d) => d.column)).toEqual([
      'category',
      'region',
      'segment',
      'ship_mode',
      'city',
    ]);
    expect(response.drivers?.dimensions).toEqual(['region', 'ship_mode', 'city', 'discount']);
    const m = await metrics();
    expect(m.drivers_dimensions_left_out).toBe(2);
    const [leftOut] = await warehouse.query(
      "SELECT note FROM ml_metrics WHERE metric = 'drivers_dimensions_left_out'",
    );
    expect(leftOut!.note).toBe(
      `need 2..500 distinct values: category (1 values), segment (${lines.length} values)`,
    );
  });

  test('REES46 event log: only the purchases are sales, in every output; views and carts stay loaded', async () => {
    const { table, roles, purchases, events } = makeEvents();
    await loadDataset(
      'r1',
      { events: table },
      'kaggle/owner/ecommerce-behavior',
      { warehouse, store },
      { events: roles },
    );
    const response = await analyze({ runId: 'r1' }, deps);

    expect(response.roles?.sales).toMatchObject({ values: ['purchase'], rows: purchases.length });
    const revenue = purchases.reduce((sum, e) => sum + e.price, 0);
    const [daily] = await warehouse.query('SELECT sum(revenue) AS revenue FROM ml_anomalies');
    expect(daily!.revenue as number).toBeCloseTo(revenue, 6);
    const drivers = await warehouse.query('SELECT key, lines, revenue FROM ml_drivers WHERE dimension = $1', [
      'brand',
    ]);
    expect(drivers.reduce((sum, d) => sum + (d.lines as number), 0)).toBe(purchases.length);
    const buyer = purchases[0]!.user_id;
    const [segment] = await warehouse.query('SELECT monetary FROM ml_segments WHERE customer_id = $1', [
      String(buyer),
    ]);
    expect(segment!.monetary as number).toBeCloseTo(
      purchases.filter((e) => e.user_id === buyer).reduce((sum, e) => sum + e.price, 0),
      6,
    );
    const m = await metrics();
    expect(m.lines).toBe(purchases.length);
    expect(m.sales_rows_only).toBe(purchases.length);
    const [all] = await warehouse.query('SELECT count(*)::INT AS n FROM events');
    expect(all!.n).toBe(events.length);
  });

  test('three months of data: a daily forecast with a weekly season', async () => {
    await loadRun('r1', makeLines(3));
    const response = await analyze({ runId: 'r1' }, deps);
    expect(response.status).toBe('succeeded');
    expect(response.forecast).toMatchObject({
      grain: 'day',
      months: 3,
      periods: 90,
      horizon: 28,
      method: 'holt-winters',
      holdout: { periods: 7, months: null },
    });
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM ml_forecast')).toEqual([{ n: 90 + 28 }]);
    expect((await metrics()).forecast_grain).toBe('day');
  });

  test('two monthly dates: anomalies skipped, the reason said in months', async () => {
    const response = await analyzeDated('months', [
      { order_date: new Date('2024-01-01T00:00:00Z'), sales: 120 },
      { order_date: new Date('2024-02-01T00:00:00Z'), sales: 340 },
    ]);
    expect(response.skipped).toContainEqual({
      output: 'anomalies',
      reason:
        'only 2 months of data: the rule scores each month against up to 28 months before it, and needs at least 15 months',
    });
  });

  test('quarterly dates: a forecast by quarter with a yearly season, anomalies by quarter', async () => {
    const rows = Array.from({ length: 12 }, (_, q) => ({
      quarter: new Date(Date.UTC(2021, q * 3, 1)),
      umsatz_eur: 1000 + 50 * q + (q % 4 === 3 ? 400 : 0),
    }));
    const response = await analyzeDated('quarterly', rows);
    expect(response.forecast).toMatchObject({ grain: 'quarter', months: 34, periods: 12, horizon: 4 });
    const forecast = await warehouse.query(
      `SELECT strftime(month, '%Y-%m-%d') AS day FROM ml_forecast WHERE forecast IS NOT NULL ORDER BY 1`,
    );
    expect(forecast.map((r) => r.day)).toEqual(['2024-01-01', '2024-04-01', '2024-07-01', '2024-10-01']);
    expect((await metrics()).forecast_period).toBe(4);
    expect(response.skipped).toContainEqual({
      output: 'anomalies',
      reason:
        'only 12 quarters of data: the rule scores each quarter against up to 28 quarters before it, and needs at least 15 quarters',
    });
  });

  test('18 monthly dates: no forecast by week or day over the empty days between them', async () => {
    const rows = Array.from({ length: 18 }, (_, m) => ({
      month: new Date(Date.UTC(2023, m, 1)),
      sales: 100 + m,
    }));
    const response = await analyzeDated('monthly', rows);
    expect(response.forecast).toBeNull();
    expect(response.skipped).toContainEqual({
      output: 'forecast',
      reason:
        'the dates span 518 days (2023-01-01 .. 2024-06-01, 31 days apart (median)): a forecast needs at least 24 months',
    });
  });

  test('a few days of data: no forecast, the reason naming every grain finest first', async () => {
    const rows = Array.from({ length: 5 }, (_, d) => ({
      order_date: new Date(Date.UTC(2023, 2, 1 + d)),
      sales: 10 + d,
    }));
    const response = await analyzeDated('days', rows);
    expect(response.skipped).toContainEqual({
      output: 'forecast',
      reason:
        'the dates span 5 days (2023-03-01 .. 2023-03-05): a forecast needs at least 28 days, 16 weeks or 24 months',
    });
  });

  test('one day of data: the reason says 1 day', async () => {
    const oneDay = await analyzeDated('days', [{ order_date: new Date(Date.UTC(2023, 2, 1)), sales: 10 }]);
    expect(oneDay.skipped).toContainEqual({
      output: 'forecast',
      reason:
        'the dates span 1 day (2023-03-01 .. 2023-03-01): a forecast needs at least 28 days, 16 weeks or 24 months',
    });
  });

  test('a table without a date column: 200, status skipped, every output with the reason', async () => {
    const products = tableOf(
      [
        { product_name: 'Chair', category: 'Furniture', date: 'last week', sales: 120 },
        { product_name: 'Desk', category: 'Furniture', date: 'n/a', sales: 340 },
        { product_name: 'Lamp', category: 'Office', date: '2024', sales: 25 },
      ],
      { product_name: new Utf8(), category: new Utf8(), date: new Utf8(), sales: new Float64() },
    );
    await loadDataset('r1', { products }, 'local/files/products');
    const res = await request(createLoaderApp(deps)).post('/v1/analyze').send({ runId: 'r1' });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'skipped',
      table: null,
      roles: null,
      forecast: null,
      segments: null,
    });
    const reason =
      'no table of dataset local/files/products has both an event time and an amount: products has no event time ' +
      '(a DATE or TIMESTAMP column named like order_date, invoice_date or date); date is named like the event ' +
      'time but is text (VARCHAR), not a DATE or TIMESTAMP';
    expect(res.body.skipped).toEqual(
      ['forecast', 'anomalies', 'segments', 'drivers', 'discount_margin'].map((output) => ({
        output,
        reason,
      })),
    );
    expect((await metrics()).skipped_forecast).toBe(reason);
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM ml_forecast')).toEqual([{ n: 0 }]);
  });
});

describe('POST /v1/analyze', () => {
  test('answers 200 with the analyze response', async () => {
    await loadRun('r1', makeLines(14));
    const res = await request(createLoaderApp(deps)).post('/v1/analyze').send({ runId: 'r1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      runId: 'r1',
      status: 'succeeded',
      table: 'sales',
      forecast: { grain: 'week', method: 'seasonal-naive', months: 14 },
    });
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
      holdout: approximately([onDuckDb.forecast!.holdout as unknown as Row])[0],
    });
    expect(onBigQuery.segments).toEqual({
      ...onDuckDb.segments,
      silhouette: expect.closeTo(onDuckDb.segments!.silhouette, 9),
    });
    expect(await bq.tables('sales')).toEqual(['_etl_tables', ...ML_TABLES, 'sales'].sort());
    for (const [table, sql] of Object.entries(ML_QUERIES)) {
      const expected = await warehouse.query(sql);
      expect(expected.length, table).toBeGreaterThan(0);
      expect(await bigquery.query(sql), table).toEqual(approximately(expected));
    }
    const lineage =
      'SELECT _source, _run_id, max(_loaded_at) AS at_time, count(*) AS n FROM ml_metrics GROUP BY 1, 2';
    expect(await bigquery.query(lineage)).toEqual(await warehouse.query(lineage));

    // The stage's read queries each carried the limits (the load's own jobs are not capped).
    const reads = [...bq.jobs.values()].filter((j) => j.configuration.query?.query.includes('FROM `sales`'));
    expect(reads.length).toBeGreaterThanOrEqual(6);
    for (const job of reads) {
      expect(job.configuration).toMatchObject({
        query: { maximumBytesBilled: String(10 * 1024 ** 3) },
        jobTimeoutMs: '30000',
      });
    }
  });

  test('Online Retail (derived amount, TIMESTAMP event time, numeric customer ids) gives the same ml_* tables', async () => {
    const dataset = { online_retail: retailTable(makeRetail()) };
    const source = 'kaggle/owner/online-retail';
    await loadDataset('r3', dataset, source);
    await loadDataset('r3', dataset, source, { warehouse: bigquery, store: gcsStore });
    const onDuckDb = await analyze({ runId: 'r3' }, deps);
    const onBigQuery = await analyze({ runId: 'r3' }, { ...deps, warehouse: bigquery, store: gcsStore });

    expect(onDuckDb).toMatchObject({
      status: 'partial',
      table: 'online_retail',
      forecast: { grain: 'week' },
    });
    expect(onBigQuery).toEqual({
      ...onDuckDb,
      segments: { ...onDuckDb.segments, silhouette: expect.closeTo(onDuckDb.segments!.silhouette, 9) },
    });
    for (const [table, sql] of Object.entries(ML_QUERIES)) {
      const scoped = sql.replace(`FROM ${table}`, `FROM ${table} WHERE _source = '${source}'`);
      const expected = await warehouse.query(scoped);
      expect(await bigquery.query(scoped), table).toEqual(approximately(expected));
    }
    // Role columns reach BigQuery backquoted; information_schema is read as INFORMATION_SCHEMA.COLUMNS.
    const sent = [...bq.jobs.values()].map((j) => j.configuration.query?.query ?? '');
    expect(sent.some((q) => q.includes('INFORMATION_SCHEMA.COLUMNS'))).toBe(true);
    expect(sent.some((q) => q.includes('(`quantity` * `unit_price`)'))).toBe(true);
  });

  test('an event log reads only its sales rows on BigQuery too: the same ml_* tables', async () => {
    const { table, roles } = makeEvents();
    const source = 'kaggle/owner/ecommerce-behavior';
    await loadDataset('r4', { events: table }, source, { warehouse, store }, { events: roles });
    await loadDataset(
      'r4',
      { events: table },
      source,
      { warehouse: bigquery, store: gcsStore },
      { events: roles },
    );
    const onDuckDb = await analyze({ runId: 'r4' }, deps);
    const onBigQuery = await analyze({ runId: 'r4' }, { ...deps, warehouse: bigquery, store: gcsStore });
    expect(onBigQuery).toEqual({
      ...onDuckDb,
      segments: { ...onDuckDb.segments, silhouette: expect.closeTo(onDuckDb.segments!.silhouette, 9) },
    });
    for (const [name, sql] of Object.entries(ML_QUERIES)) {
      const scoped = sql.replace(`FROM ${name}`, `FROM ${name} WHERE _source = '${source}'`);
      expect(await bigquery.query(scoped), name).toEqual(approximately(await warehouse.query(scoped)));
    }
    const sent = [...bq.jobs.values()].map((j) => j.configuration.query?.query ?? '');
    expect(
      sent.some((q) => q.includes("(SELECT * FROM `events` WHERE `event_type` IN ('purchase')) AS `events`")),
    ).toBe(true);
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
