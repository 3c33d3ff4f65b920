/** Builds a service's OpenAPI 3.1 document from its zod contracts, so the two cannot drift apart. */
import { z } from 'zod';
import { type EndpointContract, errorBodySchema } from '../contracts';

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid request (terminal).',
  '404': 'An input of the run is missing (terminal).',
  '409': 'Conflicts with another run (terminal).',
  '413': 'Input larger than a configured limit (terminal).',
  '422': 'Data rejected, e.g. by the quality gate (terminal).',
  '424': 'A dependency refused the request, e.g. rejected credentials (terminal).',
  '429': 'Rate limited upstream (retry).',
  '503': 'A dependency is unavailable (retry).',
  '504': 'A warehouse query ran past its timeout (retry).',
  '500': 'A bug.',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

export function buildOpenApi(title: string, endpoints: EndpointContract[]): Record<string, unknown> {
  const errorContent = { 'application/json': { schema: jsonSchema(errorBodySchema, 'output') } };
  const paths: Record<string, unknown> = {
    '/healthz': { get: { summary: 'Liveness.', responses: { '200': { description: 'OK' } } } },
  };
  for (const endpoint of endpoints) {
    const responses: Record<string, unknown> = {
      '200': {
        description: 'Done (or already done for this runId: the stored manifest).',
        content: { 'application/json': { schema: jsonSchema(endpoint.response, 'output') } },
      },
    };
    for (const [status, description] of Object.entries(ERROR_STATUSES)) {
      responses[status] = { description, content: errorContent };
    }
    paths[endpoint.path] = {
      [endpoint.method]: {
        summary: endpoint.summary,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(endpoint.request, 'input') } },
        },
        responses,
      },
    };
  }
  return { openapi: '3.1.0', info: { title, version: '1.0.0' }, paths };
}
