/**
 * Configuration of `etl cloud`: which deployed workflow to drive. Parsed once from the environment with
 * zod, like the services' config; a bad or missing value stops the command with the variable's name.
 */
import { parseConfig } from '@etl/common/config';
import { z } from 'zod';

/** BigQuery multi-regions are valid GCP_REGION values for the loader but not Workflows locations. */
const MULTI_REGIONS = new Set(['EU', 'US', 'eu', 'us']);

export const cloudConfigSchema = z
  .object({
    GCP_PROJECT: z.string().min(1).describe('Project the workflow is deployed in.'),
    GCP_REGION: z
      .string()
      .min(1)
      .optional()
      .describe('Region of the workflow, unless WORKFLOW_REGION is set (e.g. europe-west1).'),
    WORKFLOW_REGION: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+$/, 'expected a Cloud Workflows region such as europe-west1')
      .optional()
      .describe(
        'Region of the workflow when it differs from GCP_REGION (which may be a BigQuery multi-region).',
      ),
    WORKFLOW_NAME: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'expected a workflow id (letters, digits, - and _)')
      .default('etl')
      .describe('Name of the deployed workflow.'),
    WORKFLOWS_API_ENDPOINT: z
      .url()
      .optional()
      .describe(
        'Workflow Executions API endpoint of an emulator or test fake (http://host:port); unset = Google with ADC.',
      ),
  })
  .superRefine((config, ctx) => {
    const region = config.WORKFLOW_REGION ?? config.GCP_REGION;
    if (!region) {
      ctx.addIssue({ code: 'custom', path: ['GCP_REGION'], message: 'required (or WORKFLOW_REGION)' });
    } else if (!config.WORKFLOW_REGION && MULTI_REGIONS.has(region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['GCP_REGION'],
        message: `${region} is a BigQuery multi-region, not a Workflows region: set WORKFLOW_REGION (e.g. europe-west1)`,
      });
    }
  });

export interface CloudConfig {
  project: string;
  region: string;
  workflow: string;
  apiEndpoint?: string;
}

export function parseCloudConfig(env: Record<string, string | undefined>): CloudConfig {
  const config = parseConfig(cloudConfigSchema, env);
  return {
    project: config.GCP_PROJECT,
    region: (config.WORKFLOW_REGION ?? config.GCP_REGION)!,
    workflow: config.WORKFLOW_NAME,
    ...(config.WORKFLOWS_API_ENDPOINT ? { apiEndpoint: config.WORKFLOWS_API_ENDPOINT } : {}),
  };
}
