/**
 * `etl cloud run|status|logs` as a user runs them: the real CLI in a child process, talking to the fake
 * Workflow Executions API (test/fakes/workflows) through `@google-cloud/workflows` in REST mode. The fake
 * runs the product's workflow YAML in the local runner against stub services, so SUCCEEDED/FAILED, the
 * result and the error are what the real definition produces.
 */
import path from 'node:path';
import type { AlertRecord } from '@etl/workflow-runner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { etl, parseJsonStdout, REPO_ROOT } from '../e2e/cli';
import { type FakeWorkflows, startFakeWorkflows } from '../fakes/workflows';
import { EXTRACT, errorAnswer, type StubServices, startStubServices } from '../workflow/stub-services';

interface View {
  name: string;
  id: string;
  state: string;
  argument: unknown;
  result: { runId: string; status: string; tables: Array<{ name: string; rowsIn: number }> } | null;
  error: { payload: { code?: number; message?: string; tags?: string[] }; step?: string } | null;
  links: { console: string; logs: string; logsQuery: string; serviceLogs?: string };
}

let stub: StubServices;
let fake: FakeWorkflows;
let env: Record<string, string>;
const alerts: AlertRecord[] = [];

beforeAll(async () => {
  stub = await startStubServices();
  fake = await startFakeWorkflows({
    workflowFile: path.join(REPO_ROOT, 'workflows/etl.workflows.yaml'),
    projectId: 'acme-etl',
    location: 'europe-west1',
    workflowId: 'etl',
    runOptions: {
      env: { EXTRACTOR_URL: stub.url, TRANSFORMER_URL: stub.url, LOADER_URL: stub.url },
      alertSink: (record) => {
        alerts.push(record);
      },
      log: () => {},
    },
  });
  env = {
    GCP_PROJECT: 'acme-etl',
    GCP_REGION: 'europe-west1',
    WORKFLOWS_API_ENDPOINT: fake.url,
    METADATA_SERVER_DETECTION: 'none',
  };
});
afterAll(async () => {
  await fake?.close();
  await stub?.close();
});

const cloud = (...args: string[]) => etl(['cloud', ...args], env);

describe('etl cloud (fake Executions API running the real workflow)', () => {
  test('run --wait: creates an execution with the etl run argument, follows it, exits 0 with the result', async () => {
    const result = await cloud(
      'run',
      '--wait',
      '--json',
      '--source',
      'kaggle:acme/sales',
      '--run-id',
      'c-1',
      '--rows',
      '500',
    );
    expect(result.code, result.stderr).toBe(0);
    const view = parseJsonStdout<View>(result);
    expect(view.state).toBe('SUCCEEDED');
    expect(view.result).toMatchObject({
      runId: 'c-1',
      status: 'succeeded',
      tables: [{ name: 'sales', rowsIn: 1000 }],
    });
    // The same shape `etl run` gives the local runner.
    expect(view.argument).toEqual({
      source: 'kaggle:acme/sales',
      run_id: 'c-1',
      force: false,
      options: { sample: { rows: 500 } },
    });
    expect(stub.bodies(EXTRACT).at(-1)).toMatchObject({ runId: 'c-1', source: 'kaggle:acme/sales' });
    expect(result.stderr).toContain(`execution ${view.id} started (ACTIVE)`);
    expect(result.stderr).toContain(`execution ${view.id}: SUCCEEDED`);
    const create = fake.requests.find((r) => r.method === 'POST');
    expect(create).toMatchObject({
      path: '/v1/projects/acme-etl/locations/europe-west1/workflows/etl/executions',
      authorization: 'Bearer emulator',
    });
  });

  test('run --wait of a failing run: FAILED, exit 1, the stage error and the links printed; an alert was published', async () => {
    stub.answer(EXTRACT, errorAnswer(404, 'NOT_FOUND', 'dataset acme/nope not found'));
    const result = await cloud('run', '--wait', '--source', 'kaggle:acme/nope', '--run-id', 'c-2');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^execution [\w-]+: FAILED in \d+ s/);
    expect(result.stdout).toContain(
      'error: HTTP server responded with error code 404 (code 404) (raised at step fail)',
    );
    expect(result.stdout).toContain(
      'console: https://console.cloud.google.com/workflows/workflow/europe-west1/etl/execution/',
    );
    expect(alerts.at(-1)?.data).toMatchObject({ runId: 'c-2', step: 'extract', error: { code: 404 } });
  });

  test('run without --wait prints the execution id; status without an id shows the latest; status ID --json', async () => {
    const started = await cloud('run', '--run-id', 'c-3');
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await fake.executions.get(id)!.done;

    const failed = [...fake.executions.values()].find((e) => e.state === 'FAILED')!;
    // Independent invocations run side by side: each CLI start costs seconds.
    const [latest, status, missing] = await Promise.all([
      cloud('status'),
      cloud('status', failed.id, '--json'),
      cloud('status', 'no-such-execution'),
    ]);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toContain(`execution ${id}: SUCCEEDED`);
    expect(latest.stdout).toContain('run c-3: succeeded (source sample)');

    expect(status.code).toBe(1); // the exit code tells scripts the execution failed
    const view = parseJsonStdout<View>(status);
    expect(view).toMatchObject({
      id: failed.id,
      state: 'FAILED',
      error: { payload: { code: 404, tags: ['HttpError'] } },
    });

    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /could not read execution .*executions\/no-such-execution: Resource .* was not found \[NOT_FOUND\]/,
    );
  });

  test('logs: the Cloud Logging query on the execution id and the console link', async () => {
    const [execution] = [...fake.executions.values()];
    const [result, text] = await Promise.all([
      cloud('logs', execution!.id, '--json'),
      cloud('logs', execution!.id),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { links } = parseJsonStdout<View>(result);
    expect(links.logsQuery).toBe(
      [
        'resource.type="workflows.googleapis.com/Workflow"',
        'resource.labels.workflow_id="etl"',
        `labels."workflows.googleapis.com/execution_id"="${execution!.id}"`,
      ].join('\n'),
    );
    expect(links.logs).toBe(
      `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(links.logsQuery)}?project=acme-etl`,
    );
    expect(links.console).toBe(
      `https://console.cloud.google.com/workflows/workflow/europe-west1/etl/execution/${execution!.id}?project=acme-etl`,
    );
    expect(decodeURIComponent(links.serviceLogs!)).toContain('"c-1"');
    expect(text.stdout).toContain(`execution logs:   ${links.logs}`);
    expect(text.stdout).toContain("gcloud logging read 'resource.type=");
  });

  test('usage and configuration errors: local: sources, a BigQuery multi-region as the workflow region', async () => {
    const [local, region] = await Promise.all([
      cloud('run', '--source', 'local:/tmp/x.csv'),
      etl(['cloud', 'status'], { ...env, GCP_REGION: 'EU' }),
    ]);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(
      /cannot read this machine's files; upload it and pass gs:\/\/BUCKET\/OBJECT/,
    );
    expect(region.code).toBe(1);
    expect(region.stderr).toMatch(/GCP_REGION: EU is a BigQuery multi-region, not a Workflows region/);
  });
});
