/**
 * Run history from the stage manifests in the blob store (`runs/<runId>/manifest/<stage>.json`): one summary per
 * run, its status from which manifests exist, and its row counts summed over the dataset's tables.
 */
import { isDataTable } from '@etl/common/fact-table';
import { type BlobInfo, type BlobStore, getJson, parseKey } from '@etl/common/storage';

export interface RunSummary {
  runId: string;
  status: 'analyzed' | 'loaded' | 'skipped' | 'incomplete';
  stages: string[];
  startedAt: string;
  finishedAt: string;
  dataset: string | null;
  datasetVersion: string | null;
  /** Data tables loaded (not their `*_rejects`); null before the load. */
  tables: string[] | null;
  rowsIn: number | null;
  rowsLoaded: number | null;
  rowsQuarantined: number | null;
  rowsDuplicate: number | null;
  /** How the run's tables differ from the schemas they were loaded with (docs/contracts.md), per change. */
  schemaChanges: Array<{ table: string; change: string; column: string; message: string }>;
}

/** Every run with a manifest, newest first. */
export async function readRuns(store: BlobStore): Promise<RunSummary[]> {
  const infos = await store.list('runs/');
  const byRun = new Map<string, Map<string, BlobInfo>>();
  for (const info of infos) {
    const parsed = parseKey(info.key);
    if (parsed?.kind !== 'manifest') continue;
    const stages = byRun.get(parsed.runId) ?? new Map<string, BlobInfo>();
    stages.set(parsed.stage, info);
    byRun.set(parsed.runId, stages);
  }
  const runs = await Promise.all(
    [...byRun.entries()].map(async ([runId, stages]) => summarizeRun(store, runId, stages)),
  );
  // Newest first; run ids made by `etl run` embed their start time, so they break ties of equal mtimes.
  const newestFirst = (a: RunSummary, b: RunSummary) =>
    b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
  return runs.sort(newestFirst);
}

interface ManifestTables {
  dataset?: { id?: string; version?: string; changed?: boolean };
  tables?: Array<{
    name: string;
    rowsIn?: number;
    rowsLoaded?: number;
    rowsQuarantined?: number;
    rowsDuplicate?: number;
    schemaChanges?: Array<{ change: string; column: string; message: string }>;
  }>;
}

/** The sum of one count over tables, or null when no table reports it. */
function total(
  tables: ManifestTables['tables'],
  count: 'rowsIn' | 'rowsLoaded' | 'rowsDuplicate',
): number | null {
  const values = (tables ?? []).map((t) => t[count]).filter((v): v is number => typeof v === 'number');
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
}

async function summarizeRun(
  store: BlobStore,
  runId: string,
  stages: Map<string, BlobInfo>,
): Promise<RunSummary> {
  const read = async (stage: string): Promise<ManifestTables | undefined> => {
    const info = stages.get(stage);
    if (!info) return undefined;
    try {
      return await getJson<ManifestTables>(store, info.key);
    } catch {
      return undefined;
    }
  };
  const [extract, transform, load] = await Promise.all([read('extract'), read('transform'), read('load')]);
  const times = [...stages.values()].map((i) => i.updated.getTime());
  const status: RunSummary['status'] = stages.has('analyze')
    ? 'analyzed'
    : stages.has('load')
      ? 'loaded'
      : extract?.dataset?.changed === false && !stages.has('transform')
        ? 'skipped'
        : 'incomplete';
  const loaded = load?.tables?.filter((t) => isDataTable(t.name));
  const rejects = load?.tables?.filter((t) => t.name.endsWith('_rejects'));
  const quarantined = (transform?.tables ?? [])
    .map((t) => t.rowsQuarantined)
    .filter((v): v is number => typeof v === 'number');
  return {
    runId,
    status,
    stages: ['extract', 'transform', 'load', 'analyze'].filter((s) => stages.has(s)),
    startedAt: new Date(Math.min(...times)).toISOString(),
    finishedAt: new Date(Math.max(...times)).toISOString(),
    dataset: extract?.dataset?.id ?? null,
    datasetVersion: extract?.dataset?.version ?? null,
    tables: loaded ? loaded.map((t) => t.name) : null,
    rowsIn: total(transform?.tables, 'rowsIn'),
    rowsLoaded: total(loaded, 'rowsLoaded'),
    rowsQuarantined:
      rejects && rejects.length > 0
        ? total(rejects, 'rowsLoaded')
        : quarantined.length > 0
          ? quarantined.reduce((a, b) => a + b, 0)
          : null,
    rowsDuplicate: total(transform?.tables, 'rowsDuplicate'),
    schemaChanges: (transform?.tables ?? []).flatMap((t) =>
      (t.schemaChanges ?? []).map((c) => ({
        table: t.name,
        change: c.change,
        column: c.column,
        message: c.message,
      })),
    ),
  };
}
