/**
 * The fake Executions API against the real `@google-cloud/workflows` client (REST mode, through the
 * CLI's `Executions` wrapper): the requests it sends, and executions of the product's workflow YAML
 * run by the local runner against stub services.
 */
import path from 'node:path';
import type { AlertRecord } from '@etl/workflow-runner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Executions } from '../../../apps/cli/src/cloud/executions';
import { REPO_ROOT } from '../../e2e/cli';
import { EXTRACT, errorAnswer, type StubServices, startStubServices } from '../../workflow/stub-services';
import { type FakeWorkflows, startFakeWorkflows } from './fake-workflows-server';

let stub: StubServices;
let fake: FakeWorkflows;
let executions: Executions;
const alerts: AlertRecord[] = [];

beforeAll(async () => {
  stub = await startStubServices();
  fake = await startFakeWorkflows({
    workflowFile: path.join(REPO_ROOT, 'workflows/etl.workflows.yaml'),
    projectId: 'proj',
    location: 'europe-west1',
    runOptions: {
      env: { EXTRACTOR_URL: stub.url, TRANSFORMER_URL: stub.url, LOADER_URL: stub.url },
      alertSink: (record) => {
        alerts.push(record);
      },
      log: () => {},
    },
  });
  executions = new Executions({
    project: 'proj',
    region: 'europe-west1',
    workflow: 'etl',
    apiEndpoint: fake.url,
  });
});
afterAll(async () => {
  await executions?.close();
  await fake?.close();
  await stub?.close();
});

const fastWait = { initialDelayMs: 5, maxDelayMs: 20 };

describe('fake Workflow Executions API with the real client', () => {
  test('the client speaks REST/JSON: create, get and list paths, bearer token, argument as a JSON string', async () => {
    const started = await executions.start({ source: 'kaggle:acme/sales', run_id: 'f-1', force: false });
    expect(started.state).toBe('ACTIVE');
    expect(started.name).toBe(`projects/proj/locations/europe-west1/workflows/etl/executions/${started.id}`);
    const ended = await executions.wait(started.id, fastWait);
    expect(ended.state).toBe('SUCCEEDED');
    expect(ended.result).toMatchObject({ runId: 'f-1', status: 'succeeded', source: 'kaggle:acme/sales' });
    expect(ended.argument).toEqual({ source: 'kaggle:acme/sales', run_id: 'f-1', force: false });
    expect(ended.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(Date.parse(ended.endTime!)).toBeGreaterThanOrEqual(Date.parse(ended.startTime!));
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/projects/proj/locations/europe-west1/workflows/etl/executions',
      body: { argument: '{"source":"kaggle:acme/sales","run_id":"f-1","force":false}' },
      status: 200,
      authorization: 'Bearer emulator',
    });
    expect(fake.requests[1]).toMatchObject({ method: 'GET', path: `/v1/${started.name}` });
  });

  test('a failing stage ends FAILED with the raised error as the payload, after the alert', async () => {
    stub.answer(EXTRACT, errorAnswer(400, 'INVALID_REQUEST', 'no such source'));
    const started = await executions.start({ source: 'kaggle:acme/nope', run_id: 'f-2' });
    const seen: string[] = [];
    const ended = await executions.wait(started.name, { ...fastWait, onChange: (v) => seen.push(v.state) });
    expect(seen.at(-1)).toBe('FAILED');
    expect(ended.error?.payload).toMatchObject({ code: 400, tags: ['HttpError'] });
    expect(ended.error?.step).toBe('fail');
    expect(ended.result).toBeNull();
    expect(alerts.at(-1)?.data).toMatchObject({ runId: 'f-2', step: 'extract', executionId: started.id });
  });

  test('list is newest first; an unknown execution is NotFoundError naming it', async () => {
    const [latest] = await executions.latest(1);
    expect(latest?.argument).toMatchObject({ run_id: 'f-2' });
    expect(fake.requests.at(-1)?.path).toMatch(/\/executions\?pageSize=1&view=FULL$/);
    await expect(executions.get('no-such-id')).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringMatching(/executions\/no-such-id/),
    });
  });

  test('an argument that is not JSON is refused with 400, as the API does', async () => {
    const res = await fetch(`${fake.url}/v1/${fake.parent}/executions`, {
      method: 'POST',
      body: JSON.stringify({ argument: '{nope' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });
});
