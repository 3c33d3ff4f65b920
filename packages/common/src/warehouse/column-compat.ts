/**
 * Whether a load's columns fit the warehouse table they go into, decided before anything is written: a
 * staged column of the table's type or a narrower one (an integer into a DOUBLE column) is inserted as is;
 * one that holds the table's type without loss (DOUBLE for a BIGINT column, TIMESTAMP for a DATE one)
 * widens the table's column first; anything else would be a lossy or failing cast, and is refused as
 * 422 SCHEMA_CHANGED naming the table, the column and both types. The transformer holds each dataset to
 * its recorded schema already (docs/contracts.md); this is the warehouse's own guard, for tables shared
 * by datasets or altered by hand.
 *
 * Types are compared by kind, in both engines' spellings.
 */
import { DataRejectedError } from '../errors';

type Kind = 'integer' | 'float' | 'date' | 'timestamp' | 'time' | 'boolean' | 'text' | 'other';

export function typeKind(type: string): Kind {
  const t = type.toUpperCase();
  if (/^(BIGINT|INTEGER|INT|INT64|INT32|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)$/.test(t))
    return 'integer';
  if (/^(DOUBLE|FLOAT|FLOAT64|REAL|NUMERIC|BIGNUMERIC|DECIMAL)/.test(t)) return 'float';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP') || t === 'DATETIME') return 'timestamp';
  if (t === 'TIME') return 'time';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'boolean';
  if (t === 'VARCHAR' || t === 'STRING' || t === 'TEXT') return 'text';
  return 'other';
}

/** Kinds a table column of a kind accepts as they are (the insert casts without loss). */
const ACCEPTS: Record<Kind, readonly Kind[]> = {
  integer: ['integer', 'boolean'],
  float: ['float', 'integer'],
  date: ['date'],
  timestamp: ['timestamp', 'date'],
  time: ['time'],
  boolean: ['boolean'],
  text: ['text', 'integer', 'float', 'date', 'timestamp', 'time', 'boolean'],
  other: [],
};

/** Table column kind -> the kinds it is widened to, in place. */
const WIDENS_TO: Partial<Record<Kind, readonly Kind[]>> = {
  integer: ['float'],
  date: ['timestamp'],
};

export interface NamedType {
  name: string;
  type: string;
}

/** A table column to widen to the staged column's type before the insert. */
export interface Widening {
  column: string;
  from: string;
  to: string;
}

/**
 * The columns of `table` to widen for `staged` to go in (names compared case-insensitively, as BigQuery
 * does); throws SCHEMA_CHANGED for a column that cannot take its staged values. Columns only one side has
 * are not this check's business (added columns are added, missing ones read NULL).
 */
export function planWidening(
  table: string,
  existing: readonly NamedType[],
  staged: readonly NamedType[],
  widenable: (from: Kind, to: Kind) => boolean = () => true,
): Widening[] {
  const have = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const widenings: Widening[] = [];
  const refused: string[] = [];
  for (const column of staged) {
    const current = have.get(column.name.toLowerCase());
    if (!current || current.type.toUpperCase() === column.type.toUpperCase()) continue;
    const from = typeKind(current.type);
    const to = typeKind(column.type);
    if (from !== 'other' && ACCEPTS[from].includes(to)) continue;
    if (WIDENS_TO[from]?.includes(to) && widenable(from, to)) {
      widenings.push({ column: current.name, from: current.type, to: column.type });
      continue;
    }
    refused.push(
      `column ${current.name} is ${current.type} in the warehouse, the load's values are ${column.type}`,
    );
  }
  if (refused.length > 0)
    throw new DataRejectedError(
      `table ${table} cannot take this load without a lossy cast: ${refused.join('; ')}; nothing was loaded. ` +
        `When the table holds another dataset's rows (a file of the same name loaded from elsewhere), give this ` +
        `dataset a table of its own: etl run --table NAME, or options.table (docs/contracts.md)`,
      { details: { table, columns: refused } },
      'SCHEMA_CHANGED',
    );
  return widenings;
}
