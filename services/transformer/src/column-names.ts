/**
 * Header names -> snake_case SQL identifiers: `Order Date` -> `order_date`, `Sub-Category` ->
 * `sub_category`, `OrderID` -> `order_id`. Names starting with a digit get a `col_` prefix; a name with no
 * letter or digit (empty, as a pandas index or a delimiter at the end of every line leaves it, or `---`)
 * becomes `column_N` by its position, as in a file without a header; collisions get `_2`, `_3`... The result
 * matches the warehouse table-name rule (63 characters), and is still quoted wherever it reaches SQL.
 */

import { snakeCase } from '@etl/common/names';

const MAX_LENGTH = 63;

export function toSnakeCase(header: string): string {
  const base = snakeCase(header);
  const name = base === '' || /^[0-9]/.test(base) ? `col_${base}`.replace(/_+$/, '') : base;
  return name.slice(0, MAX_LENGTH).replace(/_+$/, '');
}

/** Whether a header name has nothing to name a column by (see `normalizeColumnNames`). */
export function isUnnamed(header: string): boolean {
  return snakeCase(header.trim()) === '';
}

export function normalizeColumnNames(headers: readonly string[]): string[] {
  const used = new Set<string>();
  return headers.map((header, i) => {
    const base = isUnnamed(header) ? `column_${i + 1}` : toSnakeCase(header.trim());
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.slice(0, MAX_LENGTH - String(n).length - 1)}_${n}`;
    used.add(name);
    return name;
  });
}
