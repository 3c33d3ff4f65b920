/**
 * Local interpreter of Google Cloud Workflows YAML: load (validate everything up front), then run with
 * real HTTP calls, local connectors and testing aids (URL routes, fake clock, trace).
 */
import { readFile } from 'node:fs/promises';
import type { Workflow } from './ast';
import { RaisedError, WorkflowExecutionError } from './errors';
import { Execution } from './execute';
import { type LoadOptions, loadWorkflow } from './load';
import type { RunOptions } from './options';
import { toPlainValue, toWorkflowValue } from './values';

export type { Workflow } from './ast';
export type { AlertRecord, AlertSink, ConnectorContext, ConnectorHandler } from './connectors/types';
export { ConnectorError } from './connectors/types';
export { WorkflowExecutionError, WorkflowValidationError } from './errors';
export type { AuthRequest, Route, TokenProvider } from './http-call';
export type { Limits } from './limits';
export type { LoadOptions } from './load';
export type { Clock, LogEntry, RunOptions } from './options';
export type { TraceEvent, TraceOption } from './trace';
export { stringifyPlain as stringifyResult } from './values';
export { loadWorkflow };

/**
 * Runs a loaded workflow's `main` with `argument` (plain JSON data; integral numbers are ints).
 * Resolves with main's return value as plain data (ints as numbers, or bigint beyond 2^53).
 * Rejects with `WorkflowExecutionError` whose `.error` is the uncaught Workflows error map.
 */
export async function runWorkflow(
  workflow: Workflow,
  argument?: unknown,
  options: RunOptions = {},
): Promise<unknown> {
  const execution = new Execution(workflow, options);
  try {
    return toPlainValue(await execution.run(toWorkflowValue(argument)));
  } catch (error) {
    if (error instanceof RaisedError) throw new WorkflowExecutionError(error.toPlain());
    throw error;
  }
}

/** Loads and validates a workflow file; throws `WorkflowValidationError` naming the step and line. */
export async function checkWorkflowFile(
  path: string,
  options: Omit<LoadOptions, 'fileName'> = {},
): Promise<Workflow> {
  return loadWorkflow(await readFile(path, 'utf8'), { ...options, fileName: path });
}

/** `checkWorkflowFile` then `runWorkflow`; connectors in `options` are also known at load time. */
export async function runWorkflowFile(
  path: string,
  argument?: unknown,
  options: RunOptions = {},
): Promise<unknown> {
  const workflow = await checkWorkflowFile(path, {
    connectors: Object.keys(options.connectors ?? {}),
    limits: options.limits,
  });
  return runWorkflow(workflow, argument, options);
}
