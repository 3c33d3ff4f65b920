/** The roles the transform stage decides per table: inferred, the profile's `roles:` over them, returns measured. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createTestStore, type TestStore, writeExtractedRun, writeProfile } from './test-support';
import { transform } from './transformer';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

const RETAIL = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536366,71053,WHITE METAL LANTERN,2,12/13/2010 8:28,3.39,17850,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,12/14/2010 9:41,2.55,14527,France
`;

/** Walmart's train.csv with a second sales figure that inference does not pick (weekly_sales wins). */
const WALMART = `Store,Dept,Date,Weekly_Sales,Gross_Sales,IsHoliday
1,1,2010-02-05,24924.5,26000,FALSE
1,2,2010-02-05,50605.27,52000,FALSE
2,1,2010-02-12,46039.49,47000,TRUE
`;

/** REES46's eCommerce behavior log: a price on every event, only the purchases are sales; one refund. */
const REES46 = `event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session
2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde-8bb3-4e00-8c23-a032dfed738c
2019-10-01 00:00:00 UTC,view,3900821,2053013552326770905,appliances.environment.water_heater,aqua,33.20,554748717,9333dfbd-b87a-4708-9857-6336556b0fcc
2019-10-01 00:00:01 UTC,cart,17200506,2053013559792632471,furniture.living_room.sofa,,543.10,519107250,566511c2-e2e3-422b-b695-cf8e6e792ca8
2019-10-01 00:00:01 UTC,purchase,1307067,2053013558920217191,computers.notebook,lenovo,251.74,550050854,7c90fc70-0e80-4590-96f3-13c02c18c713
2019-10-01 00:00:04 UTC,view,1004237,2053013555631882655,electronics.smartphone,apple,1081.98,535871217,c6bd7419-2748-4c56-95b4-8cec9ff8b80d
2019-10-01 00:00:05 UTC,purchase,1480613,2053013561092866779,computers.desktop,pulser,-908.62,512742880,0d0d91c2-c9c2-4e81-90a5-86594dec0683
2019-10-01 00:00:08 UTC,remove_from_cart,17300353,2053013553853497655,,creed,380.96,555447699,4fe811e9-91de-46da-90c3-bbd87ed3a65d
`;

async function rolesOf(runId: string, files: Record<string, string>, profile?: string) {
  await writeExtractedRun(t.store, runId, files);
  const response = await transform({ runId, ...(profile ? { profile } : {}) }, t.deps);
  return response.tables[0]!.roles!;
}

describe('roles decided at transform time', () => {
  test('inferred from the cleaned columns, with the returns and cancellations found in the rows', async () => {
    const roles = await rolesOf('r1', { 'online_retail.csv': RETAIL });
    expect(roles.amount).toMatchObject({ column: null, derived: 'quantity * unit_price' });
    expect(roles.event_time?.column).toBe('invoice_date');
    expect(roles.order_id?.column).toBe('invoice_no');
    expect(roles.returns).toEqual({
      net: true,
      negativeAmounts: 1,
      negativeQuantities: 1,
      cancelledOrders: 1,
      evidence:
        'the amount is net of returns and cancellations, which are kept: 1 rows with a negative amount, 1 with a negative quantity, 1 with a cancelled (C) order id',
    });
  });

  test('an event log: the event type says which rows are sales; the returns are counted among them', async () => {
    const roles = await rolesOf('r1', { 'events.csv': REES46 });
    expect(roles.event_time).toMatchObject({ column: 'event_time', confidence: 0.85 });
    expect(roles.event_type?.column).toBe('event_type');
    expect(roles.amount?.column).toBe('price');
    expect(roles.sales).toEqual({
      column: 'event_type',
      mode: 'only',
      values: ['purchase'],
      rows: 2,
      otherRows: 5,
      evidence:
        'event_type says which rows are sales: only its "purchase" rows (2 of 7) are summed; the 5 rows of "view", "cart", "remove_from_cart" are loaded but are not sales',
    });
    expect(roles.returns).toMatchObject({ negativeAmounts: 1 });
  });

  test("a profile's event_type: null leaves every row a sale", async () => {
    await writeProfile(t, 'events', 'roles:\n  event_type: null\n');
    const roles = await rolesOf('r1', { 'events.csv': REES46 }, 'events');
    expect(roles.event_type).toBeUndefined();
    expect(roles.sales).toBeUndefined();
  });

  test("the profile's roles: win, by header or column name; the column it takes loses its inferred role", async () => {
    const inferred = await rolesOf('r1', { 'train.csv': WALMART });
    expect(inferred.amount?.column).toBe('weekly_sales');
    await writeProfile(
      t,
      'walmart',
      'roles:\n  amount: Gross_Sales\n  dimensions: [dept]\n  customer_id: null\n',
    );
    const roles = await rolesOf('r2', { 'train.csv': WALMART }, 'walmart');
    expect(roles.amount).toEqual({
      column: 'gross_sales',
      confidence: 1,
      evidence: 'set by profile profiles/walmart.yaml (roles.amount)',
    });
    expect(roles.event_time?.column).toBe('date');
    expect(roles.dimensions).toEqual([
      {
        column: 'dept',
        confidence: 1,
        evidence: 'set by profile profiles/walmart.yaml (roles.dimensions[0])',
      },
    ]);
    expect(roles.customer_id).toBeUndefined();
    expect(roles.returns?.net).toBe(false);
  });

  test('a role naming a column the table lacks, or one of the wrong type, is a 422 naming the profile, role and column', async () => {
    await writeProfile(t, 'walmart', 'roles:\n  amount: Weekly_Sale\n  event_time: Store\n');
    await writeExtractedRun(t.store, 'r1', { 'train.csv': WALMART });
    const failed = transform({ runId: 'r1', profile: 'walmart' }, t.deps);
    await expect(failed).rejects.toMatchObject({ status: 422, code: 'INVALID_ROLE' });
    await expect(failed).rejects.toThrow(
      'profile profiles/walmart.yaml does not fit table sales_train: roles.event_time: store is an integer (BIGINT), not a DATE or TIMESTAMP; roles.amount: table sales_train has no column Weekly_Sale (columns: store, dept, date, weekly_sales, gross_sales, is_holiday)',
    );
  });
});
