import { toPlainValue, type WfMap, type WfValue } from './values';

/** The error tags documented for Cloud Workflows (reference/syntax/error-types). */
export type ErrorTag =
  | 'AuthError'
  | 'ConnectionError'
  | 'ConnectionFailedError'
  | 'HttpError'
  | 'IndexError'
  | 'KeyError'
  | 'OperationError'
  | 'ParallelNestingError'
  | 'RecursionError'
  | 'ResourceLimitError'
  | 'ResponseTypeError'
  | 'SystemError'
  | 'TimeoutError'
  | 'TypeError'
  | 'UnhandledBranchError'
  | 'ValueError'
  | 'ZeroDivisionError';

/** Thrown by `loadWorkflow` when the YAML is invalid or uses an unsupported construct. */
export class WorkflowValidationError extends Error {
  override readonly name = 'WorkflowValidationError';
  constructor(
    readonly reason: string,
    /** Name of the offending step, when the problem is inside one. */
    readonly step: string | undefined,
    /** 1-based YAML line of the offending node. */
    readonly line: number | undefined,
    readonly fileName?: string,
  ) {
    const where = [fileName, line === undefined ? undefined : `line ${line}`].filter(Boolean).join(':');
    super(`${where ? `${where}: ` : ''}${step ? `step '${step}': ` : ''}${reason}`);
  }
}

/** Rejection of `runWorkflow`: the execution failed with an uncaught Workflows error. */
export class WorkflowExecutionError extends Error {
  override readonly name = 'WorkflowExecutionError';
  constructor(
    /** The uncaught error as plain JSON data (usually a map with `message` and `tags`). */
    readonly error: unknown,
  ) {
    super(`workflow execution failed: ${describeError(error)}`);
  }
}

function describeError(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && 'message' in error) {
    const tags = 'tags' in error && Array.isArray(error.tags) ? `${error.tags.join(',')}: ` : '';
    return `${tags}${String(error.message)}`;
  }
  return JSON.stringify(error, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Internal carrier of a raised Workflows value (a map for built-in errors, anything for `raise`). */
export class RaisedError extends Error {
  constructor(readonly value: WfValue) {
    super(typeof value === 'string' ? value : 'workflow error');
  }

  toPlain(): unknown {
    return toPlainValue(this.value);
  }
}

/** Builds a documented error map `{message, tags, ...extra}`. */
export function makeErrorMap(tag: ErrorTag, message: string, extra: Record<string, WfValue> = {}): WfMap {
  return new Map<string, WfValue>([['message', message], ['tags', [tag]], ...Object.entries(extra)]);
}

export function raise(tag: ErrorTag, message: string, extra?: Record<string, WfValue>): never {
  throw new RaisedError(makeErrorMap(tag, message, extra));
}

/** Tags of a raised value; a raised string or a map without tags has none. */
export function errorTags(value: WfValue): string[] {
  if (!(value instanceof Map)) return [];
  const tags = value.get('tags');
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
}
