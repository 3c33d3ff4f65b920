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

  test('letters of every script are kept; only Latin accents are dropped', () => {
    expect(toSnakeCase('Сумма продаж')).toBe('сумма_продаж');
    expect(toSnakeCase('Край')).toBe('край'); // й keeps its breve
    expect(toSnakeCase('下单日期')).toBe('下单日期');
    expect(toSnakeCase('主文 カテゴリー')).toBe('主文_カテゴリー');
    expect(toSnakeCase('주문 일자')).toBe('주문_일자'); // Hangul syllables stay whole
    expect(toSnakeCase('ＳＡＬＥＳ（円）')).toBe('sales_円'); // full-width forms read as ASCII
    expect(toSnakeCase('2023年')).toBe('col_2023年');
    expect(isUnnamed('日付')).toBe(false);
    expect(normalizeColumnNames(['数量', '数量'])).toEqual(['数量', '数量_2']);
    // 63 characters, not 63 UTF-16 units: a character outside the BMP is never cut in half.
    expect(Array.from(toSnakeCase('𠀀'.repeat(70)))).toHaveLength(63);
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
