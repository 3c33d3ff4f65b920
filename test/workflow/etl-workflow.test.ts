/**
 * workflows/etl.workflows.yaml in the local runner against stub services: call counts, retries and their
 * backoff, alerts, skips and the options each stage receives. The stub is a real HTTP server; a fake
 * clock makes the backoff instant and records each delay.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AlertRecord,
  type Clock,
  type RunOptions,
  runWorkflowFile,
  WorkflowExecutionError,
} from '@etl/workflow-runner';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ANALYZE,
  DATASET,
  EXTRACT,
  errorAnswer,
  extractResponse,
  freePort,
  LOAD,
  loadResponse,
  REFRESH,
  type StubServices,
  startStubServices,
  TRANSFORM,
  tableCounts,
  transformResponse,
} from './stub-services';

const WORKFLOW = path.resolve(import.meta.dirname, '../../workflows/etl.workflows.yaml');
const EXECUTION_ID = '6f1c2b9e-0d4a-4c55-9a7e-1f2e3d4c5b6a';
const ALERT_TOPIC = 'projects/acme/topics/etl-alerts';
const START = Date.UTC(2024, 0, 1);

type FakeClock = Clock & { sleeps: number[] };

/** A clock whose `sleep` returns at once, advances time and records the delay (ms). */
function createFakeClock(onSleep?: (ms: number) => Promise<void>): FakeClock {
  let now = START;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      await onSleep?.(ms);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a Workflows error map is free-form JSON, asserted field by field.
type ErrorMap = any;

interface Outcome {
  result?: unknown;
  error?: ErrorMap;
  alerts: AlertRecord[];
  sleeps: number[];
}

let stub: StubServices;
const extraServers: StubServices[] = [];

beforeEach(async () => {
  stub = await startStubServices();
});
afterEach(async () => {
  await stub.close();
  for (const server of extraServers.splice(0)) await server.close();
});

/** The stage URLs; the ML stage is off here and has its own tests below. */
function stageUrls(url = stub.url): Record<string, string> {
  return { EXTRACTOR_URL: url, TRANSFORMER_URL: url, LOADER_URL: url, ML_INSIGHTS: 'false' };
}

/** Runs the ETL workflow; an execution failure is returned as `error` (the Workflows error map). */
async function runEtl(argument: unknown, options: RunOptions & { clock?: FakeClock } = {}) {
  const clock = options.clock ?? createFakeClock();
  const alerts: AlertRecord[] = [];
  const outcome: Outcome = { alerts, sleeps: clock.sleeps };
  try {
    outcome.result = await runWorkflowFile(WORKFLOW, argument, {
      executionId: EXECUTION_ID,
      alertSink: (record) => {
        alerts.push(record);
      },
      log: () => {},
      ...options,
      env: { ...stageUrls(), ALERT_TOPIC, ...options.env },
      clock,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionError)) throw error;
    outcome.error = error.error;
  }
  return outcome;
}

function callCounts(): Record<string, number> {
  return {
    extract: stub.calls(EXTRACT),
    transform: stub.calls(TRANSFORM),
    load: stub.calls(LOAD),
    refresh: stub.calls(REFRESH),
  };
}

const SOURCE = 'kaggle:acme/sales';

const SKIPPED_FILES = [{ name: 'README.md', reason: 'documentation' }];

function succeeded(runId: string, source = SOURCE, analysis: unknown = null) {
  const sales = tableCounts(runId, 'sales', 1000);
  return {
    runId,
    status: 'succeeded',
    source,
    datasetVersion: DATASET.version,
    tables: [
      {
        name: 'sales',
        files: ['sales.csv'],
        rowsIn: 1000,
        rowsLoaded: sales.rowsOut,
        rowsQuarantined: sales.rowsQuarantined,
        rowsDuplicate: sales.rowsDuplicate,
        rowsReplaced: 0,
        schemaChanges: [],
        guesses: [],
        notes: [],
      },
    ],
    skippedFiles: SKIPPED_FILES,
    analysis,
  };
}

/** The HttpError map without its response headers (which carry a date), plus the content type. */
function withoutHeaders(error: ErrorMap): ErrorMap {
  const { headers, ...rest } = error;
  expect(headers['content-type']).toBe('application/json');
  return rest;
}

describe('etl.workflows.yaml: the happy path', () => {
  test('extract -> transform -> load once each; the summary joins transform and load counts per table', async () => {
    const orders = tableCounts('run-1', 'orders', 500);
    const returns = tableCounts('run-1', 'returns', 40);
    stub.answer(TRANSFORM, { status: 200, body: transformResponse('run-1', [orders, returns]) });
    // The loader lists tables in its own order: the summary follows the transformer's.
    stub.answer(LOAD, { status: 200, body: loadResponse('run-1', [returns, orders]) });

    const { result, error, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-1' });

    expect(error).toBeUndefined();
    expect(result).toEqual({
      runId: 'run-1',
      status: 'succeeded',
      source: SOURCE,
      datasetVersion: '7',
      tables: [
        {
          name: 'orders',
          files: ['orders.csv'],
          rowsIn: 500,
          rowsLoaded: 485,
          rowsQuarantined: 10,
          rowsDuplicate: 5,
          rowsReplaced: 0,
          schemaChanges: [],
          guesses: [],
          notes: [],
        },
        {
          name: 'returns',
          files: ['returns.csv'],
          rowsIn: 40,
          rowsLoaded: 40,
          rowsQuarantined: 0,
          rowsDuplicate: 0,
          rowsReplaced: 0,
          schemaChanges: [],
          guesses: [],
          notes: [],
        },
      ],
      skippedFiles: SKIPPED_FILES,
      analysis: null,
    });
    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 1, refresh: 0 });
    expect(stub.bodies(EXTRACT)).toEqual([{ runId: 'run-1', source: SOURCE }]);
    expect(stub.bodies(TRANSFORM)).toEqual([{ runId: 'run-1' }]);
    expect(stub.bodies(LOAD)).toEqual([{ runId: 'run-1', allowShrink: false }]);
    expect(stub.requests.every((request) => request.method === 'POST')).toBe(true);
    expect(stub.requests[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(alerts).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  test('run_id defaults to the execution id (GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID); source defaults to "sample"', async () => {
    const { result } = await runEtl(null);

    expect(result).toEqual(succeeded(EXECUTION_ID, 'sample'));
    expect(stub.bodies(EXTRACT)).toEqual([{ runId: EXECUTION_ID, source: 'sample' }]);
    expect(stub.bodies(TRANSFORM)).toEqual([{ runId: EXECUTION_ID }]);
    expect(stub.bodies(LOAD)).toEqual([{ runId: EXECUTION_ID, allowShrink: false }]);
  });

  test('an Eventarc GCS "object finalized" event extracts gs://BUCKET/NAME', async () => {
    const event = {
      specversion: '1.0',
      id: '9001',
      // The CloudEvent's own `source` is the bucket's resource name: the object path must win over it.
      source: '//storage.googleapis.com/projects/_/buckets/inbox',
      type: 'google.cloud.storage.object.v1.finalized',
      subject: 'objects/drops/sales.csv',
      time: '2024-01-01T00:00:00.000Z',
      data: {
        bucket: 'inbox',
        name: 'drops/sales.csv',
        contentType: 'text/csv',
        size: '1024',
        generation: '1704067200000000',
      },
    };

    const { result } = await runEtl(event);

    expect(stub.bodies(EXTRACT)).toEqual([{ runId: EXECUTION_ID, source: 'gs://inbox/drops/sales.csv' }]);
    expect(result).toEqual(succeeded(EXECUTION_ID, 'gs://inbox/drops/sales.csv'));
  });

  test('an Eventarc Pub/Sub message carrying a run request is unwrapped into the run argument', async () => {
    const request = { source: 'kaggle:owner/slug', run_id: 'from-pubsub', options: { maxRejectRate: 0.05 } };
    const event = {
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: '//pubsub.googleapis.com/projects/p/topics/etl-run-requests',
      data: {
        subscription: 'projects/p/subscriptions/eventarc-sub',
        message: {
          data: Buffer.from(JSON.stringify(request)).toString('base64'),
          messageId: '1',
          attributes: {},
        },
      },
    };

    const { result } = await runEtl(event);

    expect(stub.bodies(EXTRACT)).toEqual([{ runId: 'from-pubsub', source: 'kaggle:owner/slug' }]);
    expect(stub.bodies(TRANSFORM)).toEqual([{ runId: 'from-pubsub', maxRejectRate: 0.05 }]);
    expect(result).toEqual(succeeded('from-pubsub', 'kaggle:owner/slug'));
  });

  test('options go to the stage that owns them: sample to extract, table and maxRejectRate to transform', async () => {
    const options = { table: 'orders', maxRejectRate: 0.05, sample: { rows: 500, seed: 7 } };

    const { result } = await runEtl({ source: 'sample', run_id: 'run-2', options });

    expect(stub.bodies(EXTRACT)).toEqual([
      { runId: 'run-2', source: 'sample', sample: { rows: 500, seed: 7 } },
    ]);
    expect(stub.bodies(TRANSFORM)).toEqual([{ runId: 'run-2', table: 'orders', maxRejectRate: 0.05 }]);
    expect(stub.bodies(LOAD)).toEqual([{ runId: 'run-2', allowShrink: false }]);
    expect(result).toMatchObject({ status: 'succeeded', tables: [{ name: 'orders', rowsIn: 1000 }] });
  });
});

describe('etl.workflows.yaml: unchanged datasets', () => {
  test('changed: false ends the run as skipped without calling transform or load', async () => {
    stub.answer(EXTRACT, { status: 200, body: extractResponse('run-3', SOURCE, { changed: false }) });

    const { result, alerts } = await runEtl({ source: SOURCE, run_id: 'run-3' });

    expect(result).toEqual({
      runId: 'run-3',
      status: 'skipped',
      source: SOURCE,
      datasetVersion: '7',
      tables: [],
      skippedFiles: SKIPPED_FILES,
    });
    expect(callCounts()).toEqual({ extract: 1, transform: 0, load: 0, refresh: 0 });
    expect(alerts).toEqual([]);
  });

  test('force: true loads an unchanged dataset anyway', async () => {
    stub.answer(EXTRACT, { status: 200, body: extractResponse('run-4', SOURCE, { changed: false }) });

    const { result } = await runEtl({ source: SOURCE, run_id: 'run-4', force: true });

    expect(result).toEqual(succeeded('run-4'));
    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 1, refresh: 0 });
  });
});

describe('etl.workflows.yaml: retries (call_stage: default_retry_predicate, 5 retries, 2 s x2 backoff)', () => {
  test('503 twice then 200: three calls, success, waits of 2 s then 4 s', async () => {
    const unavailable = errorAnswer(503, 'UPSTREAM_UNAVAILABLE', 'try again');
    stub.answer(TRANSFORM, unavailable, unavailable);

    const { result, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-5' });

    expect(result).toEqual(succeeded('run-5'));
    expect(callCounts()).toEqual({ extract: 1, transform: 3, load: 1, refresh: 0 });
    expect(stub.bodies(TRANSFORM)).toEqual([{ runId: 'run-5' }, { runId: 'run-5' }, { runId: 'run-5' }]);
    expect(sleeps).toEqual([2000, 4000]);
    expect(alerts).toEqual([]);
  });

  test.each([429, 502, 504])('%i is transient: retried once, then success', async (status) => {
    stub.answer(EXTRACT, errorAnswer(status, 'TRANSIENT', `status ${status}`));

    const { result, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-6' });

    expect(result).toEqual(succeeded('run-6'));
    expect(callCounts()).toEqual({ extract: 2, transform: 1, load: 1, refresh: 0 });
    expect(sleeps).toEqual([2000]);
  });

  test('a connection cut before the answer (ConnectionError) is retried', async () => {
    stub.answer(LOAD, 'drop');

    const { result, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-7' });

    expect(result).toEqual(succeeded('run-7'));
    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 2, refresh: 0 });
    expect(sleeps).toEqual([2000]);
  });

  test('a refused connection (ConnectionFailedError) is retried until the service comes up', async () => {
    const port = await freePort();
    // The transformer starts listening during the first backoff wait.
    const clock = createFakeClock(async () => {
      if (extraServers.length === 0) extraServers.push(await startStubServices(port));
    });
    const transformerUrl = `http://127.0.0.1:${port}`;

    const { result, sleeps } = await runEtl(
      { source: SOURCE, run_id: 'run-8' },
      { clock, env: { TRANSFORMER_URL: transformerUrl } },
    );

    expect(result).toMatchObject({ runId: 'run-8', status: 'succeeded' });
    expect(sleeps).toEqual([2000]);
    expect(extraServers[0]!.calls(TRANSFORM)).toBe(1);
    expect(callCounts()).toEqual({ extract: 1, transform: 0, load: 1, refresh: 0 });
  });

  test('a stage that stays unavailable: 1 + 5 calls, waits 2/4/8/16/32 s, then the run fails with the last 503', async () => {
    const unavailable = errorAnswer(503, 'UPSTREAM_UNAVAILABLE', 'down');
    stub.answer(EXTRACT, ...Array.from({ length: 6 }, () => unavailable));

    const { error, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-9' });

    expect(callCounts()).toEqual({ extract: 6, transform: 0, load: 0, refresh: 0 });
    expect(sleeps).toEqual([2000, 4000, 8000, 16000, 32000]);
    expect(error).toMatchObject({ tags: ['HttpError'], code: 503 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.data).toMatchObject({ step: 'extract', error: { code: 503 } });
  });

  test('500 is a bug, not a transient failure: one call, no retry, the run fails', async () => {
    stub.answer(LOAD, errorAnswer(500, 'INTERNAL', 'internal error'));

    const { error, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-10' });

    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 1, refresh: 0 });
    expect(sleeps).toEqual([]);
    expect(error).toMatchObject({ tags: ['HttpError'], code: 500 });
    expect(alerts.map((alert) => alert.data)).toMatchObject([{ step: 'load', error: { code: 500 } }]);
  });

  test('fastRetries (no fake clock) makes the real backoff waits milliseconds', async () => {
    const unavailable = errorAnswer(503, 'UPSTREAM_UNAVAILABLE', 'try again');
    stub.answer(TRANSFORM, unavailable, unavailable);
    const started = Date.now();

    const result = await runWorkflowFile(
      WORKFLOW,
      { source: SOURCE, run_id: 'run-11' },
      { env: stageUrls(), fastRetries: true, alertSink: () => {}, log: () => {} },
    );

    expect(result).toEqual(succeeded('run-11'));
    expect(stub.calls(TRANSFORM)).toBe(3);
    // 2 s + 4 s of documented backoff, divided by 1000.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('etl.workflows.yaml: terminal failures alert with run context and fail the execution', () => {
  const badRequest = errorAnswer(
    400,
    'INVALID_REQUEST',
    'expected source "sample", "local:PATH" or "kaggle:..."',
  );

  test.each([
    {
      stage: 'extract',
      path: EXTRACT,
      calls: { extract: 1, transform: 0, load: 0, refresh: 0 },
      version: null,
    },
    {
      stage: 'transform',
      path: TRANSFORM,
      calls: { extract: 1, transform: 1, load: 0, refresh: 0 },
      version: '7',
    },
    { stage: 'load', path: LOAD, calls: { extract: 1, transform: 1, load: 1, refresh: 0 }, version: '7' },
  ])(
    '400 from $stage: one call, no retry, one alert, HttpError 400',
    async ({ stage, path: stagePath, calls, version }) => {
      stub.answer(stagePath, badRequest);

      const { result, error, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-12' });

      expect(result).toBeUndefined();
      expect(callCounts()).toEqual(calls);
      expect(sleeps).toEqual([]);
      const body = (badRequest as { body: unknown }).body;
      expect(withoutHeaders(error)).toEqual({
        tags: ['HttpError'],
        message: 'HTTP server responded with error code 400',
        code: 400,
        body,
      });
      expect(alerts).toEqual([
        {
          topic: ALERT_TOPIC,
          messageId: expect.any(String),
          publishTime: new Date(START).toISOString(),
          attributes: { severity: 'ERROR', runId: 'run-12', step: stage },
          data: {
            severity: 'ERROR',
            runId: 'run-12',
            executionId: EXECUTION_ID,
            workflowId: 'etl',
            step: stage,
            source: SOURCE,
            version,
            error: {
              code: 400,
              tags: ['HttpError'],
              message: 'HTTP server responded with error code 400',
              body,
            },
            links: {
              execution: `https://console.cloud.google.com/workflows/workflow/us-central1/etl/execution/${EXECUTION_ID}?project=local-project`,
              logs: expect.stringMatching(
                /^https:\/\/console\.cloud\.google\.com\/logs\/query;query=resource\.type%3D.*%22\?project=local-project$/,
              ),
            },
          },
        },
      ]);
    },
  );

  test('422 from the transform quality gate: no retry, alert on step "transform", load never called', async () => {
    const details = {
      passed: false,
      rejectRate: 0.25,
      maxRejectRate: 0.1,
      rowsIn: 1000,
      rowsQuarantined: 250,
    };
    const rejected = errorAnswer(
      422,
      'QUALITY_GATE_FAILED',
      '25% of 1000 rows quarantined, above 10%',
      details,
    );
    stub.answer(TRANSFORM, rejected);

    const { error, alerts, sleeps } = await runEtl({ source: SOURCE, run_id: 'run-13' });

    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 0, refresh: 0 });
    expect(sleeps).toEqual([]);
    expect(withoutHeaders(error)).toEqual({
      tags: ['HttpError'],
      message: 'HTTP server responded with error code 422',
      code: 422,
      body: (rejected as { body: unknown }).body,
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.attributes).toEqual({ severity: 'ERROR', runId: 'run-13', step: 'transform' });
    expect(alerts[0]!.data).toMatchObject({
      step: 'transform',
      version: '7',
      error: { code: 422, body: { error: { code: 'QUALITY_GATE_FAILED', details } } },
    });
  });

  test('a stage that never accepts connections: the alert carries the ConnectionFailedError (no code, no body)', async () => {
    const refused = `http://127.0.0.1:${await freePort()}`;

    const { error, alerts, sleeps } = await runEtl(
      { source: SOURCE, run_id: 'run-14' },
      { env: { EXTRACTOR_URL: refused } },
    );

    expect(sleeps).toEqual([2000, 4000, 8000, 16000, 32000]);
    expect(error).toEqual({
      tags: ['ConnectionFailedError'],
      message: expect.stringContaining(`HTTP request to ${refused}/v1/extract failed: ECONNREFUSED`),
    });
    expect(alerts.map((alert) => alert.data)).toEqual([
      expect.objectContaining({
        step: 'extract',
        version: null,
        error: { code: null, tags: ['ConnectionFailedError'], message: error.message, body: null },
      }),
    ]);
    expect(callCounts()).toEqual({ extract: 0, transform: 0, load: 0, refresh: 0 });
  });

  test('ALERT_TOPIC unset, alert sink a JSON-lines file (as `etl run` uses): one line on projects/local/topics/etl-alerts', async () => {
    stub.answer(EXTRACT, badRequest);
    const dir = await mkdtemp(path.join(tmpdir(), 'etl-alerts-'));
    const sink = path.join(dir, 'alerts.jsonl');

    try {
      await expect(
        runWorkflowFile(
          WORKFLOW,
          { source: SOURCE, run_id: 'run-15' },
          { env: stageUrls(), alertSink: sink, log: () => {} },
        ),
      ).rejects.toBeInstanceOf(WorkflowExecutionError);
      const lines = (await readFile(sink, 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        topic: 'projects/local/topics/etl-alerts',
        attributes: { severity: 'ERROR', runId: 'run-15', step: 'extract' },
        data: { runId: 'run-15', step: 'extract', error: { code: 400 } },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('etl.workflows.yaml: Tableau refresh', () => {
  test('TABLEAU_REFRESH=true posts {runId} to LOADER_URL/v1/refresh after the load', async () => {
    const { result } = await runEtl(
      { source: SOURCE, run_id: 'run-16' },
      { env: { TABLEAU_REFRESH: 'true' } },
    );

    expect(result).toEqual(succeeded('run-16'));
    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 1, refresh: 1 });
    expect(stub.bodies(REFRESH)).toEqual([{ runId: 'run-16' }]);
    expect(stub.requests.map((request) => request.path)).toEqual([EXTRACT, TRANSFORM, LOAD, REFRESH]);
  });

  test.each([undefined, 'false', 'TRUE'])('TABLEAU_REFRESH=%s: no refresh call', async (value) => {
    const env: Record<string, string> = value === undefined ? {} : { TABLEAU_REFRESH: value };

    const { result } = await runEtl({ source: SOURCE, run_id: 'run-17' }, { env });

    expect(result).toEqual(succeeded('run-17'));
    expect(callCounts()).toEqual({ extract: 1, transform: 1, load: 1, refresh: 0 });
  });

  test('a failed refresh alerts on step "refresh_tableau" and fails the run', async () => {
    stub.answer(REFRESH, errorAnswer(401, 'UNAUTHORIZED', 'Tableau token rejected'));

    const { error, alerts } = await runEtl(
      { source: SOURCE, run_id: 'run-18' },
      { env: { TABLEAU_REFRESH: 'true' } },
    );

    expect(error).toMatchObject({ tags: ['HttpError'], code: 401 });
    expect(alerts.map((alert) => alert.attributes['step'])).toEqual(['refresh_tableau']);
  });
});

describe('etl.workflows.yaml: ML stage', () => {
  test('on by default: posts {runId} to LOADER_URL/v1/analyze after the load', async () => {
    const { result } = await runEtl({ source: SOURCE, run_id: 'run-19' }, { env: { ML_INSIGHTS: 'true' } });

    expect(result).toEqual(succeeded('run-19', SOURCE, { status: 'succeeded', skipped: [], sales: null }));
    expect(stub.requests.map((request) => request.path)).toEqual([EXTRACT, TRANSFORM, LOAD, ANALYZE]);
    expect(stub.bodies(ANALYZE)).toEqual([{ runId: 'run-19' }]);
  });

  test("an event log's sales rows, as the analysis found them, are in the summary", async () => {
    const sales = {
      column: 'event_type',
      values: ['purchase'],
      rows: 2,
      otherRows: 5,
      evidence: 'only purchases',
    };
    stub.answer(ANALYZE, {
      status: 200,
      body: { runId: 'run-22', status: 'partial', skipped: [], roles: { dimensions: [], notes: [], sales } },
    });

    const { result } = await runEtl({ source: SOURCE, run_id: 'run-22' }, { env: { ML_INSIGHTS: 'true' } });

    expect(result).toEqual(succeeded('run-22', SOURCE, { status: 'partial', skipped: [], sales }));
  });

  test('an analysis that fails on the data (4xx) is reported, the run succeeds: the rows are loaded', async () => {
    stub.answer(ANALYZE, errorAnswer(409, 'CONFLICT', 'a later run replaced these rows'));

    const { result, error, alerts } = await runEtl(
      { source: SOURCE, run_id: 'run-20' },
      { env: { ML_INSIGHTS: 'true' } },
    );

    expect(error).toBeUndefined();
    expect(result).toEqual(
      succeeded('run-20', SOURCE, {
        status: 'failed',
        code: 409,
        reason: 'a later run replaced these rows',
      }),
    );
    expect(alerts).toEqual([]);
  });

  test('an analysis that stays unavailable (503 after the retries) fails the run and alerts on "analyze"', async () => {
    for (let i = 0; i < 6; i++)
      stub.answer(ANALYZE, errorAnswer(503, 'UNAVAILABLE', 'warehouse unreachable'));

    const { error, alerts } = await runEtl(
      { source: SOURCE, run_id: 'run-21' },
      { env: { ML_INSIGHTS: 'true' } },
    );

    expect(error).toMatchObject({ tags: ['HttpError'], code: 503 });
    expect(alerts.map((alert) => alert.attributes['step'])).toEqual(['analyze']);
  });
});
