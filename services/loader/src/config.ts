import { baseConfigSchema } from '@etl/common/config';
import type { z } from 'zod';

export const loaderConfigSchema = baseConfigSchema.extend({});

export type LoaderConfig = z.infer<typeof loaderConfigSchema>;
