/** Transformer process: config, adapters, listen, graceful SIGTERM. */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { loadConfig } from '@etl/common/config';
import { runService } from '@etl/common/http';
import { claimScratchFolder } from '@etl/common/lifecycle';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createTransformerApp } from './app';
import { defaultProfilesDir, transformerConfigSchema } from './config';

const config = loadConfig(transformerConfigSchema);
const logger = createLogger({ name: 'transformer', level: config.LOG_LEVEL });
// runService gives os.tmpdir() (the default) a per-process folder, swept at the next start; another
// TRANSFORM_TEMP_DIR gets the same.
const tempDir =
  config.TRANSFORM_TEMP_DIR === tmpdir()
    ? undefined
    : await claimScratchFolder({ parent: config.TRANSFORM_TEMP_DIR, service: 'transformer', logger });
const app = createTransformerApp(
  {
    store: await createBlobStore(config),
    logger,
    tempDir,
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
await runService({
  name: 'transformer',
  app,
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: async () => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  },
});
