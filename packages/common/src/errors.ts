/**
 * Typed errors. Every error the pipeline raises on purpose is a PipelineError: a stable `code`, the HTTP
 * status that tells Workflows what to do (4xx terminal, 429/503 retried), and whether a retry can help.
 */

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

export interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; details?: unknown };
}

export function isPipelineError(value: unknown): value is PipelineError {
  return value instanceof PipelineError;
}

/** The one error shape every service answers with. Unknown errors become a bare 500: no stack, no internals. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
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
