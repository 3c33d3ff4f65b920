/**
 * A dataset's fact view: its fact table (`./fact-table`) with the dimension columns of related tables of the same
 * dataset joined in, only where the join cannot change a figure. Walmart's `walmart_train` gets the store `type`
 * of `walmart_stores` (joined on `store`); its `walmart_features` is dated, so it is not joined.
 *
 * A table R of the dataset lends columns to the fact table F when the key is certain:
 *   - R has no event time: a dimension table (stores, products), not a second series of facts;
 *   - R and F have a column of the same name and kind (integer or text): the key;
 *   - the key is unique and never NULL among R's rows of the dataset (`_source`), checked by a query. So every
 *     row of F meets at most one row of R, and a LEFT JOIN keeps F's rows and every sum over them as they are.
 * R lends its dimension roles and its text and boolean columns holding no role (`type`, not the number `size`,
 * nor the transformer's flags), except names F already has (compared without case, as both engines compare
 * column names). Anything else is not joined, with the reason. Names keep the dataset's own spelling and reach SQL only through `dialect.identifier`.
 */
import { factRelation, type Query } from './fact-table';
import {
  type ColumnInfo,
  type ColumnKind,
  columnKind,
  isDerivedColumn,
  ROLE_NAMES,
  type Roles,
} from './roles';
import type { SqlDialect } from './warehouse/dialect';

/** A table of the dataset, as the fact view reads it. */
export interface ViewTable {
  name: string;
  columns: readonly ColumnInfo[];
  roles: Roles;
}

/** A related table joined to the fact table on a key column both have, and the columns it lends. */
export interface Relation {
  table: string;
  key: string;
  dimensions: string[];
}

/** A table of the dataset that is not joined, and why. */
export interface NotJoined {
  table: string;
  reason: string;
}

export interface FactView {
  relations: Relation[];
  notJoined: NotJoined[];
}

/** A table that may be joined once one of its keys proves unique. */
export interface RelationCandidate {
  table: string;
  keys: string[];
  dimensions: string[];
}

const KEY_KINDS: readonly ColumnKind[] = ['integer', 'text'];
const LENT_KINDS: readonly ColumnKind[] = ['text', 'boolean'];

/** A relation as the APIs report it, with `join` in words: `walmart_train.store -> walmart_stores`. */
export function describeRelation(fact: string, relation: Relation): Relation & { join: string } {
  return { join: `${fact}.${relation.key} -> ${relation.table}`, ...relation };
}

/**
 * The tables that may lend columns to `fact` (pending the key check), and why the others may not. Pure.
 */
export function relationCandidates(
  fact: ViewTable,
  tables: readonly ViewTable[],
): { candidates: RelationCandidate[]; notJoined: NotJoined[] } {
  const candidates: RelationCandidate[] = [];
  const notJoined: NotJoined[] = [];
  const factColumns = new Map(fact.columns.map((c) => [c.name.toLowerCase(), c]));
  for (const table of tables) {
    if (table.name === fact.name) continue;
    const reject = (why: string) => notJoined.push({ table: table.name, reason: `${table.name} ${why}` });
    const event = table.roles.event_time;
    if (event) {
      reject(`is dated (event time ${event.column}), so it is not a dimension table`);
      continue;
    }
    const own = table.columns.filter((c) => !c.name.startsWith('_'));
    const shared = own.filter((c) => factColumns.has(c.name.toLowerCase()));
    const keys = shared
      .filter((c) => {
        const other = factColumns.get(c.name.toLowerCase())!;
        const kind = columnKind(c.type);
        return other.name === c.name && KEY_KINDS.includes(kind) && columnKind(other.type) === kind;
      })
      .map((c) => c.name);
    if (keys.length === 0) {
      const names = shared.map((c) => c.name);
      reject(
        `shares no integer or text column of the same name and kind with ${fact.name}${names.length > 0 ? ` (same names: ${names.join(', ')})` : ''}`,
      );
      continue;
    }
    const dimensions = lendableColumns(table).filter((name) => !factColumns.has(name.toLowerCase()));
    if (dimensions.length === 0) {
      reject(`has no dimension column that ${fact.name} does not already have`);
      continue;
    }
    candidates.push({ table: table.name, keys, dimensions });
  }
  return { candidates, notJoined };
}

/**
 * A table's dimension roles, then its text and boolean columns that hold no role and are not the transformer's
 * flags (`size_outlier`).
 */
function lendableColumns(table: ViewTable): string[] {
  const { roles } = table;
  const names = new Set(table.columns.map((c) => c.name));
  const held = new Set<string>(
    ROLE_NAMES.map((role) => roles[role]?.column).filter((c): c is string => typeof c === 'string'),
  );
  const dimensions = roles.dimensions.map((d) => d.column);
  const described = table.columns
    .filter((c) => !c.name.startsWith('_') && LENT_KINDS.includes(columnKind(c.type)))
    .map((c) => c.name)
    .filter((name) => !held.has(name) && !dimensions.includes(name) && !isDerivedColumn(name, names));
  return [...dimensions, ...described];
}

/**
 * One query (`$1` = the dataset) counting, for each candidate key, the rows of the dataset, its distinct values
 * and its non-NULL values; undefined without candidates. Row `candidate` i is the i-th of `keysOf(candidates)`.
 */
export function keyCheckSql(
  dialect: SqlDialect,
  candidates: readonly RelationCandidate[],
): string | undefined {
  const { identifier } = dialect;
  const branches = keysOf(candidates).map(
    ({ table, key }, i) =>
      `SELECT ${i} AS candidate, count(*) AS row_count, count(DISTINCT ${identifier(key)}) AS distinct_keys,
              count(${identifier(key)}) AS keyed_rows
       FROM ${identifier(table)} WHERE _source = $1`,
  );
  return branches.length > 0 ? branches.join('\nUNION ALL\n') : undefined;
}

function keysOf(candidates: readonly RelationCandidate[]): Array<{ table: string; key: string }> {
  return candidates.flatMap((c) => c.keys.map((key) => ({ table: c.table, key })));
}

/**
 * The fact view from the candidates and the key check's rows: each candidate joins on its first key that is
 * unique and never NULL; a column already lent by an earlier table (by name) is not lent twice. Pure.
 */
export function decideRelations(
  fact: string,
  candidates: readonly RelationCandidate[],
  rows: ReadonlyArray<Record<string, unknown>>,
  notJoined: readonly NotJoined[] = [],
): FactView {
  const checks = keysOf(candidates).map((k, i) => {
    const row = rows.find((r) => Number(r['candidate']) === i);
    const total = Number(row?.['row_count'] ?? 0);
    const distinct = Number(row?.['distinct_keys'] ?? 0);
    const keyed = Number(row?.['keyed_rows'] ?? 0);
    const problem =
      total === 0
        ? 'has no rows'
        : keyed < total
          ? `is NULL in ${total - keyed} of ${total} rows`
          : distinct < total
            ? `is not unique (${total} rows, ${distinct} distinct values)`
            : undefined;
    return { ...k, problem };
  });
  const relations: Relation[] = [];
  const rejected: NotJoined[] = [...notJoined];
  const lent = new Set<string>();
  for (const c of candidates) {
    const own = checks.filter((k) => k.table === c.table);
    const key = own.find((k) => k.problem === undefined)?.key;
    if (key === undefined) {
      const why = own.map((k) => `${k.key} ${k.problem}`).join('; ');
      rejected.push({
        table: c.table,
        reason: `${c.table} has no key certain to match one row per row of ${fact}: ${why}`,
      });
      continue;
    }
    const dimensions = c.dimensions.filter((d) => !lent.has(d.toLowerCase()));
    if (dimensions.length === 0) {
      rejected.push({ table: c.table, reason: `${c.table} lends no column another table does not lend` });
      continue;
    }
    for (const d of dimensions) lent.add(d.toLowerCase());
    relations.push({ table: c.table, key, dimensions });
  }
  return { relations, notJoined: rejected };
}

/** The fact view of a dataset (`source`): the candidates, one key-check query when there are any, the decision. */
export async function readFactView(
  dialect: SqlDialect,
  query: Query,
  source: string,
  fact: ViewTable,
  tables: readonly ViewTable[],
): Promise<FactView> {
  const { candidates, notJoined } = relationCandidates(fact, tables);
  const sql = keyCheckSql(dialect, candidates);
  const rows = sql === undefined ? [] : await query(sql, [source]);
  return decideRelations(fact.name, candidates, rows, notJoined);
}

/**
 * What a query over the fact table reads FROM: its rows (`factRelation`: the table, or only its sales rows) when
 * none of `dimensions` is lent, else those rows LEFT JOINed to the tables lending them, on the key and the same
 * `_source`, as `fact_view` (the fact table's columns and the lent ones; no name of both, see the module
 * comment). Only the tables a query needs are joined: on BigQuery each table read is billed.
 */
export function factViewFrom(
  dialect: SqlDialect,
  fact: { name: string; roles: Roles },
  relations: readonly Relation[],
  dimensions: Iterable<string>,
): string {
  const { identifier } = dialect;
  const wanted = new Set(dimensions);
  const used = relations.filter((r) => r.dimensions.some((d) => wanted.has(d)));
  if (used.length === 0) return factRelation(dialect, fact);
  const lent = used.flatMap((r, i) => r.dimensions.map((d) => `r${i}.${identifier(d)}`));
  const joins = used.map(
    (r, i) =>
      `LEFT JOIN ${identifier(r.table)} AS r${i} ON r${i}.${identifier(r.key)} = f.${identifier(r.key)} AND r${i}._source = f._source`,
  );
  return `(SELECT f.*, ${lent.join(', ')} FROM ${factRelation(dialect, fact, 'f')} ${joins.join(' ')}) AS fact_view`;
}
