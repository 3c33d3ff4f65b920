import { loadConfig } from '@etl/common/config';
import { runService } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createWarehouse } from '@etl/common/warehouse';
import { createLoaderApp } from './app';
import { loaderConfigSchema } from './config';

const config = loadConfig(loaderConfigSchema);
const logger = createLogger({ name: 'loader', level: config.LOG_LEVEL });
const warehouse = createWarehouse(config);
const app = createLoaderApp(
  { store: createBlobStore(config), warehouse, logger },
  { bodyLimit: config.BODY_LIMIT, projectId: config.GCP_PROJECT },
);
await runService({ app, host: config.HOST, port: config.PORT, logger, onShutdown: () => warehouse.close() });
