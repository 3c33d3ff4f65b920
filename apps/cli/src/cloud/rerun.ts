/**
 * `etl cloud rerun`: the argument of a new execution that re-runs an earlier one. The stages are
 * idempotent per run id, so re-running = a new execution with the same `run_id`: the stages that
 * finished answer from their manifests, the failed one and those after it do the work.
 *
 * The earlier execution's argument may have any of the three shapes the workflow accepts (console or
 * Scheduler JSON, Eventarc GCS event, Eventarc Pub/Sub message); the re-run always gets the console
 * shape, with the run id made explicit (the workflow defaults it to the execution id, which the new
 * execution does not share).
 */
import { InvalidRequestError } from '@etl/common/errors';
import type { ResumableStage } from '../run-state';
import type { RunArgument } from './executions';

export interface RerunArgument extends RunArgument {
  run_id: string;
  resume_from?: ResumableStage;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The console-shaped request inside an execution argument: a Pub/Sub message is decoded, a GCS event
 * becomes its gs:// source, a console argument is taken as it is.
 */
export function runRequestOf(argument: unknown): Json {
  if (argument === null || argument === undefined) return {};
  if (!isObject(argument)) {
    throw new InvalidRequestError(
      `expected the execution's argument to be a JSON object, found ${JSON.stringify(argument)}`,
    );
  }
  const data = argument.data;
  if (isObject(data) && isObject(data.message)) {
    const encoded = data.message.data;
    if (typeof encoded !== 'string') {
      throw new InvalidRequestError('expected a Pub/Sub message with base64 data in the execution argument');
    }
    const decoded: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    if (!isObject(decoded)) {
      throw new InvalidRequestError(
        `expected the Pub/Sub message to hold a JSON object, found ${JSON.stringify(decoded)}`,
      );
    }
    return decoded;
  }
  if (isObject(data) && typeof data.bucket === 'string' && typeof data.name === 'string') {
    return { source: `gs://${data.bucket}/${data.name}` };
  }
  return argument;
}

/** The argument that re-runs `executionId` (whose argument was `argument`), optionally redoing from a stage. */
export function rerunArgument(argument: unknown, executionId: string, from?: ResumableStage): RerunArgument {
  const request = runRequestOf(argument);
  const runId =
    request.run_id === undefined || request.run_id === null ? executionId : String(request.run_id);
  const rerun: RerunArgument = { run_id: runId };
  if (typeof request.source === 'string') rerun.source = request.source;
  if (typeof request.force === 'boolean') rerun.force = request.force;
  if (isObject(request.options)) rerun.options = request.options;
  if (from) rerun.resume_from = from;
  return rerun;
}
