/** Extractor settings: the base service config plus the Kaggle API, local-source and archive limits. */
import { baseConfigSchema } from '@etl/common/config';
import { z } from 'zod';

const GIB = 1024 ** 3;

const optionalSecret = (description: string) =>
  z.string().min(1).optional().describe(`${description} Secret: never logged.`);

export const extractorConfigSchema = baseConfigSchema
  .extend({
    KAGGLE_API_BASE: z
      .url({ protocol: /^https?$/ })
      .default('https://api.kaggle.com')
      .describe('Base URL of the Kaggle API; calls go to {base}/v1/datasets.DatasetApiService/{Method}.'),
    KAGGLE_API_TOKEN: optionalSecret(
      'Kaggle access token, sent as "Authorization: Bearer"; preferred over username/key.',
    ),
    KAGGLE_USERNAME: optionalSecret(
      'Kaggle user name for legacy API-key (HTTP Basic) auth, with KAGGLE_KEY.',
    ),
    KAGGLE_KEY: optionalSecret('Kaggle legacy API key, with KAGGLE_USERNAME.'),
    KAGGLE_MAX_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe('Tries per Kaggle call (first try included) on 429, 5xx and dropped connections.'),
    LOCAL_SOURCE_ROOT: z
      .string()
      .min(1)
      .optional()
      .describe(
        'When set, local:PATH sources must resolve inside this folder; unset allows any path (CLI use).',
      ),
    MAX_DOWNLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(2 * GIB)
      .describe('Largest Kaggle download accepted, in bytes.'),
    MAX_UNZIPPED_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(4 * GIB)
      .describe(
        'Largest total uncompressed size of one dataset, over every archive (nested zips included) and .gz file in it, in bytes.',
      ),
    MAX_ZIP_RATIO: z.coerce
      .number()
      .positive()
      .default(200)
      .describe(
        'Largest uncompressed/compressed size ratio of a zip entry or .gz file (decompression-bomb guard).',
      ),
    RUN_DATA_RETENTION_DAYS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3650)
      .default(30)
      .describe(
        "Local mode: each extract removes the run folders (blobs/runs/RUN_ID/: raw, staged, quarantine, reports, manifests) none of whose files changed in this many days, as the bucket's lifecycle rule does in the cloud; the datasets' state and the warehouse are kept. 0 keeps every run.",
      ),
    MAX_ZIP_ENTRIES: z.coerce
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Largest number of entries in one archive (each nested archive counted on its own).'),
  })
  .superRefine((config, context) => {
    if ((config.KAGGLE_USERNAME === undefined) !== (config.KAGGLE_KEY === undefined)) {
      const missing = config.KAGGLE_USERNAME === undefined ? 'KAGGLE_USERNAME' : 'KAGGLE_KEY';
      context.addIssue({
        code: 'custom',
        path: [missing],
        message: 'KAGGLE_USERNAME and KAGGLE_KEY must be set together',
      });
    }
  });

export type ExtractorConfig = z.infer<typeof extractorConfigSchema>;
