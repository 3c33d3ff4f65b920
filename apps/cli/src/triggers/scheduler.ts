/**
 * Runs a job on a cron schedule, one run at a time: the next fire time is computed when a run ends, so
 * runs never overlap, and fire times that passed while a run was in progress are skipped (and counted),
 * not queued up. The clock is injectable, so tests drive it without waiting.
 */
import { type CronSchedule, type CronTimeZone, nextFireTime } from './cron';

export interface SchedulerClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realSchedulerClock: SchedulerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      // setTimeout takes at most 2^31-1 ms; a longer wait is slept in pieces by the loop.
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    }),
};

export type ScheduleEvent =
  | { type: 'waiting'; next: Date }
  | { type: 'run-start'; firedAt: Date; run: number }
  | { type: 'run-end'; firedAt: Date; run: number; durationMs: number; outcome: unknown }
  | { type: 'run-error'; firedAt: Date; run: number; durationMs: number; error: unknown }
  | { type: 'missed'; count: number; until: Date };

export interface RunScheduleOptions<T> {
  schedule: CronSchedule;
  job: (firedAt: Date) => Promise<T>;
  zone?: CronTimeZone;
  clock?: SchedulerClock;
  signal?: AbortSignal;
  /** Run once at start, before the first fire time. */
  runNow?: boolean;
  /** Stop after this many runs (default: until aborted). */
  maxRuns?: number;
  onEvent?: (event: ScheduleEvent) => void;
}

/** Resolves with the number of runs when `signal` aborts or `maxRuns` is reached. A failing job is reported, not fatal. */
export async function runSchedule<T>(options: RunScheduleOptions<T>): Promise<number> {
  const clock = options.clock ?? realSchedulerClock;
  const signal = options.signal ?? new AbortController().signal;
  const zone = options.zone ?? 'local';
  const emit = options.onEvent ?? (() => {});
  const maxRuns = options.maxRuns ?? Number.POSITIVE_INFINITY;
  let runs = 0;

  const fire = async (firedAt: Date) => {
    runs++;
    emit({ type: 'run-start', firedAt, run: runs });
    const started = clock.now();
    try {
      const outcome = await options.job(firedAt);
      emit({ type: 'run-end', firedAt, run: runs, durationMs: clock.now() - started, outcome });
    } catch (error) {
      emit({ type: 'run-error', firedAt, run: runs, durationMs: clock.now() - started, error });
    }
  };

  if (options.runNow && !signal.aborted) await fire(new Date(clock.now()));
  let next = nextFireTime(options.schedule, new Date(clock.now()), zone);
  while (!signal.aborted && runs < maxRuns) {
    emit({ type: 'waiting', next });
    while (!signal.aborted && clock.now() < next.getTime()) {
      await clock.sleep(next.getTime() - clock.now(), signal);
    }
    if (signal.aborted) break;
    await fire(next);
    // Fire times that passed during the run are skipped: the next one is after "now", not after `next`.
    const after = nextFireTime(options.schedule, next, zone);
    const upcoming = nextFireTime(options.schedule, new Date(clock.now()), zone);
    if (upcoming.getTime() > after.getTime()) {
      let count = 0;
      for (let t = after; t.getTime() < upcoming.getTime(); t = nextFireTime(options.schedule, t, zone))
        count++;
      emit({ type: 'missed', count, until: upcoming });
    }
    next = upcoming;
  }
  return runs;
}
