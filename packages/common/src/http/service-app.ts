/**
 * The scaffold every service shares: JSON body with a size cap, one request logger in Cloud Logging
 * shape, /healthz, /openapi.json, zod validation answering 400 with the issues, and the one error shape.
 */
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { z } from 'zod';
import type { EndpointContract } from '../contracts';
import {
  InvalidRequestError,
  isPipelineError,
  NotFoundError,
  PayloadTooLargeError,
  toErrorBody,
} from '../errors';
import { type Logger, traceFields } from '../logging';
import { buildOpenApi } from './openapi';

export interface ServiceAppOptions {
  name: string;
  logger: Logger;
  endpoints: EndpointContract[];
  /** Largest JSON body accepted, e.g. "256kb". */
  bodyLimit?: string;
  projectId?: string;
  /** Adds the service's routes; runs between the common middleware and the error handler. */
  routes: (app: Express) => void;
}

export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLogger(options.logger, options.projectId));
  app.use(express.json({ limit: options.bodyLimit ?? '256kb', strict: true }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  const openapi = buildOpenApi(`${options.name} service`, options.endpoints);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  options.routes(app);
  app.use((req, _res, next) => next(new NotFoundError(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}

/** Parses a request body against a contract schema; unknown fields and bad values answer 400 with the issues. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new InvalidRequestError('expected a JSON object body with Content-Type: application/json');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
    ...('keys' in issue ? { keys: issue.keys } : {}),
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new InvalidRequestError(`invalid request body: ${summary}`, { details: { issues } });
}

/** A POST route: validate the body, run the stage, answer 200 with its JSON result. */
export function jsonRoute<S extends z.ZodType>(
  schema: S,
  handler: (body: z.infer<S>, req: Request) => Promise<unknown>,
): RequestHandler {
  return async function handleJsonRoute(req, res) {
    const body = parseBody(schema, req.body);
    res.json(await handler(body, req));
  };
}

function requestLogger(logger: Logger, projectId: string | undefined): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customProps: (req) => traceFields(req.headers['x-cloud-trace-context'] as string | undefined, projectId),
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { method: string; url: string; id: unknown }) => ({
        method: req.method,
        url: req.url,
        id: req.id,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Body-parser errors carry a `type`; map them onto our typed errors so the client gets the one shape. */
function fromBodyParser(error: unknown): unknown {
  const type = (error as { type?: unknown })?.type;
  if (type === 'entity.parse.failed') {
    return new InvalidRequestError(
      `invalid JSON body: ${(error as Error).message}`,
      { cause: error },
      'INVALID_JSON',
    );
  }
  if (type === 'entity.too.large') {
    const limit = (error as { limit?: number }).limit;
    return new PayloadTooLargeError(`request body larger than the limit of ${limit} bytes`, { cause: error });
  }
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new InvalidRequestError((error as Error).message, { cause: error });
  }
  return error;
}

/** The single place errors are logged and turned into responses. */
const errorHandler: ErrorRequestHandler = (rawError, req, res, _next) => {
  const error = fromBodyParser(rawError);
  const { status, body } = toErrorBody(error);
  const log = req.log ?? undefined;
  if (isPipelineError(error) && status < 500) log?.warn({ code: body.error.code }, error.message);
  else log?.error({ err: error }, 'request failed');
  if (res.headersSent) return;
  res.status(status).json(body);
};
