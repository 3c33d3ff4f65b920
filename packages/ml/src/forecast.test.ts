import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { forecastSeries } from './forecast';
import { createRandom } from './test-random';

const SUPERSTORE_CSV = path.resolve(
  import.meta.dirname,
  '../../../../shared/data/superstore/Sample - Superstore.csv',
);
const hasSuperstore = existsSync(SUPERSTORE_CSV);

/** Monthly revenue (sum of Sales by month of Order Date, M/D/YYYY) from the raw Superstore CSV. */
function superstoreMonthlyRevenue(): { months: string[]; revenue: number[] } {
  // cp1252 bytes occur only in Product Name; latin1 keeps every byte one character, so commas and quotes
  // are found correctly and the two columns we read are plain ASCII.
  const lines = readFileSync(SUPERSTORE_CSV, 'latin1').split(/\r?\n/);
  const header = splitCsvLine(lines[0]!);
  const dateColumn = header.indexOf('Order Date');
  const salesColumn = header.indexOf('Sales');
  const byMonth = new Map<string, number>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const cells = splitCsvLine(line);
    const [month, , year] = cells[dateColumn]!.split('/');
    const key = `${year}-${month!.padStart(2, '0')}`;
    byMonth.set(key, (byMonth.get(key) ?? 0) + Number(cells[salesColumn]));
  }
  const months = [...byMonth.keys()].sort();
  return { months, revenue: months.map((m) => byMonth.get(m)!) };
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

describe('forecastSeries on the real Superstore data', () => {
  test.skipIf(!hasSuperstore)(
    `monthly revenue: Holt-Winters fitted on 2014-2016 beats seasonal naive on 2017 (MAE ratio <= 0.75)${hasSuperstore ? '' : ` [skipped: ${SUPERSTORE_CSV} not found]`}`,
    () => {
      const { months, revenue } = superstoreMonthlyRevenue();
      expect(months.length).toBe(48);
      expect(months[0]).toBe('2014-01');
      expect(months[47]).toBe('2017-12');
      const result = forecastSeries(revenue, { period: 12, horizon: 12 });
      expect(result.method).toBe('holt-winters');
      const holdout = result.holdout!;
      console.info(
        `Superstore monthly revenue, holdout 2017: MAE HW ${holdout.maeModel.toFixed(0)} vs seasonal naive ${holdout.maeNaive.toFixed(0)} ` +
          `(ratio ${holdout.maeRatio.toFixed(3)}); MASE HW ${holdout.maseModel.toFixed(3)} vs naive ${holdout.maseNaive.toFixed(3)}; ` +
          `sMAPE HW ${holdout.smapeModel.toFixed(2)}% vs naive ${holdout.smapeNaive.toFixed(2)}%; 95% interval coverage ${holdout.coverage.toFixed(2)}`,
      );
      expect(holdout.maeRatio).toBeLessThanOrEqual(0.75);
      expect(holdout.maseNaive).toBeCloseTo(1.5456, 3); // the standard seasonal-naive MASE on this split
      expect(holdout.maseModel).toBeLessThan(holdout.maseNaive);
      expect(holdout.smapeModel).toBeLessThan(holdout.smapeNaive);
      expect(result.forecast.mean.length).toBe(12);
    },
  );
});

describe('forecastSeries policy', () => {
  const random = createRandom(3);
  const monthly = (n: number) =>
    Array.from(
      { length: n },
      (_, t) => 500 + 5 * t + 80 * Math.cos((2 * Math.PI * t) / 12) + random.normal(0, 10),
    );

  test('36+ points: Holt-Winters with a holdout evaluation', () => {
    const result = forecastSeries(monthly(40), { period: 12, horizon: 12 });
    expect(result.method).toBe('holt-winters');
    expect(result.holdout?.size).toBe(12);
    expect(result.holdout!.maeRatio).toBeLessThan(1);
    expect(result.fitted.length).toBe(40);
  });

  test('24..35 points: Holt-Winters without a holdout', () => {
    const result = forecastSeries(monthly(30), { period: 12, horizon: 6 });
    expect(result.method).toBe('holt-winters');
    expect(result.holdout).toBeUndefined();
    expect(result.forecast.mean.length).toBe(6);
  });

  test('13..23 points: seasonal naive with intervals growing each season', () => {
    const history = monthly(18);
    const result = forecastSeries(history, { period: 12, horizon: 13 });
    expect(result.method).toBe('seasonal-naive');
    expect(result.forecast.mean[0]).toBe(history[6]);
    expect(result.forecast.sd[12]).toBeCloseTo(result.forecast.sd[0]! * Math.SQRT2, 9);
  });

  test('2..12 points: naive, last value, sd growing with √h', () => {
    const result = forecastSeries([10, 12, 11, 13], { period: 12, horizon: 4 });
    expect(result.method).toBe('naive');
    expect(result.forecast.mean).toEqual([13, 13, 13, 13]);
    expect(result.forecast.sd[3]).toBeCloseTo(result.forecast.sd[0]! * 2, 9);
  });
});
