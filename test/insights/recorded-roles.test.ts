/**
 * Roles decided at transform time travel with the load: a Walmart-like `train.csv` with two sales figures,
 * run through extract, transform (a profile whose `roles:` picks `Gross_Sales` as the amount, where inference
 * picks `Weekly_Sales`), load and analyze in process. The analyze stage and the insights app both use the
 * recorded amount; without the recorded roles (a warehouse loaded before they were recorded) the app infers
 * them again from the columns.
 */
import { createSilentLogger } from '@etl/common/logging';
import { TABLE_METADATA } from '@etl/common/warehouse';
import { createInsightsApp } from '@etl/insights/app';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { walmartLines } from './datasets';
import { runStages, type StagesRun } from './stages-in-process';

const logger = createSilentLogger();
const lines = walmartLines().map((l) => ({ ...l, gross_sales: l.weekly_sales + 100 * l.store }));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

let run: StagesRun;

beforeAll(async () => {
  const csv = `${[
    'Store,Dept,Date,Weekly_Sales,Gross_Sales,IsHoliday',
    ...lines.map((l) => [l.store, l.dept, l.date, l.weekly_sales, l.gross_sales, l.is_holiday].join(',')),
  ].join('\n')}\n`;
  run = await runStages('walmart_train.csv', csv, {
    name: 'walmart',
    yaml: 'roles:\n  amount: Gross_Sales\n',
  });
});
afterAll(async () => {
  await run?.cleanup();
});

async function kpis(): Promise<{ source: string; columns: { revenue: string }; revenue: { value: number } }> {
  const app = createInsightsApp({ warehouse: run.warehouse, store: run.store, logger }, { cacheSeconds: 0 });
  const datasets = await request(app).get('/api/datasets');
  expect(datasets.status).toBe(200);
  // The metadata table is no dataset table.
  expect(datasets.body.datasets[0].tables).toEqual([{ name: 'walmart_train', rows: lines.length }]);
  const source = datasets.body.datasets[0].id as string;
  const res = await request(app).get(
    `/api/kpis?source=${encodeURIComponent(source)}&from=2011-01-01&to=2011-12-31`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

test("the analyze stage uses the profile's amount, recorded with the load", async () => {
  expect(run.analyzed['table']).toBe('walmart_train');
  expect(run.analyzed['roles']).toMatchObject({
    amount: {
      column: 'gross_sales',
      confidence: 1,
      evidence: 'set by profile profiles/walmart.yaml (roles.amount)',
    },
    event_time: { column: 'date' },
    returns: { net: false },
  });
  const [metric] = await run.warehouse.query("SELECT note FROM ml_metrics WHERE metric = 'role_amount'");
  expect(metric?.['note']).toMatch(/^gross_sales: set by profile/);
});

test('the insights KPIs follow the recorded amount; without the record they infer it again', async () => {
  const recorded = await kpis();
  expect(recorded.columns.revenue).toBe('gross_sales');
  expect(recorded.revenue.value).toBeCloseTo(sum(lines.map((l) => l.gross_sales)), 6);

  await run.warehouse.query(`DROP TABLE ${TABLE_METADATA}`);
  const inferred = await kpis();
  expect(inferred.columns.revenue).toBe('weekly_sales');
  expect(inferred.revenue.value).toBeCloseTo(sum(lines.map((l) => l.weekly_sales)), 6);
});
