/**
 * Sales files whose headers are not in the Latin alphabet, as exported in China, Russia and Korea: a Taobao-style
 * order list (`下单日期`, `2023年1月5日` dates, `销售额`), a 1C export (`;`, `05.01.2023`, `1 234,50`, `Контрагент`,
 * `Номенклатура`, `Сумма`) and a Korean order list (`2023년 1월 5일`, `매출`). Through every stage in process: the
 * columns keep their names (they used to become column_1, column_2, ...), the dates and numbers are typed, the
 * roles are found by name, and the forecast runs. The expected sums are computed here from the rows written.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runStages, type StagesRun } from './stages-in-process';

const DAYS = 40;
/** One row a day for DAYS days from 2023-01-01, rotating through `names`; amounts from the day's index. */
const days = <T>(make: (day: Date, i: number) => T): T[] =>
  Array.from({ length: DAYS }, (_, i) => make(new Date(Date.UTC(2023, 0, 1 + i)), i));
const amount = (i: number) => 100 + ((i * 37) % 90) + (i % 4) * 0.25;

const chinese = days((day, i) => ({
  id: `T${1000 + i}`,
  date: `${day.getUTCFullYear()}年${day.getUTCMonth() + 1}月${day.getUTCDate()}日`,
  customer: ['张三', '李四', '王五'][i % 3]!,
  category: ['水果', '乳制品', '烘焙'][i % 3]!,
  quantity: (i % 5) + 1,
  sales: amount(i),
}));
const russian = days((day, i) => ({
  date: `${String(day.getUTCDate()).padStart(2, '0')}.${String(day.getUTCMonth() + 1).padStart(2, '0')}.2023`,
  customer: ['ООО Ромашка', 'ИП Петров', 'АО Вектор'][i % 3]!,
  product: ['Яблоки', 'Груши', 'Сливы'][i % 3]!,
  store: ['Основной склад', 'Склад №2'][i % 2]!,
  quantity: (i % 5) + 1,
  sales: amount(i) * 20,
}));
const korean = days((day, i) => ({
  date: `${day.getUTCFullYear()}년 ${day.getUTCMonth() + 1}월 ${day.getUTCDate()}일`,
  product: ['사과', '배'][i % 2]!,
  sales: Math.round(amount(i) * 1000),
}));
/** `1 234,50`, as 1C writes a number. */
const russianNumber = (n: number) =>
  n
    .toFixed(2)
    .replace('.', ',')
    .replace(/\B(?=(\d{3})+,)/g, ' ');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe.each([
  {
    file: '订单明细.csv',
    // A file name with no Latin letter names no table: the table takes the dataset's name, else `data`.
    table: 'data',
    csv: [
      '订单编号,下单日期,客户,类别,数量,销售额',
      ...chinese.map((r) => [r.id, r.date, r.customer, r.category, r.quantity, r.sales].join(',')),
    ],
    columns: ['订单编号', '下单日期', '客户', '类别', '数量', '销售额'],
    roles: {
      event_time: '下单日期',
      amount: '销售额',
      quantity: '数量',
      customer_name: '客户',
      order_id: '订单编号',
    },
    dimension: '类别',
    total: sum(chinese.map((r) => r.sales)),
  },
  {
    file: 'prodazhi.csv',
    table: 'prodazhi',
    csv: [
      'Дата;Контрагент;Номенклатура;Склад;Количество;Сумма',
      ...russian.map((r) =>
        [r.date, r.customer, r.product, r.store, r.quantity, `"${russianNumber(r.sales)}"`].join(';'),
      ),
    ],
    columns: ['дата', 'контрагент', 'номенклатура', 'склад', 'количество', 'сумма'],
    roles: {
      event_time: 'дата',
      amount: 'сумма',
      quantity: 'количество',
      customer_name: 'контрагент',
      product_name: 'номенклатура',
    },
    dimension: 'склад',
    total: sum(russian.map((r) => r.sales)),
  },
  {
    file: 'maechul.csv',
    table: 'maechul',
    csv: ['주문 일자,상품명,매출', ...korean.map((r) => [r.date, r.product, r.sales].join(','))],
    columns: ['주문_일자', '상품명', '매출'],
    roles: { event_time: '주문_일자', amount: '매출', product_name: '상품명' },
    dimension: undefined,
    total: sum(korean.map((r) => r.sales)),
  },
])('$file', ({ file, table, csv, columns, roles, dimension, total }) => {
  let run: StagesRun;
  beforeAll(async () => {
    run = await runStages(file, `${csv.join('\n')}\n`);
  });
  afterAll(async () => {
    await run?.cleanup();
  });

  test('the columns keep their names, the dates are DATEs and every amount is summed', async () => {
    const loaded = await run.warehouse.query(
      `SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $1 AND NOT starts_with(column_name, '_') ORDER BY column_index`,
      [table],
    );
    expect(loaded.map((c) => c['column_name'])).toEqual(columns);
    expect(loaded.find((c) => c['column_name'] === roles.event_time)?.['data_type']).toBe('DATE');
    const [row] = await run.warehouse.query(
      `SELECT count(*)::INT AS n, sum("${roles.amount}") AS total, min("${roles.event_time}")::VARCHAR AS first FROM "${table}"`,
    );
    expect(row).toMatchObject({ n: DAYS, first: '2023-01-01' });
    expect(row?.['total'] as number).toBeCloseTo(total, 6);
  });

  test('the roles are found by name and the forecast runs', () => {
    expect(run.analyzed['table']).toBe(table);
    expect(run.analyzed['roles']).toMatchObject(
      Object.fromEntries(Object.entries(roles).map(([role, column]) => [role, { column }])),
    );
    const dimensions = (run.analyzed['roles'] as { dimensions: Array<{ column: string }> }).dimensions;
    if (dimension) expect(dimensions.map((d) => d.column)).toContain(dimension);
    expect(run.analyzed['forecast']).toMatchObject({ grain: 'day' });
  });
});
