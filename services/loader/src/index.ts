import { preloadParquet } from '@etl/common/arrow';
import { loadConfig } from '@etl/common/config';
import { duckdb } from '@etl/common/duckdb';
import { runService } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createWarehouse } from '@etl/common/warehouse';
import { createLoaderApp } from './app';
import { loaderConfigSchema } from './config';
import { releaseHeldLeases } from './lease';
import { createMetricsSink } from './metrics';
import { createTableauRefresh } from './tableau';

const config = loadConfig(loaderConfigSchema);
const logger = createLogger({ name: 'loader', level: config.LOG_LEVEL });
const warehouse = await createWarehouse(config, { logger });
const metrics = await createMetricsSink(config);
const tableau = createTableauRefresh(config);
logger.info(
  {
    metrics: metrics.kind,
    tableau: tableau ? { server: tableau.client.serverUrl, target: tableau.target } : 'off',
  },
  'loader adapters',
);
const app = createLoaderApp(
  {
    store: await createBlobStore(config),
    warehouse,
    logger,
    metrics,
    tableau,
    minVolumeRatio: config.LOAD_MIN_VOLUME_RATIO,
  },
  { bodyLimit: config.BODY_LIMIT, projectId: config.GCP_PROJECT },
);
await runService({
  name: 'loader',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  // A load cut short by the shutdown must not leave its dataset locked for the next run.
  onShutdown: async () => {
    await releaseHeldLeases();
    await warehouse.close();
  },
});
// What every request needs, loaded once listening, while the run's first stages work.
preloadParquet();
duckdb();
