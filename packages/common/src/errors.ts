/**
 * Typed errors. Every error the pipeline raises on purpose is a PipelineError: a stable `code`, the HTTP
 * status that tells Workflows what to do (4xx terminal, 429/503 retried), and whether a retry can help.
 */
import { statfs } from 'node:fs/promises';

export interface PipelineErrorOptions {
  cause?: unknown;
  details?: unknown;
  runId?: string;
  objectKey?: string;
}

export class PipelineError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;
  readonly runId: string | undefined;
  readonly objectKey: string | undefined;

  constructor(
    code: string,
    status: number,
    retryable: boolean,
    message: string,
    options: PipelineErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.details = options.details;
    this.runId = options.runId;
    this.objectKey = options.objectKey;
  }
}

/** 400: the request itself is wrong; retrying the same request cannot help. */
export class InvalidRequestError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'INVALID_REQUEST') {
    super(code, 400, false, message, options);
  }
}

/** 404: an input the request names does not exist. */
export class NotFoundError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'NOT_FOUND') {
    super(code, 404, false, message, options);
  }
}

/** 409: another run holds the resource, or the request conflicts with what is stored. */
export class ConflictError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'CONFLICT') {
    super(code, 409, false, message, options);
  }
}

/** 413: the input is larger than a configured limit. */
export class PayloadTooLargeError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'PAYLOAD_TOO_LARGE') {
    super(code, 413, false, message, options);
  }
}

/** 422: the data was read but rejected (unreadable file, failed quality gate). */
export class DataRejectedError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'DATA_REJECTED') {
    super(code, 422, false, message, options);
  }
}

/** 429: an upstream asked us to slow down. */
export class RateLimitedError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'RATE_LIMITED') {
    super(code, 429, true, message, options);
  }
}

/** 503: a dependency is unavailable for now; the caller should retry with backoff. */
export class UpstreamUnavailableError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'UPSTREAM_UNAVAILABLE') {
    super(code, 503, true, message, options);
  }
}

/**
 * 424: a dependency refused us in a way retrying cannot fix (rejected credentials, an unexpected reply).
 * Not 502: Workflows' default retry predicate retries 502, and this must stay final.
 */
export class UpstreamError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'UPSTREAM_ERROR') {
    super(code, 424, false, message, options);
  }
}

/**
 * 413: a warehouse query would bill more bytes than the configured cap (BigQuery `maximumBytesBilled`).
 * BigQuery refuses it before running it (nothing is billed); the same query fails the same way.
 */
export class QueryBytesLimitError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'QUERY_BYTES_LIMIT') {
    super(code, 413, false, message, options);
  }
}

/**
 * 504: a warehouse query ran past the configured timeout (BigQuery `jobTimeoutMs`) and was cancelled.
 * Retryable: a busy warehouse may answer in time later.
 */
export class QueryTimeoutError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'QUERY_TIMEOUT') {
    super(code, 504, true, message, options);
  }
}

/**
 * 507: a disk this service writes to is full (ENOSPC, a quota, a file-size limit). Final for the caller:
 * the same request fails the same way until someone frees space or grows the disk (docs/runbook.md).
 */
export class InsufficientStorageError extends PipelineError {
  constructor(message: string, options?: PipelineErrorOptions, code = 'INSUFFICIENT_STORAGE') {
    super(code, 507, false, message, options);
  }
}

/** Connection-level failures a new attempt may not meet: the peer reset, refused, timed out, or was not found. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** A dropped, refused or timed-out connection (by its errno code or the words Node and gaxios use). */
export function isTransientNetworkError(error: unknown): boolean {
  const code = errorCode(error);
  return (
    (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) ||
    /socket hang up|connection closure|ECONNRESET|ETIMEDOUT|ECONNREFUSED|premature close|other side closed/i.test(
      errorMessage(error),
    )
  );
}

/** DuckDB's answer when a query needs more than its memory_limit plus what it may spill. */
const OUT_OF_MEMORY = /Out of Memory Error|could not allocate|max_temp_directory_size/i;

export const isOutOfMemory = (error: unknown): boolean => OUT_OF_MEMORY.test(errorMessage(error));

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A write refused because the disk (or a quota, or the file-size limit) is full: by errno code or message. */
export function isDiskFullError(error: unknown): boolean {
  const code = errorCode(error);
  return (
    (typeof code === 'string' && DISK_FULL_CODES.has(code)) ||
    /No space left on device|Disk quota exceeded|File too large/i.test(errorMessage(error))
  );
}

/** The file a disk-full error names: Node's `path`, or DuckDB's `Could not write file "X"`. */
export function diskFullPath(error: unknown): string | undefined {
  const nodePath = (error as { path?: unknown } | null)?.path;
  if (typeof nodePath === 'string') return nodePath;
  return /file "([^"]+)"/.exec(errorMessage(error))?.[1];
}

export interface DiskFullContext {
  /** What was being written, e.g. `object runs/r1/raw/sales.csv`; defaults to the path. */
  what?: string;
  /** The path written when the error does not name it. */
  path?: string;
  /** Bytes the write needed in all, when known. */
  neededBytes?: number;
  /** Bytes written before the disk filled (a stream of unknown length needs more than this). */
  writtenBytes?: number;
  /** Bytes free on that filesystem, when known. */
  freeBytes?: number;
}

/** Bytes free to an unprivileged writer on the filesystem of `dir`; undefined when it cannot be read. */
export function freeBytesAt(dir: string): Promise<number | undefined> {
  return statfs(dir).then(
    (info) => info.bavail * info.bsize,
    () => undefined,
  );
}

/** 507 naming the path and, when known, the space needed and free. */
export function diskFullError(error: unknown, context: DiskFullContext = {}): InsufficientStorageError {
  const file = context.path ?? diskFullPath(error) ?? 'an unnamed file';
  const figures = [
    context.neededBytes === undefined ? undefined : `it needs ${context.neededBytes} bytes`,
    context.writtenBytes === undefined
      ? undefined
      : `it needs more than the ${context.writtenBytes} bytes written before the disk filled`,
    context.freeBytes === undefined ? undefined : `${context.freeBytes} bytes are free there`,
  ].filter((part) => part !== undefined);
  return new InsufficientStorageError(
    `no space left on the disk writing ${context.what ? `${context.what} at ` : ''}${file}${figures.length ? ` (${figures.join('; ')})` : ''}: ${errorMessage(error)}; free space or grow the disk (docs/runbook.md, "Disk full"), then retry the run`,
    { cause: error, details: { path: file, ...context } },
  );
}

export interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; details?: unknown };
}

export function isPipelineError(value: unknown): value is PipelineError {
  return value instanceof PipelineError;
}

/**
 * The one error shape every service answers with. A full disk anywhere is a 507 naming the path; any other
 * unknown error becomes a bare 500: no stack, no internals.
 */
export function toErrorBody(rawError: unknown): { status: number; body: ErrorBody } {
  const error = !isPipelineError(rawError) && isDiskFullError(rawError) ? diskFullError(rawError) : rawError;
  if (isPipelineError(error)) {
    const body: ErrorBody = {
      error: { code: error.code, message: error.message, retryable: error.retryable },
    };
    if (error.details !== undefined) body.error.details = error.details;
    return { status: error.status, body };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'internal error', retryable: false } },
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
