/**
 * The insights web app: a JSON API over the warehouse (sales monitoring and the ML stage's results) and
 * two static pages that draw it with ECharts. ECharts is served from the installed package, so the pages
 * need no network beyond this app.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { InvalidRequestError } from '@etl/common/errors';
import { createServiceApp } from '@etl/common/http';
import type { Logger } from '@etl/common/logging';
import type { BlobStore } from '@etl/common/storage';
import type { Warehouse } from '@etl/common/warehouse';
import { findWorkspaceRoot } from '@etl/common/workspace-root';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { type Filters, InsightsQueries } from './insights-queries';

export interface InsightsDeps {
  warehouse: Warehouse;
  store: BlobStore;
  logger: Logger;
}

export interface InsightsAppOptions {
  /** See INSIGHTS_CACHE_SECONDS. */
  cacheSeconds?: number;
  /** See INSIGHTS_POLL_SECONDS. */
  pollSeconds?: number;
  projectId?: string;
}

const WORKSPACE_ROOT = findWorkspaceRoot(import.meta.dirname);
/** apps/insights in a checkout (this module may be in the `etl` command's bundle), else the image's /app. */
const APP_DIR = WORKSPACE_ROOT
  ? path.join(WORKSPACE_ROOT, 'apps/insights')
  : path.resolve(import.meta.dirname, '..');
const PUBLIC_DIR = path.join(APP_DIR, 'public');
const ECHARTS_FILE = createRequire(path.join(APP_DIR, 'package.json')).resolve('echarts/dist/echarts.min.js');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'expected a calendar date',
    },
  );

const sourceField = z
  .string()
  .min(1)
  .max(300)
  .optional()
  .describe('Dataset id (`_source`); default: the one loaded last.');

/**
 * The monitoring filters: `source`, `from`, `to`, and any other parameter is a dimension filter
 * (`?region=West`, `?product_line=Health%20and%20beauty`) whose name the queries check against the dataset's
 * dimensions (400 naming it otherwise). Its value is only ever a bound parameter.
 */
export const filtersSchema = z
  .object({
    source: sourceField,
    from: isoDate.optional().describe('First day of the event time included.'),
    to: isoDate.optional().describe('Last day of the event time included.'),
  })
  .catchall(z.string().min(1).max(200).describe('A dimension of the dataset and the value it must have.'))
  .refine((f) => !f.from || !f.to || f.from <= f.to, {
    message: 'from must not be after to',
    path: ['from'],
  })
  .transform(({ source, from, to, ...dimensions }): Filters => ({ source, from, to, dimensions }));

const revenueSchema = z
  .object({
    grain: z
      .enum(['day', 'week', 'month'])
      .optional()
      .describe("Default: the dataset's own (`defaultGrain` of /api/filters)."),
  })
  .strict();
const breakdownSchema = z
  .object({
    by: z.string().min(1).max(300).describe('A dimension of the dataset (`dimensions` of /api/filters).'),
  })
  .strict();
const topSchema = z
  .object({
    kind: z.enum(['products', 'customers']),
    limit: z.coerce.number().int().min(1).max(50).default(10),
  })
  .strict();
const sourceOnlySchema = z.object({ source: sourceField }).strict();
const noParamsSchema = z.object({}).strict();

/** Parses query parameters; bad or unknown ones answer 400 in the common error shape, naming them. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
    ...('keys' in issue ? { keys: issue.keys } : {}),
  }));
  const summary = issues
    .map((i) => (i.path ? `${i.path}: ${i.message}` : 'keys' in i ? `${i.message}: ${i.keys}` : i.message))
    .join('; ');
  throw new InvalidRequestError(`invalid query parameters: ${summary}`, { details: { issues } });
}

/** Splits a query into the part `extra` validates and the filters, each checked strictly. */
function parseWithFilters<S extends z.ZodObject>(
  extra: S,
  query: Request['query'],
): z.infer<S> & { filters: Filters } {
  const extraKeys = new Set(Object.keys(extra.shape));
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) (extraKeys.has(key) ? own : rest)[key] = value;
  return { ...parseQuery(extra, own), filters: parseQuery(filtersSchema, rest) };
}

/** Pages load only their own scripts and data; ECharts sets inline styles, hence 'unsafe-inline' for style. */
const securityHeaders: RequestHandler = function securityHeaders(_req, res, next) {
  res.set(
    'content-security-policy',
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  );
  res.set('x-content-type-options', 'nosniff');
  res.set('referrer-policy', 'no-referrer');
  next();
};

function getJson(handler: (req: Request) => Promise<unknown>): RequestHandler {
  return async function handleGetJson(req, res) {
    res.set('cache-control', 'no-store');
    res.json(await handler(req));
  };
}

export function createInsightsApp(deps: InsightsDeps, options: InsightsAppOptions = {}): Express {
  const queries = new InsightsQueries(deps.warehouse, deps.store, {
    cacheSeconds: options.cacheSeconds ?? 10,
  });
  const pollSeconds = options.pollSeconds ?? 15;
  return createServiceApp({
    name: 'insights',
    logger: deps.logger,
    endpoints: [],
    ...(options.projectId ? { projectId: options.projectId } : {}),
    routes: (app) => {
      app.use(securityHeaders);
      app.get(
        '/api/config',
        getJson(async (req) => {
          parseQuery(noParamsSchema, req.query);
          return { pollSeconds, warehouse: deps.warehouse.kind };
        }),
      );
      app.get(
        '/api/datasets',
        getJson(async (req) => {
          parseQuery(noParamsSchema, req.query);
          return queries.datasets();
        }),
      );
      app.get(
        '/api/filters',
        getJson(async (req) => queries.filters(parseQuery(sourceOnlySchema, req.query).source)),
      );
      app.get(
        '/api/kpis',
        getJson(async (req) => queries.kpis(parseQuery(filtersSchema, req.query))),
      );
      app.get(
        '/api/revenue',
        getJson(async (req) => {
          const { grain, filters } = parseWithFilters(revenueSchema, req.query);
          return queries.revenue(grain, filters);
        }),
      );
      app.get(
        '/api/breakdown',
        getJson(async (req) => {
          const { by, filters } = parseWithFilters(breakdownSchema, req.query);
          return queries.breakdown(by, filters);
        }),
      );
      app.get(
        '/api/top',
        getJson(async (req) => {
          const { kind, limit, filters } = parseWithFilters(topSchema, req.query);
          return queries.top(kind, limit, filters);
        }),
      );
      app.get(
        '/api/freshness',
        getJson(async (req) => {
          parseQuery(noParamsSchema, req.query);
          return queries.freshness();
        }),
      );
      app.get(
        '/api/runs',
        getJson(async (req) => {
          parseQuery(noParamsSchema, req.query);
          return queries.runs();
        }),
      );
      const ml = (name: 'forecast' | 'segments' | 'anomalies' | 'drivers' | 'metrics') =>
        getJson(async (req) => queries[name](parseQuery(sourceOnlySchema, req.query).source));
      app.get('/api/forecast', ml('forecast'));
      app.get('/api/segments', ml('segments'));
      app.get('/api/anomalies', ml('anomalies'));
      app.get('/api/drivers', ml('drivers'));
      app.get('/api/metrics', ml('metrics'));

      app.get('/vendor/echarts.min.js', (_req, res) => {
        // pnpm keeps packages under node_modules/.pnpm: allow that dot folder in the path.
        res.sendFile(ECHARTS_FILE, { maxAge: '1d', dotfiles: 'allow' });
      });
      app.get('/ml', (_req, res) => {
        res.sendFile(path.join(PUBLIC_DIR, 'ml.html'));
      });
      app.use(express.static(PUBLIC_DIR, { index: 'index.html', extensions: ['html'] }));
    },
  });
}
