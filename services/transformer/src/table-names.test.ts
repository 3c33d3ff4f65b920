import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fileStem,
  MAX_TABLE_NAME,
  matchesGlob,
  partBase,
  partitionValues,
  planTables,
  sheetStem,
} from './table-names';

const member = (name: string, shape = 'a,b', stem = fileStem(name)) => ({ name, stem, shape });
const plan = (dataset: string, ...members: ReturnType<typeof member>[]) =>
  planTables(members, dataset).map((t) => ({
    name: t.name,
    files: t.members.map((m) => m.name),
    ...(t.naming ? { naming: t.naming } : {}),
  }));

describe('table names from files', () => {
  it('takes the base name without data extensions, snake_cased', () => {
    expect(fileStem('train.csv')).toBe('train');
    expect(fileStem('train.csv.zip/train.csv')).toBe('train');
    expect(fileStem('Sample - Superstore.csv')).toBe('sample_superstore');
    expect(fileStem('data/sampleSubmission.csv')).toBe('sample_submission');
    expect(fileStem('oil.parquet')).toBe('oil');
    expect(fileStem('orders.jsonl')).toBe('orders');
    expect(fileStem('Online Retail.xlsx')).toBe('online_retail');
    expect(fileStem('order_products__prior.csv')).toBe('order_products_prior');
    expect(fileStem('Café Ventas.tsv')).toBe('cafe_ventas');
  });

  it("names Spark's and Hadoop's part files after their folder, passing over partition folders", () => {
    const uuid = '5f2e8c7a-1d2b-4c3e-9f8a-0b1c2d3e4f5a';
    expect(fileStem(`orders/part-00000-${uuid}-c000.csv`)).toBe('orders');
    expect(fileStem(`Daily Sales/year=2019/month=01/part-00001-${uuid}.c000.snappy.parquet`)).toBe(
      'daily_sales',
    );
    expect(fileStem('sales.zip/part-r-00000.csv')).toBe('sales');
    expect(fileStem(`part-00000-${uuid}-c000.csv`)).toBe('');
    // Any file in a partition folder is its table's: DuckDB writes data_0.parquet, pyarrow <uuid>-0.parquet.
    expect(fileStem('orders/region=north/data_0.parquet')).toBe('orders');
    expect(fileStem('events/dt=2024-01-01/3f2a9c-0.parquet')).toBe('events');
    expect(fileStem('year=2019/sales.csv')).toBe('');
    // Other names keep their own stem.
    expect(fileStem('parts/partners.csv')).toBe('partners');
    expect(fileStem('2019/sales.csv')).toBe('sales');
    expect(partitionValues('sales/year=2019/month=01/part-00000.csv')).toEqual([
      { key: 'year', value: '2019' },
      { key: 'month', value: '01' },
    ]);
    expect(partitionValues('t/day=2023-01-01%2010%3A00/region=__HIVE_DEFAULT_PARTITION__/p.csv')).toEqual([
      { key: 'day', value: '2023-01-01 10:00' },
      { key: 'region', value: null },
    ]);
    expect(partitionValues('2019/sales.csv')).toEqual([]);
    expect(
      plan(
        'shop',
        member(`orders/date=2023-01-01/part-00000-${uuid}-c000.csv`),
        member(`orders/date=2023-01-02/part-00000-${uuid}-c000.csv`),
        member(`items/part-00000-${uuid}-c000.csv`, 'x,y'),
      ),
    ).toEqual([
      { name: 'shop_items', files: [`items/part-00000-${uuid}-c000.csv`] },
      {
        name: 'shop_orders',
        files: [
          `orders/date=2023-01-01/part-00000-${uuid}-c000.csv`,
          `orders/date=2023-01-02/part-00000-${uuid}-c000.csv`,
        ],
      },
    ]);
  });

  it('names a sheet after its workbook, and after the sheet too when there are several', () => {
    expect(sheetStem('Online Retail.xlsx', 'Online Retail', 1)).toBe('online_retail');
    expect(sheetStem('Online Retail.xlsx', 'Invoices', 2)).toBe('online_retail_invoices');
  });

  it('strips part and date suffixes only', () => {
    expect(partBase('sales_2021_01')).toBe('sales');
    expect(partBase('sales_part_0001')).toBe('sales');
    expect(partBase('part_00000')).toBe('');
    expect(partBase('sales_january_2019')).toBe('sales');
    expect(partBase('sales_2019_sep')).toBe('sales');
    expect(partBase('orders_q3_2023')).toBe('orders');
    expect(partBase('march')).toBe('');
    expect(partBase('sales_mayor')).toBe('sales_mayor');
    expect(partBase('2019')).toBe('');
    expect(partBase('sales_train_v2')).toBe('sales_train_v2');
    expect(partBase('data1')).toBe('data1');
    expect(partBase('m5')).toBe('m5');
  });

  it('prefixes every table with the dataset, so two datasets with a train.csv do not collide', () => {
    expect(plan('walmart', member('train.csv'), member('stores.csv', 'x'))).toEqual([
      { name: 'walmart_stores', files: ['stores.csv'] },
      { name: 'walmart_train', files: ['train.csv'] },
    ]);
    expect(plan('black-friday', member('train.csv'))).toEqual([
      { name: 'black_friday_train', files: ['train.csv'] },
    ]);
  });

  it('leaves the prefix out when the file already carries the dataset name', () => {
    expect(plan('sample-superstore', member('Sample - Superstore.csv'))).toEqual([
      { name: 'sample_superstore', files: ['Sample - Superstore.csv'] },
    ]);
    expect(plan('olist', member('olist_orders_dataset.csv'))).toEqual([
      { name: 'olist_orders_dataset', files: ['olist_orders_dataset.csv'] },
    ]);
    // Regression: the dataset slug of `sales-1M.csv` is `sales-1m` (lower-cased first) while its stem splits
    // the case change (`sales_1_m`): the table was `sales_1m_sales_1_m`.
    expect(plan('sales-1m', member('sales-1M.csv'))).toEqual([
      { name: 'sales_1_m', files: ['sales-1M.csv'] },
    ]);
    expect(plan('q3-report', member('Q3Report_west.csv'))).toEqual([
      { name: 'q3_report_west', files: ['Q3Report_west.csv'] },
    ]);
  });

  it('makes one table of part files that share a header, and keeps a lone part whole', () => {
    expect(
      plan(
        'shop',
        member('sales_2021_01.csv'),
        member('sales_2021_02.csv'),
        member('sales_2021_03.csv'),
        member('stores.csv', 'other'),
      ),
    ).toEqual([
      { name: 'shop_sales', files: ['sales_2021_01.csv', 'sales_2021_02.csv', 'sales_2021_03.csv'] },
      { name: 'shop_stores', files: ['stores.csv'] },
    ]);
    expect(plan('shop', member('sales_2021_01.csv'))).toEqual([
      { name: 'shop_sales_2021_01', files: ['sales_2021_01.csv'] },
    ]);
    // Same stem, different headers: two tables, the second name fixed up and reported.
    const split = plan('shop', member('sales_2021_01.csv'), member('sales_2021_02.csv', 'other'));
    expect(split.map((t) => t.name)).toEqual(['shop_sales_2021_01', 'shop_sales_2021_02']);
  });

  it('names bare numbered parts after the dataset', () => {
    expect(plan('yearly', member('2019.csv'), member('2020.csv'))).toEqual([
      { name: 'yearly', files: ['2019.csv', '2020.csv'] },
    ]);
  });

  it('fixes collisions, leading digits and long names deterministically, and says so', () => {
    const tables = plan('shop', member('a/orders.csv', 'x'), member('b/orders.csv', 'y'));
    expect(tables).toEqual([
      { name: 'shop_orders', files: ['a/orders.csv'] },
      {
        name: 'shop_orders_2',
        files: ['b/orders.csv'],
        naming: 'shop_orders is already the name of another table of the dataset: named shop_orders_2',
      },
    ]);
    // A table called like another's rejects table is renamed too.
    expect(
      plan('s', member('orders.csv', 'x'), member('orders_rejects.csv', 'y')).map((t) => t.name),
    ).toEqual(['s_orders', 's_orders_rejects_2']);
    expect(plan('2024-sales', member('q1.csv'))[0]).toMatchObject({ name: 't_2024_sales_q1' });
    const long = 'walmart_recruiting_store_sales_forecasting_sample_submission';
    const [cut] = plan('walmart-recruiting-store-sales-forecasting', member('sampleSubmission.csv'));
    const hash = createHash('sha256').update(long).digest('hex').slice(0, 8);
    expect(cut!.name).toBe(`${long.slice(0, 46)}_${hash}`);
    expect(cut!.name.length).toBeLessThanOrEqual(MAX_TABLE_NAME);
    expect(cut!.naming).toContain(long);
  });

  it('uses the names a tables mapping gives', () => {
    const members = [member('train.csv'), member('features.csv', 'x')];
    const tables = planTables(members, 'walmart', (m) =>
      matchesGlob(m.name, 'train*') ? 'weekly' : undefined,
    );
    expect(tables.map((t) => t.name)).toEqual(['walmart_features', 'weekly']);
  });
});
