/** What every source hands back to the stage: the dataset it read, and the raw files it wrote. */
import type { RawFile } from '@etl/common/contracts';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import type { ZipLimits } from '../unzip';

export interface DatasetRef {
  /** First segment of the dataset id and of datasets/<kind>/<owner>/<slug>/state.json. */
  kind: 'sample' | 'local' | 'kaggle' | 'gcs';
  owner: string;
  slug: string;
}

export interface SourceResult {
  dataset: DatasetRef;
  /** The upstream's own version (Kaggle's number, a GCS object's generation); undefined means "derive it from the content". */
  version?: string;
  files: RawFile[];
}

export interface SourceContext {
  store: BlobStore;
  runId: string;
  logger: Logger;
  zipLimits: ZipLimits;
}
