/**
 * The extract stage: fetch a dataset (generated sample, local file/folder/archive, Kaggle, or Cloud Storage)
 * into runs/<runId>/raw/, report its version and whether it changed since the last load, and store that
 * report as the run's extract manifest. Its presence means "done": a repeated call returns it as is.
 */
import { createHash } from 'node:crypto';
import {
  type ExtractRequest,
  type ExtractResponse,
  extractResponseSchema,
  type RawFile,
} from '@etl/common/contracts';
import { ConflictError, errorMessage, InvalidRequestError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, LocalBlobStore, manifestKey, putJson, RUNS_PREFIX } from '@etl/common/storage';
import { removeRawFiles } from './files/raw-files';
import type { ZipLimits } from './files/unzip';
import type { KaggleClient } from './kaggle-client';
import { datasetIdOf, identifyDataset } from './local-identity';
import { parseSourceRef, type SourceRef } from './source-ref';
import type { GcsSourceOptions } from './sources/gcs';
import { extractKaggle } from './sources/kaggle';
import { extractLocal } from './sources/local';
import { DEFAULT_SAMPLE, extractSample } from './sources/sample';
import type { SourceContext, SourceResult } from './sources/source';

export interface ExtractDeps {
  store: BlobStore;
  logger: Logger;
  /** Needed only for kaggle: sources; absent when no credentials are configured. */
  kaggle?: KaggleClient;
  /** LOCAL_SOURCE_ROOT: local: paths must resolve inside it; undefined allows any path. */
  localRoot?: string;
  /** Archive limits; each defaults to the config default. */
  zipLimits?: Partial<ZipLimits>;
  /** Client settings for gs:// sources (project, GCS_API_ENDPOINT, size limit). */
  gcs?: GcsSourceOptions;
  /** RUN_DATA_RETENTION_DAYS: runs of a local store unchanged this long are removed; 0 or unset keeps them. */
  retentionDays?: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxUnzippedBytes: 4 * 1024 ** 3,
  maxRatio: 200,
  maxEntries: 1000,
};

/** sha256 over the sorted `sha256  name` lines (sha256sum's format): same files, same version. */
export function computeContentVersion(files: readonly RawFile[]): string {
  const lines = files
    .map((file) => `${file.sha256}  ${file.name}\n`)
    .sort()
    .join('');
  return createHash('sha256').update(lines).digest('hex');
}

async function readStoredManifest(
  store: BlobStore,
  key: string,
  runId: string,
): Promise<ExtractResponse | undefined> {
  if (!(await store.exists(key))) return undefined;
  try {
    return extractResponseSchema.parse(JSON.parse((await store.get(key)).toString('utf8')));
  } catch (error) {
    throw new ConflictError(
      `run ${runId} has an unreadable extract manifest at ${key} (${errorMessage(error)}); remove it or use another runId`,
      { runId, objectKey: key, cause: error },
    );
  }
}

async function runSource(
  ref: SourceRef,
  request: ExtractRequest,
  context: SourceContext,
  deps: ExtractDeps,
): Promise<SourceResult> {
  switch (ref.kind) {
    case 'sample':
      return extractSample(context, request.sample ?? DEFAULT_SAMPLE);
    case 'local':
      return extractLocal(context, ref.path, { root: deps.localRoot });
    case 'kaggle':
      if (!deps.kaggle) {
        throw new InvalidRequestError(
          `source ${request.source} needs Kaggle credentials: set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, in the extractor's environment`,
          { runId: request.runId },
          'KAGGLE_CREDENTIALS_MISSING',
        );
      }
      return extractKaggle(context, ref, deps.kaggle);
    case 'gcs': {
      // Cloud Storage's client loads with the first gs:// source, not with every start of the service.
      const { extractGcs } = await import('./sources/gcs');
      return extractGcs(context, ref, deps.gcs);
    }
  }
}

/** What a run extracted, for the same-runId check: the source, and the size and seed of sample data. */
function describeInput(source: string, sample: { rows: number; seed: number } | undefined): string {
  return sample
    ? `${JSON.stringify(source)} (${sample.rows} rows, seed ${sample.seed})`
    : JSON.stringify(source);
}

const DAY_MS = 86_400_000;

/**
 * A local store's runs unchanged for `days` (RUN_DATA_RETENTION_DAYS), the run starting kept, are removed
 * before the extract writes: in the cloud the bucket's lifecycle rule does it. A run that cannot be removed is
 * logged; the extract goes on.
 */
async function expireRuns(store: BlobStore, runId: string, days: number, logger: Logger): Promise<void> {
  if (!(store instanceof LocalBlobStore) || days === 0) return;
  try {
    const removed = await store.expireFolders(RUNS_PREFIX, days * DAY_MS, [runId]);
    if (removed.length > 0)
      logger.info(
        { removed, retentionDays: days },
        `removed ${removed.length} runs unchanged for ${days} days`,
      );
  } catch (error) {
    logger.warn({ error: errorMessage(error), retentionDays: days }, 'could not remove old runs');
  }
}

export async function extract(request: ExtractRequest, deps: ExtractDeps): Promise<ExtractResponse> {
  const { runId, source } = request;
  const { store } = deps;
  const logger = deps.logger.child({ runId, stage: 'extract' });
  const ref = parseSourceRef(source);
  if (request.sample !== undefined && ref.kind !== 'sample') {
    throw new InvalidRequestError(`sample: only valid with source "sample", not ${JSON.stringify(source)}`, {
      runId,
    });
  }

  const sample = ref.kind === 'sample' ? (request.sample ?? DEFAULT_SAMPLE) : undefined;
  const key = manifestKey(runId, 'extract');
  const stored = await readStoredManifest(store, key, runId);
  if (stored) {
    const asked = describeInput(source, sample);
    const done = describeInput(stored.source, stored.sample);
    if (asked !== done) {
      throw new ConflictError(
        `run ${runId} already extracted ${done}; this request asks for ${asked}: use a new runId`,
        { runId, objectKey: key },
      );
    }
    logger.info({ objectKey: key }, 'extract already done for this run; returning the stored manifest');
    return stored;
  }

  await expireRuns(store, runId, deps.retentionDays ?? 0, logger);
  const context: SourceContext = {
    store,
    runId,
    logger,
    zipLimits: { ...DEFAULT_ZIP_LIMITS, ...deps.zipLimits },
  };
  let result: SourceResult;
  try {
    result = await runSource(ref, request, context, deps);
  } catch (error) {
    await removeRawFiles(store, runId);
    throw error;
  }

  const version = result.version ?? computeContentVersion(result.files);
  const { dataset, state } = await identifyDataset(store, result.dataset, logger);
  const datasetId = datasetIdOf(dataset);
  // A first load that never committed leaves a pending state without a version.
  const previousVersion = state?.version || null;
  // A pending load may have committed another version: never "unchanged" until the loader says so.
  const changed = version !== previousVersion || state?.pending !== undefined;
  const response = extractResponseSchema.parse({
    runId,
    source,
    ...(sample ? { sample: { rows: sample.rows, seed: sample.seed } } : {}),
    dataset: {
      id: datasetId,
      version,
      previousVersion,
      changed,
      ...(dataset.location ? { location: dataset.location } : {}),
    },
    files: result.files,
    skippedFiles: result.skippedFiles,
    manifestKey: key,
  } satisfies ExtractResponse);
  // Written last: the manifest marks the step done.
  await putJson(store, key, response);
  logger.info(
    {
      dataset: response.dataset,
      files: response.files.length,
      skippedFiles: response.skippedFiles.length,
      bytes: response.files.reduce((sum, f) => sum + f.bytes, 0),
    },
    'extract done',
  );
  return response;
}
