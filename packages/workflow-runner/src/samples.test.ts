import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkWorkflowFile, runWorkflowFile, WorkflowExecutionError, WorkflowValidationError } from './index';

const SAMPLES = join(import.meta.dirname, '..', 'test-fixtures', 'samples');
const sample = (name: string) => join(SAMPLES, `${name}.workflows.yaml`);
const quiet = { log: () => {} };

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** Answers every request with the status and JSON chosen by path. */
async function startServer(answer: (path: string) => [number, unknown]): Promise<string> {
  const server = createServer((req, res) => {
    const [status, body] = answer(req.url ?? '/');
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('documented samples', () => {
  it('loop_scope: only the pre-existing variable survives the loops', async () => {
    expect(await runWorkflowFile(sample('loop_scope'), null, quiet)).toEqual([8]);
  });

  it('loop_scope (undeployable form) is rejected at load time', async () => {
    const error = await checkWorkflowFile(sample('loop_scope_invalid')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkflowValidationError);
    expect(error).toMatchObject({ step: 'final', line: 14 });
    expect((error as Error).message).toMatch(
      /symbol 'outerLoopScope' is neither a variable nor a sub-workflow name/,
    );
  });

  it('step_switch_embedded returns from the embedded steps', async () => {
    expect(await runWorkflowFile(sample('step_switch_embedded'), null, quiet)).toBe('increase a to:8');
  });

  it('subworkflow and subworkflow defaults', async () => {
    expect(await runWorkflowFile(sample('subworkflow'), null, quiet)).toBe('Hello Kristof');
    expect(await runWorkflowFile(sample('subworkflow_defaults'), null, quiet)).toEqual([
      'Hello Ada (unknown country)',
      'Hello Alan (UK)',
    ]);
  });

  it('dictionary builds a map with an expression key', async () => {
    expect(await runWorkflowFile(sample('dictionary'), null, quiet)).toEqual({
      FirstName: 'John',
      MiddleName: 'Apple',
      LastName: 'Smith',
      Age: 26,
      Address: { Street: 'Flower Road 12', City: 'Superville', Country: 'Atlantis' },
    });
  });

  it('iterate_map sums the values through keys()', async () => {
    expect(await runWorkflowFile(sample('iterate_map'), null, quiet)).toBe(60);
  });

  it('error_catch maps 404/403/connection problems to messages and re-raises others', async () => {
    const codes: Record<string, number> = { '200': 200, '404': 404, '403': 403, '500': 500 };
    for (const [label, expected] of [
      ['200', { item: 'found' }],
      ['404', "Sorry, URL wasn't found"],
      ['403', 'Authentication error'],
    ] as const) {
      const base = await startServer(() => [codes[label]!, { item: 'found' }]);
      const result = await runWorkflowFile(sample('error_catch'), null, {
        ...quiet,
        routes: [{ from: 'https://example.com', to: base }],
      });
      expect(result).toEqual(expected);
    }
    const refused = await runWorkflowFile(sample('error_catch'), null, {
      ...quiet,
      routes: [{ from: 'https://example.com', to: 'http://127.0.0.1:1' }],
    });
    expect(refused).toBe('Connection problem; check URL');
    const base = await startServer(() => [500, { oops: true }]);
    const error = await runWorkflowFile(sample('error_catch'), null, {
      ...quiet,
      routes: [{ from: 'https://example.com', to: base }],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkflowExecutionError);
    expect((error as WorkflowExecutionError).error).toMatchObject({
      tags: ['HttpError'],
      code: 500,
      body: { oops: true },
    });
  });

  it('parallel_shared_variables fills the shared map from both branches', async () => {
    const base = await startServer((path) => [200, { some: { entry: `stock for ${path}` } }]);
    const result = await runWorkflowFile(sample('parallel_shared_variables'), null, {
      ...quiet,
      routes: [{ from: 'http://mystore.com', to: base }],
    });
    expect(result).toEqual({
      getStock: 'stock for /getStock/apples',
      orderStock: 'stock for /orderStock/oranges',
    });
  });
});
