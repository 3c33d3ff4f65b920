/**
 * The analyze stage (the ML step after load). It assumes no column name: it reads the run's tables from
 * the load manifest (not `*_rejects`, `ml_*` or `*_features_*`), their columns from the warehouse's
 * information schema, and each table's roles (@etl/common/roles: event time, amount, customer, order,
 * dimensions, ...): as the transform stage decided them (a profile's `roles:` included) and the load recorded
 * them in `_etl_tables`, else inferred from the columns (a warehouse loaded before roles were recorded). The
 * fact table is the one with an event time and an amount and the most rows of this dataset (`_source`). On
 * it, it computes the revenue forecast (day, week or month by the data's span), daily revenue anomalies,
 * customer segments and revenue drivers with @etl/ml (the drivers also by the dimensions related tables lend it,
 * joined only on a certain key: @etl/common/fact-view), and writes them as `ml_*`
 * tables with `warehouse.load` under the same `_source`, so one transaction replaces the dataset's previous
 * results. The manifest is written last; calling again with the same runId returns it without recomputing.
 *
 * What the data cannot support (no customer column, too short a history, no table with a date and an
 * amount) is skipped with a reason, in the response and as `skipped_<output>` rows of `ml_metrics`, never
 * an error: only the warehouse itself failing, or the run's rows being gone or replaced, raise.
 *
 * Aggregation happens in SQL, so only small tables leave the warehouse; the models run in process. The SQL
 * runs on DuckDB and BigQuery alike (portable forms plus `warehouse.dialect`); column and table names come
 * from the warehouse and reach SQL only through `dialect.identifier`, user text only as parameters.
 */
import { writeArrowTable } from '@etl/common/arrow';
import {
  ANALYZE_GRAINS,
  type ANALYZE_OUTPUTS,
  type AnalyzeRequest,
  type AnalyzeResponse,
  analyzeRequestSchema,
  analyzeResponseSchema,
  type ExtractResponse,
  type LoadResponse,
} from '@etl/common/contracts';
import { ConflictError, NotFoundError } from '@etl/common/errors';
import {
  chooseFactTable,
  factSql as factExpressions,
  isDataTable,
  noFactTableReason,
  readTableColumns,
  readTableRoles,
} from '@etl/common/fact-table';
import {
  describeRelation,
  type FactView,
  factViewFrom,
  type Relation,
  readFactView,
} from '@etl/common/fact-view';
import type { Logger } from '@etl/common/logging';
import { returnsNote, returnsSql } from '@etl/common/returns';
import type { ColumnInfo, Roles } from '@etl/common/roles';
import { type BlobStore, getJson, manifestKey, putJson, readStageManifest } from '@etl/common/storage';
import { dateText, type Row, TABLE_METADATA, type TableLoad, type Warehouse } from '@etl/common/warehouse';
import {
  ANOMALY_RULE,
  ANOMALY_WINDOW,
  type AnomalyPoint,
  type DriverGroup,
  detectAnomalies,
  discountBand,
  forecastSeries,
  type RfmRow,
  revenueDrivers,
  type Segmentation,
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

type Grain = (typeof ANALYZE_GRAINS)[number];
type Output = (typeof ANALYZE_OUTPUTS)[number];
type Metric = [name: string, value: number | null, note: string | null];

/**
 * The forecast grain is the coarsest one the data's span supports: `min` periods spanned (first to last
 * date). `period` is the season length the models use; `horizon` the periods forecast.
 */
const GRAINS: Record<Grain, { min: number; period: number; horizon: number }> = {
  quarter: { min: 8, period: 4, horizon: 4 },
  month: { min: 24, period: 12, horizon: 12 },
  week: { min: 16, period: 52, horizon: 13 },
  day: { min: 28, period: 7, horizon: 28 },
};
const MIN_CUSTOMERS = 10;
/** The anomaly rule scores a point once 14 earlier ones exist. */
const MIN_ANOMALY_POINTS = 15;
const MAX_DIMENSIONS = 3;
/** Dimensions lent by related tables the drivers break revenue down by, besides the fact table's own. */
const MAX_LENT_DIMENSIONS = 2;
const MAX_DIMENSION_VALUES = 500;
const DAY_MS = 86_400_000;
/** Discount band codes of the drivers query, as the discount each stands for (see discountBand). */
const DISCOUNT_BANDS = [0, 0.2, 0.4, 1];

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
  const load = await readStageManifest<LoadResponse>(store, runId, 'load');
  const source = extract.dataset.id;
  const started = Date.now();
  // A dozen small queries share one read-only opening of the warehouse, during which the insights app and
  // `etl query` still read it (a read-write opening held the file: 2.6 s at 1M rows, 23 s at 10M); the
  // outputs are loaded after, on an opening of their own.
  const { fact, view, result } = await warehouse.session(
    () => analyzeSource(warehouse, load, source, runId),
    { readOnly: true },
  );
  const analyzedAt = (deps.now ?? (() => new Date()))();
  const results = await warehouse.load({
    tables: result.tables,
    source,
    runId,
    sourceVersion: extract.dataset.version,
    loadedAt: analyzedAt,
  });
  const status = !fact ? 'skipped' : result.skipped.length > 0 ? 'partial' : 'succeeded';

  logger.info(
    { table: fact?.name ?? null, status, skipped: result.skipped, tables: results, ms: Date.now() - started },
    'analyzed',
  );

  const response: AnalyzeResponse = {
    runId,
    dataset: { id: source, version: extract.dataset.version },
    status,
    table: fact?.name ?? null,
    roles: fact?.roles ?? null,
    relations: fact && view ? view.relations.map((r) => describeRelation(fact.name, r)) : [],
    notJoined: view?.notJoined ?? [],
    skipped: result.skipped,
    forecast: result.forecast,
    segments: result.segments,
    anomalies: result.anomalies,
    drivers: result.drivers,
    tables: results.map((r) => ({ name: r.table, rowsLoaded: r.rowsLoaded })),
    analyzedAt: analyzedAt.toISOString(),
    manifestKey: doneKey,
  };
  await putJson(store, doneKey, response);
  return response;
}

/** The fact table of the run's tables, its related tables, and what the ML stage computes on them. */
async function analyzeSource(
  warehouse: Warehouse,
  load: LoadResponse,
  source: string,
  runId: string,
): Promise<{ fact: TableProfile | undefined; view: FactView | undefined; result: Outputs }> {
  const profiles = await profileTables(warehouse, load, source, runId);
  const chosen = chooseFactTable(profiles);
  const fact = chosen && (await withReturns(warehouse, source, chosen));
  // The related tables whose dimensions the drivers may use (a store's type), joined only on a certain key.
  const view =
    fact &&
    (await readFactView(
      warehouse.dialect,
      (sql, params) => warehouse.query(sql, params),
      source,
      fact,
      profiles,
    ));
  const result =
    fact && view
      ? await analyzeFact(warehouse, source, fact, view)
      : skipAll(noFactTableReason(source, profiles));
  return { fact, view, result };
}

// ---- tables and roles ------------------------------------------------------------------------------

interface TableProfile {
  name: string;
  columns: ColumnInfo[];
  roles: Roles;
  /** Rows of this dataset. */
  rows: number;
}

/**
 * Columns, roles and rows of each data table of the load. The rows must still be this run's: a table of the
 * manifest that is gone, or whose rows are gone, is a 404; rows of the dataset loaded by another run are a
 * 409 (a later run replaced them: analyze that one).
 */
async function profileTables(
  warehouse: Warehouse,
  load: LoadResponse,
  source: string,
  runId: string,
): Promise<TableProfile[]> {
  const names = load.tables.map((t) => t.name).filter(isDataTable);
  if (names.length === 0) return [];
  const { dialect } = warehouse;
  const query = (sql: string, params?: unknown[]) => warehouse.query(sql, params);
  const columns = await readTableColumns(dialect, query, [...names, TABLE_METADATA]);
  // The roles the transform stage decided, recorded with the load; tables loaded before that infer theirs.
  const rolesOf = await readTableRoles(columns, query, source);
  const missing = names.filter((n) => !columns.has(n));
  if (missing.length > 0) {
    throw new NotFoundError(
      `expected the tables of the load manifest in the warehouse ${warehouse.location}, found none named ${missing.join(', ')}`,
      { runId },
    );
  }
  const counts = await warehouse.query(
    names
      .map(
        (n, i) =>
          `SELECT ${i} AS t, _run_id AS run_id, count(*) AS n FROM ${dialect.identifier(n)} WHERE _source = $1 GROUP BY 2`,
      )
      .join(' UNION ALL '),
    [source],
  );
  return names.map((name, i) => {
    const runs = counts.filter((c) => Number(c.t) === i);
    const others = runs.map((r) => String(r.run_id)).filter((owner) => owner !== runId);
    if (others.length > 0) {
      throw new ConflictError(
        `expected the rows of dataset ${source} in table ${name} to be loaded by run ${runId}, found run ${others.sort().join(', ')}: analyze the latest run instead`,
        { runId },
      );
    }
    const rows = runs.reduce((sum, r) => sum + Number(r.n), 0);
    const loaded = load.tables.find((t) => t.name === name)?.rowsLoaded ?? 0;
    if (rows === 0 && loaded > 0) {
      throw new NotFoundError(`expected ${loaded} rows of dataset ${source} in table ${name}, found none`, {
        runId,
      });
    }
    const tableColumns = columns.get(name)!;
    return { name, columns: tableColumns, roles: rolesOf(source, name), rows };
  });
}

/**
 * The fact table with its returns note: as the transform stage measured it, else (roles inferred from an older
 * warehouse) measured on the dataset's rows here.
 */
async function withReturns(warehouse: Warehouse, source: string, fact: TableProfile): Promise<TableProfile> {
  if (fact.roles.returns) return fact;
  const { dialect } = warehouse;
  const sql = returnsSql(dialect, fact.roles, `${dialect.identifier(fact.name)} WHERE _source = $1`);
  if (sql === undefined) return fact;
  const [row] = await warehouse.query(sql, [source]);
  return { ...fact, roles: { ...fact.roles, returns: returnsNote(row) } };
}

// ---- the outputs -------------------------------------------------------------------------------------

interface Outputs {
  tables: TableLoad[];
  skipped: Array<{ output: Output; reason: string }>;
  forecast: AnalyzeResponse['forecast'];
  segments: AnalyzeResponse['segments'];
  anomalies: AnalyzeResponse['anomalies'];
  drivers: AnalyzeResponse['drivers'];
}

/** Every output skipped for one reason: the ml_* tables are still written (empty), replacing old results. */
function skipAll(reason: string): Outputs {
  const outputs: Output[] = ['forecast', 'anomalies', 'segments', 'drivers', 'discount_margin'];
  const skipped = outputs.map((output) => ({ output, reason }));
  return {
    tables: mlTables({
      forecast: [],
      segmentation: undefined,
      names: new Map(),
      anomalies: [],
      drivers: [],
      metrics: [['fact_table', null, null], ...skipMetrics(skipped)],
    }),
    skipped,
    forecast: null,
    segments: null,
    anomalies: null,
    drivers: null,
  };
}

const skipMetrics = (skipped: Outputs['skipped']): Metric[] =>
  skipped.map((s): Metric => [`skipped_${s.output}`, null, s.reason]);

/** The SQL pieces of the fact table, from its roles. */
interface Fact {
  warehouse: Warehouse;
  source: string;
  roles: Roles;
  /** The related tables joined to it, and the dimensions they lend. */
  relations: Relation[];
  /** What to read the fact table's rows FROM: the table, or only its sales rows (`factRelation`). */
  table: string;
  /** What to read FROM for a query using these dimensions: the table, joined to what lends them. */
  from(dimensions: Iterable<string>): string;
  /** A quoted column of a role. */
  column(role: 'event_time' | 'customer_id' | 'customer_name' | 'order_id' | 'profit' | 'discount'): string;
  /** The amount: its column, or quantity * unit price. */
  amount: string;
  /** The day of the event time, as a DATE. */
  day: string;
}

function factSql(warehouse: Warehouse, source: string, profile: TableProfile, view: FactView): Fact {
  const { dialect } = warehouse;
  return {
    warehouse,
    source,
    roles: profile.roles,
    relations: view.relations,
    ...factExpressions(dialect, profile),
    from: (dimensions) => factViewFrom(dialect, profile, view.relations, dimensions),
  };
}

async function analyzeFact(
  warehouse: Warehouse,
  source: string,
  profile: TableProfile,
  view: FactView,
): Promise<Outputs> {
  const fact = factSql(warehouse, source, profile, view);
  const { roles } = profile;
  const skipped: Outputs['skipped'] = [];
  const metrics: Metric[] = [
    ['fact_table', profile.rows, profile.name],
    ...roleMetrics(roles),
    ...joinMetrics(profile.name, view),
  ];

  const [lines] = await warehouse.query(
    `SELECT count(*) AS line_count, count(${fact.amount}) AS amount_lines, count(${fact.day}) AS dated_lines,
            sum(IF(${fact.amount} < 0, 1, 0)) AS negative_lines, sum(IF(${fact.amount} < 0, ${fact.amount}, 0)) AS negative_amount
     FROM ${fact.table} WHERE _source = $1`,
    [source],
  );
  metrics.push(
    ['lines', Number(lines?.line_count ?? 0), null],
    ['lines_with_amount', Number(lines?.amount_lines ?? 0), null],
    ['lines_with_event_time', Number(lines?.dated_lines ?? 0), null],
    [
      'amount_negative_lines',
      Number(lines?.negative_lines ?? 0),
      `cancellations and returns (negative amounts, ${numberOrNull(lines?.negative_amount) ?? 0} in all) are kept: every sum is net of them`,
    ],
  );

  // Grouped by the date, which becomes text only once per day: the text of every line's date took 4x as long.
  const dailyRows = await warehouse.query(
    `SELECT ${dateText('day')} AS day, revenue FROM (
       SELECT ${fact.day} AS day, sum(${fact.amount}) AS revenue
       FROM ${fact.table} WHERE _source = $1 AND ${fact.day} IS NOT NULL AND ${fact.amount} IS NOT NULL
       GROUP BY 1) AS days
     ORDER BY 1`,
    [source],
  );
  const daily = fillDays(dailyRows);
  const gap = medianGap(dailyRows);

  const forecast = computeForecast(daily, gap);
  const anomalies = computeAnomalies(daily, gap);
  const segments = await computeSegments(fact);
  const drivers = await computeDrivers(fact);
  for (const part of [forecast, anomalies, segments, drivers]) {
    metrics.push(...part.metrics);
    skipped.push(...part.skipped);
  }
  metrics.push(...skipMetrics(skipped));

  return {
    tables: mlTables({
      forecast: forecast.rows,
      segmentation: segments.segmentation,
      names: segments.names,
      anomalies: anomalies.points,
      drivers: drivers.groups,
      metrics,
    }),
    skipped,
    forecast: forecast.response,
    segments: segments.response,
    anomalies: anomalies.response,
    drivers: drivers.response,
  };
}

function roleMetrics(roles: Roles): Metric[] {
  const out: Metric[] = [];
  for (const [role, match] of Object.entries(roles)) {
    if (role === 'dimensions' || role === 'notes' || role === 'returns' || role === 'sales' || !match)
      continue;
    const { column, confidence, evidence } = match as {
      column: string | null;
      confidence: number;
      evidence: string;
    };
    out.push([`role_${role}`, confidence, `${column ?? 'derived'}: ${evidence}`]);
  }
  if (roles.dimensions.length > 0)
    out.push(['role_dimensions', roles.dimensions.length, roles.dimensions.map((d) => d.column).join(', ')]);
  if (roles.returns) out.push(['amount_net_of_returns', roles.returns.net ? 1 : 0, roles.returns.evidence]);
  if (roles.sales) out.push(['sales_rows_only', roles.sales.rows, roles.sales.evidence]);
  return out;
}

/** One `join_<table>` row per other table of the dataset: 1 and what it lends when joined, else 0 and why not. */
function joinMetrics(fact: string, view: FactView): Metric[] {
  return [
    ...view.relations.map((r): Metric => {
      const { join, dimensions } = describeRelation(fact, r);
      return [`join_${r.table}`, 1, `${join}: lends ${dimensions.join(', ')}`];
    }),
    ...view.notJoined.map((n): Metric => [`join_${n.table}`, 0, `not joined: ${n.reason}`]),
  ];
}

interface Part {
  metrics: Metric[];
  skipped: Outputs['skipped'];
}

// ---- forecast ----------------------------------------------------------------------------------------

interface Point {
  /** Start of the day, week or month, as UTC epoch milliseconds. */
  time: number;
  value: number;
}

interface ForecastRow {
  period: number;
  actual: number | null;
  fitted: number | null;
  forecast: number | null;
  lower: number | null;
  upper: number | null;
  holdoutForecast: number | null;
  holdoutLower: number | null;
  holdoutUpper: number | null;
  holdoutNaive: number | null;
  method: string;
}

function computeForecast(
  daily: Point[],
  gap: number,
): Part & { rows: ForecastRow[]; response: AnalyzeResponse['forecast'] } {
  const skip = (reason: string) => ({
    metrics: [],
    skipped: [{ output: 'forecast' as const, reason }],
    rows: [],
    response: null,
  });
  if (daily.length === 0) return skip('no rows have both an event time and an amount');
  const first = daily[0]!.time;
  const last = daily.at(-1)!.time;
  const span = spanOf(first, last);
  // The coarsest grain the span supports, but none finer than the data's own cadence; quarters only for
  // quarterly data.
  const cadence = cadenceOf(gap);
  const grains =
    cadence === 'quarter'
      ? (['quarter'] as const)
      : (['month', 'week', 'day'] as const).filter(
          (g) => ANALYZE_GRAINS.indexOf(g) >= ANALYZE_GRAINS.indexOf(cadence),
        );
  const grain = grains.find((g) => span[g] >= GRAINS[g].min);
  if (!grain) {
    const needs = grains.map((g) => plural(GRAINS[g].min, g)).reverse();
    const apart = cadence === 'day' ? '' : `, ${gap} days apart (median)`;
    return skip(
      `the dates span ${plural(span.day, 'day')} (${isoDay(first)} .. ${isoDay(last)}${apart}): a forecast needs at least ${[needs.slice(0, -1).join(', '), needs.at(-1)].filter(Boolean).join(' or ')}`,
    );
  }
  const { period, horizon } = GRAINS[grain];
  const { points: series, dropped } = toPeriods(daily, grain, gap);
  const forecast = forecastSeries(
    series.map((p) => p.value),
    { period, horizon },
  );
  const range = `${isoDay(series[0]!.time)} .. ${isoDay(series.at(-1)!.time)}`;
  const metrics: Metric[] = [
    ['forecast_grain', null, grain],
    ['forecast_method', null, forecast.method],
    ['forecast_months', span.month, range],
    ['forecast_periods', series.length, `${grain}s, ${range}`],
    ['forecast_horizon', horizon, `${grain}s`],
    ['forecast_period', period, `season length in ${grain}s`],
    ['interval_level', forecast.forecast.level, null],
  ];
  if (dropped.length > 0) {
    metrics.push([
      'forecast_partial_periods_dropped',
      dropped.length,
      `less than half covered by the data: ${dropped.join(', ')}`,
    ]);
  }
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
    const held = `${isoDay(series.at(-holdout.size)!.time)} .. ${isoDay(series.at(-1)!.time)}`;
    metrics.push(['holdout_periods', holdout.size, `${grain}s, ${held}`]);
    if (grain === 'month') metrics.push(['holdout_months', holdout.size, held]);
    metrics.push(
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
  return {
    metrics,
    skipped: [],
    rows: forecastRows(series, forecast, grain),
    response: {
      grain,
      method: forecast.method,
      months: span.month,
      periods: series.length,
      horizon,
      holdout: holdout
        ? {
            periods: holdout.size,
            months: grain === 'month' ? holdout.size : null,
            maeRatio: holdout.maeRatio,
            mase: holdout.maseModel,
            smape: holdout.smapeModel,
            maseNaive: holdout.maseNaive,
            smapeNaive: holdout.smapeNaive,
          }
        : null,
    },
  };
}

/** History rows (actual, fitted, holdout check) followed by the future periods (forecast and interval). */
function forecastRows(series: Point[], forecast: SeriesForecast, grain: Grain): ForecastRow[] {
  const n = series.length;
  const holdout = forecast.holdout;
  const holdoutStart = holdout ? n - holdout.size : n;
  const atHoldout = (values: number[] | undefined, i: number): number | null =>
    values && i >= holdoutStart ? (values[i - holdoutStart] ?? null) : null;
  const none = { holdoutForecast: null, holdoutLower: null, holdoutUpper: null, holdoutNaive: null };
  return [
    ...series.map((p, i) => ({
      period: p.time,
      actual: p.value,
      fitted: forecast.fitted[i] ?? null,
      forecast: null,
      lower: null,
      upper: null,
      holdoutForecast: atHoldout(holdout?.forecast, i),
      holdoutLower: atHoldout(holdout?.lower, i),
      holdoutUpper: atHoldout(holdout?.upper, i),
      holdoutNaive: atHoldout(holdout?.naive, i),
      method: forecast.method,
    })),
    ...forecast.forecast.mean.map((mean, h) => ({
      period: addPeriods(series.at(-1)!.time, grain, h + 1),
      actual: null,
      fitted: null,
      forecast: mean,
      lower: forecast.forecast.lower[h]!,
      upper: forecast.forecast.upper[h]!,
      ...none,
      method: forecast.method,
    })),
  ];
}

// ---- anomalies ---------------------------------------------------------------------------------------

function computeAnomalies(
  daily: Point[],
  gap: number,
): Part & { points: Array<AnomalyPoint & { time: number }>; response: AnalyzeResponse['anomalies'] } {
  const skip = (reason: string) => ({
    metrics: [],
    skipped: [{ output: 'anomalies' as const, reason }],
    points: [],
    response: null,
  });
  if (daily.length === 0) return skip('no rows have both an event time and an amount');
  // Dates only every week, month or quarter (Walmart's weekly sales): scoring the empty days between them
  // would flag every date as a spike, so the series takes the data's own cadence.
  const grain = cadenceOf(gap);
  const { points: series } = toPeriods(daily, grain, gap);
  if (series.length < MIN_ANOMALY_POINTS) {
    return skip(
      `only ${plural(series.length, grain)} of data: the rule scores each ${grain} against up to ${plural(ANOMALY_WINDOW, grain)} before it, and needs at least ${plural(MIN_ANOMALY_POINTS, grain)}`,
    );
  }
  const scored = detectAnomalies(series.map((p) => p.value)).map((a, i) => ({ ...a, time: series[i]!.time }));
  const flagged = scored.filter((a) => a.isAnomaly).length;
  const rule = grain === 'day' ? ANOMALY_RULE : ANOMALY_RULE.replaceAll('days', `${grain}s`);
  const days = spanOf(daily[0]!.time, daily.at(-1)!.time).day;
  const metrics: Metric[] = [
    ['anomaly_grain', gap, grain === 'day' ? grain : `${grain}: the dates are ${gap} days apart (median)`],
    ['anomaly_days', days, null],
    ['anomaly_points', series.length, `${grain}s`],
    ['anomaly_flagged', flagged, rule],
  ];
  return {
    metrics,
    skipped: [],
    points: scored,
    response: { grain, days, points: series.length, flagged, rule },
  };
}

const plural = (count: number, unit: string): string => `${count} ${unit}${count === 1 ? '' : 's'}`;

/**
 * The grain of dates `gap` days apart (median): weekly sales, a monthly report dated on the 1st, a quarterly
 * one. Summed per day or week, such data reads as empty periods between its dates.
 */
function cadenceOf(gap: number): Grain {
  return gap >= 80 ? 'quarter' : gap >= 28 ? 'month' : gap >= 7 ? 'week' : 'day';
}

/** The median number of days between consecutive dates that have rows (1 for daily data). */
function medianGap(dailyRows: Row[]): number {
  const times = dailyRows.map((r) => Date.parse(`${String(r.day)}T00:00:00Z`));
  const gaps = times.slice(1).map((t, i) => Math.round((t - times[i]!) / DAY_MS));
  if (gaps.length === 0) return 1;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)]!;
}

// ---- segments ----------------------------------------------------------------------------------------

async function computeSegments(fact: Fact): Promise<
  Part & {
    segmentation: Segmentation | undefined;
    names: Map<string, string | null>;
    response: AnalyzeResponse['segments'];
  }
> {
  const { roles, warehouse } = fact;
  const skip = (reason: string, metrics: Metric[] = []) => ({
    metrics,
    skipped: [{ output: 'segments' as const, reason }],
    segmentation: undefined,
    names: new Map<string, string | null>(),
    response: null,
  });
  if (!roles.customer_id) {
    return skip('no customer column (a customer id, or a customer name): RFM segments are per customer');
  }
  const frequency = roles.order_id
    ? `distinct orders (${roles.order_id.column})`
    : 'distinct purchase days (no order id column)';
  // Recency: days from the customer's last purchase to the day after the last date in the data. Frequency
  // and recency count purchases (amount > 0); monetary is net of returns. Customers who only returned
  // something in the data are left out. One pass over the lines: the last date in the data is the latest of
  // the customers' last dates, a window over the grouped rows (lines read twice, through a CTE, were copied
  // in full by DuckDB: 2-3x as long).
  const customerId = fact.column('customer_id');
  const customerName = roles.customer_name ? fact.column('customer_name') : 'CAST(NULL AS STRING)';
  const purchase = roles.order_id ? fact.column('order_id') : fact.day;
  const rfm = await warehouse.query(
    `WITH customers AS (
       SELECT ${customerId} AS customer_id, any_value(${customerName}) AS customer_name,
              max(IF(${fact.amount} > 0, ${fact.day}, NULL)) AS last_purchase,
              max(max(${fact.day})) OVER () AS last_day,
              count(DISTINCT IF(${fact.amount} > 0, ${purchase}, NULL)) AS frequency,
              sum(${fact.amount}) AS monetary
       FROM ${fact.table}
       WHERE _source = $1 AND ${customerId} IS NOT NULL AND ${fact.day} IS NOT NULL AND ${fact.amount} IS NOT NULL
       GROUP BY 1)
     SELECT customer_id, customer_name, ${warehouse.dialect.dayDiff('last_purchase', 'last_day')} + 1 AS recency_days,
            frequency, monetary
     FROM customers WHERE last_purchase IS NOT NULL ORDER BY customer_id`,
    [fact.source],
  );
  const rows: RfmRow[] = rfm.map((r) => ({
    customerId: String(r.customer_id),
    recencyDays: Number(r.recency_days),
    frequency: Number(r.frequency),
    monetary: Number(r.monetary),
  }));
  const metrics: Metric[] = [
    ['customers', rows.length, `customers with a purchase; frequency = ${frequency}`],
  ];
  if (rows.length < MIN_CUSTOMERS) {
    return skip(
      `only ${rows.length} customers with a purchase: segmenting needs at least ${MIN_CUSTOMERS}`,
      metrics,
    );
  }
  const segmentation = segmentCustomers(rows);
  metrics.push(
    ['segments_k', segmentation.k, 'chosen by the highest mean silhouette over k = 2..6'],
    ['segments_silhouette', segmentation.silhouette, null],
  );
  for (const s of segmentation.silhouettes) metrics.push([`silhouette_k${s.k}`, s.silhouette, null]);
  return {
    metrics,
    skipped: [],
    segmentation,
    names: new Map(
      rfm.map((r) => [String(r.customer_id), r.customer_name === null ? null : String(r.customer_name)]),
    ),
    response: { k: segmentation.k, silhouette: segmentation.silhouette, customers: rows.length },
  };
}

// ---- drivers -----------------------------------------------------------------------------------------

interface DriverRow extends Omit<DriverGroup, 'profit' | 'profitShare' | 'margin'> {
  profit: number | null;
  profitShare: number | null;
  margin: number | null;
}

async function computeDrivers(
  fact: Fact,
): Promise<Part & { groups: DriverRow[]; response: AnalyzeResponse['drivers'] }> {
  const { roles, warehouse, source } = fact;
  const { identifier } = warehouse.dialect;
  const metrics: Metric[] = [];
  const skipped: Outputs['skipped'] = [];

  const own = roles.dimensions.map((d) => d.column);
  const lent = fact.relations.flatMap((r) => r.dimensions);
  const candidates = [...own, ...lent];
  const { dimensions, left } = await chooseDimensions(fact, own, lent);
  if (left.length > 0) {
    metrics.push([
      'drivers_dimensions_left_out',
      left.length,
      `need 2..${MAX_DIMENSION_VALUES} distinct values: ${left.join(', ')}`,
    ]);
  }
  const discount = roles.discount ? fact.column('discount') : undefined;
  const profit = roles.profit ? fact.column('profit') : undefined;

  let groups: DriverRow[] = [];
  if (dimensions.length === 0 && !discount) {
    skipped.push({
      output: 'drivers',
      reason:
        candidates.length === 0
          ? 'no dimension column (category, region, country, store, segment, ...) and no discount'
          : `no dimension with 2..${MAX_DIMENSION_VALUES} distinct values (${left.join(', ')}) and no discount`,
    });
  } else {
    const measures = `count(*) AS line_count, sum(${fact.amount}) AS revenue, sum(${profit ? `coalesce(${profit}, 0)` : '0'}) AS profit`;
    const where = `WHERE _source = $1 AND ${fact.amount} IS NOT NULL`;
    // The band's code is written as text: a number cast to text on every line took twice as long.
    const band = discount
      ? `CASE WHEN coalesce(${discount}, 0) <= 0 THEN '0' WHEN ${discount} <= 0.2 THEN '1'
              WHEN ${discount} <= 0.4 THEN '2' ELSE '3' END`
      : undefined;
    const keys = [
      ...dimensions.map((d) => `coalesce(CAST(${identifier(d)} AS STRING), '(missing)')`),
      ...(band ? [band] : []),
    ];
    const cube = await warehouse.query(
      keys
        .map(
          (key, i) =>
            `SELECT ${i} AS dim, ${key} AS key, ${measures} FROM ${fact.from(dimensions.slice(i, i + 1))} ${where} GROUP BY 2`,
        )
        .join(' UNION ALL '),
      [source],
    );
    const names = [...dimensions, ...(band ? ['discount'] : [])];
    groups = names.flatMap((name, i) => {
      const lines = cube
        .filter((r) => Number(r.dim) === i)
        .map((r) => {
          const key = String(r.key);
          return {
            groups: { [name]: name === 'discount' ? discountBand(DISCOUNT_BANDS[Number(key)]!) : key },
            sales: Number(r.revenue),
            profit: Number(r.profit),
            discount: 0,
            count: Number(r.line_count),
          };
        });
      return revenueDrivers(lines, [name]).map((g) =>
        profit ? g : { ...g, profit: null, profitShare: null, margin: null },
      );
    });
    metrics.push(['drivers_dimensions', names.length, names.join(', ')]);
  }

  if (discount && profit) {
    // Least squares of line margin on discount: slope = cov(x, y) / var(x), intercept = mean(y) - slope
    // mean(x) (BigQuery has no regr_slope).
    const [effect] = await warehouse.query(
      `WITH margins AS (
         SELECT ${discount} AS x, ${profit} / nullif(${fact.amount}, 0) AS y FROM ${fact.table}
         WHERE _source = $1 AND ${fact.amount} > 0 AND ${discount} IS NOT NULL AND ${profit} IS NOT NULL),
       fit AS (SELECT count(*) AS lines, corr(x, y) AS correlation,
                      covar_pop(x, y) / nullif(var_pop(x), 0) AS slope, avg(x) AS mean_x, avg(y) AS mean_y
               FROM margins)
       SELECT lines, correlation, slope, mean_y - slope * mean_x AS intercept FROM fit`,
      [source],
    );
    if (effect && Number(effect.lines) !== 0 && effect.slope !== null) {
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
    } else {
      skipped.push({
        output: 'discount_margin',
        reason: 'the discounts do not vary over lines with a positive amount',
      });
    }
  } else {
    const lacking = [discount ? undefined : 'no discount column', profit ? undefined : 'no profit column'];
    skipped.push({ output: 'discount_margin', reason: lacking.filter(Boolean).join(' and ') });
  }

  return {
    metrics,
    skipped,
    groups,
    response: skipped.some((s) => s.output === 'drivers')
      ? null
      : { dimensions: [...dimensions, ...(discount ? ['discount'] : [])], groups: groups.length },
  };
}

/**
 * The dimensions the drivers break revenue down by: up to MAX_DIMENSIONS of the fact table's own, best first,
 * then up to MAX_LENT_DIMENSIONS lent by related tables (a store's type answers another question than the
 * store, so it does not take a place of the table's own); each with 2..MAX_DIMENSION_VALUES values in the data.
 * `left` are the candidates passed over, with their counts. Values are counted first for as many candidates
 * as may be chosen, and for the others only if some of those are passed over (counting every candidate, the
 * 8 of the 1M-row bench file, took 4x as long).
 */
async function chooseDimensions(
  fact: Fact,
  own: string[],
  lent: string[],
): Promise<{ dimensions: string[]; left: string[] }> {
  const { identifier } = fact.warehouse.dialect;
  const sides = [
    { names: own, max: MAX_DIMENSIONS },
    { names: lent, max: MAX_LENT_DIMENSIONS },
  ];
  const values = new Map<string, number>();
  const count = async (columns: string[]): Promise<void> => {
    if (columns.length === 0) return;
    const [distinct] = await fact.warehouse.query(
      `SELECT ${columns.map((d, i) => `count(DISTINCT ${identifier(d)}) AS d${i}`).join(', ')}
       FROM ${fact.from(columns)} WHERE _source = $1`,
      [fact.source],
    );
    for (const [i, d] of columns.entries()) values.set(d, Number(distinct?.[`d${i}`] ?? 0));
  };
  await count(sides.flatMap((side) => side.names.slice(0, side.max)));
  const choice = chooseCounted(sides, values);
  if (choice) return choice;
  await count(sides.flatMap((side) => side.names).filter((d) => !values.has(d)));
  return chooseCounted(sides, values)!;
}

/** The choice of `chooseDimensions` from the counts so far; undefined while it needs an uncounted candidate. */
function chooseCounted(
  sides: Array<{ names: string[]; max: number }>,
  values: ReadonlyMap<string, number>,
): { dimensions: string[]; left: string[] } | undefined {
  const dimensions: string[] = [];
  const left: string[] = [];
  for (const { names, max } of sides) {
    let chosen = 0;
    for (const d of names) {
      if (chosen >= max) break;
      const count = values.get(d);
      if (count === undefined) return undefined;
      if (count >= 2 && count <= MAX_DIMENSION_VALUES) {
        dimensions.push(d);
        chosen++;
      } else left.push(`${d} (${count} values)`);
    }
  }
  return { dimensions, left };
}

// ---- series helpers ----------------------------------------------------------------------------------

/** Every day from the first to the last, days without rows as 0. */
function fillDays(rows: Row[]): Point[] {
  if (rows.length === 0) return [];
  const byDay = new Map(rows.map((r) => [Date.parse(`${String(r.day)}T00:00:00Z`), Number(r.revenue)]));
  const first = Date.parse(`${String(rows[0]!.day)}T00:00:00Z`);
  const last = Date.parse(`${String(rows.at(-1)!.day)}T00:00:00Z`);
  const out: Point[] = [];
  for (let time = first; time <= last; time += DAY_MS) out.push({ time, value: byDay.get(time) ?? 0 });
  return out;
}

/** The first day of the day, ISO week (Monday), month or quarter holding `time`. */
function periodStart(time: number, grain: Grain): number {
  const date = new Date(time);
  if (grain === 'quarter')
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - (date.getUTCMonth() % 3), 1);
  if (grain === 'month') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  if (grain === 'week') return time - ((date.getUTCDay() + 6) % 7) * DAY_MS;
  return time;
}

function addPeriods(start: number, grain: Grain, count: number): number {
  if (grain === 'month' || grain === 'quarter') {
    const date = new Date(start);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + count * (grain === 'quarter' ? 3 : 1), 1);
  }
  return start + count * (grain === 'week' ? 7 : 1) * DAY_MS;
}

/** Periods spanned from the first to the last day, counting both ends. */
function spanOf(first: number, last: number): Record<Grain, number> {
  const a = new Date(first);
  const b = new Date(last);
  const quarterOf = (d: Date) => d.getUTCFullYear() * 4 + Math.floor(d.getUTCMonth() / 3);
  return {
    quarter: quarterOf(b) - quarterOf(a) + 1,
    month: (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1,
    week: Math.round((periodStart(last, 'week') - periodStart(first, 'week')) / (7 * DAY_MS)) + 1,
    day: Math.round((last - first) / DAY_MS) + 1,
  };
}

/**
 * The (zero-filled, contiguous) days summed per period. A first or last period the data covers less than
 * half of (a dataset ending on the 9th of a month) would read as a collapse, so it is dropped, as long as
 * more than two periods remain. With dates `gap` days apart (weekly sales), each date stands for the
 * `gap` days up to it; with one date a period, for its period.
 */
function toPeriods(daily: Point[], grain: Grain, gap: number): { points: Point[]; dropped: string[] } {
  if (grain === 'day' || daily.length === 0) return { points: daily, dropped: [] };
  const sums = new Map<number, number>();
  for (const d of daily) {
    const start = periodStart(d.time, grain);
    sums.set(start, (sums.get(start) ?? 0) + d.value);
  }
  const points = [...sums.entries()].map(([time, value]) => ({ time, value }));
  // One date a period (a monthly report dated the 1st) stands for the whole period.
  if (cadenceOf(gap) === grain) return { points, dropped: [] };
  const first = daily[0]!.time - (Math.max(gap, 1) - 1) * DAY_MS;
  const last = daily.at(-1)!.time;
  const dropped: string[] = [];
  const coverage = (p: Point): { days: number; of: number } => {
    const end = addPeriods(p.time, grain, 1) - DAY_MS;
    return {
      days: Math.round((Math.min(end, last) - Math.max(p.time, first)) / DAY_MS) + 1,
      of: Math.round((end - p.time) / DAY_MS) + 1,
    };
  };
  for (const edge of ['first', 'last'] as const) {
    if (points.length <= 2) break;
    const p = edge === 'first' ? points[0]! : points.at(-1)!;
    const { days, of } = coverage(p);
    if (days * 2 >= of) continue;
    if (edge === 'first') points.shift();
    else points.pop();
    dropped.push(`${isoDay(p.time)} (${days} of ${of} days)`);
  }
  return { points, dropped };
}

function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

// ---- the ml_* tables ---------------------------------------------------------------------------------

interface MlData {
  forecast: ForecastRow[];
  segmentation: Segmentation | undefined;
  names: Map<string, string | null>;
  anomalies: Array<AnomalyPoint & { time: number }>;
  drivers: DriverRow[];
  metrics: Metric[];
}

/**
 * The six ml_* tables; their columns are what apps/insights reads. `ml_forecast.month` is the first day of
 * the period (a month, an ISO week or a day: `ml_metrics.forecast_grain`), `ml_anomalies.date` likewise.
 */
function mlTables(data: MlData): TableLoad[] {
  const { forecast: f, segmentation: s, anomalies: a, drivers: d, metrics: m } = data;
  return [
    {
      table: 'ml_forecast',
      arrow: arrowTable({
        month: [new DateDay(), f.map((r) => new Date(r.period))],
        actual: [new Float64(), f.map((r) => r.actual)],
        fitted: [new Float64(), f.map((r) => r.fitted)],
        forecast: [new Float64(), f.map((r) => r.forecast)],
        lower: [new Float64(), f.map((r) => r.lower)],
        upper: [new Float64(), f.map((r) => r.upper)],
        holdout_forecast: [new Float64(), f.map((r) => r.holdoutForecast)],
        holdout_lower: [new Float64(), f.map((r) => r.holdoutLower)],
        holdout_upper: [new Float64(), f.map((r) => r.holdoutUpper)],
        holdout_naive: [new Float64(), f.map((r) => r.holdoutNaive)],
        method: [new Utf8(), f.map((r) => r.method)],
      }),
    },
    {
      table: 'ml_segments',
      arrow: arrowTable({
        customer_id: [new Utf8(), s?.customers.map((c) => c.customerId) ?? []],
        customer_name: [new Utf8(), s?.customers.map((c) => data.names.get(c.customerId) ?? null) ?? []],
        recency_days: [new Int32(), s?.customers.map((c) => c.recencyDays) ?? []],
        frequency: [new Int32(), s?.customers.map((c) => c.frequency) ?? []],
        monetary: [new Float64(), s?.customers.map((c) => c.monetary) ?? []],
        segment: [new Int32(), s?.customers.map((c) => c.segment) ?? []],
        segment_label: [new Utf8(), s?.customers.map((c) => c.label) ?? []],
      }),
    },
    {
      table: 'ml_segment_profiles',
      arrow: arrowTable({
        segment: [new Int32(), s?.profiles.map((p) => p.segment) ?? []],
        segment_label: [new Utf8(), s?.profiles.map((p) => p.label) ?? []],
        customers: [new Int32(), s?.profiles.map((p) => p.customers) ?? []],
        customer_share: [new Float64(), s?.profiles.map((p) => p.share) ?? []],
        mean_recency_days: [new Float64(), s?.profiles.map((p) => p.meanRecencyDays) ?? []],
        mean_frequency: [new Float64(), s?.profiles.map((p) => p.meanFrequency) ?? []],
        mean_monetary: [new Float64(), s?.profiles.map((p) => p.meanMonetary) ?? []],
        revenue_share: [new Float64(), s?.profiles.map((p) => p.revenueShare) ?? []],
      }),
    },
    {
      table: 'ml_anomalies',
      arrow: arrowTable({
        date: [new DateDay(), a.map((p) => new Date(p.time))],
        revenue: [new Float64(), a.map((p) => p.value)],
        baseline: [new Float64(), a.map((p) => p.baseline)],
        scale: [new Float64(), a.map((p) => p.scale)],
        score: [new Float64(), a.map((p) => p.score)],
        is_anomaly: [new Bool(), a.map((p) => p.isAnomaly)],
        direction: [new Utf8(), a.map((p) => p.direction)],
      }),
    },
    {
      table: 'ml_drivers',
      arrow: arrowTable({
        dimension: [new Utf8(), d.map((g) => g.dimension)],
        key: [new Utf8(), d.map((g) => g.key)],
        lines: [new Int32(), d.map((g) => g.lines)],
        revenue: [new Float64(), d.map((g) => g.revenue)],
        revenue_share: [new Float64(), d.map((g) => g.revenueShare)],
        profit: [new Float64(), d.map((g) => g.profit)],
        profit_share: [new Float64(), d.map((g) => g.profitShare)],
        margin: [new Float64(), d.map((g) => g.margin)],
      }),
    },
    {
      table: 'ml_metrics',
      arrow: arrowTable({
        metric: [new Utf8(), m.map((r) => r[0])],
        value: [new Float64(), m.map((r) => r[1])],
        note: [new Utf8(), m.map((r) => r[2])],
      }),
    },
  ];
}

/** An Arrow IPC file from typed columns; an empty column keeps its type, so empty tables have a schema. */
function arrowTable(columns: Record<string, [DataType, unknown[]]>): Uint8Array {
  const vectors = Object.fromEntries(
    Object.entries(columns).map(([name, [type, values]]) => [name, vectorFromArray(values as never[], type)]),
  );
  return writeArrowTable(new Table(vectors));
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined || !Number.isFinite(Number(value)) ? null : Number(value);
}
