import path from 'node:path';
import type { BaseConfig } from '../config';
import { DuckDbWarehouse } from './duckdb-warehouse';
import type { Warehouse } from './warehouse';

/** The composition-root choice of adapter: called once, in a process's index.ts. */
export function createWarehouse(config: Pick<BaseConfig, 'ETL_MODE' | 'ETL_DATA_DIR'>): Warehouse {
  switch (config.ETL_MODE) {
    case 'local':
      return new DuckDbWarehouse({ file: path.join(config.ETL_DATA_DIR, 'warehouse.duckdb') });
    case 'gcp':
      throw new Error(
        'ETL_MODE=gcp: the BigQuery adapter is not available in this build; use ETL_MODE=local',
      );
  }
}
