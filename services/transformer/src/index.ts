/** Transformer process: config, adapters, listen, graceful SIGTERM. */
import { loadConfig } from '@etl/common/config';
import { runService } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createTransformerApp } from './app';
import { defaultProfilesDir, transformerConfigSchema } from './config';

const config = loadConfig(transformerConfigSchema);
const logger = createLogger({ name: 'transformer', level: config.LOG_LEVEL });
const app = createTransformerApp(
  {
    store: createBlobStore(config),
    logger,
    tempDir: config.TRANSFORM_TEMP_DIR,
    sampleRows: config.TRANSFORM_SAMPLE_ROWS,
    profilesDir: config.PROFILES_DIR ?? defaultProfilesDir(),
    maxInputBytes: config.MAX_INPUT_BYTES,
    duckdb: {
      ...(config.DUCKDB_THREADS === undefined ? {} : { threads: config.DUCKDB_THREADS }),
      memoryLimit: config.DUCKDB_MEMORY_LIMIT,
      ...(config.DUCKDB_MAX_TEMP_SIZE === undefined
        ? {}
        : { maxTempDirectorySize: config.DUCKDB_MAX_TEMP_SIZE }),
    },
  },
  {
    bodyLimit: config.BODY_LIMIT,
    ...(config.GCP_PROJECT === undefined ? {} : { projectId: config.GCP_PROJECT }),
  },
);
await runService({ app, host: config.HOST, port: config.PORT, logger });
