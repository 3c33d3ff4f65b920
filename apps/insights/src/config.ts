import { baseConfigSchema } from '@etl/common/config';
import { z } from 'zod';

export const insightsConfigSchema = baseConfigSchema.extend({
  INSIGHTS_CACHE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(10)
    .describe(
      'Insights app: how long it trusts its view of the latest run before asking the warehouse again; query results are cached per run, so a new run is visible after at most this long.',
    ),
  INSIGHTS_POLL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(15)
    .describe(
      'Insights app: how often the pages poll /api/freshness and reload themselves when a new run lands.',
    ),
});

export type InsightsConfig = z.infer<typeof insightsConfigSchema>;
