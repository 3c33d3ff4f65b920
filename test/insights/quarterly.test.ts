/**
 * A quarterly report, as a German finance team exports it: `2021-Q1` periods, `;`-delimited, decimal commas and
 * the revenue's currency in its header (`Umsatz (EUR)`). Through extract, transform, load and analyze in process:
 * the period is a DATE (the quarter's first day), the revenue is the amount despite its unit, the forecast runs by
 * quarter, and the insights app shows it so. The expected sums are computed here from the rows written.
 */
import { createSilentLogger } from '@etl/common/logging';
import { createInsightsApp } from '@etl/insights/app';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runStages, type StagesRun } from './stages-in-process';

const BRANCHES = ['Berlin Mitte', 'München', 'Hamburg'];

/** 12 quarters (2021-Q1 .. 2023-Q4) of three branches; the fourth quarter sells more. */
const rows = Array.from({ length: 12 * BRANCHES.length }, (_, i) => {
  const q = Math.floor(i / BRANCHES.length);
  return {
    period: `${2021 + Math.floor(q / 4)}-Q${(q % 4) + 1}`,
    branch: BRANCHES[i % BRANCHES.length]!,
    revenue: 1000 + ((i * 137) % 900) + (q % 4 === 3 ? 300 : 0) + (i % 4) / 4,
  };
});
/** `1.234,50`, as the file writes it. */
const german = (n: number) =>
  n
    .toLocaleString('en-US', { minimumFractionDigits: 2 })
    .replaceAll(',', ' ')
    .replace('.', ',')
    .replaceAll(' ', '.');

let run: StagesRun;

beforeAll(async () => {
  const csv = [
    'Quartal;Filiale;Umsatz (EUR)',
    ...rows.map((r) => `${r.period};${r.branch};"${german(r.revenue)}"`),
  ].join('\n');
  run = await runStages('quartalsbericht.csv', `${csv}\n`);
});
afterAll(async () => {
  await run?.cleanup();
});

test('the quarter is a DATE, the revenue the amount; the forecast runs by quarter', async () => {
  const [loaded] = await run.warehouse.query(
    `SELECT count(*)::INT AS n, sum(umsatz_eur) AS revenue, min(quartal)::VARCHAR AS first, max(quartal)::VARCHAR AS last
     FROM quartalsbericht`,
  );
  expect(loaded).toMatchObject({ n: rows.length, first: '2021-01-01', last: '2023-10-01' });
  expect(loaded?.['revenue'] as number).toBeCloseTo(
    rows.reduce((sum, r) => sum + r.revenue, 0),
    6,
  );
  expect(run.analyzed['roles']).toMatchObject({
    event_time: { column: 'quartal' },
    amount: { column: 'umsatz_eur' },
  });
  expect(run.analyzed['forecast']).toMatchObject({ grain: 'quarter', periods: 12, horizon: 4 });
});

test('the insights app shows the forecast by quarter, one point a quarter, actuals adding up', async () => {
  const app = createInsightsApp(
    { warehouse: run.warehouse, store: run.store, logger: createSilentLogger() },
    { cacheSeconds: 0 },
  );
  const forecast = await request(app).get('/api/forecast');
  expect(forecast.status).toBe(200);
  expect(forecast.body).toMatchObject({ available: true, grain: 'quarter' });
  const points = forecast.body.points as Array<{
    month: string;
    actual: number | null;
    forecast: number | null;
  }>;
  expect(points.map((p) => p.month)).toEqual([
    ...['2021', '2022', '2023', '2024'].flatMap((y) => ['01', '04', '07', '10'].map((m) => `${y}-${m}`)),
  ]);
  const actual = points.reduce((sum, p) => sum + (p.actual ?? 0), 0);
  expect(actual).toBeCloseTo(
    rows.reduce((sum, r) => sum + r.revenue, 0),
    6,
  );
  expect(points.slice(-4).every((p) => p.actual === null && p.forecast !== null)).toBe(true);
});
