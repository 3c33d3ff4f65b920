/** What the warehouse tests of `_etl_tables` share: roles to record, and the rows as plain values. */
import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { writeArrowTable } from '../arrow';
import type { Roles } from '../roles';
import { TABLE_METADATA } from './table-metadata';
import type { LoadRequest, Warehouse } from './warehouse';

const OTHER_SOURCE = 'local/other/sales';

const amounts = (type: Float64 | Utf8, values: unknown[]) =>
  writeArrowTable(new Table({ amount: vectorFromArray(values, type) }));

/** Roles with only an amount, held by `column`. */
export function amountRoles(column: string): Roles {
  return { amount: { column, confidence: 1, evidence: 'set by the test' }, dimensions: [], notes: [] };
}

/**
 * Loads `orders` (with roles) and `returns`, then the same two again under run-2, where `returns.amount` is
 * text: a number column fails that insert, inside the load, after the new `orders` row was recorded. Returns
 * the second load's error and the `_etl_tables` rows after it (table, run, roles), which must be run-1's.
 */
export async function failLoadAfterRecording(
  warehouse: Warehouse,
  base: Omit<LoadRequest, 'tables' | 'runId'>,
): Promise<{ error: unknown; rows: unknown[][] }> {
  const load = (runId: string, roles: string, returns: Uint8Array) =>
    warehouse.load({
      ...base,
      runId,
      tables: [
        { table: 'orders', arrow: amounts(new Float64(), [1]), roles: amountRoles(roles) },
        { table: 'returns', arrow: returns },
      ],
    });
  await load('run-1', 'amount', amounts(new Float64(), [1]));
  const error = await load('run-2', 'note', amounts(new Utf8(), ['x'])).then(
    () => undefined,
    (e: unknown) => e,
  );
  const rows = (await readTableMetadata(warehouse)).map((r) => [r.table_name, r.run_id, r.roles]);
  return { error, rows };
}

/** Every `_etl_tables` row, its JSON parsed, ordered by source and table. */
export async function readTableMetadata(warehouse: Warehouse): Promise<Record<string, unknown>[]> {
  const rows = await warehouse.query(
    `SELECT source, table_name, run_id, source_version, CAST(loaded_at AS STRING) AS loaded_at, columns_json, roles_json
     FROM ${TABLE_METADATA} ORDER BY source, table_name`,
  );
  return rows.map(({ columns_json, roles_json, ...rest }) => ({
    ...rest,
    columns: JSON.parse(String(columns_json)),
    roles: roles_json === null ? null : JSON.parse(String(roles_json)),
  }));
}

/**
 * Loads `orders` (roles on `amount`) and `orders_rejects` (no roles) as run-1, the same `orders` for another
 * dataset, then `orders` again as run-2 (roles on `note`): returns the `_etl_tables` rows after it, which
 * `expectedAfterReload` lists.
 */
export async function loadAndReload(
  warehouse: Warehouse,
  base: Omit<LoadRequest, 'tables' | 'runId' | 'sourceVersion'>,
): Promise<Record<string, unknown>[]> {
  const load = (request: Pick<LoadRequest, 'tables' | 'runId' | 'sourceVersion'> & { source?: string }) =>
    warehouse.load({ ...base, ...request });
  await load({
    runId: 'run-1',
    sourceVersion: 'v1',
    tables: [
      { table: 'orders', arrow: amounts(new Float64(), [1]), roles: amountRoles('amount') },
      { table: 'orders_rejects', arrow: amounts(new Float64(), []) },
    ],
  });
  await load({
    source: OTHER_SOURCE,
    runId: 'run-1',
    sourceVersion: 'v1',
    tables: [{ table: 'orders', arrow: amounts(new Float64(), [5]) }],
  });
  await load({
    runId: 'run-2',
    sourceVersion: 'v2',
    tables: [{ table: 'orders', arrow: amounts(new Float64(), [2]), roles: amountRoles('note') }],
  });
  return readTableMetadata(warehouse);
}

/** The rows `loadAndReload` leaves: the dataset's `orders` row replaced, the others kept. */
export function expectedAfterReload(source: string, numberType: string, loadedAt: string): unknown[] {
  const row = (dataset: string, table: string, run: number, roles: Roles | null) => ({
    source: dataset,
    table_name: table,
    run_id: `run-${run}`,
    source_version: `v${run}`,
    loaded_at: loadedAt,
    columns: [{ name: 'amount', type: numberType }],
    roles,
  });
  return [
    row(source, 'orders', 2, amountRoles('note')),
    row(source, 'orders_rejects', 1, null),
    row(OTHER_SOURCE, 'orders', 1, null),
  ].sort((a, b) => a.source.localeCompare(b.source));
}
