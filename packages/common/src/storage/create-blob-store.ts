import path from 'node:path';
import type { BaseConfig } from '../config';
import { InvalidRequestError } from '../errors';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';

/**
 * The composition-root choice of adapter: called once, in a process's index.ts. Cloud Storage's client is
 * imported only in gcp mode: loading it took 150-450 ms of every local service's start.
 */
export async function createBlobStore(
  config: Pick<BaseConfig, 'ETL_MODE' | 'ETL_DATA_DIR'> &
    Partial<Pick<BaseConfig, 'GCP_PROJECT' | 'ETL_BUCKET' | 'GCS_API_ENDPOINT'>>,
): Promise<BlobStore> {
  switch (config.ETL_MODE) {
    case 'local':
      return new LocalBlobStore(path.join(config.ETL_DATA_DIR, 'blobs'));
    case 'gcp': {
      if (!config.ETL_BUCKET)
        throw new InvalidRequestError('ETL_MODE=gcp needs ETL_BUCKET (the bucket name)');
      const { GcsBlobStore } = await import('./gcs-blob-store');
      // Credentials: Application Default Credentials; with GCS_API_ENDPOINT set the client sends none.
      return new GcsBlobStore({
        bucket: config.ETL_BUCKET,
        ...(config.GCP_PROJECT ? { projectId: config.GCP_PROJECT } : {}),
        ...(config.GCS_API_ENDPOINT ? { apiEndpoint: config.GCS_API_ENDPOINT } : {}),
      });
    }
  }
}
