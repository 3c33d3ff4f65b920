/**
 * The load stage: a run's staged tables (and their quarantines, as `<table>_rejects`) go into the
 * warehouse in one transaction, replacing the rows the same dataset loaded before. Only then is the
 * dataset's state (last loaded version) written, and the manifest last: its presence means "done".
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type ExtractResponse,
  type LoadRequestInput,
  type LoadResponse,
  loadResponseSchema,
  type TransformResponse,
} from '@etl/common/contracts';
import {
  type RecordedTable,
  readDatasetState,
  recordedTableSchema,
  writeDatasetState,
} from '@etl/common/dataset-state';
import type { Logger } from '@etl/common/logging';
import {
  type BlobStore,
  datasetLeaseKey,
  downloadToFile,
  getJson,
  manifestKey,
  putJson,
  readStageManifest,
  reportKey,
  stagedSchemaKey,
} from '@etl/common/storage';
import type { TableLoad, Warehouse } from '@etl/common/warehouse';
import { datasetRows } from './dataset-rows';
import { acquireLease, releaseLease } from './lease';
import { type MetricsSink, recordLoadMetrics } from './metrics/load-metrics';
import { checkVolume } from './volume-check';

export interface LoaderDeps {
  store: BlobStore;
  warehouse: Warehouse;
  logger: Logger;
  now?: () => Date;
  /** Where per-table load metrics go after a successful load (Cloud Monitoring or the log); none if unset. */
  metrics?: MetricsSink;
  /** Lifetime of the dataset's load lease (default: 30 min, the workflow's call timeout). */
  leaseTtlMs?: number;
  /** The volume check's smallest share of loaded rows a new version may have (default 0.5; 0 = off). */
  minVolumeRatio?: number;
}

export const DEFAULT_MIN_VOLUME_RATIO = 0.5;

export async function load(request: LoadRequestInput, deps: LoaderDeps): Promise<LoadResponse> {
  const { runId } = request;
  const { store } = deps;
  const logger = deps.logger.child({ runId, stage: 'load' });
  const doneKey = manifestKey(runId, 'load');
  if (await store.exists(doneKey)) {
    logger.info('already loaded; returning the stored manifest');
    return loadResponseSchema.parse(await getJson(store, doneKey));
  }

  const extract = await readStageManifest<ExtractResponse>(store, runId, 'extract');
  const transform = await readStageManifest<TransformResponse>(store, runId, 'transform');
  const [kind, owner, slug] = extract.dataset.id.split('/') as [string, string, string];
  // One load per dataset at a time: a concurrent run of the same dataset gets 409 naming this run.
  const lease = {
    store,
    key: datasetLeaseKey(kind, owner, slug),
    dataset: extract.dataset.id,
    runId,
    logger,
    ...(deps.leaseTtlMs === undefined ? {} : { ttlMs: deps.leaseTtlMs }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  };
  await acquireLease(lease);
  try {
    // The same run may have finished while this request waited for the lease.
    if (await store.exists(doneKey)) return loadResponseSchema.parse(await getJson(store, doneKey));
    return await loadLeased(request, deps, extract, transform, logger);
  } finally {
    await releaseLease(lease);
  }
}

async function loadLeased(
  request: LoadRequestInput,
  deps: LoaderDeps,
  extract: ExtractResponse,
  transform: TransformResponse,
  logger: Logger,
): Promise<LoadResponse> {
  // The staged files are copied to local scratch files, which the warehouse reads a record batch at a
  // time: no staged table is ever held whole in memory.
  const scratch = await mkdtemp(path.join(tmpdir(), 'etl-load-'));
  try {
    return await loadStaged(request, deps, extract, transform, logger, scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function loadStaged(
  request: LoadRequestInput,
  deps: LoaderDeps,
  extract: ExtractResponse,
  transform: TransformResponse,
  logger: Logger,
  scratch: string,
): Promise<LoadResponse> {
  const { runId } = request;
  const { store, warehouse } = deps;
  const doneKey = manifestKey(runId, 'load');
  const started = Date.now();

  const datasetId = extract.dataset.id;
  const cleaned = transform.tables.filter((t) => t.kind !== 'features');
  await checkVolume({
    warehouse,
    source: datasetId,
    tables: cleaned.map((t) => ({ name: t.name, rows: t.rowsOut })),
    minRatio: request.allowShrink ? 0 : (deps.minVolumeRatio ?? DEFAULT_MIN_VOLUME_RATIO),
    runId,
  });

  // Where the load's time goes (read: the staged files copied and counted; then the warehouse's steps),
  // in the load report: the bench prints it.
  const timingsMs: Record<string, number> = {};
  const timed = (step: string, ms: number) => {
    timingsMs[step] = Math.round((timingsMs[step] ?? 0) + ms);
  };
  const readStarted = performance.now();
  const tables: TableLoad[] = [];
  for (const t of transform.tables) {
    tables.push({
      table: t.name,
      arrow: await readStaged(store, t.stagedKey, scratch),
      expect: { rows: t.rowsOut, objectKey: t.stagedKey },
      ...(t.partitionBy ? { partitionBy: t.partitionBy } : {}),
      ...(t.clusterBy ? { clusterBy: t.clusterBy } : {}),
      // Recorded with the load (`_etl_tables`): the analyze stage and the insights app read them.
      ...(t.roles ? { roles: t.roles } : {}),
    });
    // Feature tables are derived from the cleaned table: they have no rejects of their own.
    if (t.kind !== 'features') {
      tables.push({
        table: `${t.name}_rejects`,
        arrow: await readStaged(store, t.quarantineKey, scratch),
        expect: { rows: t.rowsQuarantined, objectKey: t.quarantineKey },
      });
    }
  }
  timed('read', performance.now() - readStarted);
  const loadedAt = (deps.now ?? (() => new Date()))();
  // Marked before the commit: a loader killed between the commit and the state below leaves the mark, and
  // the next run loads again instead of skipping as unchanged.
  const previous = await readDatasetState(store, datasetId, logger);
  const pending = { version: extract.dataset.version, runId, startedAt: loadedAt.toISOString() };
  await writeDatasetState(
    store,
    datasetId,
    previous
      ? { ...previous, pending }
      : {
          version: '',
          runId,
          loadedAt: loadedAt.toISOString(),
          ...(extract.dataset.location ? { location: extract.dataset.location } : {}),
          pending,
        },
  );
  const results = await warehouse.load({
    tables,
    source: extract.dataset.id,
    runId,
    sourceVersion: extract.dataset.version,
    loadedAt,
    onStepTimed: timed,
  });
  logger.info({ tables: results, ms: Date.now() - started, timingsMs }, 'loaded');

  // A run staged before schemas were written has none: its tables keep the schema recorded before.
  const schemas: Array<[string, RecordedTable]> = [];
  for (const t of cleaned) {
    const key = stagedSchemaKey(runId, t.name);
    if (await store.exists(key)) schemas.push([t.name, recordedTableSchema.parse(await getJson(store, key))]);
  }
  await writeDatasetState(store, datasetId, {
    version: extract.dataset.version,
    runId,
    loadedAt: loadedAt.toISOString(),
    ...(extract.dataset.location ? { location: extract.dataset.location } : {}),
    // A table this version lacks keeps its schema: its rows stay in the warehouse.
    tables: { ...previous?.tables, ...Object.fromEntries(schemas) },
  });

  // Tables an earlier version loaded and this one has no file for keep their rows: said, not dropped.
  const left = await datasetRows(
    warehouse,
    datasetId,
    Object.keys(previous?.tables ?? {}).filter((name) => !cleaned.some((t) => t.name === name)),
  );
  const notInVersion = [...left].flatMap(([name, held]) => (held.rows > 0 ? [{ name, ...held }] : []));
  if (notInVersion.length > 0)
    logger.warn({ tablesNotInVersion: notInVersion }, 'tables of an earlier version keep their rows');
  const response: LoadResponse = {
    runId,
    warehouse: warehouse.kind,
    dataset: { id: extract.dataset.id, version: extract.dataset.version },
    tables: results.map((r) => ({ name: r.table, rowsLoaded: r.rowsLoaded, rowsReplaced: r.rowsReplaced })),
    ...(notInVersion.length > 0 ? { tablesNotInVersion: notInVersion } : {}),
    loadedAt: loadedAt.toISOString(),
    manifestKey: doneKey,
  };
  await putJson(store, reportKey(runId, 'load'), {
    ...response,
    warehouseLocation: warehouse.location,
    ms: Date.now() - started,
    timingsMs,
  });
  await putJson(store, doneKey, response);
  await recordLoadMetrics(
    deps.metrics,
    {
      source: extract.dataset.id,
      runId,
      endedAt: (deps.now ?? (() => new Date()))(),
      durationSeconds: (Date.now() - started) / 1000,
      tables: transform.tables.map((t) => ({
        table: t.name,
        rowsLoaded: results.find((r) => r.table === t.name)?.rowsLoaded ?? 0,
        rowsQuarantined: t.rowsQuarantined,
      })),
    },
    logger,
  );
  return response;
}

/**
 * Copies a staged Arrow file to `scratch`. Its rows are counted by the warehouse as it reads them, against
 * the manifest's count (`TableLoad.expect`), before anything is committed.
 */
async function readStaged(store: BlobStore, key: string, scratch: string): Promise<{ path: string }> {
  const file = {
    path: path.join(scratch, `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.arrow`),
  };
  await downloadToFile(store, key, file.path);
  return file;
}
