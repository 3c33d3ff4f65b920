/**
 * ML feature tables (profile `ml: true`), computed in DuckDB SQL over the staged rows (`staged_rows`),
 * with window functions written so that they also run on BigQuery (RANGE frames over an integer day
 * number, not over an INTERVAL):
 *
 *   <table>_features_daily_region   one row per region and calendar day (zero-filled), date parts,
 *                                   sales/orders/quantity/profit, sales lags t-1 and t-7, 7- and 28-day means
 *   <table>_features_daily_product  one row per product and day with sales, same lags and means by calendar
 *   <table>_features_customers_rfm  recency (days before the last order date of the data), frequency
 *                                   (distinct orders), monetary (sales), 1-5 scores
 *   <table>_features_orders         basket size, lines, distinct products, sales, profit, margin, discount
 *                                   depth, ship days, date parts, one-hot / ordinal categoricals, z-scores
 *
 * Lags and means only look at earlier days (t-1 ... t-n), never the day itself, so they can be used to
 * forecast it. Before an entity's first day they are NULL; a mean over fewer than n earlier days divides
 * by the days available.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { InvalidRequestError } from '@etl/common/errors';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import { toSnakeCase } from './column-names';
import { queryRows } from './duckdb-session';
import type { ColumnPlan } from './infer-types';
import type { ColumnProfile, FeatureTableKind, MlOptions, MlRole } from './profile';

export const MAX_ONE_HOT = 32;
const MAX_ORDINAL = 1000;

/** Roles each table needs. */
const NEEDS: Record<FeatureTableKind, MlRole[]> = {
  daily_region: ['order_date', 'sales', 'region'],
  daily_product: ['order_date', 'sales', 'product_id'],
  customers_rfm: ['customer_id', 'order_id', 'order_date', 'sales'],
  orders: ['order_id', 'order_date', 'sales'],
};

export interface FeatureTable {
  kind: FeatureTableKind;
  name: string;
  sql: string;
}

export interface FeatureNotes {
  /** Categorical columns with more values than one-hot allows, coded as ordinals instead. */
  ordinalInsteadOfOneHot: string[];
  skippedEncodings: string[];
}

export const featureTableName = (table: string, kind: FeatureTableKind): string =>
  `${table}_features_${kind}`;

/** Checks the roles and names up front: a missing role is a profile error, before any row work. */
export function checkFeatureTables(
  table: string,
  ml: MlOptions,
  roles: Partial<Record<MlRole, string>>,
  plans: readonly ColumnPlan[],
  profileFile: string,
): void {
  const problems: string[] = [];
  const typeOf = (role: MlRole): string | undefined => plans.find((p) => p.name === roles[role])?.type;
  for (const kind of ml.tables) {
    const missing = NEEDS[kind].filter((role) => roles[role] === undefined);
    if (missing.length > 0)
      problems.push(
        `feature table ${kind} needs a column for ${missing.map((r) => `ml.roles.${r}`).join(', ')}`,
      );
    // The loader also writes <name>_rejects: both names must be valid table names.
    const name = featureTableName(table, kind);
    if (`${name}_rejects`.length > 63)
      problems.push(`table name ${name}_rejects is longer than 63 characters`);
  }
  const date = typeOf('order_date');
  if (date !== undefined && date !== 'DATE' && date !== 'TIMESTAMP')
    problems.push(`ml.roles.order_date (${roles.order_date}) is ${date}, expected a DATE or TIMESTAMP`);
  for (const role of ['sales', 'quantity', 'discount', 'profit'] as const) {
    const type = typeOf(role);
    if (type !== undefined && type !== 'DOUBLE' && type !== 'BIGINT')
      problems.push(`ml.roles.${role} (${roles[role]}) is ${type}, expected a number`);
  }
  if (problems.length > 0) {
    throw new InvalidRequestError(
      `profile ${profileFile} cannot make its feature tables: ${problems.join('; ')}`,
      {
        details: { profile: profileFile, problems },
      },
      'INVALID_PROFILE',
    );
  }
}

const q = quoteIdentifier;

/** Year, quarter, month, ISO year and week, ISO weekday (1 = Monday), weekend, month start and end. */
export function datePartsSql(d: string): string[] {
  return [
    `year(${d}) AS year`,
    `quarter(${d}) AS quarter`,
    `month(${d}) AS month`,
    `isoyear(${d}) AS iso_year`,
    `week(${d}) AS iso_week`,
    `isodow(${d}) AS weekday`,
    `isodow(${d}) >= 6 AS is_weekend`,
    `day(${d}) = 1 AS is_month_start`,
    `${d} = last_day(${d}) AS is_month_end`,
  ];
}

/** Days since 1970-01-01: an integer window order key (BigQuery: UNIX_DATE). */
const dayNumber = (d: string): string => `(${d} - DATE '1970-01-01')`;

function windowed(frame: string): string {
  return `OVER (PARTITION BY entity ORDER BY day RANGE BETWEEN ${frame})`;
}

/** Lags t-1, t-7 and means over the 7 and 28 days before, by calendar day. */
function lagsSql(): string[] {
  const earlier = (n: number): string => `least(${n}, b.day - b.first_day)`;
  const sumOver = (from: number, to: number): string =>
    `coalesce(sum(b.sales) ${windowed(`${from} PRECEDING AND ${to} PRECEDING`)}, 0)`;
  return [
    `CASE WHEN b.day - 1 >= b.first_day THEN ${sumOver(1, 1)} END AS sales_lag_1`,
    `CASE WHEN b.day - 7 >= b.first_day THEN ${sumOver(7, 7)} END AS sales_lag_7`,
    `CASE WHEN b.day > b.first_day THEN ${sumOver(7, 1)} / ${earlier(7)} END AS sales_mean_7`,
    `CASE WHEN b.day > b.first_day THEN ${sumOver(28, 1)} / ${earlier(28)} END AS sales_mean_28`,
  ];
}

function dailySql(
  roles: Partial<Record<MlRole, string>>,
  entityRole: 'region' | 'product_id',
  dense: boolean,
): string {
  const entity = roles[entityRole]!;
  const date = `CAST(${q(roles.order_date!)} AS DATE)`;
  const measures = [
    `sum(${q(roles.sales!)}) AS sales`,
    ...(roles.order_id ? [`count(DISTINCT ${q(roles.order_id)}) AS orders`] : []),
    ...(roles.quantity ? [`CAST(sum(${q(roles.quantity)}) AS BIGINT) AS quantity`] : []),
    ...(roles.profit ? [`sum(${q(roles.profit)}) AS profit`] : []),
  ];
  const measureNames = [
    'sales',
    ...(roles.order_id ? ['orders'] : []),
    ...(roles.quantity ? ['quantity'] : []),
    ...(roles.profit ? ['profit'] : []),
  ];
  const daily = `SELECT ${q(entity)} AS entity, ${date} AS date, ${measures.join(', ')}
    FROM staged_rows WHERE ${q(entity)} IS NOT NULL AND ${q(roles.order_date!)} IS NOT NULL AND ${q(roles.sales!)} IS NOT NULL
    GROUP BY ALL`;
  const base = dense
    ? `SELECT e.entity, c.date, ${measureNames.map((m) => `coalesce(d.${m}, 0) AS ${m}`).join(', ')}
    FROM (SELECT DISTINCT entity FROM daily) e
    CROSS JOIN (SELECT CAST(unnest(generate_series((SELECT min(date) FROM daily), (SELECT max(date) FROM daily), INTERVAL 1 DAY)) AS DATE) AS date) c
    LEFT JOIN daily d ON d.entity = e.entity AND d.date = c.date`
    : 'SELECT * FROM daily';
  return `WITH daily AS (${daily}),
base AS (${base}),
numbered AS (SELECT *, ${dayNumber('date')} AS day, min(${dayNumber('date')}) OVER (PARTITION BY entity) AS first_day FROM base)
SELECT b.entity AS ${q(entity)}, b.date, ${datePartsSql('b.date').join(', ')},
       ${measureNames.map((m) => `b.${m}`).join(', ')},
       ${lagsSql().join(',\n       ')}
FROM numbered b
ORDER BY b.entity, b.date`;
}

function rfmSql(roles: Partial<Record<MlRole, string>>): string {
  const customer = q(roles.customer_id!);
  const date = `CAST(${q(roles.order_date!)} AS DATE)`;
  return `WITH c AS (
  SELECT ${customer} AS customer, min(${date}) AS first_order_date, max(${date}) AS last_order_date,
         count(DISTINCT ${q(roles.order_id!)}) AS frequency, sum(${q(roles.sales!)}) AS monetary
  FROM staged_rows WHERE ${customer} IS NOT NULL AND ${q(roles.order_date!)} IS NOT NULL
  GROUP BY ALL),
r AS (SELECT *, (SELECT max(last_order_date) FROM c) - last_order_date AS recency_days FROM c)
SELECT customer AS ${customer}, first_order_date, last_order_date, recency_days, frequency, monetary,
       monetary / frequency AS avg_order_value,
       ntile(5) OVER (ORDER BY recency_days DESC, customer) AS r_score,
       ntile(5) OVER (ORDER BY frequency, customer) AS f_score,
       ntile(5) OVER (ORDER BY monetary, customer) AS m_score
FROM r
ORDER BY customer`;
}

interface Encoding {
  column: string;
  kind: 'onehot' | 'ordinal';
  values: string[];
}

function ordersSql(
  roles: Partial<Record<MlRole, string>>,
  encodings: readonly Encoding[],
  taken: Set<string>,
): string {
  const order = q(roles.order_id!);
  const date = `CAST(${q(roles.order_date!)} AS DATE)`;
  const aggregates = [
    `min(${date}) AS order_date`,
    ...(roles.customer_id ? [`min(${q(roles.customer_id)}) AS ${q(roles.customer_id)}`] : []),
    'count(*) AS lines',
    ...(roles.quantity ? [`CAST(sum(${q(roles.quantity)}) AS BIGINT) AS basket_size`] : []),
    ...(roles.product_id ? [`count(DISTINCT ${q(roles.product_id)}) AS distinct_products`] : []),
    `sum(${q(roles.sales!)}) AS sales`,
    ...(roles.profit
      ? [
          `sum(${q(roles.profit)}) AS profit`,
          `sum(${q(roles.profit)}) / nullif(sum(${q(roles.sales!)}), 0) AS margin`,
        ]
      : []),
    ...(roles.discount
      ? [`avg(${q(roles.discount)}) AS discount_mean`, `max(${q(roles.discount)}) AS discount_max`]
      : []),
    ...(roles.ship_date ? [`max(CAST(${q(roles.ship_date)} AS DATE)) - min(${date}) AS ship_days`] : []),
  ];
  for (const e of encodings) {
    const c = q(e.column);
    if (e.kind === 'onehot') {
      for (const v of e.values) {
        const name = uniqueName(`${e.column}_${toSnakeCase(v) || 'blank'}`, taken);
        aggregates.push(
          `CAST(max(CASE WHEN ${c} = ${quoteLiteral(v)} THEN 1 ELSE 0 END) AS BIGINT) AS ${q(name)}`,
        );
      }
    } else {
      const name = uniqueName(`${e.column}_code`, taken);
      const cases = e.values.map((v, code) => `WHEN ${quoteLiteral(v)} THEN ${code}`).join(' ');
      // No values at all (every row rejected): a CASE without a WHEN is not SQL.
      const code = cases ? `CASE ${c} ${cases} END` : 'NULL';
      aggregates.push(`CAST(min(${code}) AS BIGINT) AS ${q(name)}`);
    }
  }
  const zscores = ['sales', ...(roles.quantity ? ['basket_size'] : [])].map(
    (m) =>
      `CASE WHEN stddev_pop(o.${m}) OVER () > 0 THEN (o.${m} - avg(o.${m}) OVER ()) / stddev_pop(o.${m}) OVER () ELSE 0.0 END AS ${m}_z`,
  );
  return `WITH o AS (
  SELECT ${order} AS __order, ${aggregates.join(',\n         ')}
  FROM staged_rows WHERE ${order} IS NOT NULL AND ${q(roles.order_date!)} IS NOT NULL
  GROUP BY ${order})
SELECT o.__order AS ${order}, o.* EXCLUDE (__order), ${datePartsSql('o.order_date').join(', ')},
       ${zscores.join(',\n       ')}
FROM o
ORDER BY o.order_date, o.__order`;
}

/** Names the orders table has before its encoded columns. */
const ORDER_COLUMNS = [
  'order_date',
  'lines',
  'basket_size',
  'distinct_products',
  'sales',
  'profit',
  'margin',
  'discount_mean',
  'discount_max',
  'ship_days',
  'year',
  'quarter',
  'month',
  'iso_year',
  'iso_week',
  'weekday',
  'is_weekend',
  'is_month_start',
  'is_month_end',
  'sales_z',
  'basket_size_z',
];

function uniqueName(base: string, taken: Set<string>): string {
  const trimmed = base.slice(0, 63).replace(/_+$/, '');
  let name = trimmed;
  for (let n = 2; taken.has(name); n++) name = `${trimmed.slice(0, 63 - String(n).length - 1)}_${n}`;
  taken.add(name);
  return name;
}

/** The SQL of each feature table the profile asks for (reads `staged_rows`). */
export async function featureTables(
  connection: DuckDBConnection,
  table: string,
  ml: MlOptions,
  roles: Partial<Record<MlRole, string>>,
  plans: readonly ColumnPlan[],
  columns: readonly (ColumnProfile | undefined)[],
): Promise<{ tables: FeatureTable[]; notes: FeatureNotes }> {
  const notes: FeatureNotes = { ordinalInsteadOfOneHot: [], skippedEncodings: [] };
  const encodings: Encoding[] = [];
  for (const [i, plan] of plans.entries()) {
    const encode = columns[i]?.encode;
    if (encode === undefined || encode === 'none' || plan.type !== 'VARCHAR') continue;
    const rows = await queryRows(
      connection,
      `SELECT DISTINCT ${q(plan.name)} AS v FROM staged_rows WHERE ${q(plan.name)} IS NOT NULL ORDER BY 1 LIMIT ${MAX_ORDINAL + 1}`,
    );
    const values = rows.map((r) => String(r['v']));
    if (values.length > MAX_ORDINAL) {
      notes.skippedEncodings.push(plan.name);
      continue;
    }
    const kind = encode === 'onehot' && values.length > MAX_ONE_HOT ? 'ordinal' : encode;
    if (kind !== encode) notes.ordinalInsteadOfOneHot.push(plan.name);
    encodings.push({ column: plan.name, kind, values });
  }
  const tables: FeatureTable[] = [];
  for (const kind of ml.tables) {
    const name = featureTableName(table, kind);
    const sql =
      kind === 'daily_region'
        ? dailySql(roles, 'region', true)
        : kind === 'daily_product'
          ? dailySql(roles, 'product_id', false)
          : kind === 'customers_rfm'
            ? rfmSql(roles)
            : ordersSql(
                roles,
                encodings,
                new Set([...ORDER_COLUMNS, roles.order_id!, roles.customer_id ?? '']),
              );
    tables.push({ kind, name, sql });
  }
  return { tables, notes };
}
