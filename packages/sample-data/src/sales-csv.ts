/**
 * Synthetic retail order lines, shaped like the Kaggle "Superstore" data: orders of several lines, fixed
 * customer and product pools, and a little deterministic dirt so the cleaning stage has work to do.
 * Streamed in chunks, so millions of rows use flat memory.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatCsvRow } from './csv';
import { CUSTOMERS, type Customer, PRODUCTS, type Product } from './pools';
import { createRandom, pickInt, pickOne, pickWeighted, type Random } from './prng';

export const SALES_COLUMNS = [
  'order_id',
  'order_date',
  'ship_date',
  'ship_mode',
  'customer_id',
  'customer_name',
  'segment',
  'country',
  'city',
  'state',
  'postal_code',
  'region',
  'product_id',
  'category',
  'sub_category',
  'product_name',
  'sales',
  'quantity',
  'discount',
  'profit',
] as const;

export type SalesColumn = (typeof SALES_COLUMNS)[number];

/** Share of data lines carrying each kind of dirt (each drawn independently per line). */
export const SALES_DIRT = {
  /** Empty cells in optional columns. */
  missing: { ship_mode: 0.01, postal_code: 0.01, discount: 0.005, customer_name: 0.005 },
  /** A line repeated verbatim right after itself. */
  duplicateRow: 0.005,
  /** `sales` or `quantity` replaced by text such as `abc` or `12,34.5x`. */
  badNumber: 0.0015,
  /** `order_date` or `ship_date` replaced by `2024-13-45`, `not a date` or `2023-02-30`. */
  badDate: 0.0015,
  /** A text cell (customer_name, city, segment or product_name) with stray leading/trailing spaces. */
  paddedWhitespace: 0.005,
} as const satisfies {
  missing: Partial<Record<SalesColumn, number>>;
  duplicateRow: number;
  badNumber: number;
  badDate: number;
  paddedWhitespace: number;
};

export const BAD_NUMBERS = ['abc', '12,34.5x', '1.2.3'] as const;
export const BAD_DATES = ['2024-13-45', 'not a date', '2023-02-30'] as const;

export interface SalesCsvOptions {
  /** Data lines after the header (duplicates included), exactly. */
  rows: number;
  seed: number;
}

const FIRST_DAY = Date.UTC(2023, 0, 1);
const ORDER_DAYS = 1096; // 2023-01-01 .. 2025-12-31
const MAX_SHIP_DELAY = 7;
const DAY_MS = 86_400_000;
const CHUNK_CHARS = 64 * 1024;

// Precomputed once: formatting a Date per row is the slowest part otherwise.
const ISO_DAYS: readonly string[] = Array.from({ length: ORDER_DAYS + MAX_SHIP_DELAY + 1 }, (_, day) =>
  new Date(FIRST_DAY + day * DAY_MS).toISOString().slice(0, 10),
);

interface ShipMode {
  mode: string;
  minDelay: number;
  maxDelay: number;
}

const SHIP_MODES: ReadonlyArray<readonly [ShipMode, number]> = [
  [{ mode: 'Standard Class', minDelay: 4, maxDelay: 7 }, 0.6],
  [{ mode: 'Second Class', minDelay: 2, maxDelay: 4 }, 0.2],
  [{ mode: 'First Class', minDelay: 1, maxDelay: 2 }, 0.15],
  [{ mode: 'Same Day', minDelay: 0, maxDelay: 0 }, 0.05],
];

const DISCOUNTS = [
  [0, 0.48],
  [0.1, 0.1],
  [0.2, 0.25],
  [0.3, 0.05],
  [0.4, 0.04],
  [0.5, 0.03],
  [0.6, 0.02],
  [0.7, 0.02],
  [0.8, 0.01],
] as const;

const LINES_PER_ORDER = [
  [1, 0.4],
  [2, 0.25],
  [3, 0.15],
  [4, 0.1],
  [5, 0.06],
  [6, 0.04],
] as const;

const QUANTITIES = [
  [1, 0.12],
  [2, 0.25],
  [3, 0.25],
  [4, 0.12],
  [5, 0.1],
  [6, 0.05],
  [7, 0.05],
  [8, 0.02],
  [9, 0.02],
  [14, 0.02],
] as const;

const PADDED_COLUMNS = [5, 6, 8, 15] as const; // customer_name, segment, city, product_name

interface Order {
  id: string;
  orderDay: number;
  shipDay: number;
  shipMode: string;
  customer: Customer;
  linesLeft: number;
}

function startOrder(random: Random, serial: number): Order {
  const orderDay = pickInt(random, 0, ORDER_DAYS - 1);
  const ship = pickWeighted(random, SHIP_MODES);
  return {
    id: `US-${ISO_DAYS[orderDay]!.slice(0, 4)}-${100000 + serial}`,
    orderDay,
    shipDay: orderDay + pickInt(random, ship.minDelay, ship.maxDelay),
    shipMode: ship.mode,
    customer: pickOne(random, CUSTOMERS),
    linesLeft: pickWeighted(random, LINES_PER_ORDER),
  };
}

function buildLine(random: Random, order: Order, product: Product): string[] {
  const quantity = pickWeighted(random, QUANTITIES);
  const discount = pickWeighted(random, DISCOUNTS);
  const gross = product.price * quantity;
  const sales = gross * (1 - discount);
  const profit = gross * (product.margin - discount);
  const { customer } = order;
  return [
    order.id,
    ISO_DAYS[order.orderDay]!,
    ISO_DAYS[order.shipDay]!,
    order.shipMode,
    customer.id,
    customer.name,
    customer.segment,
    'United States',
    customer.city,
    customer.state,
    customer.postalCode,
    customer.region,
    product.id,
    product.category,
    product.subCategory,
    product.name,
    sales.toFixed(2),
    String(quantity),
    String(discount),
    profit.toFixed(2),
  ];
}

const COLUMN_INDEX = Object.fromEntries(SALES_COLUMNS.map((name, index) => [name, index])) as Record<
  SalesColumn,
  number
>;

/** Mutates `cells` with this line's share of dirt; the draws happen in a fixed order, so output is stable. */
function addDirt(random: Random, cells: string[]): void {
  for (const [column, rate] of Object.entries(SALES_DIRT.missing)) {
    if (random() < rate) cells[COLUMN_INDEX[column as SalesColumn]] = '';
  }
  if (random() < SALES_DIRT.badNumber) {
    cells[random() < 0.5 ? COLUMN_INDEX.sales : COLUMN_INDEX.quantity] = pickOne(random, BAD_NUMBERS);
  }
  if (random() < SALES_DIRT.badDate) {
    cells[random() < 0.5 ? COLUMN_INDEX.order_date : COLUMN_INDEX.ship_date] = pickOne(random, BAD_DATES);
  }
  if (random() < SALES_DIRT.paddedWhitespace) {
    const index = pickOne(random, PADDED_COLUMNS);
    cells[index] = pickOne(random, [' ', '  ', '']) + cells[index] + pickOne(random, [' ', '\t', '  ']);
  }
}

function assertOptions({ rows, seed }: SalesCsvOptions): void {
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new RangeError(`rows: expected a non-negative integer, got ${rows}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected an integer, got ${seed}`);
}

/** The CSV text as chunks of about 64 KiB: header first, then exactly `rows` LF-terminated lines. */
export function* generateSalesChunks(options: SalesCsvOptions): Generator<string> {
  assertOptions(options);
  const random = createRandom(options.seed);
  let chunk = `${SALES_COLUMNS.join(',')}\n`;
  let order: Order | undefined;
  let orderSerial = 0;
  let previousLine: string | undefined;
  for (let row = 0; row < options.rows; row++) {
    let line: string;
    if (previousLine !== undefined && random() < SALES_DIRT.duplicateRow) {
      line = previousLine;
    } else {
      if (!order || order.linesLeft === 0) order = startOrder(random, orderSerial++);
      order.linesLeft--;
      const cells = buildLine(random, order, pickOne(random, PRODUCTS));
      addDirt(random, cells);
      line = `${formatCsvRow(cells)}\n`;
    }
    previousLine = line;
    chunk += line;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** The CSV as a byte stream (UTF-8, LF). Same options, same bytes. */
export function generateSalesCsv(options: SalesCsvOptions): Readable {
  assertOptions(options);
  return Readable.from(
    (function* encodeChunks() {
      for (const chunk of generateSalesChunks(options)) yield Buffer.from(chunk, 'utf8');
    })(),
  );
}

export async function writeSalesCsv(file: string, options: SalesCsvOptions): Promise<void> {
  await pipeline(generateSalesCsv(options), createWriteStream(file));
}
