import path from 'node:path';
import type { BaseConfig } from '../config';
import { InvalidRequestError } from '../errors';
import type { Logger } from '../logging';
import { DuckDbWarehouse } from './duckdb-warehouse';
import type { Warehouse } from './warehouse';

export interface CreateWarehouseOptions {
  /** For readers such as the insights app: the local DuckDB file is opened read-only. */
  readOnly?: boolean;
  /** Where the DuckDB warehouse reports recovering from an unreadable write-ahead log. */
  logger?: Logger;
}

/**
 * The composition-root choice of adapter: called once, in a process's index.ts. The BigQuery and Cloud
 * Storage clients are imported only in gcp mode (see createBlobStore).
 */
export async function createWarehouse(
  config: Pick<BaseConfig, 'ETL_MODE' | 'ETL_DATA_DIR'> &
    Partial<Pick<BaseConfig, 'WAREHOUSE_MEMORY_LIMIT'>> &
    Partial<
      Pick<
        BaseConfig,
        | 'GCP_PROJECT'
        | 'GCP_REGION'
        | 'ETL_BUCKET'
        | 'BIGQUERY_DATASET'
        | 'GCS_API_ENDPOINT'
        | 'BIGQUERY_API_ENDPOINT'
        | 'BIGQUERY_MAX_BYTES_BILLED'
        | 'BIGQUERY_QUERY_TIMEOUT_MS'
      >
    >,
  options: CreateWarehouseOptions = {},
): Promise<Warehouse> {
  switch (config.ETL_MODE) {
    case 'local':
      return new DuckDbWarehouse({
        file: path.join(config.ETL_DATA_DIR, 'warehouse.duckdb'),
        settings: {
          ...(config.WAREHOUSE_MEMORY_LIMIT ? { memory_limit: config.WAREHOUSE_MEMORY_LIMIT } : {}),
          ...(options.readOnly ? { access_mode: 'READ_ONLY' } : {}),
        },
        ...(options.logger ? { logger: options.logger } : {}),
      });
    case 'gcp': {
      const { GCP_PROJECT, ETL_BUCKET, BIGQUERY_DATASET } = config;
      if (!GCP_PROJECT || !ETL_BUCKET || !BIGQUERY_DATASET) {
        throw new InvalidRequestError('ETL_MODE=gcp needs GCP_PROJECT, ETL_BUCKET and BIGQUERY_DATASET');
      }
      const [{ BigQueryWarehouse }, { GcsBlobStore }] = await Promise.all([
        import('./bigquery-warehouse'),
        import('../storage/gcs-blob-store'),
      ]);
      // Parquet is staged under `staging/` in the pipeline's bucket. Credentials: Application Default
      // Credentials; with BIGQUERY_API_ENDPOINT set, a fixed-token client (see BigQueryWarehouse).
      return new BigQueryWarehouse({
        projectId: GCP_PROJECT,
        dataset: BIGQUERY_DATASET,
        ...(config.GCP_REGION ? { location: config.GCP_REGION } : {}),
        ...(config.BIGQUERY_API_ENDPOINT ? { apiEndpoint: config.BIGQUERY_API_ENDPOINT } : {}),
        queryLimits: {
          maxBytesBilled: config.BIGQUERY_MAX_BYTES_BILLED,
          timeoutMs: config.BIGQUERY_QUERY_TIMEOUT_MS,
        },
        store: new GcsBlobStore({
          bucket: ETL_BUCKET,
          projectId: GCP_PROJECT,
          ...(config.GCS_API_ENDPOINT ? { apiEndpoint: config.GCS_API_ENDPOINT } : {}),
        }),
      });
    }
  }
}
