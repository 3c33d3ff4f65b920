/**
 * The last successfully loaded version of a dataset, datasets/<kind>/<owner>/<slug>/state.json. The
 * loader writes it after a load; the extractor only reads it, to tell whether the data changed.
 */
import { errorMessage } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, datasetStateKey } from '@etl/common/storage';
import { z } from 'zod';
import type { DatasetRef } from './sources/source';

export const datasetStateSchema = z.object({
  version: z.string(),
  runId: z.string(),
  loadedAt: z.string(),
});

export type DatasetState = z.infer<typeof datasetStateSchema>;

/** The stored state, or undefined when the dataset was never loaded (or its state file is unreadable). */
export async function readDatasetState(
  store: BlobStore,
  dataset: DatasetRef,
  logger: Logger,
): Promise<DatasetState | undefined> {
  const key = datasetStateKey(dataset.kind, dataset.owner, dataset.slug);
  if (!(await store.exists(key))) return undefined;
  try {
    return datasetStateSchema.parse(JSON.parse((await store.get(key)).toString('utf8')));
  } catch (error) {
    // Treating it as "never loaded" only costs a reload, which the loader makes idempotent.
    logger.warn({ objectKey: key, error: errorMessage(error) }, `ignoring unreadable dataset state ${key}`);
    return undefined;
  }
}
