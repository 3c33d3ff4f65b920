/** The extractor's HTTP face: POST /v1/extract validates the body, runs the stage, answers its manifest. */
import { extractEndpoint, extractRequestSchema } from '@etl/common/contracts';
import { createServiceApp, jsonRoute } from '@etl/common/http';
import type { Express } from 'express';
import { type ExtractDeps, extract } from './extractor';

export interface ExtractorAppOptions extends ExtractDeps {
  bodyLimit?: string;
  projectId?: string;
}

export function createExtractorApp(options: ExtractorAppOptions): Express {
  return createServiceApp({
    name: 'extractor',
    logger: options.logger,
    endpoints: [extractEndpoint],
    bodyLimit: options.bodyLimit,
    projectId: options.projectId,
    routes: (app) => {
      app.post(
        extractEndpoint.path,
        jsonRoute(extractRequestSchema, (body) => extract(body, options)),
      );
    },
  });
}
