import type { AlertSink, ConnectorHandler } from './connectors/types';
import type { Route, TokenProvider } from './http-call';
import type { Limits } from './limits';
import type { TraceOption } from './trace';
import { stringifyPlain } from './values';

/** Time source and sleeper; inject a fake one to make retry delays and `sys.sleep` deterministic. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A `sys.log` call. */
export interface LogEntry {
  severity: string;
  /** The logged `data`/`text`/`json` value as plain JSON data. */
  payload: unknown;
  /** RFC 3339 time (runner clock). */
  time: string;
}

export interface RunOptions {
  /** Workflow user env vars for `sys.get_env` (keys must not start with GOOGLE_ or WORKFLOWS_). */
  env?: Record<string, string>;
  /** URL prefix rewrites applied before every HTTP call, e.g. a Cloud Run URL to localhost. */
  routes?: Route[];
  /** Step trace: a callback, a JSON-lines file path, or both. */
  trace?: TraceOption;
  /** Shrink retry backoff waits: `true` divides them by 1000, a number divides by that number. */
  fastRetries?: boolean | number;
  /** Clock for `sys.now`, `sys.sleep`, retry backoff and trace times (default: real time). */
  clock?: Clock;
  /** Receives `sys.log` entries (default: one JSON line per entry on stderr). */
  log?: (entry: LogEntry) => void;
  /** Supplies a bearer token for calls with `auth`; without it auth is accepted and ignored. */
  tokenProvider?: TokenProvider;
  /** Extra `googleapis.*` connector handlers, keyed by call name. */
  connectors?: Record<string, ConnectorHandler>;
  /** Local destination of Pub/Sub publishes (default: logged via `log`). */
  alertSink?: AlertSink;
  /** Pub/Sub emulator `host:port`; defaults to `env.PUBSUB_EMULATOR_HOST`. */
  pubsubEmulatorHost?: string;
  /** Values of the GOOGLE_CLOUD_* built-in env vars. */
  executionId?: string;
  projectId?: string;
  location?: string;
  workflowId?: string;
  /** Override documented limits (tests). */
  limits?: Partial<Limits>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function writeLogToStderr(entry: LogEntry): void {
  process.stderr.write(`${stringifyPlain(entry)}\n`);
}
