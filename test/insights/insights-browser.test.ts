/**
 * The insights app in a real browser: a warehouse built by the real CLI (`etl run`) from three differently
 * shaped datasets (a Supermarket-sales-like file, a Walmart-like `walmart_train.csv`, and the generated sample,
 * loaded last so it is the default), the analyze stage called over HTTP on the loader app, the insights app on
 * a loopback port, headless Chromium. Screenshots go to test-artifacts/ (gitignored).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '@etl/common/http';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { createInsightsApp } from '@etl/insights/app';
import { createLoaderApp } from '@etl/loader/app';
import { load } from '@etl/loader/stage';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { etl, parseJsonStdout, REPO_ROOT } from '../e2e/cli';
import { type Browser, hasChromium, launchChromium, type Page } from './chromium';
import { supermarketCsv, supermarketLines, walmartLines, walmartTrainCsv } from './datasets';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
const chromium = hasChromium();

let dataDir: string;
let warehouse: DuckDbWarehouse;
let server: RunningServer;
let browser: Browser;
let runId: string;
/** The generated sample's dataset id (`_source`). */
let sampleSource: string;

const SUPERMARKET = 'local/files/supermarket-sales';
const WALMART = 'local/files/walmart-train';

beforeAll(async () => {
  if (!chromium) return;
  dataDir = await mkdtemp(path.join(tmpdir(), 'insights-browser-'));
  for (const [file, csv] of [
    ['supermarket_sales.csv', supermarketCsv()],
    ['walmart_train.csv', walmartTrainCsv()],
  ] as const) {
    const csvPath = path.join(dataDir, file);
    await writeFile(csvPath, csv);
    const loaded = await etl(['run', '--json', '--source', `local:${csvPath}`, '--data-dir', dataDir]);
    expect(loaded.code, loaded.stderr).toBe(0);
  }
  const result = await etl(['run', '--json', '--rows', '3000', '--data-dir', dataDir]);
  expect(result.code, result.stderr).toBe(0);
  runId = parseJsonStdout<{ runId: string }>(result).runId;
  const store = new LocalBlobStore(path.join(dataDir, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(dataDir, 'warehouse.duckdb') });
  const analyzed = await request(createLoaderApp({ store, warehouse, logger: createSilentLogger() }))
    .post('/v1/analyze')
    .send({ runId });
  expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
  const app = createInsightsApp(
    { warehouse, store, logger: createSilentLogger() },
    { cacheSeconds: 60, pollSeconds: 1 },
  );
  server = await startServer(app, '127.0.0.1', 0);
  browser = await launchChromium();
  await mkdir(ARTIFACTS, { recursive: true });
  const [sample] = await warehouse.query('SELECT any_value(_source) AS source FROM sales');
  sampleSource = String(sample!.source);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  // The app's poll of the warehouse may still be opening the file (DuckDB then writes beside it): a removal
  // racing it once failed with ENOTEMPTY; rm retries that.
  if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

/** A page that records console errors and every request that leaves the app. */
async function openPage(pathname: string, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) foreign.push(r.url());
  });
  await page.goto(`${server.url}${pathname}`);
  await waitReady(page, 0);
  return { page, errors, foreign };
}

async function waitReady(page: Page, previousRefreshes: number): Promise<number> {
  await page.waitForFunction(
    (n) => document.body.dataset.state === 'ready' && Number(document.body.dataset.refreshes ?? 0) > n,
    previousRefreshes,
  );
  return page.evaluate(() => Number(document.body.dataset.refreshes));
}

const tileValue = (page: Page, id: string) =>
  page.$eval(`#${id}`, (el) => Number((el as HTMLElement).dataset.value));

/** Sum of a chart series, read from the ECharts instance the page drew. */
const seriesSum = (page: Page, chartId: string, seriesName: string) =>
  page.evaluate(
    ([id, name]) => {
      const chart = (
        window as unknown as { echarts: { getInstanceByDom(el: Element): { getOption(): unknown } } }
      ).echarts.getInstanceByDom(document.getElementById(id!)!);
      const option = chart.getOption() as { series: Array<{ name: string; data: Array<number | null> }> };
      const series = option.series.find((s) => s.name === name)!;
      return {
        sum: series.data.reduce<number>((a, v) => a + (v ?? 0), 0),
        points: series.data.filter((v) => v !== null).length,
      };
    },
    [chartId, seriesName],
  );

/** Painted pixels of the canvas an ECharts chart draws in: more than a few means something was drawn. */
const canvasInk = (page: Page, chartId: string) =>
  page.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`[id="${id}"] canvas`);
    if (!canvas) return 0;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
    return painted;
  }, chartId);

/** Selects an option and waits for the page to redraw. */
async function choose(page: Page, selector: string, value: string): Promise<void> {
  const before = await page.evaluate(() => Number(document.body.dataset.refreshes));
  await page.selectOption(selector, value);
  await waitReady(page, before);
}

async function sqlTotals(from: string, to: string, region?: string) {
  const [row] = await warehouse.query(
    `SELECT sum(sales) AS revenue, count(DISTINCT order_id)::INT AS orders, sum(profit) / sum(sales) AS margin
     FROM sales WHERE order_date BETWEEN $1::DATE AND $2::DATE ${region ? 'AND region = $3' : ''}`,
    region ? [from, to, region] : [from, to],
  );
  return row as { revenue: number; orders: number; margin: number };
}

describe.skipIf(!chromium)(
  `insights app in Chromium${chromium ? '' : ' [skipped: /usr/bin/chromium not found; CI installs it with apt]'}`,
  () => {
    test('sales monitoring: KPI tiles match the warehouse, the region filter updates every chart', async () => {
      const { page, errors, foreign } = await openPage('/');
      const from = await page.inputValue('#filter-from');
      const to = await page.inputValue('#filter-to');
      expect(from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const all = await sqlTotals(from, to);
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo(all.revenue, 6);
      expect(await tileValue(page, 'kpi-orders')).toBe(all.orders);
      expect(await tileValue(page, 'kpi-aov')).toBeCloseTo(all.revenue / all.orders, 6);
      expect(await tileValue(page, 'kpi-margin')).toBeCloseTo(all.margin, 9);
      expect(await page.textContent('#kpi-revenue .value')).toBe(
        new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(all.revenue),
      );
      expect(await page.getAttribute('#kpi-revenue', 'aria-label')).toMatch(
        /^Revenue from .+ (up|down|unchanged)/,
      );
      expect((await seriesSum(page, 'chart-revenue', 'Revenue')).sum).toBeCloseTo(all.revenue, 4);
      expect(await page.locator('#runs tbody tr').count()).toBeGreaterThanOrEqual(1);
      expect(await page.textContent('#runs tbody')).toContain(runId);
      expect(await page.textContent('#freshness')).toContain(runId);
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-monitoring.png'), fullPage: true });

      expect(await page.inputValue('#filter-source')).toBe(sampleSource); // the newest dataset
      await choose(page, 'select[data-dimension="region"]', 'West');
      const west = await sqlTotals(from, to, 'West');
      expect(west.revenue).toBeLessThan(all.revenue);
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo(west.revenue, 6);
      expect(await tileValue(page, 'kpi-orders')).toBe(west.orders);
      expect((await seriesSum(page, 'chart-revenue', 'Revenue')).sum).toBeCloseTo(west.revenue, 4);
      expect((await seriesSum(page, 'chart-by-region', 'Revenue')).points).toBe(1);
      expect((await seriesSum(page, 'chart-by-category', 'Revenue')).sum).toBeCloseTo(west.revenue, 4);
      expect(page.url()).toContain('region=West');

      const months = (await seriesSum(page, 'chart-revenue', 'Revenue')).points;
      const grainBefore = await page.evaluate(() => Number(document.body.dataset.refreshes));
      await page.click('[data-grain="day"]');
      await waitReady(page, grainBefore);
      const days = await seriesSum(page, 'chart-revenue', 'Revenue');
      expect(days.points).toBeGreaterThan(months);
      expect(days.sum).toBeCloseTo(west.revenue, 4);

      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      await page.close();
    });

    test('the layout holds at phone width', async () => {
      const { page, errors } = await openPage('/', { width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-monitoring-phone.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });

    test('ML insights: forecast with intervals, holdout metrics, segments, anomalies and drivers render', async () => {
      const { page, errors, foreign } = await openPage('/ml');
      const metrics = Object.fromEntries(
        (
          await warehouse.query('SELECT metric, value FROM ml_metrics WHERE _source = $1', [sampleSource])
        ).map((r) => [r.metric, r.value as number]),
      );
      const forecast = await seriesSum(page, 'chart-forecast', 'Forecast');
      expect(forecast.points).toBe(12);
      const [future] = await warehouse.query(
        'SELECT sum(forecast) AS total FROM ml_forecast WHERE _source = $1',
        [sampleSource],
      );
      expect(forecast.sum).toBeCloseTo(future!.total as number, 4);
      expect((await seriesSum(page, 'chart-forecast', '95% interval')).points).toBe(12);
      expect((await seriesSum(page, 'chart-forecast', 'Actual')).points).toBe(metrics.forecast_months);
      // `etl run --rows 3000` generates 36 months: a holdout year is evaluated.
      expect(await page.textContent('#metric-ratio .value')).toBe(metrics.holdout_mae_ratio!.toFixed(3));
      expect(await page.textContent('#metric-mase .value')).toBe(metrics.holdout_mase_model!.toFixed(3));
      expect(await page.textContent('#metric-mase .delta')).toContain(metrics.holdout_mase_naive!.toFixed(3));
      expect(await page.textContent('#metric-smape .value')).toBe(
        `${metrics.holdout_smape_model!.toFixed(1)}%`,
      );
      expect(await page.textContent('#forecast-note')).toMatch(/Holt-Winters/);

      const segments = await seriesSum(page, 'chart-segments', 'Customers');
      expect(segments.sum).toBe(metrics.customers);
      expect(await page.locator('#segment-profiles tbody tr').count()).toBe(metrics.segments_k);
      expect(await page.textContent('#anomalies-rule')).toContain('1.4826');
      expect((await seriesSum(page, 'chart-anomalies', 'Anomaly')).points).toBe(metrics.anomaly_flagged);
      expect(await page.textContent('#drivers-note')).toContain('correlate');
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-ml.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      await page.close();
    });

    test('any dataset: the selector switches between differently shaped datasets; tiles, filters and charts follow', async () => {
      const { page, errors, foreign } = await openPage('/');
      const options = await page.$$eval('#filter-source option', (os) =>
        os.map((o) => (o as HTMLOptionElement).value),
      );
      expect(options).toEqual([sampleSource, WALMART, SUPERMARKET]); // newest first

      // Supermarket sales: invoices and units, four dimensions; no profit, products or customers.
      await choose(page, '#filter-source', SUPERMARKET);
      expect(page.url()).toContain(`source=${encodeURIComponent(SUPERMARKET)}`);
      const range = [await page.inputValue('#filter-from'), await page.inputValue('#filter-to')];
      expect(range).toEqual(['2019-01-01', '2019-03-30']); // all of it: under 365 days
      const lines = supermarketLines();
      const revenue = lines.reduce((sum, l) => sum + l.total, 0);
      const units = lines.reduce((sum, l) => sum + l.quantity, 0);
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo(revenue, 6);
      expect(await tileValue(page, 'kpi-orders')).toBe(new Set(lines.map((l) => l.invoice_id)).size);
      expect(await page.textContent('#kpi-orders .label')).toBe('Orders');
      expect(await tileValue(page, 'kpi-units')).toBe(units);
      expect(await page.isHidden('#kpi-margin')).toBe(true);
      expect(await page.isHidden('[aria-label="Top lists"]')).toBe(true);
      const dimensions = await page.$$eval('#breakdowns [data-dimension]', (els) =>
        els.map((e) => (e as HTMLElement).dataset.dimension),
      );
      expect(dimensions).toEqual(['product_line', 'branch', 'customer_type', 'payment']);
      for (const id of ['chart-revenue', ...dimensions.map((d) => `chart-by-${d}`)]) {
        expect(await canvasInk(page, id), id).toBeGreaterThan(1000);
      }
      expect(await page.getAttribute('[data-grain="week"]', 'aria-pressed')).toBe('true'); // 13 weeks
      expect((await seriesSum(page, 'chart-revenue', 'Revenue')).sum).toBeCloseTo(revenue, 4);
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-supermarket.png'), fullPage: true });

      await choose(page, 'select[data-dimension="branch"]', 'B');
      const branchB = lines.filter((l) => l.branch === 'B').reduce((sum, l) => sum + l.total, 0);
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo(branchB, 6);
      expect((await seriesSum(page, 'chart-by-product_line', 'Revenue')).sum).toBeCloseTo(branchB, 4);

      // Walmart: weekly sales per store and department; no order id (rows are counted), no units, no margin.
      await choose(page, '#filter-source', WALMART);
      expect(page.url()).not.toContain('branch=');
      const weeks = walmartLines();
      expect([await page.inputValue('#filter-from'), await page.inputValue('#filter-to')]).toEqual([
        '2011-01-07',
        '2011-12-16',
      ]);
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo(
        weeks.reduce((sum, l) => sum + l.weekly_sales, 0),
        6,
      );
      expect(await page.textContent('#kpi-orders .label')).toBe('Rows');
      expect(await tileValue(page, 'kpi-orders')).toBe(weeks.length);
      expect(await page.isHidden('#kpi-units')).toBe(true);
      expect(await page.isHidden('#kpi-margin')).toBe(true);
      expect(await page.isHidden('[data-grain="day"]')).toBe(true); // weekly dates
      const walmartDimensions = await page.$$eval('#breakdowns [data-dimension]', (els) =>
        els.map((e) => (e as HTMLElement).dataset.dimension),
      );
      expect(walmartDimensions).toEqual(['dept', 'store', 'is_holiday']);
      for (const id of ['chart-revenue', ...walmartDimensions.map((d) => `chart-by-${d}`)]) {
        expect(await canvasInk(page, id), id).toBeGreaterThan(1000);
      }
      await choose(page, 'select[data-dimension="store"]', '2');
      expect(await tileValue(page, 'kpi-orders')).toBe(weeks.filter((l) => l.store === 2).length);
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-walmart.png'), fullPage: true });

      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      await page.close();
    });

    test('ML insights for a non-sales dataset: a weekly forecast, anomalies and drivers; segments say why not', async () => {
      const { page, errors, foreign } = await openPage(`/ml?source=${encodeURIComponent(WALMART)}`);
      expect(await page.inputValue('#filter-source')).toBe(WALMART);
      expect(await page.textContent('#forecast-title')).toBe('Weekly revenue forecast');
      const [horizon] = await warehouse.query(
        "SELECT value FROM ml_metrics WHERE _source = $1 AND metric = 'forecast_horizon'",
        [WALMART],
      );
      expect((await seriesSum(page, 'chart-forecast', 'Forecast')).points).toBe(horizon!.value);
      for (const id of ['chart-forecast', 'chart-anomalies', 'chart-drivers-share']) {
        expect(await canvasInk(page, id), id).toBeGreaterThan(1000);
      }
      expect(await page.textContent('#segments-note')).toContain('no customer column');
      expect(await page.isHidden('#card-segment-profiles')).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'insights-ml-walmart.png'), fullPage: true });

      await choose(page, '#filter-source', SUPERMARKET);
      expect(await page.textContent('#forecast-title')).toBe('Daily revenue forecast'); // three months of data
      expect(await canvasInk(page, 'chart-forecast')).toBeGreaterThan(1000);
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      await page.close();
    });

    test('the monitoring page refreshes itself when a new run lands', async () => {
      const { page } = await openPage('/');
      const before = await page.evaluate(() => Number(document.body.dataset.refreshes));
      // A new run of the same dataset: the first run's extract and transform outputs under a new runId,
      // loaded by the real load stage (a second `etl run` would do the same, only slower).
      const store = new LocalBlobStore(path.join(dataDir, 'blobs'));
      const next = `${runId}-2`;
      for (const info of await store.list(`runs/${runId}/`)) {
        if (/\/(manifest\/(load|analyze)|reports\/load)\.json$/.test(info.key)) continue;
        const body = await store.get(info.key);
        const key = info.key.replace(`runs/${runId}/`, `runs/${next}/`);
        await store.put(key, key.endsWith('.json') ? body.toString('utf8').replaceAll(runId, next) : body);
      }
      await load({ runId: next }, { store, warehouse, logger: createSilentLogger() });
      await waitReady(page, before);
      await page.waitForFunction(
        (id) => document.getElementById('freshness')?.textContent?.includes(id),
        next,
      );
      expect(await page.textContent('#message')).toContain(next);
      expect(await page.textContent('#runs tbody')).toContain(next);
      const from = await page.inputValue('#filter-from');
      const to = await page.inputValue('#filter-to');
      expect(await tileValue(page, 'kpi-revenue')).toBeCloseTo((await sqlTotals(from, to)).revenue, 6);
      await page.close();
    });
  },
);
