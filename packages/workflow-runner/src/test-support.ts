/** Helpers shared by the test files (not exported from the package). */
import { WorkflowExecutionError } from './errors';
import { runWorkflow } from './index';
import { loadWorkflow } from './load';
import type { Clock, LogEntry, RunOptions } from './options';

export function runYaml(source: string, argument?: unknown, options: RunOptions = {}): Promise<unknown> {
  const workflow = loadWorkflow(source, {
    connectors: Object.keys(options.connectors ?? {}),
    limits: options.limits,
  });
  return runWorkflow(workflow, argument, { log: () => {}, ...options });
}

/** Runs and returns the error map the execution failed with (fails the test if it succeeded). */
/** A failed execution's error map: free-form JSON, asserted field by field in tests. */
// biome-ignore lint/suspicious/noExplicitAny: see above.
type ErrorMap = any;

export async function runYamlError(
  source: string,
  argument?: unknown,
  options: RunOptions = {},
): Promise<ErrorMap> {
  try {
    const result = await runYaml(source, argument, options);
    throw new Error(`expected the workflow to fail, it returned ${JSON.stringify(result)}`);
  } catch (error) {
    if (error instanceof WorkflowExecutionError) return error.error;
    throw error;
  }
}

/** Evaluates one expression through a real workflow: `${source}`. */
export function evaluateExpression(source: string, argument?: unknown): Promise<unknown> {
  const yaml = `main:\n  params: [args]\n  steps:\n    - answer:\n        return: ${JSON.stringify(`\${${source}}`)}\n`;
  return runYaml(yaml, argument ?? null);
}

export function expressionError(source: string, argument?: unknown): Promise<ErrorMap> {
  const yaml = `main:\n  params: [args]\n  steps:\n    - answer:\n        return: ${JSON.stringify(`\${${source}}`)}\n`;
  return runYamlError(yaml, argument ?? null);
}

/** A manual clock: `sleep` advances time instantly and records each requested delay. */
export function createFakeClock(start = Date.UTC(2024, 0, 1)): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

export function collectLogs(): { entries: LogEntry[]; log: (entry: LogEntry) => void } {
  const entries: LogEntry[] = [];
  return { entries, log: (entry) => entries.push(entry) };
}
