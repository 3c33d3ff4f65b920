/**
 * The analyze stage (the ML step after load): reads the run's dataset slice of `sales` from the warehouse,
 * computes the monthly revenue forecast, customer segments, daily revenue anomalies and revenue drivers
 * with @etl/ml, and writes them as `ml_*` tables with `warehouse.load` under the same `_source`, so one
 * transaction replaces the dataset's previous results. The manifest is written last; calling again with
 * the same runId returns it without recomputing.
 *
 * Aggregation (monthly and daily revenue, RFM per customer, the driver cube, the discount/margin
 * regression) happens in SQL, so only small tables leave the warehouse; the models run in process. The
 * SQL runs on DuckDB and BigQuery alike: portable forms, plus `warehouse.dialect` where they differ.
 */
import { writeArrowTable } from '@etl/common/arrow';
import {
  type AnalyzeRequest,
  type AnalyzeResponse,
  analyzeRequestSchema,
  analyzeResponseSchema,
  type ExtractResponse,
  type LoadResponse,
} from '@etl/common/contracts';
import { ConflictError, DataRejectedError, NotFoundError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, getJson, manifestKey, putJson, readStageManifest } from '@etl/common/storage';
import { dateText, type Row, type TableLoad, type Warehouse } from '@etl/common/warehouse';
import {
  ANOMALY_RULE,
  detectAnomalies,
  discountBand,
  forecastSeries,
  type RfmRow,
  revenueDrivers,
  type SeriesForecast,
  segmentCustomers,
} from '@etl/ml';
import { Bool, type DataType, DateDay, Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';

export const ML_TABLES = [
  'ml_forecast',
  'ml_segments',
  'ml_segment_profiles',
  'ml_anomalies',
  'ml_drivers',
  'ml_metrics',
] as const;

export interface AnalyzeDeps {
  store: BlobStore;
  warehouse: Warehouse;
  logger: Logger;
  now?: () => Date;
}

const PERIOD = 12;
const HORIZON = 12;
const MIN_CUSTOMERS = 10;
const DAY_MS = 86_400_000;

export async function analyze(request: AnalyzeRequest, deps: AnalyzeDeps): Promise<AnalyzeResponse> {
  const { runId } = analyzeRequestSchema.parse(request);
  const { store, warehouse } = deps;
  const logger = deps.logger.child({ runId, stage: 'analyze' });
  const doneKey = manifestKey(runId, 'analyze');
  if (await store.exists(doneKey)) {
    logger.info('already analyzed; returning the stored manifest');
    return analyzeResponseSchema.parse(await getJson(store, doneKey));
  }
  const extract = await readStageManifest<ExtractResponse>(store, runId, 'extract');
  await readStageManifest<LoadResponse>(store, runId, 'load');
  const source = extract.dataset.id;
  await assertSliceOwnedByRun(warehouse, source, runId);
  const started = Date.now();
  const { dialect } = warehouse;

  const monthly = fillMonths(
    await warehouse.query(
      `SELECT ${dateText(dialect.truncateDate('order_date', 'month'))} AS month, sum(sales) AS revenue
       FROM sales WHERE _source = $1 AND order_date IS NOT NULL AND sales IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [source],
    ),
  );
  if (monthly.length < 2) {
    throw new DataRejectedError(
      `expected sales of at least 2 months for dataset ${source} to forecast, found ${monthly.length}`,
      { runId },
    );
  }
  const forecast = forecastSeries(
    monthly.map((m) => m.revenue),
    { period: PERIOD, horizon: HORIZON },
  );

  const daily = fillDays(
    await warehouse.query(
      `SELECT ${dateText('order_date')} AS day, sum(sales) AS revenue
       FROM sales WHERE _source = $1 AND order_date IS NOT NULL AND sales IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [source],
    ),
  );
  const anomalies = detectAnomalies(daily.map((d) => d.revenue));

  // Recency: days from the customer's last order to the day after the last order in the data.
  const rfm = await warehouse.query(
    `WITH lines AS (
       SELECT customer_id, customer_name, order_id, order_date, sales FROM sales
       WHERE _source = $1 AND customer_id IS NOT NULL AND order_date IS NOT NULL AND sales IS NOT NULL),
     latest AS (SELECT max(order_date) AS last_day FROM lines)
     SELECT customer_id, any_value(customer_name) AS customer_name,
            ${dialect.dayDiff('max(order_date)', 'max(last_day)')} + 1 AS recency_days,
            count(DISTINCT order_id) AS frequency, sum(sales) AS monetary
     FROM lines CROSS JOIN latest GROUP BY customer_id ORDER BY customer_id`,
    [source],
  );
  const rfmRows: RfmRow[] = rfm.map((r) => ({
    customerId: String(r.customer_id),
    recencyDays: Number(r.recency_days),
    frequency: Number(r.frequency),
    monetary: Number(r.monetary),
  }));
  const segmentation = rfmRows.length >= MIN_CUSTOMERS ? segmentCustomers(rfmRows) : undefined;

  const cube = await warehouse.query(
    `SELECT category, region, segment,
            CASE WHEN coalesce(discount, 0) <= 0 THEN 0 WHEN discount <= 0.2 THEN 0.2
                 WHEN discount <= 0.4 THEN 0.4 ELSE 1 END AS band_discount,
            count(*) AS lines, sum(sales) AS sales, sum(coalesce(profit, 0)) AS profit
     FROM sales WHERE _source = $1 AND sales IS NOT NULL GROUP BY 1, 2, 3, 4`,
    [source],
  );
  const drivers = revenueDrivers(
    cube.map((r) => ({
      groups: {
        category: text(r.category),
        region: text(r.region),
        segment: text(r.segment),
        discount: discountBand(Number(r.band_discount)),
      },
      sales: Number(r.sales),
      profit: Number(r.profit),
      discount: Number(r.band_discount),
      count: Number(r.lines),
    })),
    ['category', 'region', 'segment', 'discount'],
  );
  // Least squares of line margin on discount: slope = cov(x, y) / var(x), intercept = mean(y) - slope
  // mean(x) (BigQuery has no regr_slope).
  const [effect] = await warehouse.query(
    `WITH margins AS (
       SELECT discount AS x, profit / nullif(sales, 0) AS y FROM sales
       WHERE _source = $1 AND sales > 0 AND discount IS NOT NULL AND profit IS NOT NULL),
     fit AS (SELECT count(*) AS lines, corr(x, y) AS correlation,
                    covar_pop(x, y) / nullif(var_pop(x), 0) AS slope, avg(x) AS mean_x, avg(y) AS mean_y
             FROM margins)
     SELECT lines, correlation, slope, mean_y - slope * mean_x AS intercept FROM fit`,
    [source],
  );

  const names = new Map(
    rfm.map((r) => [String(r.customer_id), r.customer_name === null ? null : String(r.customer_name)]),
  );
  const tables: TableLoad[] = [
    { table: 'ml_forecast', arrow: forecastTable(monthly, forecast) },
    {
      table: 'ml_segments',
      arrow: arrowTable({
        customer_id: [new Utf8(), segmentation?.customers.map((c) => c.customerId) ?? []],
        customer_name: [
          new Utf8(),
          segmentation?.customers.map((c) => names.get(c.customerId) ?? null) ?? [],
        ],
        recency_days: [new Int32(), segmentation?.customers.map((c) => c.recencyDays) ?? []],
        frequency: [new Int32(), segmentation?.customers.map((c) => c.frequency) ?? []],
        monetary: [new Float64(), segmentation?.customers.map((c) => c.monetary) ?? []],
        segment: [new Int32(), segmentation?.customers.map((c) => c.segment) ?? []],
        segment_label: [new Utf8(), segmentation?.customers.map((c) => c.label) ?? []],
      }),
    },
    {
      table: 'ml_segment_profiles',
      arrow: arrowTable({
        segment: [new Int32(), segmentation?.profiles.map((p) => p.segment) ?? []],
        segment_label: [new Utf8(), segmentation?.profiles.map((p) => p.label) ?? []],
        customers: [new Int32(), segmentation?.profiles.map((p) => p.customers) ?? []],
        customer_share: [new Float64(), segmentation?.profiles.map((p) => p.share) ?? []],
        mean_recency_days: [new Float64(), segmentation?.profiles.map((p) => p.meanRecencyDays) ?? []],
        mean_frequency: [new Float64(), segmentation?.profiles.map((p) => p.meanFrequency) ?? []],
        mean_monetary: [new Float64(), segmentation?.profiles.map((p) => p.meanMonetary) ?? []],
        revenue_share: [new Float64(), segmentation?.profiles.map((p) => p.revenueShare) ?? []],
      }),
    },
    {
      table: 'ml_anomalies',
      arrow: arrowTable({
        date: [new DateDay(), daily.map((d) => new Date(d.time))],
        revenue: [new Float64(), anomalies.map((a) => a.value)],
        baseline: [new Float64(), anomalies.map((a) => a.baseline)],
        scale: [new Float64(), anomalies.map((a) => a.scale)],
        score: [new Float64(), anomalies.map((a) => a.score)],
        is_anomaly: [new Bool(), anomalies.map((a) => a.isAnomaly)],
        direction: [new Utf8(), anomalies.map((a) => a.direction)],
      }),
    },
    {
      table: 'ml_drivers',
      arrow: arrowTable({
        dimension: [new Utf8(), drivers.map((d) => d.dimension)],
        key: [new Utf8(), drivers.map((d) => d.key)],
        lines: [new Int32(), drivers.map((d) => d.lines)],
        revenue: [new Float64(), drivers.map((d) => d.revenue)],
        revenue_share: [new Float64(), drivers.map((d) => d.revenueShare)],
        profit: [new Float64(), drivers.map((d) => d.profit)],
        profit_share: [new Float64(), drivers.map((d) => d.profitShare)],
        margin: [new Float64(), drivers.map((d) => d.margin)],
      }),
    },
  ];

  const metrics: Array<[string, number | null, string | null]> = [
    ['forecast_method', null, forecast.method],
    ['forecast_months', monthly.length, `${monthly[0]!.month} .. ${monthly.at(-1)!.month}`],
    ['forecast_horizon', HORIZON, null],
    ['forecast_period', PERIOD, null],
    ['interval_level', forecast.forecast.level, null],
  ];
  if (forecast.params) {
    metrics.push(
      ['hw_alpha', forecast.params.alpha, null],
      ['hw_beta', forecast.params.beta, null],
      ['hw_gamma', forecast.params.gamma, null],
      ['hw_sigma', Math.sqrt(forecast.sigma2 ?? 0), 'residual standard deviation of one-step errors'],
    );
  }
  const holdout = forecast.holdout;
  if (holdout) {
    metrics.push(
      ['holdout_months', holdout.size, `${monthly.at(-holdout.size)!.month} .. ${monthly.at(-1)!.month}`],
      ['holdout_mae_model', holdout.maeModel, null],
      ['holdout_mae_naive', holdout.maeNaive, null],
      ['holdout_mae_ratio', holdout.maeRatio, 'MAE(Holt-Winters) / MAE(seasonal naive)'],
      ['holdout_mase_model', holdout.maseModel, null],
      ['holdout_mase_naive', holdout.maseNaive, null],
      ['holdout_smape_model', holdout.smapeModel, 'percent'],
      ['holdout_smape_naive', holdout.smapeNaive, 'percent'],
      ['holdout_interval_coverage', holdout.coverage, null],
    );
  }
  metrics.push(['customers', rfmRows.length, null]);
  if (segmentation) {
    metrics.push(['segments_k', segmentation.k, 'chosen by the highest mean silhouette over k = 2..6']);
    metrics.push(['segments_silhouette', segmentation.silhouette, null]);
    for (const s of segmentation.silhouettes) metrics.push([`silhouette_k${s.k}`, s.silhouette, null]);
  }
  const flagged = anomalies.filter((a) => a.isAnomaly).length;
  metrics.push(['anomaly_days', daily.length, null], ['anomaly_flagged', flagged, ANOMALY_RULE]);
  if (effect && effect.lines !== 0 && effect.slope !== null) {
    metrics.push(
      ['discount_margin_lines', Number(effect.lines), null],
      [
        'discount_margin_correlation',
        numberOrNull(effect.correlation),
        'Pearson r of discount and line margin',
      ],
      [
        'discount_margin_slope',
        numberOrNull(effect.slope),
        'margin change per unit of discount (least squares)',
      ],
      ['discount_margin_intercept', numberOrNull(effect.intercept), null],
    );
  }
  tables.push({
    table: 'ml_metrics',
    arrow: arrowTable({
      metric: [new Utf8(), metrics.map((m) => m[0])],
      value: [new Float64(), metrics.map((m) => m[1])],
      note: [new Utf8(), metrics.map((m) => m[2])],
    }),
  });

  const analyzedAt = (deps.now ?? (() => new Date()))();
  const results = await warehouse.load({
    tables,
    source,
    runId,
    sourceVersion: extract.dataset.version,
    loadedAt: analyzedAt,
  });
  logger.info({ tables: results, ms: Date.now() - started, method: forecast.method }, 'analyzed');

  const response: AnalyzeResponse = {
    runId,
    dataset: { id: source, version: extract.dataset.version },
    forecast: {
      method: forecast.method,
      months: monthly.length,
      horizon: HORIZON,
      holdout: holdout
        ? {
            months: holdout.size,
            maeRatio: holdout.maeRatio,
            mase: holdout.maseModel,
            smape: holdout.smapeModel,
            maseNaive: holdout.maseNaive,
            smapeNaive: holdout.smapeNaive,
          }
        : null,
    },
    segments: segmentation
      ? { k: segmentation.k, silhouette: segmentation.silhouette, customers: rfmRows.length }
      : null,
    anomalies: { days: daily.length, flagged, rule: ANOMALY_RULE },
    tables: results.map((r) => ({ name: r.table, rowsLoaded: r.rowsLoaded })),
    analyzedAt: analyzedAt.toISOString(),
    manifestKey: doneKey,
  };
  await putJson(store, doneKey, response);
  return response;
}

/** The dataset's rows must still be the ones this run loaded; a later run owns them otherwise. */
async function assertSliceOwnedByRun(warehouse: Warehouse, source: string, runId: string): Promise<void> {
  const runs = await warehouse.query(
    'SELECT _run_id AS run_id, count(*) AS n FROM sales WHERE _source = $1 GROUP BY 1 ORDER BY 1',
    [source],
  );
  if (runs.length === 0) {
    throw new NotFoundError(`expected rows of dataset ${source} in table sales, found none`, { runId });
  }
  const owners = runs.map((r) => String(r.run_id));
  if (owners.length !== 1 || owners[0] !== runId) {
    throw new ConflictError(
      `expected the sales rows of dataset ${source} to be loaded by run ${runId}, found run ${owners.join(', ')}: analyze the latest run instead`,
      { runId },
    );
  }
}

interface MonthValue {
  month: string;
  revenue: number;
}

/** Every month from the first to the last, months without sales as 0. */
function fillMonths(rows: Row[]): MonthValue[] {
  if (rows.length === 0) return [];
  const byMonth = new Map(rows.map((r) => [String(r.month).slice(0, 7), Number(r.revenue)]));
  const first = String(rows[0]!.month);
  const last = String(rows.at(-1)!.month);
  const out: MonthValue[] = [];
  let year = Number(first.slice(0, 4));
  let month = Number(first.slice(5, 7));
  for (;;) {
    const key = `${year}-${String(month).padStart(2, '0')}`;
    out.push({ month: `${key}-01`, revenue: byMonth.get(key) ?? 0 });
    if (key === last.slice(0, 7)) break;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return out;
}

/** Every day from the first to the last, days without sales as 0. */
function fillDays(rows: Row[]): Array<{ time: number; revenue: number }> {
  if (rows.length === 0) return [];
  const byDay = new Map(rows.map((r) => [Date.parse(`${String(r.day)}T00:00:00Z`), Number(r.revenue)]));
  const first = Date.parse(`${String(rows[0]!.day)}T00:00:00Z`);
  const last = Date.parse(`${String(rows.at(-1)!.day)}T00:00:00Z`);
  const out: Array<{ time: number; revenue: number }> = [];
  for (let time = first; time <= last; time += DAY_MS) out.push({ time, revenue: byDay.get(time) ?? 0 });
  return out;
}

function addMonths(isoMonth: string, count: number): string {
  const date = new Date(`${isoMonth}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + count);
  return date.toISOString().slice(0, 10);
}

/** History rows (actual, fitted, holdout check) followed by the future months (forecast and interval). */
function forecastTable(monthly: MonthValue[], forecast: SeriesForecast): Uint8Array {
  const n = monthly.length;
  const holdout = forecast.holdout;
  const holdoutStart = holdout ? n - holdout.size : n;
  const atHoldout = (values: number[] | undefined, i: number): number | null =>
    values && i >= holdoutStart ? (values[i - holdoutStart] ?? null) : null;
  const rows = [
    ...monthly.map((m, i) => ({
      month: m.month,
      actual: m.revenue as number | null,
      fitted: forecast.fitted[i] ?? null,
      forecast: null as number | null,
      lower: null as number | null,
      upper: null as number | null,
      holdoutForecast: atHoldout(holdout?.forecast, i),
      holdoutLower: atHoldout(holdout?.lower, i),
      holdoutUpper: atHoldout(holdout?.upper, i),
      holdoutNaive: atHoldout(holdout?.naive, i),
    })),
    ...forecast.forecast.mean.map((mean, h) => ({
      month: addMonths(monthly.at(-1)!.month, h + 1),
      actual: null,
      fitted: null,
      forecast: mean,
      lower: forecast.forecast.lower[h]!,
      upper: forecast.forecast.upper[h]!,
      holdoutForecast: null,
      holdoutLower: null,
      holdoutUpper: null,
      holdoutNaive: null,
    })),
  ];
  return arrowTable({
    month: [new DateDay(), rows.map((r) => new Date(`${r.month}T00:00:00Z`))],
    actual: [new Float64(), rows.map((r) => r.actual)],
    fitted: [new Float64(), rows.map((r) => r.fitted)],
    forecast: [new Float64(), rows.map((r) => r.forecast)],
    lower: [new Float64(), rows.map((r) => r.lower)],
    upper: [new Float64(), rows.map((r) => r.upper)],
    holdout_forecast: [new Float64(), rows.map((r) => r.holdoutForecast)],
    holdout_lower: [new Float64(), rows.map((r) => r.holdoutLower)],
    holdout_upper: [new Float64(), rows.map((r) => r.holdoutUpper)],
    holdout_naive: [new Float64(), rows.map((r) => r.holdoutNaive)],
    method: [new Utf8(), rows.map(() => forecast.method)],
  });
}

/** An Arrow IPC file from typed columns; an empty column keeps its type, so empty tables have a schema. */
function arrowTable(columns: Record<string, [DataType, unknown[]]>): Uint8Array {
  const vectors = Object.fromEntries(
    Object.entries(columns).map(([name, [type, values]]) => [name, vectorFromArray(values as never[], type)]),
  );
  return writeArrowTable(new Table(vectors));
}

function text(value: unknown): string {
  return value === null || value === undefined ? '(missing)' : String(value);
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined || !Number.isFinite(Number(value)) ? null : Number(value);
}
