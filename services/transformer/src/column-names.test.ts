import { describe, expect, test } from 'vitest';
import { isUnnamed, normalizeColumnNames, toSnakeCase } from './column-names';

describe('column names', () => {
  test('snake_case identifiers', () => {
    expect(toSnakeCase('Order Date')).toBe('order_date');
    expect(toSnakeCase('Sub-Category')).toBe('sub_category');
    expect(toSnakeCase('Row ID')).toBe('row_id');
    expect(toSnakeCase('OrderID')).toBe('order_id');
    expect(toSnakeCase('unitPrice')).toBe('unit_price');
    expect(toSnakeCase('Café Größe')).toBe('cafe_grosse');
    expect(toSnakeCase('  % Margin ')).toBe('margin');
  });

  test('digit-leading names get a col_ prefix; collisions get _2', () => {
    expect(normalizeColumnNames(['2019 Sales', 'Name', 'name', 'NAME'])).toEqual([
      'col_2019_sales',
      'name',
      'name_2',
      'name_3',
    ]);
  });

  test('a name with no letter or digit is named by its position, as in a file without a header', () => {
    // A pandas index leaves the first header name empty; a delimiter ending every line adds an empty last one.
    expect(normalizeColumnNames(['', 'date', '---', 'column_3', ' '])).toEqual([
      'column_1',
      'date',
      'column_3',
      'column_3_2',
      'column_5',
    ]);
    expect(isUnnamed(' ')).toBe(true);
    expect(isUnnamed('%')).toBe(true);
    expect(isUnnamed('% Margin')).toBe(false);
  });

  test('names fit 63 characters', () => {
    const [name] = normalizeColumnNames(['x'.repeat(100)]);
    expect(name).toHaveLength(63);
  });
});
