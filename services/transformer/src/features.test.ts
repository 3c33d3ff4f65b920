/** Feature tables (profile `ml: true`) against values computed by hand. */

import type { TransformResponse } from '@etl/common/contracts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createTestStore,
  readTable,
  rowsOf,
  type TestStore,
  writeExtractedRun,
  writeProfile,
} from './test-support';
import { transform } from './transformer';

const CSV = [
  'order_id,order_date,ship_date,customer_id,product_id,region,segment,sales,quantity,discount,profit',
  'O1,2024-01-01,2024-01-03,C1,P1,East,Consumer,100,2,0,20',
  'O1,2024-01-01,2024-01-03,C1,P2,East,Consumer,50,1,0.2,-5',
  'O2,2024-01-02,2024-01-02,C2,P1,West,Corporate,200,4,0.1,40',
  'O3,2024-01-04,2024-01-05,C1,P1,East,Consumer,30,1,0,6',
  'O4,2024-01-09,2024-01-10,C3,P3,East,Home Office,10,1,0.5,-2',
].join('\n');

const PROFILE = `
table: sales
columns:
  - { name: segment, type: string, encode: onehot }
  - { name: region, type: string, encode: ordinal }
ml: true
`;

let t: TestStore;
let response: TransformResponse;
const tables: Record<string, Record<string, unknown>[]> = {};
beforeAll(async () => {
  t = await createTestStore();
  await writeProfile(t, 'p', PROFILE);
  await writeExtractedRun(t.store, 'r1', { 'a.csv': `${CSV}\n` });
  response = await transform({ runId: 'r1', profile: 'p' }, t.deps);
  for (const table of response.tables) tables[table.name] = rowsOf(await readTable(t.store, table.stagedKey));
});
afterAll(async () => {
  await t.cleanup();
});

describe('feature tables', () => {
  test('listed in the response like tables, with empty quarantines the loader can load', async () => {
    expect(response.tables.map((x) => [x.name, x.kind, x.rowsIn, x.rowsOut, x.rowsQuarantined])).toEqual([
      ['sales', 'cleaned', 5, 5, 0],
      ['sales_features_daily_region', 'features', 18, 18, 0],
      ['sales_features_daily_product', 'features', 5, 5, 0],
      ['sales_features_customers_rfm', 'features', 3, 3, 0],
      ['sales_features_orders', 'features', 4, 4, 0],
    ]);
    for (const table of response.tables.slice(1)) {
      const quarantine = await readTable(t.store, table.quarantineKey);
      expect(quarantine.numRows).toBe(0);
      expect(quarantine.schema.fields.map((f) => f.name)).toEqual([
        'line',
        'raw',
        'reason',
        'message',
        'file',
      ]);
    }
  });

  test('daily per region: a dense calendar, date parts, lags and means of earlier days only', () => {
    const rows = tables['sales_features_daily_region']!;
    const east = rows.filter((r) => r['region'] === 'East');
    expect(east.map((r) => r['date'])).toEqual([
      '2024-01-01',
      '2024-01-02',
      '2024-01-03',
      '2024-01-04',
      '2024-01-05',
      '2024-01-06',
      '2024-01-07',
      '2024-01-08',
      '2024-01-09',
    ]);
    expect(east.map((r) => r['sales'])).toEqual([150, 0, 0, 30, 0, 0, 0, 0, 10]);
    expect(east[0]).toMatchObject({
      year: 2024,
      quarter: 1,
      month: 1,
      iso_year: 2024,
      iso_week: 1,
      weekday: 1,
      is_weekend: false,
      is_month_start: true,
      is_month_end: false,
      orders: 1,
      quantity: 3,
      profit: 15,
      sales_lag_1: null,
      sales_lag_7: null,
      sales_mean_7: null,
      sales_mean_28: null,
    });
    expect(east[5]).toMatchObject({ date: '2024-01-06', weekday: 6, is_weekend: true });
    expect(east[1]).toMatchObject({
      sales_lag_1: 150,
      sales_lag_7: null,
      sales_mean_7: 150,
      sales_mean_28: 150,
    });
    expect(east[7]).toMatchObject({ date: '2024-01-08', sales_lag_1: 0, sales_lag_7: 150 });
    expect(east[7]!['sales_mean_7']).toBeCloseTo(180 / 7, 12);
    expect(east[8]).toMatchObject({ date: '2024-01-09', sales_lag_1: 0, sales_lag_7: 0 });
    expect(east[8]!['sales_mean_7']).toBeCloseTo(30 / 7, 12);
    expect(east[8]!['sales_mean_28']).toBeCloseTo(180 / 8, 12);
    const west = rows.filter((r) => r['region'] === 'West');
    expect(west.map((r) => r['sales'])).toEqual([0, 200, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('daily per product: days with sales, lags by calendar day (a day without sales counts 0)', () => {
    const p1 = tables['sales_features_daily_product']!.filter((r) => r['product_id'] === 'P1');
    expect(p1.map((r) => [r['date'], r['sales'], r['sales_lag_1'], r['sales_mean_7']])).toEqual([
      ['2024-01-01', 100, null, null],
      ['2024-01-02', 200, 100, 100],
      ['2024-01-04', 30, 0, 100], // (100 + 200) / 3 days since the first
    ]);
  });

  test('RFM per customer: recency from the last order date in the data', () => {
    expect(
      tables['sales_features_customers_rfm']!.map((r) => [
        r['customer_id'],
        r['recency_days'],
        r['frequency'],
        r['monetary'],
        r['avg_order_value'],
        r['r_score'],
        r['f_score'],
        r['m_score'],
      ]),
    ).toEqual([
      ['C1', 5, 2, 180, 90, 2, 3, 2],
      ['C2', 7, 1, 200, 200, 1, 1, 3],
      ['C3', 0, 1, 10, 10, 3, 2, 1],
    ]);
  });

  test('orders: basket, margin, discount depth, ship days, one-hot and ordinal codes, z-scores', () => {
    const orders = tables['sales_features_orders']!;
    expect(orders.map((r) => r['order_id'])).toEqual(['O1', 'O2', 'O3', 'O4']);
    expect(orders[0]).toMatchObject({
      order_date: '2024-01-01',
      customer_id: 'C1',
      lines: 2,
      basket_size: 3,
      distinct_products: 2,
      sales: 150,
      profit: 15,
      margin: 0.1,
      discount_max: 0.2,
      ship_days: 2,
      segment_consumer: 1,
      segment_corporate: 0,
      segment_home_office: 0,
      region_code: 0,
      weekday: 1,
    });
    expect(orders[0]!['discount_mean']).toBeCloseTo(0.1, 12);
    expect(orders[1]).toMatchObject({ segment_corporate: 1, region_code: 1, ship_days: 0 });
    const sales = [150, 200, 30, 10];
    const mean = 97.5;
    const sd = Math.sqrt(sales.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    orders.forEach((r, i) => {
      expect(r['sales_z']).toBeCloseTo((sales[i]! - mean) / sd, 12);
    });
  });
});
