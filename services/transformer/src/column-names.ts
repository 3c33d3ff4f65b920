/**
 * Header names -> snake_case SQL identifiers: `Order Date` -> `order_date`, `Sub-Category` ->
 * `sub_category`, `OrderID` -> `order_id`, `Сумма продаж` -> `сумма_продаж`, `日付` -> `日付` (letters of
 * every script are kept). Names starting with a digit get a `col_` prefix; a name with no
 * letter or digit (empty, as a pandas index or a delimiter at the end of every line leaves it, or `---`)
 * becomes `column_N` by its position, as in a file without a header; collisions get `_2`, `_3`... The result
 * matches COLUMN_NAME (@etl/common/names), and is still quoted wherever it reaches SQL.
 */

import { snakeCase } from '@etl/common/names';

const MAX_LENGTH = 63;

export function toSnakeCase(header: string): string {
  const base = snakeCase(header, 'any');
  const name = base === '' || /^[\p{N}\p{M}]/u.test(base) ? `col_${base}`.replace(/_+$/, '') : base;
  return firstCharacters(name, MAX_LENGTH).replace(/_+$/, '');
}

/** Characters, not UTF-16 units: a character beyond the BMP stays whole. */
function firstCharacters(text: string, n: number): string {
  return Array.from(text).slice(0, n).join('');
}

/** Whether a header name has nothing to name a column by (see `normalizeColumnNames`). */
export function isUnnamed(header: string): boolean {
  return snakeCase(header.trim(), 'any') === '';
}

export function normalizeColumnNames(headers: readonly string[]): string[] {
  const used = new Set<string>();
  return headers.map((header, i) => {
    const base = isUnnamed(header) ? `column_${i + 1}` : toSnakeCase(header.trim());
    let name = base;
    for (let n = 2; used.has(name); n++)
      name = `${firstCharacters(base, MAX_LENGTH - String(n).length - 1)}_${n}`;
    used.add(name);
    return name;
  });
}
