/**
 * Differently shaped datasets for the insights app's tests, as the loader leaves them: rows in tables named from
 * the dataset's files, with the lineage columns, and the extract and load manifests. Deterministic; each builder
 * also returns its rows, so a test computes what the app should answer without going through the app.
 *
 *   - Supermarket sales: one table `supermarket_sales`, an invoice per row (`invoice_id`), `total` as the
 *     amount, `quantity`, a plain `date` (DATE), four text dimensions; no customer, product or profit column.
 *   - Walmart: `walmart_train` (weekly sales per store and department, Fridays; integer and boolean dimensions;
 *     no order, customer or quantity), `walmart_features` (dated, no amount: never joined) and `walmart_stores`
 *     (no date, one row per store: joined on `store`, lending its `type`).
 *   - Online Retail: `online_retail`, the amount derived as `quantity * unit_price`, a TIMESTAMP event time,
 *     numeric customer ids (some missing), products, and a cancelled invoice (negative quantity); next to it
 *     `online_retail_countries`, whose `country` is listed twice: a key that is not unique, never joined.
 */
import { writeArrowTable } from '@etl/common/arrow';
import { type BlobStore, manifestKey, putJson } from '@etl/common/storage';
import type { Warehouse } from '@etl/common/warehouse';
import {
  Bool,
  type DataType,
  DateDay,
  Float64,
  Int32,
  Table,
  TimeMicrosecond,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

const DAY = 86_400_000;

export const SUPERMARKET = 'local/files/supermarket-sales';
export const WALMART = 'kaggle/walmart/recruiting';
export const RETAIL = 'local/files/online-retail';

/** An Arrow table of `rows`, one column per key of `types`, in that order, of that type. */
export function tableOf<R extends object>(rows: readonly R[], types: { [K in keyof R]: DataType }): Table {
  const columns = Object.entries<DataType>(types).map(([name, type]) => [
    name,
    vectorFromArray(
      rows.map((row) => row[name as keyof R]),
      type,
    ),
  ]);
  return new Table(Object.fromEntries(columns));
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** `13:08` as microseconds since midnight, an Arrow Time64<MICROSECOND> value. */
function timeOfDayMicros(clock: string): bigint {
  const [hours, minutes] = clock.split(':').map(Number);
  return BigInt((hours! * 60 + minutes!) * 60) * 1_000_000n;
}

export interface SupermarketLine {
  invoice_id: string;
  branch: string;
  city: string;
  customer_type: string;
  product_line: string;
  unit_price: number;
  quantity: number;
  total: number;
  date: string;
  time: string;
  payment: string;
}

const PRODUCT_LINES = [
  'Health and beauty',
  'Electronic accessories',
  'Home and lifestyle',
  'Sports and travel',
  'Food and beverages',
  'Fashion accessories',
];

/** Four invoices a day, 2019-01-01 .. 2019-03-30, in three branches. */
export function supermarketLines(): SupermarketLine[] {
  const lines: SupermarketLine[] = [];
  let n = 0;
  for (let t = Date.UTC(2019, 0, 1); t <= Date.UTC(2019, 2, 30); t += DAY) {
    for (let k = 0; k < 4; k++) {
      n++;
      const branch = n % 3;
      const unit_price = 10 + ((n * 37) % 90) + 0.25;
      const quantity = 1 + ((n * 7) % 10);
      lines.push({
        invoice_id: `${100 + (n % 900)}-${10 + (n % 89)}-${1000 + n}`,
        branch: ['A', 'B', 'C'][branch]!,
        city: ['Yangon', 'Mandalay', 'Naypyitaw'][branch]!,
        customer_type: n % 5 < 2 ? 'Member' : 'Normal',
        product_line: PRODUCT_LINES[(n * 5) % 6]!,
        unit_price,
        quantity,
        total: Math.round(unit_price * quantity * 1.05 * 1000) / 1000,
        date: isoDay(t),
        time: `${String(10 + (n % 10)).padStart(2, '0')}:${String((n * 13) % 60).padStart(2, '0')}`,
        payment: ['Ewallet', 'Cash', 'Credit card'][(n * 2) % 3]!,
      });
    }
  }
  return lines;
}

export function supermarketTables(lines = supermarketLines()): Record<string, Table> {
  return {
    supermarket_sales: tableOf(
      // As the transformer stages them: the date a DATE, the till's time of day a TIME.
      lines.map((l) => ({ ...l, date: new Date(`${l.date}T00:00:00Z`), time: timeOfDayMicros(l.time) })),
      {
        invoice_id: new Utf8(),
        branch: new Utf8(),
        city: new Utf8(),
        customer_type: new Utf8(),
        product_line: new Utf8(),
        unit_price: new Float64(),
        quantity: new Int32(),
        total: new Float64(),
        date: new DateDay(),
        time: new TimeMicrosecond(),
        payment: new Utf8(),
      },
    ),
  };
}

export interface WalmartLine {
  store: number;
  dept: number;
  date: string;
  weekly_sales: number;
  is_holiday: boolean;
}

/** 50 weeks of Fridays from 2011-01-07 to 2011-12-16, stores 1..3, departments 1, 5 and 9; a holiday every 13th week. */
export function walmartLines(): WalmartLine[] {
  const lines: WalmartLine[] = [];
  for (let w = 0; w < 50; w++) {
    const t = Date.UTC(2011, 0, 7) + w * 7 * DAY;
    const month = new Date(t).getUTCMonth();
    for (let store = 1; store <= 3; store++) {
      for (const dept of [1, 5, 9]) {
        lines.push({
          store,
          dept,
          date: isoDay(t),
          weekly_sales:
            store * 1000 + dept * 300 + (month >= 10 ? 2500 : 0) + ((w * 37 + store * 11 + dept) % 400) + 0.5,
          is_holiday: w % 13 === 5,
        });
      }
    }
  }
  return lines;
}

/** Type of each Walmart store (`walmart_stores`), as the fact view joins it to `walmart_train`. */
export const WALMART_STORE_TYPES: Record<number, string> = { 1: 'A', 2: 'B', 3: 'C' };

export function walmartTables(lines = walmartLines()): Record<string, Table> {
  const dates = [...new Set(lines.map((l) => l.date))];
  return {
    walmart_train: tableOf(
      lines.map((l) => ({ ...l, date: new Date(`${l.date}T00:00:00Z`) })),
      {
        store: new Int32(),
        dept: new Int32(),
        date: new DateDay(),
        weekly_sales: new Float64(),
        is_holiday: new Bool(),
      },
    ),
    // Dated but without an amount, and with more rows of no interest: never the fact table.
    walmart_features: tableOf(
      dates.flatMap((date, w) =>
        [1, 2, 3].map((store) => ({
          store,
          date: new Date(`${date}T00:00:00Z`),
          temperature: 40 + ((w * 7 + store) % 30),
          fuel_price: 2.5 + w / 100,
        })),
      ),
      { store: new Int32(), date: new DateDay(), temperature: new Float64(), fuel_price: new Float64() },
    ),
    walmart_stores: tableOf(
      [
        { store: 1, type: WALMART_STORE_TYPES[1]!, size: 151_315 },
        { store: 2, type: WALMART_STORE_TYPES[2]!, size: 202_307 },
        { store: 3, type: WALMART_STORE_TYPES[3]!, size: 37_392 },
      ],
      { store: new Int32(), type: new Utf8(), size: new Int32() },
    ),
  };
}

export interface RetailLine {
  invoice_no: string;
  stock_code: string;
  description: string;
  quantity: number;
  invoice_date: Date;
  unit_price: number;
  customer_id: number | null;
  country: string;
}

/**
 * Three invoices of two lines a day, 2011-01-03 .. 2011-03-31 except Saturdays, from 12 customers (every tenth
 * invoice without one) in three countries; invoice 20 is cancelled the next day (`C` invoice, quantity negated).
 */
export function retailLines(): RetailLine[] {
  const lines: RetailLine[] = [];
  const products = [
    ['85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', 2.55],
    ['71053', 'WHITE METAL LANTERN', 3.39],
    ['84406B', 'CREAM CUPID HEARTS COAT HANGER', 2.75],
    ['22752', 'SET 7 BABUSHKA NESTING BOXES', 7.65],
  ] as const;
  let n = 0;
  for (let t = Date.UTC(2011, 0, 3); t <= Date.UTC(2011, 2, 31); t += DAY) {
    if (new Date(t).getUTCDay() === 6) continue;
    for (let k = 0; k < 3; k++) {
      n++;
      const customer = n % 10 === 0 ? null : 12_346 + ((n * 7) % 12);
      const country = ['United Kingdom', 'France', 'Germany'][customer === null ? 0 : customer % 3]!;
      for (let line = 0; line < 2; line++) {
        const [stock_code, description, unit_price] = products[(n + line) % 4]!;
        lines.push({
          invoice_no: String(536_000 + n),
          stock_code,
          description,
          quantity: 1 + ((n * 3 + line) % 12),
          invoice_date: new Date(t + (9 + k * 3) * 3_600_000 + line * 60_000),
          unit_price,
          customer_id: customer,
          country,
        });
      }
      if (n === 20) {
        const first = lines.at(-2)!;
        lines.push({
          ...first,
          invoice_no: `C${first.invoice_no}`,
          quantity: -first.quantity,
          invoice_date: new Date(t + DAY + 3_600_000),
        });
      }
    }
  }
  return lines;
}

export function retailTables(lines = retailLines()): Record<string, Table> {
  return {
    // France twice: joining on country would count its lines twice, so the fact view must not.
    online_retail_countries: tableOf(
      [
        { country: 'United Kingdom', region: 'Northern Europe' },
        { country: 'France', region: 'Western Europe' },
        { country: 'France', region: 'Europe' },
        { country: 'Germany', region: 'Western Europe' },
      ],
      { country: new Utf8(), region: new Utf8() },
    ),
    online_retail: tableOf(lines, {
      invoice_no: new Utf8(),
      stock_code: new Utf8(),
      description: new Utf8(),
      quantity: new Int32(),
      invoice_date: new TimestampMillisecond(),
      unit_price: new Float64(),
      customer_id: new Int32(),
      country: new Utf8(),
    }),
  };
}

/** A dataset with no dated table: listed, but it has no fact table. */
export function productsTables(): Record<string, Table> {
  return {
    products: tableOf(
      [
        { product_id: 'p1', product_name: 'Chair', price: 120 },
        { product_id: 'p2', product_name: 'Desk', price: 300 },
      ],
      { product_id: new Utf8(), product_name: new Utf8(), price: new Float64() },
    ),
  };
}

/** What extract and load leave for one run of a dataset of several tables: the rows and the two manifests. */
export async function loadDataset(
  target: { warehouse: Warehouse; store: BlobStore },
  options: { runId: string; source: string; tables: Record<string, Table>; loadedAt: string },
): Promise<void> {
  const { runId, source, loadedAt } = options;
  const results = await target.warehouse.load({
    tables: Object.entries(options.tables).map(([table, arrow]) => ({
      table,
      arrow: writeArrowTable(arrow),
    })),
    source,
    runId,
    sourceVersion: `v-${runId}`,
    loadedAt: new Date(loadedAt),
  });
  const dataset = { id: source, version: `v-${runId}` };
  await putJson(target.store, manifestKey(runId, 'extract'), {
    runId,
    source: `local:/data/${source}`,
    dataset: { ...dataset, previousVersion: null, changed: true },
    files: [],
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  });
  await putJson(target.store, manifestKey(runId, 'load'), {
    runId,
    warehouse: target.warehouse.kind,
    dataset,
    tables: results.map((r) => ({ name: r.table, rowsLoaded: r.rowsLoaded, rowsReplaced: 0 })),
    loadedAt,
    manifestKey: manifestKey(runId, 'load'),
  });
}

/** `2019-01-05` as the Supermarket sales file writes it: `1/5/2019`. */
function usDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${m}/${d}/${y}`;
}

/** The lines as Kaggle's `supermarket_sales.csv` spells them (its headers, US dates), for `etl run`. */
export function supermarketCsv(lines = supermarketLines()): string {
  const header =
    'Invoice ID,Branch,City,Customer type,Product line,Unit price,Quantity,Total,Date,Time,Payment';
  const rows = lines.map((l) =>
    [
      l.invoice_id,
      l.branch,
      l.city,
      l.customer_type,
      l.product_line,
      l.unit_price,
      l.quantity,
      l.total,
      usDate(l.date),
      l.time,
      l.payment,
    ].join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/** The lines as Walmart's `train.csv` spells them (`Store,Dept,Date,Weekly_Sales,IsHoliday`), for `etl run`. */
export function walmartTrainCsv(lines = walmartLines()): string {
  const rows = lines.map((l) =>
    [l.store, l.dept, l.date, l.weekly_sales, l.is_holiday ? 'TRUE' : 'FALSE'].join(','),
  );
  return `${['Store,Dept,Date,Weekly_Sales,IsHoliday', ...rows].join('\n')}\n`;
}
