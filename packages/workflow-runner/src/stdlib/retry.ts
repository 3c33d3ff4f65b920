import { errorTags } from '../errors';
import { FunctionRef, type WfMap, type WfValue } from '../values';
import type { BuiltinRegistry } from './types';

// Documented retry conditions (wf:reference/stdlib/http/default_retry*); no default policy retries 500.
const IDEMPOTENT_CODES = [429n, 502n, 503n, 504n];
const IDEMPOTENT_TAGS = ['ConnectionError', 'ConnectionFailedError', 'TimeoutError'];
const NON_IDEMPOTENT_CODES = [429n, 503n];
const NON_IDEMPOTENT_TAGS = ['ConnectionFailedError'];

function matches(error: WfValue | undefined, codes: bigint[], tags: string[]): boolean {
  if (!(error instanceof Map)) return false;
  if (errorTags(error).some((tag) => tags.includes(tag))) return true;
  const code = error.get('code');
  return typeof code === 'bigint'
    ? codes.includes(code)
    : typeof code === 'number' && codes.includes(BigInt(code));
}

/** Retry predicates; each takes the error map and returns whether to retry. */
export const retryFunctions: BuiltinRegistry = {
  'retry.always': { params: ['e'], run: () => true },
  'retry.never': { params: ['e'], run: () => false },
  'http.default_retry_predicate': {
    params: ['e'],
    run: ([error]) => matches(error, IDEMPOTENT_CODES, IDEMPOTENT_TAGS),
  },
  'http.default_retry_predicate_non_idempotent': {
    params: ['e'],
    run: ([error]) => matches(error, NON_IDEMPOTENT_CODES, NON_IDEMPOTENT_TAGS),
  },
};

/** `retry.default_backoff`: initial 1 s, max 60 s, multiplier 1.25. */
function defaultBackoff(): WfMap {
  return new Map<string, WfValue>([
    ['initial_delay', 1n],
    ['max_delay', 60n],
    ['multiplier', 1.25],
  ]);
}

function policy(predicate: string): WfMap {
  return new Map<string, WfValue>([
    ['predicate', new FunctionRef(predicate, 'builtin')],
    ['max_retries', 5n],
    ['backoff', defaultBackoff()],
  ]);
}

/** Named built-in values usable in expressions, e.g. `retry: ${http.default_retry}`. */
export const retryValues: Record<string, () => WfValue> = {
  'retry.default_backoff': defaultBackoff,
  'http.default_retry': () => policy('http.default_retry_predicate'),
  'http.default_retry_non_idempotent': () => policy('http.default_retry_predicate_non_idempotent'),
};
