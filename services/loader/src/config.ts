/**
 * Loader settings: the base service config plus the Tableau extract refresh (POST /v1/refresh) and the
 * Cloud Monitoring metrics written after each load.
 */
import { baseConfigSchema } from '@etl/common/config';
import { z } from 'zod';

const optionalText = (description: string) => z.string().min(1).optional().describe(description);

export const loaderConfigSchema = baseConfigSchema
  .extend({
    TABLEAU_SERVER_URL: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Tableau Server or Cloud URL, e.g. https://10ax.online.tableau.com. With the token name and secret it ' +
          'enables POST /v1/refresh; unset = refresh answers "skipped".',
      ),
    TABLEAU_API_VERSION: z
      .string()
      .regex(/^\d+\.\d+$/, 'expected a REST API version such as 3.22')
      .default('3.22')
      .describe('Tableau REST API version in the URL path (/api/<version>/...).'),
    TABLEAU_SITE: z
      .string()
      .default('')
      .describe(
        'Tableau site contentUrl (the name in the site URL); empty = the default site (Server only).',
      ),
    TABLEAU_TOKEN_NAME: optionalText('Tableau personal access token name, with TABLEAU_TOKEN_SECRET.'),
    TABLEAU_TOKEN_SECRET: optionalText(
      'Tableau personal access token secret (Secret Manager in the cloud). Secret: never logged.',
    ),
    TABLEAU_DATASOURCE_ID: optionalText('LUID of the published data source whose extract is refreshed.'),
    TABLEAU_DATASOURCE_NAME: optionalText(
      'Name of the published data source to refresh, looked up on the site when TABLEAU_DATASOURCE_ID is unset.',
    ),
    TABLEAU_WORKBOOK_ID: optionalText(
      'LUID of a workbook whose extracts are refreshed, instead of a data source.',
    ),
    TABLEAU_REFRESH_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(900)
      .describe(
        'How long POST /v1/refresh waits for the Tableau job; past it the call answers 503 (retried, and the ' +
          'retry follows the same job).',
      ),
    LOAD_MIN_VOLUME_RATIO: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        'Volume check: a new version with fewer rows than this share of the rows it replaces is refused ' +
          '(422 VOLUME_DROP) unless the load request says allowShrink; 0 turns the check off.',
      ),
    METRICS_ENABLED: z
      .enum(['true', 'false'])
      .optional()
      .describe(
        'Write load metrics to Cloud Monitoring (custom.googleapis.com/etl/*); unset = on when ETL_MODE=gcp. ' +
          'Off: the metrics are one structured log line per load.',
      ),
    MONITORING_API_ENDPOINT: z
      .url()
      .optional()
      .describe('Cloud Monitoring endpoint of a test fake (REST); unset = Google with ADC.'),
  })
  .superRefine((config, context) => {
    const tableau = ['TABLEAU_SERVER_URL', 'TABLEAU_TOKEN_NAME', 'TABLEAU_TOKEN_SECRET'] as const;
    const set = tableau.filter((name) => config[name] !== undefined);
    if (set.length > 0 && set.length < tableau.length) {
      for (const name of tableau.filter((n) => config[n] === undefined)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `required with ${set.join(', ')}: the Tableau refresh needs the server URL and a token`,
        });
      }
    }
    if (set.length === tableau.length) {
      const targets = ['TABLEAU_DATASOURCE_ID', 'TABLEAU_DATASOURCE_NAME', 'TABLEAU_WORKBOOK_ID'] as const;
      const chosen = targets.filter((name) => config[name] !== undefined);
      if (chosen.length !== 1) {
        context.addIssue({
          code: 'custom',
          path: ['TABLEAU_DATASOURCE_ID'],
          message: `expected exactly one of ${targets.join(', ')} with TABLEAU_SERVER_URL, found ${chosen.length}`,
        });
      }
    }
    if (config.METRICS_ENABLED === 'true' && !config.GCP_PROJECT) {
      context.addIssue({
        code: 'custom',
        path: ['GCP_PROJECT'],
        message: 'required when METRICS_ENABLED=true: the project the metrics are written to',
      });
    }
  });

export type LoaderConfig = z.infer<typeof loaderConfigSchema>;
