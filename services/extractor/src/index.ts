/** Extractor process: read config, build the blob store and the Kaggle client, listen. */
import { loadConfig } from '@etl/common/config';
import { runService } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { createBlobStore } from '@etl/common/storage';
import { createExtractorApp } from './app';
import { extractorConfigSchema } from './config';
import { KaggleClient, readKaggleCredentials } from './kaggle-client';

const config = loadConfig(extractorConfigSchema);
const logger = createLogger({ name: 'extractor', level: config.LOG_LEVEL });
const credentials = readKaggleCredentials(config);
const kaggle = credentials
  ? new KaggleClient({
      baseUrl: config.KAGGLE_API_BASE,
      credentials,
      maxDownloadBytes: config.MAX_DOWNLOAD_BYTES,
      maxAttempts: config.KAGGLE_MAX_ATTEMPTS,
      logger,
    })
  : undefined;
if (!kaggle) logger.info('no Kaggle credentials configured: kaggle: sources will be refused');

const app = createExtractorApp({
  store: await createBlobStore(config),
  logger,
  kaggle,
  localRoot: config.LOCAL_SOURCE_ROOT,
  retentionDays: config.RUN_DATA_RETENTION_DAYS,
  zipLimits: {
    maxUnzippedBytes: config.MAX_UNZIPPED_BYTES,
    maxRatio: config.MAX_ZIP_RATIO,
    maxEntries: config.MAX_ZIP_ENTRIES,
  },
  gcs: {
    projectId: config.GCP_PROJECT,
    apiEndpoint: config.GCS_API_ENDPOINT,
    maxObjectBytes: config.MAX_DOWNLOAD_BYTES,
  },
  bodyLimit: config.BODY_LIMIT,
  projectId: config.GCP_PROJECT,
});

await runService({ name: 'extractor', app, host: config.HOST, port: config.PORT, logger });
