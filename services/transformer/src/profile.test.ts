import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidRequestError } from '@etl/common/errors';
import { describe, expect, test } from 'vitest';
import { parseCheckRule } from './checks';
import { defaultProfilesDir } from './config';
import { addedColumnNames, loadProfile, mlOptions, parseProfile } from './profile';

const PROFILES = defaultProfilesDir();

function problemsOf(text: string): string[] {
  try {
    parseProfile(text, 'profiles/x.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ code: 'INVALID_PROFILE', status: 400 });
    return (error as InvalidRequestError & { details: { problems: string[] } }).details.problems;
  }
  throw new Error('expected the profile to be rejected');
}

describe('shipped profiles', () => {
  test('profiles/superstore.yaml: all 21 columns, ZIP padding, NBSP, keys, checks, layout, ml', async () => {
    const { profile, file, name } = await loadProfile('superstore', PROFILES);
    expect({ file, name }).toEqual({ file: 'profiles/superstore.yaml', name: 'superstore' });
    expect(profile.columns).toHaveLength(21);
    expect(profile.source).toMatchObject({ encoding: 'windows-1252', delimiter: ',', header: true });
    expect(profile.table).toBe('sales');
    expect(profile.primaryKey).toEqual(['row_id']);
    expect(profile.columns.find((c) => c.name === 'postal_code')).toMatchObject({ type: 'string', pad: 5 });
    expect(profile.columns.find((c) => c.name === 'order_date')).toMatchObject({
      type: 'date',
      format: '%m/%d/%Y',
    });
    expect(profile.columns.find((c) => c.name === 'product_name')?.text).toMatchObject({ nbsp: true });
    expect(profile.quality.checks[0]).toMatchObject({ rule: 'ship_date >= order_date', severity: 'reject' });
    expect(profile.warehouse).toEqual({ partitionBy: 'order_date', clusterBy: ['region', 'category'] });
    expect(mlOptions(profile)?.tables).toEqual(['daily_region', 'daily_product', 'customers_rfm', 'orders']);
  });

  test('profiles/sample-sales.yaml: the generated columns', async () => {
    const { profile } = await loadProfile('sample-sales', PROFILES);
    expect(profile.columns.map((c) => c.name)).toEqual([
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
    ]);
    expect(profile.columns.find((c) => c.name === 'order_date')).toMatchObject({ format: '%Y-%m-%d' });
  });
});

describe('profile validation names the file, line, column and field', () => {
  test('a wrong type', () => {
    const text = ['table: sales', 'columns:', '  - name: qty', '    type: int'].join('\n');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^profiles\/x\.yaml:4:11: columns\[0\]\.type: /),
    ]);
  });

  test('an unknown field and a bad column name', () => {
    const text = ['columns:', '  - name: Qty', '    colour: red'].join('\n');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(
      /profiles\/x\.yaml:2:11: columns\[0\]\.name: expected a snake_case name/,
    );
    expect(problems.join('\n')).toMatch(/profiles\/x\.yaml:2:5: columns\[0\]: .*colour/);
  });

  test('column names in any script, lower-case', () => {
    const profile = parseProfile(
      [
        'columns:',
        '  - { name: 下单日期, type: date, format: "%Y年%m月%d日" }',
        '  - { name: сумма, type: number }',
      ].join('\n'),
      'profiles/x.yaml',
    );
    expect(profile.columns.map((c) => c.name)).toEqual(['下单日期', 'сумма']);
    expect(problemsOf(['columns:', '  - name: Сумма'].join('\n')).join('\n')).toMatch(
      /expected a snake_case name/,
    );
  });

  test('an ambiguous date column without a format does not load', () => {
    const text = [
      'columns:',
      '  - name: d',
      '    type: date',
      '    ambiguous: true',
      '    candidates: ["%m/%d/%Y", "%d/%m/%Y"]',
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      'profiles/x.yaml:4:16: columns[0].ambiguous: the date format of d is ambiguous between %m/%d/%Y and %d/%m/%Y: set format to the right one and remove ambiguous',
    ]);
  });

  test('rules across fields', () => {
    const text = [
      'columns:',
      '  - { name: a, type: integer, pad: 5 }',
      '  - { name: b, type: string, missing: { impute: median } }',
      '  - { name: c, type: number, missing: { impute: constant } }',
      '  - { name: d, type: number, normalize: [zscore] }',
      '  - { name: d_z, type: number }',
      '  - { name: e, type: integer, currency: $ }',
      '  - { name: f, type: string, percent: true }',
      '  - { name: g, type: date, format: unix_seconds }',
      '  - { name: h, type: timestamp, format: excel_serial }',
      'quality:',
      '  checks:',
      '    - { name: bad, rule: "a >> b" }',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems).toEqual([
      expect.stringContaining('columns[0].pad: pad needs type string, not integer'),
      expect.stringContaining('columns[1].missing: median needs a numeric or date column, not string'),
      expect.stringContaining('columns[2].missing: impute: constant needs a value'),
      expect.stringContaining('columns[5].currency: currency and percent need type number, not integer'),
      expect.stringContaining('columns[6].percent: currency and percent need type number, not string'),
      expect.stringContaining('columns[7].format: format unix_seconds needs type timestamp'),
      expect.stringContaining('columns[8].format: format excel_serial needs type date'),
      expect.stringContaining('columns[3].name: d adds the column d_z, which the profile also lists'),
      `profiles/x.yaml:13:26: quality.checks[0].rule: cannot read "> b" in "a >> b": expected a column, a number or 'text'`,
    ]);
  });

  test('roles: known role names only, one role per column', () => {
    const text = [
      'roles:',
      '  amount: price',
      '  unit_price: price',
      '  dimensions: [region, region]',
      '  buyer: x',
    ].join('\n');
    expect(problemsOf(text)).toEqual(['profiles/x.yaml:2:3: roles: Unrecognized key: "buyer"']);
    expect(problemsOf(text.replace('  buyer: x', ''))).toEqual([
      'profiles/x.yaml:3:15: roles.unit_price: column price is named by roles.amount already',
      'profiles/x.yaml:4:24: roles.dimensions[1]: column region is named by roles.dimensions[0] already',
    ]);
  });

  test('YAML syntax errors carry the position', () => {
    expect(problemsOf('columns: [\n  - name: a\n')[0]).toMatch(/^profiles\/x\.yaml:\d+:\d+: /);
  });

  test('defaults: inference for everything not stated', () => {
    const profile = parseProfile('table: orders\n', 'p.yaml');
    expect(profile).toMatchObject({
      table: 'orders',
      columns: [],
      source: { encoding: 'auto', quote: '"', header: true },
      duplicates: { exact: 'drop', ignoreColumns: [], keys: [] },
      quality: { checks: [] },
    });
    expect(mlOptions(profile)).toBeUndefined();
  });

  test('added column names', () => {
    expect(
      addedColumnNames({
        name: 'sales',
        missing: { impute: 'median' },
        outliers: true,
        normalize: ['zscore', 'minmax'],
      }),
    ).toEqual(['sales_imputed', 'sales_outlier', 'sales_z', 'sales_mm']);
  });
});

describe('loadProfile', () => {
  test('unknown profile: 404; a name with a path: 400', async () => {
    await expect(loadProfile('nope', PROFILES)).rejects.toMatchObject({
      status: 404,
      code: 'PROFILE_NOT_FOUND',
    });
    await expect(loadProfile('../etc/passwd', PROFILES)).rejects.toMatchObject({ status: 400 });
  });

  test('.yml files are found too', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'profiles-'));
    try {
      await writeFile(path.join(dir, 'mine.yml'), 'table: mine\n');
      expect((await loadProfile('mine', dir)).profile.table).toBe('mine');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('check rules', () => {
  test('column, number and text right-hand sides', () => {
    expect(parseCheckRule('ship_date >= order_date')).toEqual({
      left: 'ship_date',
      op: '>=',
      right: { kind: 'column', name: 'order_date' },
    });
    expect(parseCheckRule('quantity > -1.5')).toMatchObject({ right: { kind: 'number', value: -1.5 } });
    expect(parseCheckRule("country <> 'O''Brien'")).toMatchObject({
      op: '!=',
      right: { kind: 'text', value: "O'Brien" },
    });
    expect(() => parseCheckRule('a >= b; DROP TABLE x')).toThrow(/expected a column, a number or 'text'/);
    expect(parseCheckRule('сумма_продаж >= количество')).toEqual({
      left: 'сумма_продаж',
      op: '>=',
      right: { kind: 'column', name: 'количество' },
    });
  });
});
