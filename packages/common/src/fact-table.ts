/**
 * A dataset's fact table (its sales lines) and the SQL that reads it, from column roles (`./roles`). The analyze
 * stage and the insights app both call these, so the ML results and the monitoring page always describe the same
 * table, read the same way.
 *
 * The fact table is, of the dataset's tables with an event time and an amount, the one with the most rows of the
 * dataset (`_source`). Its name and role columns reach SQL only through `dialect.identifier`.
 */
import { rolesSchema } from './contracts';
import { type ColumnInfo, columnKind, inferRoles, ROLE_NAMES, type Roles } from './roles';
import { salesFilter } from './sales-events';
import type { SqlDialect } from './warehouse/dialect';
import { TABLE_METADATA } from './warehouse/table-metadata';

/** Runs SQL with `$1..$n` parameters (a warehouse's `query`). */
export type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** The warehouse's columns per table, in column order: of every table, or only of `tables`. */
export async function readTableColumns(
  dialect: SqlDialect,
  query: Query,
  tables?: readonly string[],
): Promise<Map<string, ColumnInfo[]>> {
  const where =
    tables === undefined ? '' : `WHERE table_name IN (${tables.map((_, i) => `$${i + 1}`).join(', ')})`;
  const rows = await query(
    `SELECT table_name, column_name, data_type FROM ${dialect.columns} ${where} ORDER BY table_name, ordinal_position`,
    tables === undefined ? [] : [...tables],
  );
  const columns = new Map<string, ColumnInfo[]>();
  for (const r of rows) {
    const name = String(r['table_name']);
    const list = columns.get(name) ?? [];
    list.push({ name: String(r['column_name']), type: String(r['data_type']) });
    columns.set(name, list);
  }
  return columns;
}

/**
 * Tables holding a dataset's rows: not quarantines (`*_rejects`), ML results (`ml_*`), feature tables
 * (`*_features_*`) or the pipeline's own tables (`_etl_tables`: a loaded table's name starts with a letter).
 */
export function isDataTable(name: string): boolean {
  return (
    !name.startsWith('_') &&
    !name.endsWith('_rejects') &&
    !name.startsWith('ml_') &&
    !name.includes('_features_')
  );
}

/** A table's roles for one dataset (see `readTableRoles`). */
export type TableRolesOf = (source: string, table: string) => Roles;

/**
 * Each table's roles per dataset: the ones the transform stage decided and the load recorded in `_etl_tables`
 * (of every dataset, or only of `source`), while every column they name is still in the table; else inferred
 * from the table's columns (a warehouse loaded before roles were recorded, or a table changed since).
 * `columns` is the warehouse's columns (`readTableColumns`), the metadata table's included when it exists; a
 * recorded row whose JSON does not parse as roles is ignored.
 */
export async function readTableRoles(
  columns: ReadonlyMap<string, ColumnInfo[]>,
  query: Query,
  source?: string,
): Promise<TableRolesOf> {
  const recorded = new Map<string, Roles>();
  const key = (dataset: string, table: string) => JSON.stringify([dataset, table]);
  const rows = columns.has(TABLE_METADATA)
    ? await query(
        `SELECT source, table_name, roles_json FROM ${TABLE_METADATA} WHERE roles_json IS NOT NULL${source === undefined ? '' : ' AND source = $1'}`,
        source === undefined ? [] : [source],
      )
    : [];
  for (const r of rows) {
    const parsed = rolesSchema.safeParse(parseJson(String(r['roles_json'])));
    if (parsed.success) recorded.set(key(String(r['source']), String(r['table_name'])), parsed.data);
  }
  return (dataset, table) => {
    const tableColumns = columns.get(table) ?? [];
    const roles = recorded.get(key(dataset, table));
    if (roles === undefined) return inferRoles(tableColumns);
    const names = new Set(tableColumns.map((c) => c.name));
    const named = [
      ...ROLE_NAMES.map((role) => roles[role]?.column),
      ...roles.dimensions.map((d) => d.column),
      roles.sales?.column,
    ];
    return named.every((c) => typeof c !== 'string' || names.has(c)) ? roles : inferRoles(tableColumns);
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface FactCandidate {
  roles: Roles;
  /** Rows of the dataset in the table. */
  rows: number;
}

/** The fact table: of the tables with an event time and an amount, the one with the most rows (first on a tie). */
export function chooseFactTable<T extends FactCandidate>(tables: readonly T[]): T | undefined {
  return tables
    .filter((t) => t.roles.event_time && t.roles.amount)
    .reduce<T | undefined>((best, t) => (best && best.rows >= t.rows ? best : t), undefined);
}

/** Why no table of a dataset is a fact table, table by table (what each lacks, and the roles' notes). */
export function noFactTableReason(
  source: string,
  tables: ReadonlyArray<{ name: string; roles: Roles }>,
): string {
  if (tables.length === 0) return `the load of dataset ${source} lists no data table to analyze`;
  const why = tables.map((t) => {
    const lacks = [
      t.roles.event_time
        ? undefined
        : 'no event time (a DATE or TIMESTAMP column named like order_date, invoice_date or date)',
      t.roles.amount
        ? undefined
        : 'no amount (a numeric column named like sales, revenue or total, or a quantity and a unit price)',
    ].filter(Boolean);
    return `${t.name} has ${[...lacks, ...t.roles.notes].join('; ')}`;
  });
  return `no table of dataset ${source} has both an event time and an amount: ${why.join('. ')}`;
}

/** A role held by one column (every role but the amount, which may be derived, and the lists). */
export type ColumnRoleName = Exclude<keyof Roles, 'amount' | 'dimensions' | 'notes' | 'returns'>;

/**
 * What a query reads a fact table's rows FROM: the quoted table, or only its sales rows when its event type says
 * which rows are sales (`roles.sales`, `./sales-events`). Named `alias` (a fixed name, `f`) when given, else by
 * the table's own name.
 */
export function factRelation(
  dialect: SqlDialect,
  table: { name: string; roles: Roles },
  alias?: string,
): string {
  const name = dialect.identifier(table.name);
  const filter = salesFilter(dialect, table.roles);
  if (filter !== undefined) return `(SELECT * FROM ${name} WHERE ${filter}) AS ${alias ?? name}`;
  return alias === undefined ? name : `${name} AS ${alias}`;
}

/** SQL expressions over a fact table, quoted for the warehouse's dialect. */
export interface FactSql {
  /** What to read the fact table's rows FROM (`factRelation`), under the table's own name. */
  table: string;
  /** The amount: its column, or `(quantity * unit_price)` when derived. */
  amount: string;
  /** The day of the event time, as a DATE (a TIMESTAMP is cast). */
  day: string;
  /** The quoted column of a role; throws when the table has no such role (check `roles` first). */
  column(role: ColumnRoleName): string;
}

/** The SQL pieces of a table that has an event time and an amount (see `chooseFactTable`). */
export function factSql(
  dialect: SqlDialect,
  table: { name: string; columns: readonly ColumnInfo[]; roles: Roles },
): FactSql {
  const { identifier } = dialect;
  const { roles } = table;
  const column = (role: ColumnRoleName): string => {
    const match = roles[role];
    if (!match) throw new Error(`no ${role} role in table ${table.name}`);
    return identifier(match.column);
  };
  const amount = amountSql(dialect, roles);
  const event = roles.event_time;
  if (!amount || !event) throw new Error(`table ${table.name} has no event time and amount roles`);
  const eventType = table.columns.find((c) => c.name === event.column)?.type ?? 'DATE';
  return {
    table: factRelation(dialect, table),
    column,
    amount,
    day:
      columnKind(eventType) === 'date'
        ? identifier(event.column)
        : `CAST(${identifier(event.column)} AS DATE)`,
  };
}

/** The amount as SQL: its quoted column, or `(quantity * unit_price)` when derived; undefined without one. */
export function amountSql(dialect: SqlDialect, roles: Roles): string | undefined {
  const amount = roles.amount;
  if (!amount) return undefined;
  if (amount.column !== null) return dialect.identifier(amount.column);
  if (!roles.quantity || !roles.unit_price) return undefined;
  return `(${dialect.identifier(roles.quantity.column)} * ${dialect.identifier(roles.unit_price.column)})`;
}
