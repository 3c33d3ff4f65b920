import path from 'node:path';
import type { BaseConfig } from '../config';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';

/** The composition-root choice of adapter: called once, in a process's index.ts. */
export function createBlobStore(config: Pick<BaseConfig, 'ETL_MODE' | 'ETL_DATA_DIR'>): BlobStore {
  switch (config.ETL_MODE) {
    case 'local':
      return new LocalBlobStore(path.join(config.ETL_DATA_DIR, 'blobs'));
    case 'gcp':
      throw new Error(
        'ETL_MODE=gcp: the Cloud Storage adapter is not available in this build; use ETL_MODE=local',
      );
  }
}
