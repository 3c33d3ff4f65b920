/** A stage's manifest marks it done; the next stage starts by reading it. */
import { NotFoundError } from '../errors';
import { getJson } from './blob-files';
import type { BlobStore } from './blob-store';
import { manifestKey, type Stage } from './object-keys';

/** Reads `runs/<runId>/manifest/<stage>.json`; 404 naming the key when that stage has not run. */
export async function readStageManifest<T>(store: BlobStore, runId: string, stage: Stage): Promise<T> {
  const key = manifestKey(runId, stage);
  if (!(await store.exists(key))) {
    throw new NotFoundError(`run ${runId} has no ${stage} manifest at ${key}: run the ${stage} stage first`, {
      runId,
      objectKey: key,
    });
  }
  return getJson<T>(store, key);
}
