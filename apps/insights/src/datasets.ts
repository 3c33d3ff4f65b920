/**
 * The datasets a warehouse holds, read from the warehouse itself. A data table is any table (not `*_rejects`,
 * `ml_*` or a feature table) with the lineage columns `_source`, `_run_id` and `_loaded_at`; a dataset is a
 * `_source` value found in one or more of them. Each table's roles (event time, amount, order, customer,
 * product, dimensions, ...) are the ones the load recorded for the dataset in `_etl_tables` (decided at
 * transform time, a profile's `roles:` included), else inferred from its columns and types (@etl/common/roles).
 *
 * A dataset's fact table is the one the analyze stage recorded (`ml_metrics.fact_table`) while it still holds
 * the dataset's rows with an event time and an amount, else the one `chooseFactTable` picks by the analyze
 * stage's own rule (@etl/common/fact-table): of the tables with both roles, the most rows of the dataset.
 *
 * Reading it costs three queries: the information schema's columns, the recorded roles, and one UNION ALL of
 * counts and latest loads over the lineage columns of every data table (and of `ml_metrics`). The related
 * tables a fact table joins (@etl/common/fact-view) cost a query more, so the app reads them per dataset when
 * asked (`InsightsQueries`), not with every version check.
 */
import { createHash } from 'node:crypto';
import {
  chooseFactTable,
  isDataTable,
  noFactTableReason,
  readTableColumns,
  readTableRoles,
} from '@etl/common/fact-table';
import { describeRelation, type FactView } from '@etl/common/fact-view';
import { type ColumnInfo, ROLE_NAMES, type RoleName, type Roles } from '@etl/common/roles';
import type { Row, SqlDialect } from '@etl/common/warehouse';

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  roles: Roles;
}

/** A table holding rows of a dataset, with its columns and the dataset's roles in it. */
export interface DatasetTable extends TableInfo {
  /** Rows of the dataset in the table. */
  rows: number;
  loadedAt: string;
  runId: string;
}

export interface Dataset {
  /** The `_source` value. */
  id: string;
  /** The latest load of any of its tables, and its run. */
  loadedAt: string;
  runId: string;
  tables: DatasetTable[];
  /** The fact table (one of `tables`), or null: see `reason`. */
  fact: DatasetTable | null;
  /** Why there is no fact table; null when there is one. */
  reason: string | null;
  /** Whether the analyze stage has written results (`ml_metrics` rows) for it. */
  analyzed: boolean;
}

export interface Catalog {
  /** Every dataset, the most recently loaded first. */
  datasets: Dataset[];
  /** The latest load of any dataset: its run, time, dataset and the rows of its fact table (or tables). */
  latest: { runId: string; loadedAt: string; source: string; rows: number } | null;
  /** The latest analysis. */
  ml: { runId: string; analyzedAt: string } | null;
  /** Changes with any load, analysis or schema change: the cache key of every result. */
  version: string;
}

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

const LINEAGE = ['_source', '_run_id', '_loaded_at'] as const;

/** Reads the catalog (two queries, see the module comment). */
export async function readCatalog(dialect: SqlDialect, query: Query): Promise<Catalog> {
  const columns = await readTableColumns(dialect, query);
  const hasLineage = (cols: ColumnInfo[]) => LINEAGE.every((l) => cols.some((c) => c.name === l));
  const tables = [...columns.entries()]
    .filter(([name, cols]) => isDataTable(name) && hasLineage(cols))
    .map(([name, cols]) => ({ name, columns: cols }));
  const rolesOf = await readTableRoles(columns, query);
  const mlCols = columns.get('ml_metrics');
  const withMl = mlCols !== undefined && hasLineage(mlCols);

  const { identifier } = dialect;
  const branches = tables.map(
    (t, i) =>
      `SELECT ${i} AS t, _source AS source, count(*) AS row_count, max(_loaded_at) AS loaded_at,
              max_by(_run_id, _loaded_at) AS run_id, CAST(NULL AS STRING) AS fact_table
       FROM ${identifier(t.name)} GROUP BY 2`,
  );
  if (withMl) {
    branches.push(
      `SELECT ${tables.length} AS t, _source AS source, count(*) AS row_count, max(_loaded_at) AS loaded_at,
              max_by(_run_id, _loaded_at) AS run_id, max(IF(metric = 'fact_table', note, NULL)) AS fact_table
       FROM ml_metrics GROUP BY 2`,
    );
  }
  const groups = branches.length > 0 ? await query(branches.join('\nUNION ALL\n')) : [];

  const bySource = new Map<string, Array<Omit<DatasetTable, 'roles'>>>();
  const analyses = new Map<string, { runId: string; analyzedAt: string; factTable: string | null }>();
  for (const g of groups) {
    const source = String(g.source);
    const loadedAt = String(g.loaded_at);
    const runId = String(g.run_id);
    const t = Number(g.t);
    if (t === tables.length) {
      analyses.set(source, {
        runId,
        analyzedAt: loadedAt,
        factTable: (g.fact_table as string | null) ?? null,
      });
      continue;
    }
    const list = bySource.get(source) ?? [];
    list.push({ ...tables[t]!, rows: Number(g.row_count), loadedAt, runId });
    bySource.set(source, list);
  }

  const datasets = [...bySource.entries()].map(([id, list]): Dataset => {
    list.sort((a, b) => a.name.localeCompare(b.name));
    const newest = list.reduce((a, b) => (b.loadedAt > a.loadedAt ? b : a));
    const candidates = list.map((d) => ({ ...d, roles: rolesOf(id, d.name) }));
    const recorded = analyses.get(id)?.factTable;
    const fact =
      candidates.find((c) => c.name === recorded && c.roles.event_time && c.roles.amount) ??
      chooseFactTable(candidates) ??
      null;
    return {
      id,
      loadedAt: newest.loadedAt,
      runId: newest.runId,
      tables: candidates,
      fact,
      reason: fact ? null : noFactTableReason(id, candidates),
      analyzed: analyses.has(id),
    };
  });
  datasets.sort((a, b) => b.loadedAt.localeCompare(a.loadedAt) || a.id.localeCompare(b.id));

  const newest = datasets[0];
  const latest = newest
    ? {
        runId: newest.runId,
        loadedAt: newest.loadedAt,
        source: newest.id,
        rows: newest.fact?.rows ?? newest.tables.reduce((sum, t) => sum + t.rows, 0),
      }
    : null;
  const lastAnalysis = [...analyses.values()].sort(
    (a, b) => b.analyzedAt.localeCompare(a.analyzedAt) || b.runId.localeCompare(a.runId),
  )[0];
  const ml = lastAnalysis ? { runId: lastAnalysis.runId, analyzedAt: lastAnalysis.analyzedAt } : null;
  // Every group and column: a load, an analysis, a deleted dataset or a new column all change the digest.
  // UNION ALL returns its rows in any order: sort them, or the version would change with nothing loaded.
  const counts = groups
    .map((g) => JSON.stringify([g.t, g.source, g.row_count, g.loaded_at, g.run_id]))
    .sort();
  const digest = createHash('sha256')
    .update(JSON.stringify([[...columns.entries()], counts]))
    .digest('hex')
    .slice(0, 12);
  const version = [
    `data:${latest ? `${latest.runId}@${latest.loadedAt}` : 'none'}`,
    `ml_metrics:${ml ? `${ml.runId}@${ml.analyzedAt}` : 'none'}`,
    digest,
  ].join('|');
  return { datasets, latest, ml, version };
}

/** The column of each role (`quantity * unit_price` for a derived amount; null when absent). */
export function roleColumns(roles: Roles | undefined): Record<RoleName, string | null> {
  return Object.fromEntries(
    ROLE_NAMES.map((role) => {
      const match = roles?.[role];
      if (!match) return [role, null];
      return [role, match.column ?? ('derived' in match ? match.derived : null)];
    }),
  ) as Record<RoleName, string | null>;
}

/** The dimensions of a dataset: its fact table's own, then the ones related tables lend it (`view`). */
export function dimensionsOf(d: Dataset, view: FactView | undefined): string[] {
  const own = d.fact?.roles.dimensions.map((c) => c.column) ?? [];
  return [...own, ...(view?.relations.flatMap((r) => r.dimensions) ?? [])];
}

/** A dataset as the API lists it, with the relations of its fact view (`view`, none without a fact table). */
export function describeDataset(d: Dataset, view: FactView | undefined): Record<string, unknown> {
  return {
    id: d.id,
    loadedAt: d.loadedAt,
    runId: d.runId,
    table: d.fact?.name ?? null,
    rows: d.fact?.rows ?? d.tables.reduce((sum, t) => sum + t.rows, 0),
    tables: d.tables.map((t) => ({ name: t.name, rows: t.rows })),
    roles: roleColumns(d.fact?.roles),
    dimensions: dimensionsOf(d, view),
    relations: d.fact ? (view?.relations.map((r) => describeRelation(d.fact!.name, r)) ?? []) : [],
    notJoined: view?.notJoined ?? [],
    returns: d.fact?.roles.returns ?? null,
    sales: d.fact?.roles.sales ?? null,
    analyzed: d.analyzed,
    reason: d.reason,
  };
}
