/**
 * Regression: on an Amazon Sale Report-like file (Kaggle "E-commerce Sales Dataset"), `Date` is written
 * `mm-dd-yy` (`04-30-22`): no four-digit-year format read it, so it stayed text, the table had no event
 * time and the whole analysis was skipped. The look-alike keeps the real file's quirks: a trailing space
 * in `Sales Channel `, an empty `Unnamed: 22` column, blank Amount and currency, quoted comma lists in
 * `promotion-ids`, postal codes as `400081.0`, mixed-case states and repeated order ids.
 */
import { getJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { TransformReport } from './report';
import { createTestStore, readTable, rowsOf, type TestStore, writeExtractedRun } from './test-support';
import { transform } from './transformer';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

const HEADER =
  'index,Order ID,Date,Status,Fulfilment,Sales Channel ,ship-service-level,Style,SKU,Category,Size,ASIN,Courier Status,Qty,currency,Amount,ship-city,ship-state,ship-postal-code,ship-country,promotion-ids,B2B,fulfilled-by,Unnamed: 22';
const PROMOTIONS =
  '"Amazon PLCC Free-Financing Universal Merchant AAT-WNKTBO3K27EJC,Amazon PLCC Free-Financing Universal Merchant AAT-QX3UCCJESKPA2"';

/** 120 lines over 2022-03-31..06-29, two per order id; every 15th without Amount and currency. */
function amazonCsv(): { csv: string; blanks: number; total: number; cancelled: number } {
  const lines = [HEADER];
  let blanks = 0;
  let total = 0;
  let cancelled = 0;
  for (let i = 0; i < 120; i++) {
    const day = new Date(Date.UTC(2022, 2, 31 + (i % 91)));
    const date = `${String(day.getUTCMonth() + 1).padStart(2, '0')}-${String(day.getUTCDate()).padStart(2, '0')}-22`;
    const blank = i % 15 === 0;
    const amount = blank ? '' : `${300 + ((i * 37) % 1200)}.00`;
    if (blank) blanks++;
    else total += Number(amount);
    if (i % 9 === 0) cancelled++;
    lines.push(
      [
        i,
        `405-${8_078_784 + Math.floor(i / 2)}-5731545`,
        date,
        i % 9 === 0 ? 'Cancelled' : 'Shipped',
        i % 2 ? 'Merchant' : 'Amazon',
        'Amazon.in',
        i % 2 ? 'Standard' : 'Expedited',
        `SET${389 + (i % 20)}`,
        `SET${389 + (i % 20)}-KR-NP-S`,
        ['Set', 'kurta', 'Western Dress'][i % 3],
        ['S', 'M', 'L', 'XL'][i % 4],
        'B09KXVBD7Z',
        i % 9 === 0 ? '' : 'Shipped',
        i % 9 === 0 ? 0 : 1 + (i % 3),
        blank ? '' : 'INR',
        amount,
        'MUMBAI',
        ['MAHARASHTRA', 'Maharashtra', 'KARNATAKA'][i % 3],
        '400081.0',
        'IN',
        i % 3 === 0 ? PROMOTIONS : '',
        i % 5 === 0 ? 'True' : 'False',
        i % 2 ? 'Easy Ship' : '',
        '',
      ].join(','),
    );
  }
  return { csv: `${lines.join('\n')}\n`, blanks, total, cancelled };
}

describe('Amazon Sale Report: two-digit-year dates and the real file quirks', () => {
  test('every row loads; Date is a DATE read as %m-%d-%y; the roles find the event time, amount and quantity', async () => {
    const { csv, blanks, total, cancelled } = amazonCsv();
    await writeExtractedRun(t.store, 'r1', { 'Amazon Sale Report.csv': csv });
    const response = await transform({ runId: 'r1' }, t.deps);
    const counts = response.tables[0]!;
    expect(counts).toMatchObject({ rowsIn: 120, rowsOut: 120, rowsQuarantined: 0, rowsDuplicate: 0 });
    expect(counts.guesses).toBeUndefined();
    expect(counts.roles).toMatchObject({
      event_time: { column: 'date' },
      amount: { column: 'amount' },
      quantity: { column: 'qty' },
      order_id: { column: 'order_id' },
      product_id: { column: 'sku' },
    });
    expect(counts.roles?.dimensions.map((d) => d.column)).toContain('sales_channel');
    // Cancelled orders keep their amounts in the file: the Status says they are no sale.
    expect(counts.roles?.sales).toMatchObject({
      column: 'status',
      mode: 'except',
      values: ['Cancelled'],
      rows: 120 - cancelled,
      otherRows: cancelled,
    });

    const report = (await getJson<TransformReport>(t.store, response.reportKey)).tables[0]!;
    const column = (name: string) => report.columns.find((c) => c.name === name);
    expect(column('date')).toMatchObject({ type: 'DATE', format: '%m-%d-%y', ambiguous: false, invalid: 0 });
    expect(column('sales_channel')).toMatchObject({ source: 'Sales Channel', type: 'VARCHAR' });
    expect(column('amount')).toMatchObject({ type: 'DOUBLE', nulls: blanks });

    const rows = rowsOf(await readTable(t.store, counts.stagedKey));
    expect(rows[0]).toMatchObject({
      date: '2022-03-31',
      amount: null,
      promotion_ids: expect.stringContaining(','),
    });
    expect(
      rows
        .map((r) => r['date'] as string)
        .sort()
        .at(-1),
    ).toBe('2022-06-29');
    expect(rows.reduce((sum, r) => sum + ((r['amount'] as number | null) ?? 0), 0)).toBeCloseTo(total, 6);
  });
});
