import { describe, expect, test } from 'vitest';
import { normalizeColumnNames, toSnakeCase } from './column-names';

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

  test('empty and digit-leading names get a col_ prefix; collisions get _2', () => {
    expect(normalizeColumnNames(['', '2019 Sales', 'Name', 'name', 'NAME', '---'])).toEqual([
      'col',
      'col_2019_sales',
      'name',
      'name_2',
      'name_3',
      'col_2',
    ]);
  });

  test('names fit 63 characters', () => {
    const [name] = normalizeColumnNames(['x'.repeat(100)]);
    expect(name).toHaveLength(63);
  });
});
