/**
 * What a re-run needs to know about an earlier run, read from its manifests (runs/<runId>/manifest/), and
 * the one change it makes to them: removing the manifests of the stages it redoes. A stage's manifest
 * means "done": a stage called again with the same runId answers from it without redoing work, so a
 * re-run with the same run id only does the work whose manifests are missing.
 */
import { baseConfigSchema, parseConfig } from '@etl/common/config';
import {
  type BlobStore,
  createBlobStore,
  getJson,
  manifestKey,
  STAGES,
  type Stage,
} from '@etl/common/storage';

/** The stages a re-run may start from (`--from`, the workflow's `resume_from`). */
export const RESUMABLE_STAGES = ['extract', 'transform', 'load'] as const;
export type ResumableStage = (typeof RESUMABLE_STAGES)[number];

export function isResumableStage(value: string): value is ResumableStage {
  return (RESUMABLE_STAGES as readonly string[]).includes(value);
}

/** `stage` and every stage after it, in pipeline order (the ML stage follows load). */
export function stagesFrom(stage: ResumableStage): Stage[] {
  return STAGES.slice(STAGES.indexOf(stage));
}

/**
 * The blob store the services of `etl run` use: the same environment (ETL_MODE, ETL_BUCKET, ...) with
 * the CLI's data dir, so local runs read <data-dir>/blobs and gcp-mode runs the bucket.
 */
export function createRunStore(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): Promise<BlobStore> {
  return createBlobStore(parseConfig(baseConfigSchema, { ...env, ETL_DATA_DIR: dataDir }));
}

/** The input of an earlier run, as its extract manifest recorded it. */
export interface ExtractedInput {
  source: string;
  sample?: { rows: number; seed: number };
  /** Where it was read from, for messages. */
  manifestKey: string;
}

export async function readExtractedInput(
  store: BlobStore,
  runId: string,
): Promise<ExtractedInput | undefined> {
  const key = manifestKey(runId, 'extract');
  if (!(await store.exists(key))) return undefined;
  const manifest = await getJson<{ source?: unknown; sample?: { rows: number; seed: number } }>(store, key);
  if (typeof manifest.source !== 'string') {
    throw new Error(
      `expected a source in the extract manifest ${key}, found ${JSON.stringify(manifest.source)}`,
    );
  }
  return {
    source: manifest.source,
    ...(manifest.sample ? { sample: manifest.sample } : {}),
    manifestKey: key,
  };
}

/**
 * Removes the manifests of `from` and every later stage, and only those: the next execution with this
 * run id redoes their work. Returns the keys removed (missing ones are skipped).
 */
export async function removeManifestsFrom(
  store: BlobStore,
  runId: string,
  from: ResumableStage,
): Promise<string[]> {
  const removed: string[] = [];
  for (const stage of stagesFrom(from)) {
    const key = manifestKey(runId, stage);
    if (!(await store.exists(key))) continue;
    await store.delete(key);
    removed.push(key);
  }
  return removed;
}
