import { loadEndpoint, loadRequestSchema } from '@etl/common/contracts';
import { createServiceApp, jsonRoute } from '@etl/common/http';
import type { Express } from 'express';
import { type LoaderDeps, load } from './loader';

export interface LoaderAppOptions {
  bodyLimit?: string;
  projectId?: string;
}

export function createLoaderApp(deps: LoaderDeps, options: LoaderAppOptions = {}): Express {
  return createServiceApp({
    name: 'loader',
    logger: deps.logger,
    endpoints: [loadEndpoint],
    ...options,
    routes: (app) => {
      app.post(
        loadEndpoint.path,
        jsonRoute(loadRequestSchema, (body, req) => load(body, { ...deps, logger: req.log })),
      );
    },
  });
}
