/** The transformer's HTTP face: validate, run the stage, answer with its manifest. */
import { transformEndpoint, transformRequestSchema } from '@etl/common/contracts';
import { createServiceApp, jsonRoute } from '@etl/common/http';
import type { Express } from 'express';
import { type TransformDeps, type TransformInput, transform } from './transformer';

export interface TransformerAppOptions {
  bodyLimit?: string;
  projectId?: string;
}

export function createTransformerApp(deps: TransformDeps, options: TransformerAppOptions = {}): Express {
  return createServiceApp({
    name: 'transformer',
    logger: deps.logger,
    endpoints: [transformEndpoint],
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
    routes: (app) => {
      app.post(
        transformEndpoint.path,
        // Validated by the schema, but passed on as sent: the stage tells an explicit `table` or
        // `maxRejectRate` (which wins over the profile's) from the schema's defaults (which do not).
        jsonRoute(transformRequestSchema, (_request, req) =>
          transform(req.body as TransformInput, { ...deps, logger: req.log ?? deps.logger }),
        ),
      );
    },
  });
}
