import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A step boundary, as reported to `trace`: `start` when a step is entered, `end` when it finishes
 * (then with `durationMs` and `outcome`).
 */
export interface TraceEvent {
  phase: 'start' | 'end';
  /** Step name. */
  step: string;
  /** Subworkflow the step belongs to. */
  workflow: string;
  /** RFC 3339 start time (runner clock). */
  start: string;
  durationMs?: number;
  /** `ok` (fell through), `next` (jumped), `return`, `end`, `break`, `continue` or `error`. */
  outcome?: 'ok' | 'next' | 'return' | 'end' | 'break' | 'continue' | 'error';
  /** Jump target when outcome is `next`. */
  next?: string;
  /** First tag of the error (or `raise` when it has none) when outcome is `error`. */
  error?: string;
}

/** A callback, a JSON-lines file path, or both. */
export type TraceOption =
  | ((event: TraceEvent) => void)
  | string
  | { file?: string; onStep?: (event: TraceEvent) => void };

export function createTracer(option: TraceOption | undefined): ((event: TraceEvent) => void) | undefined {
  if (option === undefined) return undefined;
  const file = typeof option === 'string' ? option : typeof option === 'object' ? option.file : undefined;
  const onStep =
    typeof option === 'function' ? option : typeof option === 'object' ? option.onStep : undefined;
  if (file) mkdirSync(dirname(file), { recursive: true });
  return (event) => {
    // Synchronous append keeps lines in step order even with parallel branches.
    if (file) appendFileSync(file, `${JSON.stringify(event)}\n`);
    onStep?.(event);
  };
}
