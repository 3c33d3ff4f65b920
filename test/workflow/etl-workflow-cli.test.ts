/**
 * `etl workflow run|check` as a user runs them: the real CLI in a child process, the product's workflow
 * routed from a public-looking URL to stub services in this process. Each invocation costs about 1 s,
 * so each test makes the most of one.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TraceEvent } from '@etl/workflow-runner';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { etl, REPO_ROOT } from '../e2e/cli';
import {
  EXTRACT,
  errorAnswer,
  LOAD,
  REFRESH,
  type StubServices,
  startStubServices,
  TRANSFORM,
  tableCounts,
} from './stub-services';

const WORKFLOW = path.join(REPO_ROOT, 'workflows/etl.workflows.yaml');
/** Modelled on GoogleCloudPlatform/workflows-samples src/error_catch.workflows.yaml. */
const ERROR_CATCH_SAMPLE = path.join(
  REPO_ROOT,
  'packages/workflow-runner/test-fixtures/samples/error_catch.workflows.yaml',
);
const API = 'https://api.example.com';

let stub: StubServices;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-workflow-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  stub = await startStubServices();
});
afterEach(async () => {
  await stub.close();
});

/** `etl workflow run FILE` with the three stage URLs on one public host routed to the stub. */
function runEtlWorkflow(argument: unknown, extra: string[] = []) {
  return etl([
    'workflow',
    'run',
    WORKFLOW,
    '--args',
    JSON.stringify(argument),
    '--env',
    `EXTRACTOR_URL=${API}`,
    '--env',
    `TRANSFORMER_URL=${API}`,
    '--env',
    `LOADER_URL=${API}`,
    '--route',
    `${API}=${stub.url}`,
    '--fast-retries',
    ...extra,
  ]);
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

describe('etl workflow run', () => {
  test('prints the summary as JSON on stdout and exits 0; --trace writes one end line per step with timing and outcome', async () => {
    stub.answer(TRANSFORM, errorAnswer(503, 'UPSTREAM_UNAVAILABLE', 'warming up'));
    const traceFile = path.join(dir, 'trace.jsonl');

    const result = await runEtlWorkflow({ source: 'kaggle:acme/sales', run_id: 'cli-1' }, [
      '--trace',
      traceFile,
    ]);

    expect(result.code, result.stderr).toBe(0);
    const sales = tableCounts('cli-1', 'sales', 1000);
    expect(JSON.parse(result.stdout)).toEqual({
      runId: 'cli-1',
      status: 'succeeded',
      source: 'kaggle:acme/sales',
      datasetVersion: '7',
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
      skippedFiles: [{ name: 'README.md', reason: 'documentation' }],
      analysis: { status: 'succeeded', skipped: [], sales: null },
    });
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    // The 503 was retried after 2 ms (2 s / 1000 with --fast-retries).
    expect([stub.calls(EXTRACT), stub.calls(TRANSFORM), stub.calls(LOAD), stub.calls(REFRESH)]).toEqual([
      1, 2, 1, 0,
    ]);

    const events = (await readFile(traceFile, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as TraceEvent);
    const ends = events.filter((event) => event.phase === 'end');
    const stage = ['post', 'answer'].map((step) => `call_stage/${step}`);
    expect(ends.map((event) => `${event.workflow}/${event.step}`)).toEqual([
      'main/read_argument',
      'main/unwrap_pubsub_message',
      'main/init',
      'main/source_from_storage_event',
      'main/extract',
      'main/extract_sample_options',
      ...stage,
      'main/call_extract',
      'main/check_version',
      'main/skip_unchanged',
      'main/transform',
      // One per transformer option the workflow forwards: table, maxRejectRate, profile.
      'main/copy_option',
      'main/copy_option',
      'main/copy_option',
      'main/copy_option',
      'main/copy_option',
      'main/transform_options',
      ...stage,
      'main/call_transform',
      'main/load',
      ...stage,
      'main/call_load',
      'main/mark_analyze',
      ...stage,
      'main/call_analyze',
      'main/analysis_done',
      'main/analyze',
      'main/refresh_tableau',
      'main/pipeline',
      'summarize_tables/init',
      'summarize_tables/find_loaded',
      'summarize_tables/match',
      'summarize_tables/each_load',
      'summarize_tables/append',
      'summarize_tables/each_table',
      'summarize_tables/answer',
      'main/summarize',
      'main/done',
      'main/tables_not_in_version',
      'main/answer',
    ]);
    for (const event of ends) {
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(event.start))).toBe(false);
      expect(event.outcome).toBe(event.step === 'answer' ? 'return' : 'ok');
    }
    // Every end line closes a start line of the same step.
    expect(events.filter((event) => event.phase === 'start')).toHaveLength(ends.length);
  });

  test('an uncaught error prints the error map as JSON on stderr and exits 1', async () => {
    stub.answer(EXTRACT, errorAnswer(400, 'INVALID_REQUEST', 'unknown source scheme'));

    const result = await runEtlWorkflow({ source: 'ftp://nowhere', run_id: 'cli-2' });

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const error = JSON.parse(lastLine(result.stderr));
    expect(error).toMatchObject({
      tags: ['HttpError'],
      code: 400,
      message: 'HTTP server responded with error code 400',
      body: { error: { code: 'INVALID_REQUEST', message: 'unknown source scheme', retryable: false } },
    });
    expect([stub.calls(EXTRACT), stub.calls(TRANSFORM), stub.calls(LOAD)]).toEqual([1, 0, 0]);
    // Without a Pub/Sub emulator or sink, the alert is logged to stderr before the error map.
    expect(result.stderr).toContain('"pubsubPublish"');
    expect(result.stderr).toContain('projects/local/topics/etl-alerts');
  });

  test('a Google sample routed to a local stub returns its documented answer', async () => {
    // error_catch maps a 404 from https://example.com/someapi to "Sorry, URL wasn't found".
    const result = await etl([
      'workflow',
      'run',
      ERROR_CATCH_SAMPLE,
      '--route',
      `https://example.com=${stub.url}`,
    ]);

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toBe("Sorry, URL wasn't found");
    expect(stub.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /someapi']);
  });
});

describe('etl workflow check', () => {
  test('accepts etl.workflows.yaml; rejects a broken copy naming the file, line and step', async () => {
    const valid = await etl(['workflow', 'check', WORKFLOW]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stderr).toBe(`${WORKFLOW}: valid\n`);

    // A typo in a call target: a deployment error on Cloud Workflows, caught before anything runs.
    const source = await readFile(WORKFLOW, 'utf8');
    const lines = source.split('\n');
    const stepLine = lines.findIndex((line) => line.trim() === '- call_transform:') + 1;
    expect(lines[stepLine]).toContain('call: call_stage');
    lines[stepLine] = lines[stepLine]!.replace('call_stage', 'call_stag');
    const broken = path.join(dir, 'broken.workflows.yaml');
    await writeFile(broken, lines.join('\n'));

    const invalid = await etl(['workflow', 'check', broken]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(
      `${broken}:line ${stepLine}: step 'call_transform': unknown call target 'call_stag'`,
    );
  });
});
