import {
  analyzeEndpoint,
  analyzeRequestSchema,
  loadEndpoint,
  loadRequestSchema,
  refreshEndpoint,
  refreshRequestSchema,
} from '@etl/common/contracts';
import { createServiceApp, jsonRoute } from '@etl/common/http';
import type { Express } from 'express';
import { analyze } from './analyze';
import { type LoaderDeps, load } from './loader';
import { type RefreshDeps, refresh } from './refresh';

export interface LoaderAppOptions {
  bodyLimit?: string;
  projectId?: string;
}

export function createLoaderApp(
  deps: LoaderDeps & Pick<RefreshDeps, 'tableau'>,
  options: LoaderAppOptions = {},
): Express {
  return createServiceApp({
    name: 'loader',
    logger: deps.logger,
    endpoints: [loadEndpoint, analyzeEndpoint, refreshEndpoint],
    ...options,
    routes: (app) => {
      app.post(
        loadEndpoint.path,
        jsonRoute(loadRequestSchema, (body, req) => load(body, { ...deps, logger: req.log })),
      );
      app.post(
        analyzeEndpoint.path,
        jsonRoute(analyzeRequestSchema, (body, req) => analyze(body, { ...deps, logger: req.log })),
      );
      app.post(
        refreshEndpoint.path,
        jsonRoute(refreshRequestSchema, (body, req) => refresh(body, { ...deps, logger: req.log })),
      );
    },
  });
}
