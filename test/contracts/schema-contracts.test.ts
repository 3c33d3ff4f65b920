/**
 * Schema contracts between loads (docs/contracts.md): a dataset's next version is held to the schema its
 * tables were loaded with. Each scenario loads a version, then a changed one, through the three services
 * (pipeline.ts) and asserts the status code, the run's `schemaChanges`, the rows in the warehouse and the
 * rejects with their reasons. The data is an Online Retail look-alike (the UCI/Kaggle file's header,
 * `12/1/2010 8:26` dates, `C` cancellations with negative quantities, CustomerID as `17850.0` or empty),
 * whose counts are taken here while writing it, never from the product.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ONLINE_RETAIL_HEADER } from '../fixtures/datasets/kaggle-shapes';
import { type Pipeline, startPipeline } from './pipeline';

const HEADER = ONLINE_RETAIL_HEADER;
const PRODUCTS: Array<[string, string, string]> = [
  ['85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', '2.55'],
  ['71053', 'WHITE METAL LANTERN', '3.39'],
  ['84406B', 'CREAM CUPID HEARTS COAT HANGER', '2.75'],
  ['22752', 'SET 7 BABUSHKA NESTING BOXES', '7.65'],
];
const COUNTRIES = ['United Kingdom', 'France', 'EIRE', 'Germany'];

interface RetailFile {
  csv: string;
  rows: number;
  cancellations: number;
  quantity: number;
}

interface RetailOptions {
  rows?: number;
  /** Quantity of row i, as text (default: whole numbers, negative for a cancellation). */
  quantity?: (i: number, cancelled: boolean) => string;
  /** InvoiceDate of row i (default `12/<day>/2010 H:MM`). */
  date?: (i: number) => string;
  /** Header names to use instead of the file's (a rename). */
  rename?: Record<string, string>;
  /** Columns left out. */
  drop?: string[];
}

function onlineRetail(options: RetailOptions = {}): RetailFile {
  const rows = options.rows ?? 200;
  const header = HEADER.filter((h) => !options.drop?.includes(h));
  const lines = [header.map((h) => options.rename?.[h] ?? h).join(',')];
  let cancellations = 0;
  let quantity = 0;
  for (let i = 0; i < rows; i++) {
    const invoice = 536_365 + Math.floor(i / 3);
    const cancelled = i % 25 === 7;
    const [code, description, price] = PRODUCTS[i % PRODUCTS.length]!;
    const q = options.quantity?.(i, cancelled) ?? String(cancelled ? -(1 + (i % 4)) : 1 + (i % 12));
    const minutes = 8 * 60 + 26 + (i % 9) * 41;
    const values: Record<string, string> = {
      InvoiceNo: cancelled ? `C${invoice}` : String(invoice),
      StockCode: code,
      Description: description,
      Quantity: q,
      InvoiceDate:
        options.date?.(i) ??
        `12/${1 + (i % 28)}/2010 ${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`,
      UnitPrice: price,
      CustomerID: i % 17 === 3 ? '' : `${12_346 + (i % 40)}.0`,
      Country: COUNTRIES[i % COUNTRIES.length]!,
    };
    lines.push(header.map((h) => values[h]).join(','));
    if (cancelled) cancellations++;
    quantity += Number(q);
  }
  return { csv: `${lines.join('\n')}\n`, rows, cancellations, quantity };
}

const FILE = 'online_retail.csv';
const TABLE = 'online_retail';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
const changesOf = (transform: any) =>
  transform.tables.find((t: { name: string }) => t.name === TABLE).schemaChanges;

describe.each(['duckdb', 'bigquery'] as const)('schema contracts (%s)', (engine) => {
  let p: Pipeline;
  beforeEach(async () => {
    p = await startPipeline(engine);
  });
  afterEach(async () => {
    await p.close();
  });

  const count = async (where = 'TRUE'): Promise<number> =>
    Number((await p.query(`SELECT count(*) AS n FROM ${TABLE} WHERE ${where}`))[0]?.['n']);

  test('fractions in a whole-number column widen it: stored exactly, never rounded, and said', async () => {
    const first = await p.run(FILE, onlineRetail().csv);
    expect(first.last.status, JSON.stringify(first.last.body)).toBe(200);
    expect(changesOf(first.transform)).toBeUndefined();

    const halves = onlineRetail({ quantity: (i, c) => (c ? '-1.5' : String(0.5 + (i % 12))) });
    const second = await p.run(FILE, halves.csv);
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    expect(changesOf(second.transform)).toEqual([
      expect.objectContaining({ change: 'widened', column: 'quantity', from: 'BIGINT', to: 'DOUBLE' }),
    ]);
    const [sum] = await p.query(`SELECT sum(quantity) AS q, count(*) AS n FROM ${TABLE}`);
    expect(Number(sum?.['q'])).toBeCloseTo(halves.quantity, 6);
    expect(Number(sum?.['n'])).toBe(halves.rows);
  });

  test('a renamed column and a dropped one are reported, the dropped one NULL in the new rows', async () => {
    await p.run(FILE, onlineRetail().csv);
    const next = onlineRetail({ rename: { Country: 'CountryName' }, drop: ['Description'] });
    const second = await p.run(FILE, next.csv);
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    expect(changesOf(second.transform)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ change: 'missing', column: 'description' }),
        expect.objectContaining({
          change: 'renamed',
          column: 'country_name',
          from: 'country',
          to: 'country_name',
        }),
      ]),
    );
    expect(changesOf(second.transform)).toHaveLength(2);
    expect(await count('description IS NULL AND country IS NULL AND country_name IS NOT NULL')).toBe(
      next.rows,
    );
  });

  test('an ambiguous version keeps the day-first format the dataset was loaded with', async () => {
    const dayFirst = (i: number) => `${String(1 + (i % 28)).padStart(2, '0')}/11/2024`;
    const first = await p.run(FILE, onlineRetail({ date: dayFirst }).csv);
    expect(first.last.status, JSON.stringify(first.last.body)).toBe(200);
    // Every day <= 12: read alone, M/D/Y and D/M/Y both fit.
    const ambiguous = (i: number) => `${String(1 + (i % 12)).padStart(2, '0')}/11/2024`;
    const second = await p.run(FILE, onlineRetail({ date: ambiguous }).csv);
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    expect(changesOf(second.transform)).toEqual([]);
    const [range] = await p.query(
      `SELECT CAST(min(invoice_date) AS STRING) AS lo, CAST(max(invoice_date) AS STRING) AS hi FROM ${TABLE}`,
    );
    expect(range).toEqual({ lo: '2024-11-01', hi: '2024-11-12' });
  });

  test('a format the new values prove is taken and said', async () => {
    await p.run(FILE, onlineRetail({ date: (i) => `${String(1 + (i % 28)).padStart(2, '0')}/11/2024` }).csv);
    const second = await p.run(
      FILE,
      onlineRetail({ date: (i) => `2024-11-${String(1 + (i % 28)).padStart(2, '0')}` }).csv,
    );
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    expect(changesOf(second.transform)).toEqual([
      expect.objectContaining({
        change: 'format_changed',
        column: 'invoice_date',
        from: '%d/%m/%Y',
        to: '%Y-%m-%d',
      }),
    ]);
  });

  test('dates that stop parsing are rejects the gate sees: 5% pass as type_changed, 60% fail the run with 422', async () => {
    await p.run(FILE, onlineRetail().csv);
    const some = onlineRetail({
      rows: 200,
      date: (i) => (i % 20 === 0 ? 'not-a-date' : `12/${1 + (i % 28)}/2010 9:00`),
    });
    const second = await p.run(FILE, some.csv);
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    expect(changesOf(second.transform)).toEqual([
      expect.objectContaining({
        change: 'type_changed',
        column: 'invoice_date',
        from: 'TIMESTAMP',
        to: 'VARCHAR',
        rows: 10,
      }),
    ]);
    expect(await count()).toBe(190);
    const rejects = await p.query(`SELECT reason, count(*) AS n FROM ${TABLE}_rejects GROUP BY reason`);
    expect(rejects.map((r) => [r['reason'], Number(r['n'])])).toEqual([['type_changed', 10]]);

    const most = onlineRetail({ date: (i) => (i % 5 < 3 ? 'not-a-date' : `12/${1 + (i % 28)}/2010 9:00`) });
    const third = await p.run(FILE, most.csv);
    expect(third.last.stage).toBe('transform');
    expect(third.last.status).toBe(422);
    expect(third.last.body.error.code).toBe('QUALITY_GATE_FAILED');
    expect(third.last.body.error.message).toContain(
      'invoice_date (120 values not TIMESTAMP, the type it was loaded with)',
    );
    expect(await count()).toBe(190);
  });

  test('a first load demotes a mostly-date column to text and says why', async () => {
    const first = await p.run(
      FILE,
      onlineRetail({ date: (i) => (i % 5 < 2 ? 'unknown' : '2010-12-01') }).csv,
    );
    expect(first.last.status, JSON.stringify(first.last.body)).toBe(200);
    const report = JSON.parse((await p.store.get('runs/run-1/reports/transform.json')).toString('utf8'));
    const column = report.tables[0].columns.find((c: { name: string }) => c.name === 'invoice_date');
    expect(column).toMatchObject({
      type: 'VARCHAR',
      reason: expect.stringContaining('120 of 200 sampled values read as dates'),
    });
  });
});

describe.each(['discard_row', 'discard_value', 'evolve', 'freeze'] as const)(
  'Online Retail whose Quantity turns to text in 5%% of rows, contract %s',
  (mode) => {
    let p: Pipeline;
    beforeEach(async () => {
      p = await startPipeline('duckdb');
    });
    afterEach(async () => {
      await p.close();
    });

    test('every cancellation stays loaded and the change is handled as the mode says', async () => {
      const first = onlineRetail();
      expect((await p.run(FILE, first.csv)).last.status).toBe(200);
      const next = onlineRetail({
        quantity: (i, c) => (i % 20 === 1 ? 'twelve' : String(c ? -2 : 1 + (i % 12))),
      });
      const bad = 10;
      const outcome = await p.run(FILE, next.csv, { transform: { contract: mode } });
      const cancellations = async () =>
        Number((await p.query(`SELECT count(*) AS n FROM ${TABLE} WHERE invoice_no LIKE 'C%'`))[0]?.['n']);
      const rejects = async () =>
        (
          await p.query(`SELECT reason, count(*) AS n FROM ${TABLE}_rejects GROUP BY reason ORDER BY reason`)
        ).map((r) => [r['reason'], Number(r['n'])]);
      const total = async () => Number((await p.query(`SELECT count(*) AS n FROM ${TABLE}`))[0]?.['n']);

      if (mode === 'freeze') {
        expect(outcome.last.status).toBe(422);
        expect(outcome.last.body.error.code).toBe('SCHEMA_CHANGED');
        expect(outcome.last.body.error.message).toContain(
          'column quantity was BIGINT, its values now read as VARCHAR',
        );
        // The first version stands, whole.
        expect(await total()).toBe(first.rows);
        expect(await cancellations()).toBe(first.cancellations);
        return;
      }
      expect(outcome.last.status, JSON.stringify(outcome.last.body)).toBe(200);
      expect(await cancellations()).toBe(next.cancellations);
      const [change] = changesOf(outcome.transform);
      if (mode === 'discard_row') {
        expect(change).toMatchObject({ change: 'type_changed', column: 'quantity', rows: bad });
        expect(await total()).toBe(next.rows - bad);
        expect(await rejects()).toEqual([['type_changed', bad]]);
      } else if (mode === 'discard_value') {
        expect(change).toMatchObject({ change: 'type_changed', column: 'quantity', rows: bad });
        expect(await total()).toBe(next.rows);
        expect(
          Number((await p.query(`SELECT count(*) AS n FROM ${TABLE} WHERE quantity IS NULL`))[0]?.['n']),
        ).toBe(bad);
        expect(await rejects()).toEqual([]);
      } else {
        expect(change).toMatchObject({
          change: 'variant',
          column: 'quantity',
          from: 'BIGINT',
          to: 'VARCHAR',
        });
        expect(await total()).toBe(next.rows);
        expect(
          Number(
            (
              await p.query(
                `SELECT count(*) AS n FROM ${TABLE} WHERE quantity IS NULL AND quantity__v2 IS NOT NULL`,
              )
            )[0]?.['n'],
          ),
        ).toBe(next.rows);
        expect(await rejects()).toEqual([]);
      }
    });
  },
);

describe('freeze refuses what evolve would add', () => {
  let p: Pipeline;
  beforeEach(async () => {
    p = await startPipeline('duckdb');
  });
  afterEach(async () => {
    await p.close();
  });

  test('a new column under freeze is 422 SCHEMA_CHANGED naming it; the loaded version stands', async () => {
    await p.run(FILE, onlineRetail({ drop: ['Country'] }).csv);
    const outcome = await p.run(FILE, onlineRetail().csv, { transform: { contract: 'freeze' } });
    expect(outcome.last.status).toBe(422);
    expect(outcome.last.body.error.code).toBe('SCHEMA_CHANGED');
    expect(outcome.last.body.error.message).toContain('new column country (VARCHAR)');
  });

  test('an ambiguous first load under freeze is refused with the evidence', async () => {
    const outcome = await p.run(FILE, onlineRetail({ date: (i) => `0${1 + (i % 9)}/11/2024` }).csv, {
      transform: { contract: 'freeze' },
    });
    expect(outcome.last.status).toBe(422);
    expect(outcome.last.body.error.message).toContain(
      'column invoice_date reads alike as %m/%d/%Y and %d/%m/%Y',
    );
  });

  test('two files of one name in different folders are two datasets: neither replaces the other', async () => {
    const a = onlineRetail({ rows: 120 });
    const b = onlineRetail({ rows: 80 });
    expect((await p.run('a/2024/online_retail.csv', a.csv)).last.status).toBe(200);
    const second = await p.run('b/2025/online_retail.csv', b.csv);
    expect(second.last.status, JSON.stringify(second.last.body)).toBe(200);
    const slices = await p.query(`SELECT _source, count(*) AS n FROM ${TABLE} GROUP BY 1 ORDER BY 2 DESC`);
    expect(slices.map((s) => Number(s['n']))).toEqual([120, 80]);
    expect(slices[0]?.['_source']).toBe('local/files/online-retail');
    expect(slices[1]?.['_source']).toMatch(/^local\/p[0-9a-f]{12}\/online-retail$/);
    // Each path keeps its identity on the next run.
    const again = await p.run('b/2025/online_retail.csv', onlineRetail({ rows: 81 }).csv);
    expect(again.last.body.tables[0]).toMatchObject({ rowsLoaded: 81, rowsReplaced: 80 });
  });

  test('a version with a few rows left is stopped by the volume check unless allowed', async () => {
    await p.run(FILE, onlineRetail().csv);
    const few = onlineRetail({ rows: 3 });
    const refused = await p.run(FILE, few.csv);
    expect(refused.last).toMatchObject({
      stage: 'load',
      status: 422,
      body: { error: { code: 'VOLUME_DROP' } },
    });
    expect(Number((await p.query(`SELECT count(*) AS n FROM ${TABLE}`))[0]?.['n'])).toBe(200);
    const allowed = await p.run(FILE, few.csv, { load: { allowShrink: true } });
    expect(allowed.last.status).toBe(200);
    expect(allowed.last.body.tables[0]).toMatchObject({ name: TABLE, rowsLoaded: 3, rowsReplaced: 200 });
  });
});
