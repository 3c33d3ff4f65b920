/**
 * Every query the insights app runs. SQL text is fixed here; user input only ever reaches it as bound
 * parameters (`$1..$n`), or as one of a few SQL fragments picked from a closed map by a zod enum value.
 * The SQL is valid in DuckDB and BigQuery alike; the few forms that differ come from the warehouse's
 * dialect (`warehouse.dialect`, see @etl/common/warehouse `dialect.ts`).
 *
 * Results are cached per warehouse version: the latest `_run_id` (and load time) of `sales` and of
 * `ml_metrics`. The version itself is re-read at most every `cacheSeconds`, so a new load or analyze
 * shows up after at most that long, and a busy dashboard costs one cheap query per interval.
 *
 * All monitoring queries are scoped to one dataset (`_source`): by default the one loaded last, since
 * mixing, say, the generated sample with Superstore would add up unrelated businesses.
 */
import { NotFoundError, UpstreamUnavailableError } from '@etl/common/errors';
import { type BlobInfo, type BlobStore, getJson, parseKey } from '@etl/common/storage';
import { dateText, type Row, type Warehouse } from '@etl/common/warehouse';

export interface Filters {
  source?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  region?: string | undefined;
  category?: string | undefined;
}

export type Grain = 'day' | 'week' | 'month';
export type BreakdownDimension = 'region' | 'category' | 'segment';
export type TopKind = 'products' | 'customers';

export interface InsightsQueriesOptions {
  cacheSeconds?: number;
  /** Most runs listed by `runs()`. */
  runLimit?: number;
}

const DIMENSION_SQL: Record<BreakdownDimension, string> = {
  region: 'region',
  category: 'category',
  segment: 'segment',
};
const TOP_SQL: Record<TopKind, { key: string; label: string }> = {
  products: { key: 'product_id', label: 'product_name' },
  customers: { key: 'customer_id', label: 'customer_name' },
};

const DAY_MS = 86_400_000;

interface Range {
  from: string;
  to: string;
}

interface Snapshot {
  /** Cache key: latest run and load time of sales and ml_metrics. */
  value: string;
  checkedAt: number;
  tables: Set<string>;
  sales: { runId: string; loadedAt: string; source: string; rows: number } | null;
  ml: { runId: string; analyzedAt: string } | null;
}

/** A WHERE clause and its parameters, built from filters with placeholders only. */
class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  add(sqlWithPlaceholder: (placeholder: string) => string, value: unknown): this {
    this.params.push(value);
    this.parts.push(sqlWithPlaceholder(`$${this.params.length}`));
    return this;
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

export class InsightsQueries {
  private readonly cacheMs: number;
  private readonly runLimit: number;
  private current: Snapshot | undefined;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly store: BlobStore,
    options: InsightsQueriesOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? 10) * 1000;
    this.runLimit = options.runLimit ?? 20;
  }

  // ---- monitoring -------------------------------------------------------------------------------

  /** Distinct values and the date range the filter bar offers, plus the default range. */
  filters(source?: string): Promise<unknown> {
    return this.cached('filters', { source }, async (snapshot) => {
      const src = await this.resolveSource(snapshot, source);
      if (!src)
        return { sources: [], source: null, regions: [], categories: [], minDate: null, maxDate: null };
      const range = await this.dateRange(src);
      const distinct = async (column: 'region' | 'category') =>
        (
          await this.query(
            `SELECT DISTINCT ${column} AS v FROM sales WHERE _source = $1 AND ${column} IS NOT NULL ORDER BY 1`,
            [src],
          )
        ).map((r) => String(r.v));
      // `rows` is a reserved word in BigQuery: the column is row_count, the field stays `rows`.
      const sources = (
        await this.query(
          `SELECT _source AS id, count(*) AS row_count, max(_loaded_at) AS loaded_at
           FROM sales GROUP BY 1 ORDER BY loaded_at DESC`,
        )
      ).map((r) => ({ id: r.id, rows: r.row_count, loaded_at: r.loaded_at }));
      const { minDate, maxDate } = range;
      return {
        sources,
        source: src,
        regions: await distinct('region'),
        categories: await distinct('category'),
        minDate,
        maxDate,
        defaultRange: minDate && maxDate ? defaultRange(minDate, maxDate) : null,
      };
    });
  }

  /**
   * Revenue, orders, average order value and profit margin for [from, to], each with the previous
   * period of equal length ([from - L, from - 1], L = days in the range) and the change: relative for
   * the first three, in percentage points for the margin.
   */
  kpis(filters: Filters): Promise<unknown> {
    return this.cached('kpis', filters, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if (!scope) return emptyKpis();
      const { range } = scope;
      const days = (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1;
      const previous: Range = { from: shiftDays(range.from, -days), to: shiftDays(range.from, -1) };
      const where = this.conditions(scope.source, { ...filters, from: previous.from, to: range.to });
      const n = where.params.length;
      const params = [...where.params, range.from, previous.to];
      const current = `order_date >= CAST($${n + 1} AS DATE)`;
      const before = `order_date <= CAST($${n + 2} AS DATE)`;
      const [row] = await this.query(
        `SELECT
           coalesce(sum(IF(${current}, sales, NULL)), 0) AS revenue,
           count(DISTINCT IF(${current}, order_id, NULL)) AS orders,
           coalesce(sum(IF(${current}, profit, NULL)), 0) AS profit,
           coalesce(sum(IF(${before}, sales, NULL)), 0) AS prev_revenue,
           count(DISTINCT IF(${before}, order_id, NULL)) AS prev_orders,
           coalesce(sum(IF(${before}, profit, NULL)), 0) AS prev_profit
         FROM sales ${where.sql}`,
        params,
      );
      const r = row ?? {};
      const metric = (value: number | null, prev: number | null, kind: 'relative' | 'points') => ({
        value,
        previous: prev,
        change:
          value === null || prev === null
            ? null
            : kind === 'points'
              ? value - prev
              : prev === 0
                ? null
                : (value - prev) / Math.abs(prev),
        changeKind: kind,
      });
      const revenue = Number(r.revenue);
      const orders = Number(r.orders);
      const prevRevenue = Number(r.prev_revenue);
      const prevOrders = Number(r.prev_orders);
      return {
        source: scope.source,
        range,
        previousRange: previous,
        revenue: metric(revenue, prevRevenue, 'relative'),
        orders: metric(orders, prevOrders, 'relative'),
        averageOrderValue: metric(
          orders ? revenue / orders : null,
          prevOrders ? prevRevenue / prevOrders : null,
          'relative',
        ),
        profitMargin: metric(
          revenue ? Number(r.profit) / revenue : null,
          prevRevenue ? Number(r.prev_profit) / prevRevenue : null,
          'points',
        ),
      };
    });
  }

  revenue(grain: Grain, filters: Filters): Promise<unknown> {
    return this.cached('revenue', { grain, ...filters }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if (!scope) return { grain, points: [] };
      const where = this.conditions(scope.source, { ...filters, ...scope.range });
      const points = await this.query(
        `SELECT ${dateText(this.warehouse.dialect.truncateDate('order_date', grain))} AS period,
                sum(sales) AS revenue, count(DISTINCT order_id) AS orders, sum(profit) AS profit
         FROM sales ${where.sql} GROUP BY 1 ORDER BY 1`,
        where.params,
      );
      return { source: scope.source, range: scope.range, grain, points };
    });
  }

  breakdown(by: BreakdownDimension, filters: Filters): Promise<unknown> {
    return this.cached('breakdown', { by, ...filters }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if (!scope) return { by, groups: [] };
      const where = this.conditions(scope.source, { ...filters, ...scope.range });
      const groups = await this.query(
        `SELECT coalesce(${DIMENSION_SQL[by]}, '(missing)') AS key, sum(sales) AS revenue,
                count(DISTINCT order_id) AS orders, sum(profit) AS profit,
                sum(profit) / nullif(sum(sales), 0) AS margin,
                sum(sales) / nullif(sum(sum(sales)) OVER (), 0) AS share
         FROM sales ${where.sql} GROUP BY 1 ORDER BY revenue DESC`,
        where.params,
      );
      return { source: scope.source, range: scope.range, by, groups };
    });
  }

  top(kind: TopKind, limit: number, filters: Filters): Promise<unknown> {
    return this.cached('top', { kind, limit, ...filters }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if (!scope) return { kind, items: [] };
      const where = this.conditions(scope.source, { ...filters, ...scope.range });
      const { key, label } = TOP_SQL[kind];
      const items = await this.query(
        `SELECT ${key} AS id, any_value(${label}) AS name, sum(sales) AS revenue,
                count(DISTINCT order_id) AS orders, sum(profit) AS profit
         FROM sales ${where.sql} GROUP BY 1 ORDER BY revenue DESC, id LIMIT $${where.params.length + 1}`,
        [...where.params, limit],
      );
      return { source: scope.source, range: scope.range, kind, items };
    });
  }

  // ---- runs and freshness ------------------------------------------------------------------------

  /** Run history from the stage manifests in the blob store, newest first. */
  runs(): Promise<unknown> {
    return this.cached('runs', {}, async () => ({ runs: (await this.readRuns()).slice(0, this.runLimit) }));
  }

  /**
   * The last successful run (newest load manifest): its dataset, row counts and quarantine count, and
   * what the warehouse itself says (`max(_loaded_at)`, rows per run). Not cached beyond the version check:
   * the pages poll this to notice a new run.
   */
  async freshness(): Promise<unknown> {
    const [snapshot, runs] = await Promise.all([this.snapshot(true), this.readRuns()]);
    const latest = runs.find((r) => r.status === 'loaded' || r.status === 'analyzed');
    return {
      version: snapshot.value,
      latestRun: latest ?? null,
      warehouse: snapshot.sales ?? null,
      analysis: snapshot.ml ?? null,
      checkedAt: new Date().toISOString(),
    };
  }

  // ---- ML results ------------------------------------------------------------------------------

  forecast(source?: string): Promise<unknown> {
    return this.cached('forecast', { source }, async (snapshot) => {
      const src = await this.mlSource(snapshot, source);
      if (!src) return { available: false };
      const points = await this.query(
        `SELECT substr(${dateText('month')}, 1, 7) AS month, actual, fitted, forecast, lower, upper,
                holdout_forecast, holdout_lower, holdout_upper, holdout_naive
         FROM ml_forecast WHERE _source = $1 ORDER BY 1`,
        [src],
      );
      return { available: true, source: src, points, metrics: await this.metricsOf(src) };
    });
  }

  segments(source?: string): Promise<unknown> {
    return this.cached('segments', { source }, async (snapshot) => {
      const src = await this.mlSource(snapshot, source);
      if (!src) return { available: false };
      const profiles = await this.query(
        `SELECT segment, segment_label AS label, customers, customer_share, mean_recency_days, mean_frequency,
                mean_monetary, revenue_share
         FROM ml_segment_profiles WHERE _source = $1 ORDER BY segment`,
        [src],
      );
      const topCustomers = await this.query(
        `SELECT customer_id, customer_name, segment_label AS label, recency_days, frequency, monetary
         FROM ml_segments WHERE _source = $1 ORDER BY monetary DESC, customer_id LIMIT 10`,
        [src],
      );
      return { available: true, source: src, profiles, topCustomers, metrics: await this.metricsOf(src) };
    });
  }

  anomalies(source?: string): Promise<unknown> {
    return this.cached('anomalies', { source }, async (snapshot) => {
      const src = await this.mlSource(snapshot, source);
      if (!src) return { available: false };
      const points = await this.query(
        `SELECT ${dateText('date')} AS date, revenue, baseline, score, is_anomaly
         FROM ml_anomalies WHERE _source = $1 ORDER BY 1`,
        [src],
      );
      const flagged = await this.query(
        `SELECT ${dateText('date')} AS date, revenue, baseline, score, direction
         FROM ml_anomalies WHERE _source = $1 AND is_anomaly ORDER BY abs(score) DESC, 1 LIMIT 20`,
        [src],
      );
      const metrics = await this.metricsOf(src);
      return {
        available: true,
        source: src,
        rule: metrics.anomaly_flagged?.note ?? null,
        points,
        flagged,
        metrics,
      };
    });
  }

  drivers(source?: string): Promise<unknown> {
    return this.cached('drivers', { source }, async (snapshot) => {
      const src = await this.mlSource(snapshot, source);
      if (!src) return { available: false };
      const groups = await this.query(
        `SELECT dimension, key, lines, revenue, revenue_share, profit, profit_share, margin
         FROM ml_drivers WHERE _source = $1 ORDER BY dimension, revenue DESC`,
        [src],
      );
      return { available: true, source: src, groups, metrics: await this.metricsOf(src) };
    });
  }

  metrics(source?: string): Promise<unknown> {
    return this.cached('metrics', { source }, async (snapshot) => {
      const src = await this.mlSource(snapshot, source);
      if (!src) return { available: false };
      const [run] = await this.query(
        'SELECT any_value(_run_id) AS run_id, max(_loaded_at) AS analyzed_at FROM ml_metrics WHERE _source = $1',
        [src],
      );
      return {
        available: true,
        source: src,
        runId: run?.run_id ?? null,
        analyzedAt: run?.analyzed_at ?? null,
        metrics: await this.metricsOf(src),
      };
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private async metricsOf(
    source: string,
  ): Promise<Record<string, { value: number | null; note: string | null }>> {
    const rows = await this.query(
      'SELECT metric, value, note FROM ml_metrics WHERE _source = $1 ORDER BY metric',
      [source],
    );
    return Object.fromEntries(
      rows.map((r) => [
        String(r.metric),
        { value: (r.value as number | null) ?? null, note: (r.note as string | null) ?? null },
      ]),
    );
  }

  /** The dataset to show: the one asked for, else the one loaded last; undefined when nothing is loaded. */
  private async resolveSource(snapshot: Snapshot, source: string | undefined): Promise<string | undefined> {
    if (!snapshot.tables.has('sales')) return undefined;
    if (!source) return snapshot.sales?.source ?? undefined;
    const [row] = await this.query('SELECT count(*) AS n FROM sales WHERE _source = $1', [source]);
    if (!row || Number(row.n) === 0) throw new NotFoundError(`no rows of dataset ${source} in table sales`);
    return source;
  }

  /** The dataset whose ML results to show, if the analyze stage has written any for it. */
  private async mlSource(snapshot: Snapshot, source: string | undefined): Promise<string | undefined> {
    if (!snapshot.tables.has('ml_metrics')) return undefined;
    const src = await this.resolveSource(snapshot, source);
    if (!src) return undefined;
    const [row] = await this.query('SELECT count(*) AS n FROM ml_metrics WHERE _source = $1', [src]);
    return row && Number(row.n) > 0 ? src : undefined;
  }

  /** Source and date range of a monitoring query; the range defaults to the last 365 days of data. */
  private async scope(
    snapshot: Snapshot,
    filters: Filters,
  ): Promise<{ source: string; range: Range } | undefined> {
    const source = await this.resolveSource(snapshot, filters.source);
    if (!source) return undefined;
    if (filters.from && filters.to) return { source, range: { from: filters.from, to: filters.to } };
    const { minDate, maxDate } = await this.dateRange(source);
    const fallback = minDate && maxDate ? defaultRange(minDate, maxDate) : undefined;
    const from = filters.from ?? fallback?.from;
    const to = filters.to ?? fallback?.to;
    if (!from || !to) return undefined;
    return { source, range: { from, to } };
  }

  /** First and last order date of a dataset, as YYYY-MM-DD (null when it has no dated rows). */
  private async dateRange(source: string): Promise<{ minDate: string | null; maxDate: string | null }> {
    const [row] = await this.query(
      `SELECT ${dateText('min(order_date)')} AS min_date, ${dateText('max(order_date)')} AS max_date
       FROM sales WHERE _source = $1`,
      [source],
    );
    return {
      minDate: (row?.min_date as string | null | undefined) ?? null,
      maxDate: (row?.max_date as string | null | undefined) ?? null,
    };
  }

  private conditions(source: string, filters: Filters): Conditions {
    const where = new Conditions().add((p) => `_source = ${p}`, source);
    if (filters.from) where.add((p) => `order_date >= CAST(${p} AS DATE)`, filters.from);
    if (filters.to) where.add((p) => `order_date <= CAST(${p} AS DATE)`, filters.to);
    if (filters.region) where.add((p) => `region = ${p}`, filters.region);
    if (filters.category) where.add((p) => `category = ${p}`, filters.category);
    return where;
  }

  private async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return await this.warehouse.query(sql, params);
    } catch (error) {
      if (/database does not exist/i.test(String(error))) {
        throw new UpstreamUnavailableError(
          `no warehouse at ${this.warehouse.location} yet: run \`etl run\` to load one`,
          { cause: error },
          'WAREHOUSE_MISSING',
        );
      }
      throw error;
    }
  }

  /**
   * What the warehouse holds now: which tables exist, and the latest run and load time of `sales` and of
   * `ml_metrics` (the version that keys the cache). Re-read at most every cacheSeconds (always when
   * `fresh`); a new version drops every cached result. Two queries.
   */
  private async snapshot(fresh = false): Promise<Snapshot> {
    const now = Date.now();
    if (!fresh && this.current && now - this.current.checkedAt < this.cacheMs) return this.current;
    const tables = new Set(
      (
        await this.query(
          `SELECT table_name AS t FROM ${this.warehouse.dialect.tables} WHERE table_name IN ('sales', 'ml_metrics')`,
        )
      ).map((r) => String(r.t)),
    );
    const snapshot: Snapshot = { value: '', checkedAt: now, tables, sales: null, ml: null };
    if (tables.has('sales')) {
      const ml = tables.has('ml_metrics')
        ? `, (SELECT max_by(_run_id, _loaded_at) FROM ml_metrics) AS ml_run_id,
             (SELECT max(_loaded_at) FROM ml_metrics) AS ml_analyzed_at`
        : '';
      const [row] = await this.query(
        `SELECT max_by(_run_id, _loaded_at) AS run_id, max(_loaded_at) AS loaded_at,
                max_by(_source, _loaded_at) AS source, count(*) AS row_count${ml}
         FROM sales`,
      );
      if (row?.run_id) {
        snapshot.sales = {
          runId: String(row.run_id),
          loadedAt: String(row.loaded_at),
          source: String(row.source),
          rows: Number(row.row_count),
        };
      }
      if (row?.ml_run_id)
        snapshot.ml = { runId: String(row.ml_run_id), analyzedAt: String(row.ml_analyzed_at) };
    }
    snapshot.value = [
      `sales:${snapshot.sales ? `${snapshot.sales.runId}@${snapshot.sales.loadedAt}` : 'none'}`,
      `ml_metrics:${snapshot.ml ? `${snapshot.ml.runId}@${snapshot.ml.analyzedAt}` : 'none'}`,
    ].join('|');
    if (this.current?.value !== snapshot.value) this.cache.clear();
    this.current = snapshot;
    return snapshot;
  }

  private async cached<T>(
    name: string,
    params: object,
    compute: (snapshot: Snapshot) => Promise<T>,
  ): Promise<T> {
    const snapshot = await this.snapshot();
    const key = `${snapshot.value}|${name}|${JSON.stringify(params)}`;
    let entry = this.cache.get(key) as Promise<T> | undefined;
    if (!entry) {
      entry = compute(snapshot);
      this.cache.set(key, entry);
      // A failed query is not cached: the next request tries again.
      entry.catch(() => this.cache.delete(key));
    }
    return entry;
  }

  /** Runs grouped from manifest keys `runs/<runId>/manifest/<stage>.json`, newest first. */
  private async readRuns(): Promise<RunSummary[]> {
    const infos = await this.store.list('runs/');
    const byRun = new Map<string, Map<string, BlobInfo>>();
    for (const info of infos) {
      const stage = manifestStage(info.key);
      if (!stage) continue;
      const stages = byRun.get(stage.runId) ?? new Map<string, BlobInfo>();
      stages.set(stage.stage, info);
      byRun.set(stage.runId, stages);
    }
    const runs = await Promise.all(
      [...byRun.entries()].map(async ([runId, stages]) => summarizeRun(this.store, runId, stages)),
    );
    // Newest first; run ids made by `etl run` embed their start time, so they break ties of equal mtimes.
    const newestFirst = (a: RunSummary, b: RunSummary) =>
      b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
    return runs.sort(newestFirst);
  }
}

export interface RunSummary {
  runId: string;
  status: 'analyzed' | 'loaded' | 'skipped' | 'incomplete';
  stages: string[];
  startedAt: string;
  finishedAt: string;
  dataset: string | null;
  datasetVersion: string | null;
  rowsIn: number | null;
  rowsLoaded: number | null;
  rowsQuarantined: number | null;
  rowsDuplicate: number | null;
}

/** The stage of a manifest key `runs/<runId>/manifest/<stage>.json`. */
function manifestStage(key: string): { runId: string; stage: string } | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'manifest' ? { runId: parsed.runId, stage: parsed.stage } : undefined;
}

interface ManifestTables {
  dataset?: { id?: string; version?: string; changed?: boolean };
  tables?: Array<{
    name: string;
    rowsIn?: number;
    rowsLoaded?: number;
    rowsQuarantined?: number;
    rowsDuplicate?: number;
  }>;
}

async function summarizeRun(
  store: BlobStore,
  runId: string,
  stages: Map<string, BlobInfo>,
): Promise<RunSummary> {
  const read = async (stage: string): Promise<ManifestTables | undefined> => {
    const info = stages.get(stage);
    if (!info) return undefined;
    try {
      return await getJson<ManifestTables>(store, info.key);
    } catch {
      return undefined;
    }
  };
  const [extract, transform, load] = await Promise.all([read('extract'), read('transform'), read('load')]);
  const times = [...stages.values()].map((i) => i.updated.getTime());
  const status: RunSummary['status'] = stages.has('analyze')
    ? 'analyzed'
    : stages.has('load')
      ? 'loaded'
      : extract?.dataset?.changed === false && !stages.has('transform')
        ? 'skipped'
        : 'incomplete';
  const main = transform?.tables?.[0];
  const loaded = load?.tables?.find((t) => t.name === main?.name) ?? load?.tables?.[0];
  const rejects = load?.tables?.find((t) => t.name === `${main?.name ?? loaded?.name}_rejects`);
  return {
    runId,
    status,
    stages: ['extract', 'transform', 'load', 'analyze'].filter((s) => stages.has(s)),
    startedAt: new Date(Math.min(...times)).toISOString(),
    finishedAt: new Date(Math.max(...times)).toISOString(),
    dataset: extract?.dataset?.id ?? null,
    datasetVersion: extract?.dataset?.version ?? null,
    rowsIn: main?.rowsIn ?? null,
    rowsLoaded: loaded?.rowsLoaded ?? null,
    rowsQuarantined: rejects?.rowsLoaded ?? main?.rowsQuarantined ?? null,
    rowsDuplicate: main?.rowsDuplicate ?? null,
  };
}

function shiftDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The last 365 days of data (or all of it when there is less). */
export function defaultRange(minDate: string, maxDate: string): Range {
  const from = shiftDays(maxDate, -364);
  return { from: from < minDate ? minDate : from, to: maxDate };
}

function emptyKpis(): unknown {
  const none = (changeKind: string) => ({ value: null, previous: null, change: null, changeKind });
  return {
    source: null,
    range: null,
    previousRange: null,
    revenue: none('relative'),
    orders: none('relative'),
    averageOrderValue: none('relative'),
    profitMargin: none('points'),
  };
}
