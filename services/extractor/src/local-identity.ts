/**
 * Dataset identity of a local source: its resolved path, not its base name. The first path loaded under a
 * name keeps the plain id `local/files/<slug>` (so warehouses loaded before paths were recorded keep their
 * slices); another path with the same name gets an owner of its own, `local/p<hash of the path>/<slug>`,
 * and so its own slice: `a/2024/orders.csv` never replaces the rows of `b/2025/orders.csv`.
 */
import { createHash } from 'node:crypto';
import { type DatasetState, readDatasetState } from '@etl/common/dataset-state';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import type { DatasetRef } from './sources/source';

export const datasetIdOf = (d: DatasetRef): string => `${d.kind}/${d.owner}/${d.slug}`;

/** The dataset as the run should know it, and its state. */
export async function identifyDataset(
  store: BlobStore,
  dataset: DatasetRef,
  logger: Logger,
): Promise<{ dataset: DatasetRef; state: DatasetState | undefined }> {
  const state = await readDatasetState(store, datasetIdOf(dataset), logger);
  if (
    dataset.kind !== 'local' ||
    !dataset.location ||
    !state?.location ||
    state.location === dataset.location
  )
    return { dataset, state };
  const own = {
    ...dataset,
    owner: `p${createHash('sha256').update(dataset.location).digest('hex').slice(0, 12)}`,
  };
  logger.warn(
    {
      dataset: datasetIdOf(own),
      location: dataset.location,
      other: datasetIdOf(dataset),
      otherLocation: state.location,
    },
    `${dataset.location} is a dataset of its own, ${datasetIdOf(own)}: ${datasetIdOf(dataset)} was loaded from ${state.location}`,
  );
  return { dataset: own, state: await readDatasetState(store, datasetIdOf(own), logger) };
}
