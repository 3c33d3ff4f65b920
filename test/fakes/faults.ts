/**
 * Request faults the fakes share: a fault matches a method and a path (a substring or a RegExp of the path
 * and query string), applies to the next `times` matching requests, or, with a `probability`, to each
 * matching request with that probability (seeded: the same seed fails the same requests), for as long as
 * `times` allows (unlimited by default).
 */
import { createRandom } from '@etl/sample-data';

export interface RequestFaultMatch {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Matched against the path and query string; a string matches as a substring. */
  path?: RegExp | string;
  /** How many matching requests the fault applies to: default 1, unlimited with a `probability`. */
  times?: number;
  /** Each matching request is hit with this probability (0..1) instead of every one. */
  probability?: number;
  /** Seed of the draws behind `probability` (default 1). */
  seed?: number;
}

export type ArmedFault<F> = F & { remaining: number; fires: () => boolean };

export function armFault<F extends RequestFaultMatch>(fault: F): ArmedFault<F> {
  const { probability } = fault;
  const random = probability === undefined ? undefined : createRandom(fault.seed ?? 1);
  return {
    ...fault,
    remaining: fault.times ?? (probability === undefined ? 1 : Number.POSITIVE_INFINITY),
    fires: () => random === undefined || random() < probability!,
  };
}

export function matchesRequest(fault: RequestFaultMatch, method: string, path: string): boolean {
  if (fault.method && fault.method.toUpperCase() !== method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path);
}

/** The first armed fault (in the order added) that matches and fires; it is consumed once. */
export function takeRequestFault<F extends RequestFaultMatch>(
  faults: ArmedFault<F>[],
  method: string,
  path: string,
  accepts: (fault: ArmedFault<F>) => boolean = () => true,
): ArmedFault<F> | undefined {
  for (const fault of faults) {
    if (fault.remaining <= 0 || !accepts(fault) || !matchesRequest(fault, method, path)) continue;
    if (!fault.fires()) continue;
    fault.remaining -= 1;
    return fault;
  }
  return undefined;
}

/**
 * Makes `res` swallow the answer: whatever the handler writes is dropped and the connection destroyed
 * (the request was handled, its response is lost).
 */
export function loseResponse(res: import('node:http').ServerResponse): void {
  res.writeHead = (() => res) as typeof res.writeHead;
  res.setHeader = (() => res) as typeof res.setHeader;
  res.end = (() => {
    res.socket?.destroy();
    return res;
  }) as typeof res.end;
}
