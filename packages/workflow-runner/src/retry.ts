import { raise } from './errors';
import { FunctionRef, isNumber, typeName, type WfValue } from './values';

/** A resolved `retry:` policy (wf:reference/syntax/retrying). */
export interface RetryPolicy {
  predicate: FunctionRef;
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelay: number;
  maxDelay: number;
  multiplier: number;
}

function numberField(map: Map<string, WfValue>, key: string, fallback: number): number {
  const value = map.get(key);
  if (value === undefined || value === null) return fallback;
  if (!isNumber(value) || Number(value) < 0) raise('TypeError', `retry ${key} must be a non-negative number`);
  return Number(value);
}

/** Validates an evaluated `retry` value: `${http.default_retry}` or `{predicate, max_retries, backoff}`. */
export function resolveRetryPolicy(value: WfValue): RetryPolicy {
  if (!(value instanceof Map))
    return raise('TypeError', `retry policy must be a map, got '${typeName(value)}'`);
  const predicate = value.get('predicate');
  if (!(predicate instanceof FunctionRef)) {
    return raise(
      'TypeError',
      `retry predicate must be a function or subworkflow, got '${typeName(predicate ?? null)}'`,
    );
  }
  const maxRetries = value.get('max_retries');
  if (typeof maxRetries !== 'bigint' || maxRetries < 0n)
    raise('TypeError', `retry max_retries must be a non-negative integer`);
  const backoff = value.get('backoff') ?? new Map<string, WfValue>();
  if (!(backoff instanceof Map)) return raise('TypeError', `retry backoff must be a map`);
  // Defaults follow retry.default_backoff (1 s, 60 s, x1.25).
  return {
    predicate,
    maxRetries: Number(maxRetries),
    initialDelay: numberField(backoff, 'initial_delay', 1),
    maxDelay: numberField(backoff, 'max_delay', 60),
    multiplier: numberField(backoff, 'multiplier', 1.25),
  };
}

/** Delay before retry `n` (1-based): min(initial_delay * multiplier^(n-1), max_delay) seconds. */
export function backoffDelaySeconds(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.initialDelay * policy.multiplier ** (retry - 1), policy.maxDelay);
}
