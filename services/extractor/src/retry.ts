/** Waiting between tries: Retry-After when the server names a time, capped exponential backoff otherwise. */

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date); undefined if absent or bad. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; this keeps Date.parse from reading "-5" as a year.
  const date = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** 1st retry waits `baseMs`, then doubling, never more than `maxMs`. */
export function backoffDelay(retry: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
}

/** A try that may succeed if repeated; `waitMs` is what the server asked for, if it said. */
export class TransientFailure extends Error {
  constructor(
    readonly kind: 'rate-limited' | 'unavailable',
    message: string,
    readonly waitMs?: number,
  ) {
    super(message);
    this.name = 'TransientFailure';
  }
}
