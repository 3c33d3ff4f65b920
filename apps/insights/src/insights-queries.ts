/**
 * Every query the insights app runs, for any dataset. Nothing here names a data table or column: the catalog
 * (`./datasets.ts`) finds each dataset's fact table and its column roles (event time, amount, order, quantity,
 * profit, customer, product, dimensions), and the SQL is built from those roles:
 *   - names found in the warehouse (the fact table, a role's column) reach SQL only through
 *     `dialect.identifier`; a dimension named in a request (a filter key, `by`) must be one of the dataset's
 *     dimension roles (else 400 naming it), and then the catalog's own name is quoted;
 *   - a dimension lent by a related table (@etl/common/fact-view: Walmart's store `type` from `walmart_stores`)
 *     is read from the fact view, the fact table LEFT JOINed on a key unique in the related table, so a query
 *     reads the same rows and sums with or without it; only the tables a query's dimensions need are joined;
 *   - user values only ever reach SQL as bound parameters (`$1..$n`);
 *   - the SQL is valid in DuckDB and BigQuery alike; the few forms that differ come from the warehouse's
 *     dialect (`warehouse.dialect`, see @etl/common/warehouse `dialect.ts`).
 *
 * Results are cached per warehouse version (the catalog's: latest load and analysis, and a digest of every
 * dataset's row counts and the columns). The version itself is re-read at most every `cacheSeconds`, so a new
 * load or analysis shows up after at most that long, and a busy dashboard costs two cheap queries per interval.
 *
 * All monitoring queries are scoped to one dataset (`_source`): by default the one loaded last, since
 * mixing, say, the generated sample with Superstore would add up unrelated businesses.
 */
import { ANALYZE_GRAINS } from '@etl/common/contracts';
import { InvalidRequestError, NotFoundError, UpstreamUnavailableError } from '@etl/common/errors';
import { type ColumnRoleName, type FactSql, factSql } from '@etl/common/fact-table';
import { type FactView, factViewFrom, readFactView } from '@etl/common/fact-view';
import type { Roles } from '@etl/common/roles';
import type { BlobStore } from '@etl/common/storage';
import { dateText, type Row, type Warehouse } from '@etl/common/warehouse';
import {
  type Catalog,
  type Dataset,
  describeDataset,
  dimensionsOf,
  readCatalog,
  roleColumns,
} from './datasets';
import { readRuns } from './run-history';

export interface Filters {
  source?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Dimension filters: a dimension column of the dataset -> the value it must have. */
  dimensions?: Record<string, string> | undefined;
}

export type Grain = 'day' | 'week' | 'month';
export type TopKind = 'products' | 'customers';

export interface InsightsQueriesOptions {
  cacheSeconds?: number;
  /** Most runs listed by `runs()`. */
  runLimit?: number;
}

/** Parameters of the monitoring endpoints that are not dimension filters. */
export const FIXED_FILTERS = ['source', 'from', 'to'] as const;

/** Dimensions the filter bar and the breakdown charts offer, and the values a dimension may have to be one. */
const MAX_DIMENSIONS = 4;
const MIN_DIMENSION_VALUES = 2;
const MAX_DIMENSION_VALUES = 500;
/** The default grain is the coarsest one with at least this many periods. */
const DEFAULT_GRAIN_PERIODS = 8;
const GRAINS: readonly Grain[] = ['day', 'week', 'month'];

const TOP_ROLES: Record<TopKind, { keys: ColumnRoleName[]; label: ColumnRoleName; missing: string }> = {
  products: {
    keys: ['product_id', 'product_name'],
    label: 'product_name',
    missing: 'no product column (a product id, stock code, SKU or product name)',
  },
  customers: {
    keys: ['customer_id'],
    label: 'customer_name',
    missing: 'no customer column (a customer id or a customer name)',
  },
};

type ForecastGrain = (typeof ANALYZE_GRAINS)[number];

/**
 * Characters of a period's 'YYYY-MM-DD' text that name it: the month (a quarter's first month), or the day a
 * week or day starts.
 */
const PERIOD_TEXT_LENGTH: Record<ForecastGrain, number> = { quarter: 7, month: 7, week: 10, day: 10 };

function parseGrain(value: string | null | undefined): ForecastGrain {
  return ANALYZE_GRAINS.find((g) => g === value) ?? 'month';
}

const DAY_MS = 86_400_000;
const NO_DATA = 'no dataset is loaded yet: run `etl run`';

interface Range {
  from: string;
  to: string;
}

interface Snapshot {
  catalog: Catalog;
  checkedAt: number;
}

/** A dataset's fact table and the related tables its view joins, ready for SQL. */
interface Fact {
  dataset: Dataset;
  roles: Roles;
  sql: FactSql;
  /**
   * Quoted dimension columns by name, the fact table's own and the lent ones: only these may be filtered or
   * broken down by.
   */
  dimensions: Map<string, string>;
  /** What to read FROM for a query using these dimensions: the fact table, joined to what lends them. */
  from(dimensions: Iterable<string>): string;
}

/** What the filter bar offers for a dataset: its dates, grains and dimensions with their values. */
interface Profile {
  minDate: string | null;
  maxDate: string | null;
  grains: Grain[];
  defaultGrain: Grain;
  /** Up to MAX_DIMENSIONS dimensions with 2..500 values, best first; values by revenue, highest first. */
  dimensions: Array<{ name: string; values: string[] }>;
}

interface Scope {
  fact: Fact;
  profile: Profile;
  range: Range;
}

/** The answer when there is nothing to compute: no dataset, or one without a fact table. */
interface Empty {
  empty: { source: string | null; table: null; reason: string };
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

  /** A condition without a parameter (built from quoted names only). */
  addSql(sql: string): this {
    this.parts.push(sql);
    return this;
  }

  /** The next placeholder after these conditions' parameters, for parameters appended after them. */
  next(offset = 1): string {
    return `$${this.params.length + offset}`;
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

export class InsightsQueries {
  private readonly cacheMs: number;
  private readonly runLimit: number;
  private current: Snapshot | undefined;
  private reading: Promise<Snapshot> | undefined;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly store: BlobStore,
    options: InsightsQueriesOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? 10) * 1000;
    this.runLimit = options.runLimit ?? 20;
  }

  // ---- datasets ---------------------------------------------------------------------------------

  /** Every loaded dataset, newest first, with its fact table, roles and dimensions; and the default one. */
  datasets(): Promise<unknown> {
    return this.cached('datasets', {}, async ({ catalog }) => ({
      datasets: await this.describeAll(catalog),
      default: this.dataset(catalog, undefined)?.id ?? null,
    }));
  }

  // ---- monitoring -------------------------------------------------------------------------------

  /** The datasets to choose from, and for the chosen one its dimensions and values, dates and grains. */
  filters(source?: string): Promise<unknown> {
    return this.cached('filters', { source }, async (snapshot) => {
      const { catalog } = snapshot;
      const dataset = this.dataset(catalog, source);
      const fact = dataset && (await this.fact(dataset));
      const sources = await this.describeAll(catalog);
      if (!fact) {
        return {
          sources,
          source: dataset?.id ?? null,
          table: null,
          reason: dataset?.reason ?? NO_DATA,
          roles: roleColumns(undefined),
          dimensions: [],
          minDate: null,
          maxDate: null,
          defaultRange: null,
          grains: [],
          defaultGrain: null,
        };
      }
      const profile = await this.profile(fact);
      const { minDate, maxDate } = profile;
      return {
        sources,
        source: dataset.id,
        table: dataset.fact?.name ?? null,
        reason: null,
        roles: roleColumns(fact.roles),
        dimensions: profile.dimensions,
        minDate,
        maxDate,
        defaultRange: minDate && maxDate ? defaultRange(minDate, maxDate) : null,
        grains: profile.grains,
        defaultGrain: profile.defaultGrain,
      };
    });
  }

  /**
   * Revenue, orders (distinct order ids, else rows), average order value, units (when there is a quantity)
   * and profit margin (when there is a profit) for [from, to], each with the previous period of equal length
   * ([from - L, from - 1], L = days in the range) and the change: relative, in percentage points for the
   * margin. A measure the dataset has no column for is absent, not null.
   */
  kpis(filters: Filters): Promise<unknown> {
    return this.cached('kpis', cacheParams(filters), async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if ('empty' in scope) return { ...scope.empty, ...emptyKpis() };
      const { fact, range } = scope;
      const { roles, sql } = fact;
      const days = (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1;
      const previous: Range = { from: shiftDays(range.from, -days), to: shiftDays(range.from, -1) };
      const where = this.conditions(fact, { ...filters, from: previous.from, to: range.to });
      const current = `${sql.day} >= CAST(${where.next(1)} AS DATE)`;
      const before = `${sql.day} <= CAST(${where.next(2)} AS DATE)`;
      const sums: Array<[string, string]> = [
        ['revenue', sql.amount],
        ...(roles.quantity ? [['units', sql.column('quantity')] as [string, string]] : []),
        ...(roles.profit ? [['profit', sql.column('profit')] as [string, string]] : []),
      ];
      const [row] = await this.query(
        `SELECT
           ${sums
             .flatMap(([name, x]) => [
               `coalesce(sum(IF(${current}, ${x}, NULL)), 0) AS ${name}`,
               `coalesce(sum(IF(${before}, ${x}, NULL)), 0) AS prev_${name}`,
             ])
             .join(',\n           ')},
           ${orders(fact, current)} AS orders,
           ${orders(fact, before)} AS prev_orders
         FROM ${fact.from(dimensionNames(filters))} ${where.sql}`,
        [...where.params, range.from, previous.to],
      );
      const r = row ?? {};
      const revenue = Number(r.revenue);
      const count = Number(r.orders);
      const prevRevenue = Number(r.prev_revenue);
      const prevCount = Number(r.prev_orders);
      return {
        source: fact.dataset.id,
        table: fact.dataset.fact?.name ?? null,
        range,
        previousRange: previous,
        columns: {
          revenue: roleColumns(roles).amount,
          orders: roles.order_id?.column ?? null,
          units: roles.quantity?.column ?? null,
          profit: roles.profit?.column ?? null,
        },
        revenue: metric(revenue, prevRevenue, 'relative'),
        orders: metric(count, prevCount, 'relative'),
        averageOrderValue: metric(
          count ? revenue / count : null,
          prevCount ? prevRevenue / prevCount : null,
          'relative',
        ),
        ...(roles.quantity ? { units: metric(Number(r.units), Number(r.prev_units), 'relative') } : {}),
        ...(roles.profit
          ? {
              profitMargin: metric(
                revenue ? Number(r.profit) / revenue : null,
                prevRevenue ? Number(r.prev_profit) / prevRevenue : null,
                'points',
              ),
            }
          : {}),
      };
    });
  }

  /** Revenue (and orders, units, profit as the dataset has them) per day, ISO week or month of the range. */
  revenue(grain: Grain | undefined, filters: Filters): Promise<unknown> {
    return this.cached('revenue', { grain, ...cacheParams(filters) }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if ('empty' in scope) return { ...scope.empty, grain: grain ?? null, points: [] };
      const { fact, range, profile } = scope;
      const chosen = grain ?? profile.defaultGrain;
      const { sql } = fact;
      const where = this.conditions(fact, { ...filters, ...range });
      const extra = measures(fact);
      const points = await this.query(
        `SELECT ${dateText(this.warehouse.dialect.truncateDate(sql.day, chosen))} AS period,
                sum(${sql.amount}) AS revenue, ${orders(fact)} AS orders${extra.sql}
         FROM ${fact.from(dimensionNames(filters))} ${where.sql} GROUP BY 1 ORDER BY 1`,
        where.params,
      );
      return {
        source: fact.dataset.id,
        range,
        grain: chosen,
        points: points.map((p) => ({
          period: p.period,
          ...numbers(p, ['revenue', 'orders', ...extra.names]),
        })),
      };
    });
  }

  /** Revenue per value of one of the dataset's dimensions, highest first, with its share of the total. */
  breakdown(by: string, filters: Filters): Promise<unknown> {
    return this.cached('breakdown', { by, ...cacheParams(filters) }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters, by);
      if ('empty' in scope) return { ...scope.empty, by, groups: [] };
      const { fact, range } = scope;
      const { sql, roles } = fact;
      const where = this.conditions(fact, { ...filters, ...range });
      const dimension = fact.dimensions.get(by)!;
      const profit = roles.profit
        ? `, sum(${sql.column('profit')}) AS profit, sum(${sql.column('profit')}) / nullif(sum(${sql.amount}), 0) AS margin`
        : '';
      const groups = await this.query(
        `SELECT coalesce(CAST(${dimension} AS STRING), '(missing)') AS key, sum(${sql.amount}) AS revenue,
                ${orders(fact)} AS orders${profit},
                sum(${sql.amount}) / nullif(sum(sum(${sql.amount})) OVER (), 0) AS share
         FROM ${fact.from([...dimensionNames(filters), by])} ${where.sql} GROUP BY 1 ORDER BY revenue DESC, key`,
        where.params,
      );
      const names = ['revenue', 'orders', ...(roles.profit ? ['profit', 'margin'] : []), 'share'];
      return {
        source: fact.dataset.id,
        range,
        by,
        groups: groups.map((g) => ({ key: g.key, ...numbers(g, names) })),
      };
    });
  }

  /** The top products or customers by revenue; `available: false` when the dataset has no such column. */
  top(kind: TopKind, limit: number, filters: Filters): Promise<unknown> {
    return this.cached('top', { kind, limit, ...cacheParams(filters) }, async (snapshot) => {
      const scope = await this.scope(snapshot, filters);
      if ('empty' in scope) return { ...scope.empty, kind, available: false, items: [] };
      const { fact, range } = scope;
      const { sql, roles } = fact;
      const spec = TOP_ROLES[kind];
      const keyRole = spec.keys.find((role) => roles[role]);
      if (!keyRole) {
        return { source: fact.dataset.id, range, kind, available: false, reason: spec.missing, items: [] };
      }
      const key = sql.column(keyRole);
      const label =
        roles[spec.label] && spec.label !== keyRole ? sql.column(spec.label) : 'CAST(NULL AS STRING)';
      const where = this.conditions(fact, { ...filters, ...range }).addSql(`${key} IS NOT NULL`);
      const profit = roles.profit ? `, sum(${sql.column('profit')}) AS profit` : '';
      const items = await this.query(
        `SELECT CAST(${key} AS STRING) AS id, any_value(${label}) AS name, sum(${sql.amount}) AS revenue,
                ${orders(fact)} AS orders${profit}
         FROM ${fact.from(dimensionNames(filters))} ${where.sql} GROUP BY 1 ORDER BY revenue DESC, id LIMIT ${where.next()}`,
        [...where.params, limit],
      );
      const names = ['revenue', 'orders', ...(roles.profit ? ['profit'] : [])];
      return {
        source: fact.dataset.id,
        range,
        kind,
        available: true,
        column: roles[keyRole]?.column ?? null,
        items: items.map((i) => ({ id: i.id, name: i.name ?? null, ...numbers(i, names) })),
      };
    });
  }

  // ---- runs and freshness ------------------------------------------------------------------------

  /** Run history from the stage manifests in the blob store, newest first. */
  runs(): Promise<unknown> {
    return this.cached('runs', {}, async () => ({
      runs: (await readRuns(this.store)).slice(0, this.runLimit),
    }));
  }

  /**
   * The last successful run (newest load manifest): its dataset, row counts and quarantine count, and
   * what the warehouse itself says (the latest load of any dataset: its run, time, dataset and the rows of its
   * fact table). Not cached beyond the version check: the pages poll this to notice a new run.
   */
  async freshness(): Promise<unknown> {
    const [snapshot, runs] = await Promise.all([this.snapshot(true), readRuns(this.store)]);
    const latest = runs.find((r) => r.status === 'loaded' || r.status === 'analyzed');
    return {
      version: snapshot.catalog.version,
      latestRun: latest ?? null,
      warehouse: snapshot.catalog.latest,
      analysis: snapshot.catalog.ml,
      checkedAt: new Date().toISOString(),
    };
  }

  // ---- ML results ------------------------------------------------------------------------------

  /**
   * The forecast at the grain the analyze stage chose (`ml_metrics.forecast_grain`: quarter, month, week or day;
   * month before it recorded one): `month` is YYYY-MM for months, else the period's first day.
   */
  forecast(source?: string): Promise<unknown> {
    return this.cached('forecast', { source }, async (snapshot) => {
      const src = this.mlSource(snapshot, source);
      if (!src.analyzed) return src.answer;
      const metrics = await this.metricsOf(src.id);
      const grain = parseGrain(metrics.forecast_grain?.note);
      const points = await this.query(
        `SELECT substr(${dateText('month')}, 1, ${PERIOD_TEXT_LENGTH[grain]}) AS month, actual, fitted, forecast,
                lower, upper, holdout_forecast, holdout_lower, holdout_upper, holdout_naive
         FROM ml_forecast WHERE _source = $1 ORDER BY 1`,
        [src.id],
      );
      return { available: true, source: src.id, grain, points, metrics };
    });
  }

  segments(source?: string): Promise<unknown> {
    return this.cached('segments', { source }, async (snapshot) => {
      const src = this.mlSource(snapshot, source);
      if (!src.analyzed) return src.answer;
      const profiles = await this.query(
        `SELECT segment, segment_label AS label, customers, customer_share, mean_recency_days, mean_frequency,
                mean_monetary, revenue_share
         FROM ml_segment_profiles WHERE _source = $1 ORDER BY segment`,
        [src.id],
      );
      const topCustomers = await this.query(
        `SELECT customer_id, customer_name, segment_label AS label, recency_days, frequency, monetary
         FROM ml_segments WHERE _source = $1 ORDER BY monetary DESC, customer_id LIMIT 10`,
        [src.id],
      );
      return {
        available: true,
        source: src.id,
        profiles,
        topCustomers,
        metrics: await this.metricsOf(src.id),
      };
    });
  }

  anomalies(source?: string): Promise<unknown> {
    return this.cached('anomalies', { source }, async (snapshot) => {
      const src = this.mlSource(snapshot, source);
      if (!src.analyzed) return src.answer;
      const points = await this.query(
        `SELECT ${dateText('date')} AS date, revenue, baseline, score, is_anomaly
         FROM ml_anomalies WHERE _source = $1 ORDER BY 1`,
        [src.id],
      );
      const flagged = await this.query(
        `SELECT ${dateText('date')} AS date, revenue, baseline, score, direction
         FROM ml_anomalies WHERE _source = $1 AND is_anomaly ORDER BY abs(score) DESC, 1 LIMIT 20`,
        [src.id],
      );
      const metrics = await this.metricsOf(src.id);
      return {
        available: true,
        source: src.id,
        rule: metrics.anomaly_flagged?.note ?? null,
        points,
        flagged,
        metrics,
      };
    });
  }

  drivers(source?: string): Promise<unknown> {
    return this.cached('drivers', { source }, async (snapshot) => {
      const src = this.mlSource(snapshot, source);
      if (!src.analyzed) return src.answer;
      const groups = await this.query(
        `SELECT dimension, key, lines, revenue, revenue_share, profit, profit_share, margin
         FROM ml_drivers WHERE _source = $1 ORDER BY dimension, revenue DESC`,
        [src.id],
      );
      return { available: true, source: src.id, groups, metrics: await this.metricsOf(src.id) };
    });
  }

  metrics(source?: string): Promise<unknown> {
    return this.cached('metrics', { source }, async (snapshot) => {
      const src = this.mlSource(snapshot, source);
      if (!src.analyzed) return src.answer;
      const [run] = await this.query(
        'SELECT any_value(_run_id) AS run_id, max(_loaded_at) AS analyzed_at FROM ml_metrics WHERE _source = $1',
        [src.id],
      );
      return {
        available: true,
        source: src.id,
        runId: run?.run_id ?? null,
        analyzedAt: run?.analyzed_at ?? null,
        metrics: await this.metricsOf(src.id),
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

  /**
   * The dataset asked for (404 when the warehouse holds no rows of it), else the newest one with a fact table,
   * else the newest; undefined when nothing is loaded.
   */
  private dataset(catalog: Catalog, source: string | undefined): Dataset | undefined {
    if (!source) return catalog.datasets.find((d) => d.fact) ?? catalog.datasets[0];
    const found = catalog.datasets.find((d) => d.id === source);
    if (!found) {
      const loaded = catalog.datasets.map((d) => d.id).join(', ') || 'none';
      throw new NotFoundError(
        `expected a dataset loaded in the warehouse ${this.warehouse.location}, found no rows of dataset ${source} (loaded: ${loaded})`,
      );
    }
    return found;
  }

  private async fact(dataset: Dataset): Promise<Fact | undefined> {
    const table = dataset.fact;
    if (!table) return undefined;
    const { dialect } = this.warehouse;
    const view = await this.view(dataset);
    return {
      dataset,
      roles: table.roles,
      sql: factSql(dialect, table),
      dimensions: new Map(dimensionsOf(dataset, view).map((name) => [name, dialect.identifier(name)])),
      from: (dimensions) => factViewFrom(dialect, table, view?.relations ?? [], dimensions),
    };
  }

  /** The related tables the dataset's fact table joins (one query, cached per warehouse version). */
  private view(dataset: Dataset): Promise<FactView | undefined> {
    const table = dataset.fact;
    if (!table) return Promise.resolve(undefined);
    return this.cached('fact-view', { source: dataset.id }, () =>
      readFactView(
        this.warehouse.dialect,
        (sql, params) => this.query(sql, params),
        dataset.id,
        table,
        dataset.tables,
      ),
    );
  }

  /** Every dataset as the API lists it, with its fact view. */
  private async describeAll(catalog: Catalog): Promise<unknown[]> {
    return Promise.all(catalog.datasets.map(async (d) => describeDataset(d, await this.view(d))));
  }

  /** The dataset whose ML results to show, and the answer to give when the analyze stage has not run for it. */
  private mlSource(
    snapshot: Snapshot,
    source: string | undefined,
  ): { analyzed: true; id: string } | { analyzed: false; answer: unknown } {
    const dataset = this.dataset(snapshot.catalog, source);
    if (dataset?.analyzed) return { analyzed: true, id: dataset.id };
    return { analyzed: false, answer: { available: false, source: dataset?.id ?? null } };
  }

  /**
   * Dataset, fact table and date range of a monitoring query; the range defaults to the last 365 days of data.
   * Dimension filters (and `by`) must name dimensions of the dataset: anything else is a 400 naming it.
   */
  private async scope(snapshot: Snapshot, filters: Filters, by?: string): Promise<Scope | Empty> {
    const dataset = this.dataset(snapshot.catalog, filters.source);
    const fact = dataset && (await this.fact(dataset));
    const known = fact ? [...fact.dimensions.keys()] : [];
    const of = `dataset ${dataset?.id ?? '(none loaded)'} (${known.join(', ') || 'it has none'})`;
    const unknown = Object.keys(filters.dimensions ?? {}).filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new InvalidRequestError(
        `unknown query parameter ${unknown.join(', ')}: expected ${FIXED_FILTERS.join(', ')} or a dimension of ${of}`,
        { details: { parameters: unknown, dimensions: known } },
      );
    }
    if (by !== undefined && !known.includes(by)) {
      throw new InvalidRequestError(`by: expected a dimension of ${of}, found ${by}`, {
        details: { by, dimensions: known },
      });
    }
    if (!fact)
      return { empty: { source: dataset?.id ?? null, table: null, reason: dataset?.reason ?? NO_DATA } };
    const profile = await this.profile(fact);
    const fallback =
      profile.minDate && profile.maxDate ? defaultRange(profile.minDate, profile.maxDate) : undefined;
    const from = filters.from ?? fallback?.from;
    const to = filters.to ?? fallback?.to;
    if (!from || !to) {
      return {
        empty: {
          source: fact.dataset.id,
          table: null,
          reason: `no row of dataset ${fact.dataset.id} has an event time`,
        },
      };
    }
    return { fact, profile, range: { from, to } };
  }

  /** First and last day, grains and the filter bar's dimensions of a dataset (two queries, cached). */
  private profile(fact: Fact): Promise<Profile> {
    return this.cached('profile', { source: fact.dataset.id }, async () => {
      const { sql, dimensions } = fact;
      const candidates = [...fact.dimensions.keys()];
      const [row] = await this.query(
        `SELECT ${dateText(`min(${sql.day})`)} AS min_date, ${dateText(`max(${sql.day})`)} AS max_date,
                count(DISTINCT ${sql.day}) AS day_count${candidates
                  .map((c, i) => `, count(DISTINCT ${dimensions.get(c)!}) AS d${i}`)
                  .join('')}
         FROM ${fact.from(candidates)} WHERE _source = $1`,
        [fact.dataset.id],
      );
      const minDate = (row?.min_date as string | null | undefined) ?? null;
      const maxDate = (row?.max_date as string | null | undefined) ?? null;
      const chosen = candidates
        .filter((_, i) => {
          const values = Number(row?.[`d${i}`] ?? 0);
          return values >= MIN_DIMENSION_VALUES && values <= MAX_DIMENSION_VALUES;
        })
        .slice(0, MAX_DIMENSIONS);
      const values =
        chosen.length === 0
          ? []
          : await this.query(
              chosen
                .map(
                  (c, i) =>
                    `SELECT ${i} AS dim, CAST(${dimensions.get(c)!} AS STRING) AS value, sum(${sql.amount}) AS revenue
                     FROM ${fact.from([c])} WHERE _source = $1 AND ${dimensions.get(c)!} IS NOT NULL GROUP BY 2`,
                )
                .join('\nUNION ALL\n'),
              [fact.dataset.id],
            );
      const byRevenue = (a: Row, b: Row) =>
        (Number(b.revenue) || 0) - (Number(a.revenue) || 0) || String(a.value).localeCompare(String(b.value));
      return {
        minDate,
        maxDate,
        ...grainsOf(minDate, maxDate, Number(row?.day_count ?? 0)),
        dimensions: chosen.map((name, i) => ({
          name,
          values: values
            .filter((v) => Number(v.dim) === i)
            .sort(byRevenue)
            .map((v) => String(v.value)),
        })),
      };
    });
  }

  private conditions(fact: Fact, filters: Filters): Conditions {
    const { sql } = fact;
    const where = new Conditions().add((p) => `_source = ${p}`, fact.dataset.id);
    if (filters.from) where.add((p) => `${sql.day} >= CAST(${p} AS DATE)`, filters.from);
    if (filters.to) where.add((p) => `${sql.day} <= CAST(${p} AS DATE)`, filters.to);
    for (const [name, value] of sortedEntries(filters.dimensions)) {
      where.add((p) => `CAST(${fact.dimensions.get(name)!} AS STRING) = ${p}`, value);
    }
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
   * What the warehouse holds now (the catalog: datasets, fact tables, roles, latest load and analysis, and the
   * version that keys the cache). Re-read at most every cacheSeconds (always when `fresh`); concurrent requests
   * share one read; a new version drops every cached result.
   */
  private async snapshot(fresh = false): Promise<Snapshot> {
    const now = Date.now();
    if (!fresh && this.current && now - this.current.checkedAt < this.cacheMs) return this.current;
    if (!this.reading) {
      this.reading = readCatalog(this.warehouse.dialect, (sql, params) => this.query(sql, params))
        .then((catalog) => {
          if (this.current?.catalog.version !== catalog.version) this.cache.clear();
          this.current = { catalog, checkedAt: now };
          return this.current;
        })
        .finally(() => {
          this.reading = undefined;
        });
    }
    return this.reading;
  }

  private async cached<T>(
    name: string,
    params: object,
    compute: (snapshot: Snapshot) => Promise<T>,
  ): Promise<T> {
    const snapshot = await this.snapshot();
    const key = `${snapshot.catalog.version}|${name}|${JSON.stringify(params)}`;
    let entry = this.cache.get(key) as Promise<T> | undefined;
    if (!entry) {
      entry = compute(snapshot);
      this.cache.set(key, entry);
      // A failed query is not cached: the next request tries again.
      entry.catch(() => this.cache.delete(key));
    }
    return entry;
  }
}

/** Distinct orders when the dataset has an order id, else rows; `condition` restricts what is counted. */
function orders(fact: Fact, condition?: string): string {
  const { roles, sql } = fact;
  if (roles.order_id) {
    const id = sql.column('order_id');
    return condition ? `count(DISTINCT IF(${condition}, ${id}, NULL))` : `count(DISTINCT ${id})`;
  }
  return condition ? `count(IF(${condition}, 1, NULL))` : 'count(*)';
}

/** The sums a series point carries besides revenue and orders: units and profit, when the dataset has them. */
function measures(fact: Fact): { sql: string; names: string[] } {
  const { roles, sql } = fact;
  const parts: Array<[string, string]> = [];
  if (roles.quantity) parts.push(['units', sql.column('quantity')]);
  if (roles.profit) parts.push(['profit', sql.column('profit')]);
  return {
    sql: parts.map(([name, column]) => `, sum(${column}) AS ${name}`).join(''),
    names: parts.map(([name]) => name),
  };
}

/** The named fields of a row as numbers (null stays null). */
function numbers(row: Row, names: readonly string[]): Record<string, number | null> {
  return Object.fromEntries(
    names.map((n) => [n, row[n] === null || row[n] === undefined ? null : Number(row[n])]),
  );
}

function metric(value: number | null, previous: number | null, kind: 'relative' | 'points') {
  return {
    value,
    previous,
    change:
      value === null || previous === null
        ? null
        : kind === 'points'
          ? value - previous
          : previous === 0
            ? null
            : (value - previous) / Math.abs(previous),
    changeKind: kind,
  };
}

/** The dimensions a request filters on. */
function dimensionNames(filters: Filters): string[] {
  return Object.keys(filters.dimensions ?? {});
}

function sortedEntries(record: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(record ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** Filters as a cache key: dimension filters in a fixed order. */
function cacheParams(filters: Filters): object {
  return { ...filters, dimensions: sortedEntries(filters.dimensions) };
}

/**
 * The grains a series can be drawn at: day when the data has dates most days (a mean gap under 7 days), week
 * when under 28, month always; each needs 2 periods (one day of data: day only). The default is the coarsest
 * with at least DEFAULT_GRAIN_PERIODS periods, else the finest offered.
 */
export function grainsOf(
  minDate: string | null,
  maxDate: string | null,
  distinctDays: number,
): { grains: Grain[]; defaultGrain: Grain } {
  if (!minDate || !maxDate) return { grains: ['month'], defaultGrain: 'month' };
  const first = Date.parse(`${minDate}T00:00:00Z`);
  const last = Date.parse(`${maxDate}T00:00:00Z`);
  const span = Math.round((last - first) / DAY_MS) + 1;
  const gap = distinctDays > 1 ? (span - 1) / (distinctDays - 1) : Number.POSITIVE_INFINITY;
  const monday = (t: number) => t - ((new Date(t).getUTCDay() + 6) % 7) * DAY_MS;
  const a = new Date(first);
  const b = new Date(last);
  const periods: Record<Grain, number> = {
    day: span,
    week: Math.round((monday(last) - monday(first)) / (7 * DAY_MS)) + 1,
    month: (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1,
  };
  const fine: Record<Grain, boolean> = { day: gap < 7, week: gap < 28, month: true };
  const offered = GRAINS.filter((g) => fine[g] && periods[g] >= 2);
  const grains: Grain[] = offered.length > 0 ? offered : ['day'];
  const defaultGrain = [...grains].reverse().find((g) => periods[g] >= DEFAULT_GRAIN_PERIODS) ?? grains[0]!;
  return { grains, defaultGrain };
}

function shiftDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The last 365 days of data (or all of it when there is less). */
export function defaultRange(minDate: string, maxDate: string): Range {
  const from = shiftDays(maxDate, -364);
  return { from: from < minDate ? minDate : from, to: maxDate };
}

function emptyKpis(): Record<string, unknown> {
  const none = (changeKind: string) => ({ value: null, previous: null, change: null, changeKind });
  return {
    range: null,
    previousRange: null,
    revenue: none('relative'),
    orders: none('relative'),
    averageOrderValue: none('relative'),
  };
}
