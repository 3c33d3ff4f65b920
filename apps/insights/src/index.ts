import { loadConfig } from '@etl/common/config';
import { runService } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createWarehouse } from '@etl/common/warehouse';
import { createInsightsApp } from './app';
import { insightsConfigSchema } from './config';

const config = loadConfig(insightsConfigSchema);
const logger = createLogger({ name: 'insights', level: config.LOG_LEVEL });
const warehouse = await createWarehouse(config, { readOnly: true });
const app = createInsightsApp(
  { warehouse, store: await createBlobStore(config), logger },
  {
    cacheSeconds: config.INSIGHTS_CACHE_SECONDS,
    pollSeconds: config.INSIGHTS_POLL_SECONDS,
    ...(config.GCP_PROJECT ? { projectId: config.GCP_PROJECT } : {}),
  },
);
await runService({
  name: 'insights',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: () => warehouse.close(),
});
