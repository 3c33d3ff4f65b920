/**
 * The failure alert of workflows/etl.workflows.yaml on the real Pub/Sub wire: the workflow's `except`
 * branch publishes the `alert_message` JSON to the gcloud Pub/Sub emulator (started here on a free port),
 * and a subscriber created with @google-cloud/pubsub pulls it. Skipped, saying so, when `gcloud` is not on
 * PATH. The same branch against the local alert sink (no emulator) is covered in
 * test/workflow/etl-workflow.test.ts ("terminal failures alert with run context ...").
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { runWorkflowFile, WorkflowExecutionError } from '@etl/workflow-runner';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../e2e/cli';
import {
  DATASET,
  errorAnswer,
  freePort,
  type StubServices,
  startStubServices,
  TRANSFORM,
} from '../workflow/stub-services';

const PROJECT = 'demo';
const TOPIC = 'etl-alerts';
const EXECUTION_ID = '0d9a4c1e-5b7f-4e8a-9c3d-2f1e0a6b7c8d';

const hasGcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasGcloud) {
  console.warn(
    'test/gcp/pubsub-alerts.test.ts: SKIPPED, gcloud is not on PATH (it starts the Pub/Sub emulator)',
  );
}

let emulator: ChildProcess | undefined;
let host: string;
let pubsub: PubSub;
let stub: StubServices;

/** Polls the emulator's root (it answers "Ok") until it is up. */
async function waitForEmulator(url: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (emulator?.exitCode !== null) throw new Error(`the Pub/Sub emulator exited:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the Pub/Sub emulator did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
}

describe.skipIf(!hasGcloud)('alerts on the gcloud Pub/Sub emulator', () => {
  beforeAll(async () => {
    host = `127.0.0.1:${await freePort()}`;
    let output = '';
    // Its own process group: gcloud starts a java child, and both must go at the end.
    emulator = spawn(
      'gcloud',
      ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--project=${PROJECT}`],
      {
        env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    emulator.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    emulator.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitForEmulator(`http://${host}/`, 30_000, () => output);
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: host });
    stub = await startStubServices();
  }, 45_000);

  afterAll(async () => {
    await pubsub?.close();
    await stub?.close();
    if (emulator?.pid !== undefined && emulator.exitCode === null) {
      const exited = new Promise((resolve) => emulator!.once('exit', resolve));
      process.kill(-emulator.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (emulator.exitCode === null) process.kill(-emulator.pid, 'SIGKILL');
    }
  });

  test('a quality-gate failure publishes one alert: JSON body with run context, attributes for filtering', async () => {
    const [topic] = await pubsub.createTopic(TOPIC);
    const [subscription] = await topic.createSubscription('on-call');
    const received = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no alert arrived within 10 s')), 10_000);
      subscription.once('message', (message: Message) => {
        clearTimeout(timer);
        message.ack();
        resolve(message);
      });
    });

    stub.answer(
      TRANSFORM,
      errorAnswer(422, 'QUALITY_GATE_FAILED', 'reject rate 0.31 is over the limit 0.1', { rejectRate: 0.31 }),
    );
    const failure = await runWorkflowFile(
      path.join(REPO_ROOT, 'workflows/etl.workflows.yaml'),
      { source: 'kaggle:acme/sales', run_id: 'alert-1' },
      {
        env: {
          EXTRACTOR_URL: stub.url,
          TRANSFORMER_URL: stub.url,
          LOADER_URL: stub.url,
          ALERT_TOPIC: `projects/${PROJECT}/topics/${TOPIC}`,
        },
        pubsubEmulatorHost: host,
        executionId: EXECUTION_ID,
        projectId: PROJECT,
        location: 'europe-west1',
        workflowId: 'etl',
        log: () => {},
      },
    ).catch((error: unknown) => error);
    // The execution still fails with the stage's error: the alert does not swallow it.
    expect(failure).toBeInstanceOf(WorkflowExecutionError);
    expect((failure as WorkflowExecutionError).error).toMatchObject({ code: 422, tags: ['HttpError'] });

    const message = await received;
    expect(message.attributes).toEqual({ severity: 'ERROR', runId: 'alert-1', step: 'transform' });
    const alert = JSON.parse(message.data.toString('utf8'));
    expect(alert).toMatchObject({
      severity: 'ERROR',
      runId: 'alert-1',
      executionId: EXECUTION_ID,
      workflowId: 'etl',
      links: {
        execution: expect.stringContaining(`/etl/execution/${EXECUTION_ID}?project=`),
        logs: expect.stringContaining('https://console.cloud.google.com/logs/query;query='),
      },
      step: 'transform',
      source: 'kaggle:acme/sales',
      version: DATASET.version,
      error: {
        code: 422,
        tags: ['HttpError'],
        message: 'HTTP server responded with error code 422',
        body: {
          error: {
            code: 'QUALITY_GATE_FAILED',
            message: 'reject rate 0.31 is over the limit 0.1',
            retryable: false,
            details: { rejectRate: 0.31 },
          },
        },
      },
    });
    await subscription.close();
  });
});
