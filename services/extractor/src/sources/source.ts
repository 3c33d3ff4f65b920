/** What every source hands back to the stage: the dataset it read, the raw files it wrote, and what it skipped. */
import type { RawFile, SkippedFile } from '@etl/common/contracts';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import type { ZipLimits } from '../files/unzip';

export interface DatasetRef {
  /** First segment of the dataset id and of datasets/<kind>/<owner>/<slug>/state.json. */
  kind: 'sample' | 'local' | 'kaggle' | 'gcs';
  owner: string;
  slug: string;
  /** A local dataset's resolved path: two files of one name in different folders are different datasets. */
  location?: string;
}

export interface SourceResult {
  dataset: DatasetRef;
  /** The upstream's own version (Kaggle's number, a GCS object's generation); undefined means "derive it from the content". */
  version?: string;
  files: RawFile[];
  /** Files of the dataset that hold no table, each with the reason (names as raw names are formed). */
  skippedFiles: SkippedFile[];
}

export interface SourceContext {
  store: BlobStore;
  runId: string;
  logger: Logger;
  zipLimits: ZipLimits;
}
