/**
 * `resume_from` in workflows/etl.workflows.yaml: a re-run of an earlier run id. The stages stay idempotent
 * per run id (the caller removed the manifests of the stages to redo); the workflow checks the argument
 * before calling anything and never skips a resumed run as unchanged.
 */
import path from 'node:path';
import { runWorkflowFile, WorkflowExecutionError } from '@etl/workflow-runner';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  EXTRACT,
  extractResponse,
  LOAD,
  type StubServices,
  startStubServices,
  TRANSFORM,
} from './stub-services';

const WORKFLOW = path.resolve(import.meta.dirname, '../../workflows/etl.workflows.yaml');

let stub: StubServices;
beforeEach(async () => {
  stub = await startStubServices();
});
afterEach(async () => {
  await stub.close();
});

function run(argument: unknown) {
  return runWorkflowFile(WORKFLOW, argument, {
    executionId: 'exec-resume',
    env: { EXTRACTOR_URL: stub.url, TRANSFORMER_URL: stub.url, LOADER_URL: stub.url, ML_INSIGHTS: 'false' },
    alertSink: () => {},
    log: () => {},
  });
}

async function failure(argument: unknown): Promise<unknown> {
  try {
    await run(argument);
  } catch (error) {
    if (error instanceof WorkflowExecutionError) return error.error;
    throw error;
  }
  throw new Error('expected the execution to fail');
}

describe('etl.workflows.yaml: resume_from', () => {
  test('a resumed run of an unchanged dataset is not skipped: resume_from implies force', async () => {
    stub.answer(EXTRACT, {
      status: 200,
      body: extractResponse('r-1', 'kaggle:acme/sales', { changed: false }),
    });
    const result = await run({ source: 'kaggle:acme/sales', run_id: 'r-1', resume_from: 'transform' });
    expect(result).toMatchObject({ runId: 'r-1', status: 'succeeded' });
    expect([stub.calls(EXTRACT), stub.calls(TRANSFORM), stub.calls(LOAD)]).toEqual([1, 1, 1]);
    expect(stub.bodies(TRANSFORM)[0]).toEqual({ runId: 'r-1' });
  });

  test('an unknown stage or a missing run_id fails with 400 before any stage is called', async () => {
    expect(await failure({ run_id: 'r-2', resume_from: 'refresh' })).toEqual({
      code: 400,
      message: 'resume_from must be extract, transform or load, got "refresh"',
    });
    expect(await failure({ source: 'sample', resume_from: 'load' })).toEqual({
      code: 400,
      message: 'resume_from needs the run_id of the run to resume',
    });
    expect(stub.requests).toEqual([]);
  });
});
