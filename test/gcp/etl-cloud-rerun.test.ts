/**
 * `etl cloud rerun EXECUTION [--from STAGE]` as a user runs it: the real CLI in a child process, the fake
 * Workflow Executions API (test/fakes/workflows) running the product's workflow YAML against stub
 * services, and for --from the fake Cloud Storage (test/fakes/gcs) holding the run's manifests.
 */
import path from 'node:path';
import { manifestKey } from '@etl/common/storage';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { etl, parseJsonStdout, REPO_ROOT } from '../e2e/cli';
import { type FakeGcs, startFakeGcs } from '../fakes/gcs';
import { type FakeWorkflows, startFakeWorkflows } from '../fakes/workflows';
import {
  EXTRACT,
  errorAnswer,
  type StubServices,
  startStubServices,
  TRANSFORM,
} from '../workflow/stub-services';

interface View {
  id: string;
  state: string;
  argument: Record<string, unknown>;
  result: { runId: string; status: string } | null;
}

const BUCKET = 'acme-run-data';
let stub: StubServices;
let fake: FakeWorkflows;
let gcs: FakeGcs;
let env: Record<string, string>;

beforeAll(async () => {
  stub = await startStubServices();
  gcs = await startFakeGcs({ buckets: [BUCKET] });
  fake = await startFakeWorkflows({
    workflowFile: path.join(REPO_ROOT, 'workflows/etl.workflows.yaml'),
    projectId: 'acme-etl',
    location: 'europe-west1',
    workflowId: 'etl',
    runOptions: {
      env: { EXTRACTOR_URL: stub.url, TRANSFORMER_URL: stub.url, LOADER_URL: stub.url, ML_INSIGHTS: 'false' },
      alertSink: () => {},
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
  await gcs?.close();
  await stub?.close();
});

const cloud = (args: string[], extra: Record<string, string> = {}) =>
  etl(['cloud', ...args], { ...env, ...extra });

describe('etl cloud rerun', () => {
  test('re-runs a failed execution with the same run id, source and options; refuses a succeeded one without --from', async () => {
    stub.answer(TRANSFORM, errorAnswer(422, 'QUALITY_GATE_FAILED', 'too many rejects'));
    // No --run-id: the workflow took the execution id as the run id; the re-run must keep it.
    const failed = await cloud([
      'run',
      '--wait',
      '--json',
      '--source',
      'kaggle:acme/sales',
      '--max-reject-rate',
      '0.2',
    ]);
    expect(failed.code).toBe(1);
    const first = parseJsonStdout<View>(failed);
    expect(first.state).toBe('FAILED');

    const rerun = await cloud(['rerun', first.id, '--wait', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const second = parseJsonStdout<View>(rerun);
    expect(second.id).not.toBe(first.id);
    expect(second.argument).toEqual({
      run_id: first.id,
      source: 'kaggle:acme/sales',
      force: false,
      options: { maxRejectRate: 0.2 },
    });
    expect(second.result).toMatchObject({ runId: first.id, status: 'succeeded' });
    expect(stub.bodies(EXTRACT).at(-1)).toMatchObject({ runId: first.id, source: 'kaggle:acme/sales' });
    expect(stub.bodies(TRANSFORM).at(-1)).toMatchObject({ runId: first.id, maxRejectRate: 0.2 });
    expect(rerun.stderr).toContain(`re-running execution ${first.id} (FAILED) as run ${first.id}`);

    const again = await cloud(['rerun', second.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/succeeded: nothing to re-run; --from STAGE redoes/);
  }, 30_000);

  test('--from transform removes exactly the manifests of transform and later stages, then passes resume_from', async () => {
    const started = await cloud([
      'run',
      '--wait',
      '--json',
      '--run-id',
      'r-from',
      '--source',
      'kaggle:acme/sales',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const first = parseJsonStdout<View>(started);
    const store = new GcsBlobStore({ bucket: BUCKET, projectId: 'acme-etl', apiEndpoint: gcs.url });
    for (const stage of ['extract', 'transform', 'load', 'analyze'] as const) {
      await store.put(manifestKey('r-from', stage), '{}');
    }

    const [withoutBucket, rerun] = await Promise.all([
      cloud(['rerun', first.id, '--from', 'transform']),
      cloud(['rerun', first.id, '--from', 'transform', '--wait', '--json'], {
        ETL_BUCKET: BUCKET,
        GCS_API_ENDPOINT: gcs.url,
      }),
    ]);
    expect(withoutBucket.code).toBe(2);
    expect(withoutBucket.stderr).toMatch(/set ETL_BUCKET/);

    expect(rerun.code, rerun.stderr).toBe(0);
    expect(parseJsonStdout<View>(rerun).argument).toEqual({
      run_id: 'r-from',
      source: 'kaggle:acme/sales',
      force: false,
      options: {},
      resume_from: 'transform',
    });
    expect([...gcs.objects.keys()].sort()).toEqual([`${BUCKET}/runs/r-from/manifest/extract.json`]);
    expect(rerun.stderr).toContain(`gs://${BUCKET}/runs/r-from/manifest/transform.json`);
  }, 30_000);
});
