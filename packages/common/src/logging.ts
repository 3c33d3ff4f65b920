/**
 * Logs are Cloud Logging structured JSON: `severity` instead of pino's numeric level, `message` as the
 * message key, so Cloud Run's agent parses them as-is. Locally they are the same lines on stdout.
 */
import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Keys whose values are never written, wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.token',
  '*.apiKey',
  '*.password',
  '*.secret',
];

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
}

export function createLogger({ name, level = 'info', destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name,
    level,
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { service: name },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: {
      level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing: for tests and library callers that do not want output. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The Cloud Logging trace field from an `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` header, so
 * log lines of one request group together in the console.
 */
export function traceFields(
  header: string | undefined,
  projectId: string | undefined,
): Record<string, string> {
  if (!header) return {};
  const traceId = header.split('/')[0];
  if (!traceId || !/^[0-9a-f]{1,64}$/i.test(traceId)) return {};
  const trace = projectId ? `projects/${projectId}/traces/${traceId}` : traceId;
  return { 'logging.googleapis.com/trace': trace };
}
