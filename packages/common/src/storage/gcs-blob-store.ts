/**
 * BlobStore on a Cloud Storage bucket. An object write is atomic in GCS (readers see the old generation
 * or the new one), `ifAbsent` is the precondition `ifGenerationMatch: 0`, and every transfer is checked
 * with CRC32C. Transient failures (429, 5xx, dropped connections) are retried by the client itself, with
 * exponential backoff: our keys are deterministic, so every call is safe to repeat (IdempotencyStrategy
 * RetryAlways). The client cannot resume an upload whose session lost bytes it already streamed ("The
 * offset is lower than the number of bytes written ... Initiate a new upload"): a body we still hold (bytes,
 * or a function that reopens the source) is then uploaded again from its first byte in a new session, up
 * to `maxRetries` times. What is still failing after that is mapped to a typed PipelineError naming the
 * object: transient -> 503, final -> 4xx, and an unrecognised client error -> 503 (only our own bugs,
 * TypeError and the like, stay 500).
 */
import { Readable } from 'node:stream';
import { type File, IdempotencyStrategy, Storage, type StorageOptions } from '@google-cloud/storage';
import {
  ConflictError,
  errorMessage,
  InvalidRequestError,
  isPipelineError,
  isTransientNetworkError,
  NotFoundError,
  RateLimitedError,
  UpstreamError,
  UpstreamUnavailableError,
} from '../errors';
import type { BlobBody, BlobInfo, BlobStore, PutOptions } from './blob-store';

export interface GcsRetryOptions {
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** Each wait is `multiplier^attempt` seconds plus up to 1 s of jitter, capped by maxRetryDelayMs (default 2). */
  retryDelayMultiplier?: number;
  /**
   * Longest single wait (default 32 s). At least 1 s: `file.save` hands it to async-retry as maxTimeout,
   * which must not be below its fixed 1 s minTimeout.
   */
  maxRetryDelayMs?: number;
  /** Give up retrying after this long in total (default 300 s). */
  totalTimeoutMs?: number;
}

export interface GcsBlobStoreOptions {
  bucket: string;
  /** Defaults to the project of the Application Default Credentials. */
  projectId?: string;
  /** A custom endpoint (an emulator or the test fake), e.g. `http://127.0.0.1:4443`. */
  apiEndpoint?: string;
  retry?: GcsRetryOptions;
  /** Bodies larger than this (and every stream) use a resumable upload; smaller ones one multipart request. Default 8 MiB. */
  resumableThresholdBytes?: number;
  /** An existing client (its own settings win over `projectId`, `apiEndpoint` and `retry`). */
  storage?: Storage;
}

const DEFAULT_RESUMABLE_THRESHOLD = 8 * 1024 * 1024;

/** `objects.list` page size; pages are followed until the prefix is exhausted. */
const LIST_PAGE_SIZE = 1000;

/** The Storage client options our settings translate to (exported for the BigQuery adapter's staging client). */
export function gcsStorageOptions(options: Omit<GcsBlobStoreOptions, 'bucket' | 'storage'>): StorageOptions {
  const retry = options.retry ?? {};
  return {
    ...(options.projectId ? { projectId: options.projectId } : {}),
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    retryOptions: {
      autoRetry: true,
      maxRetries: retry.maxRetries ?? 5,
      retryDelayMultiplier: retry.retryDelayMultiplier ?? 2,
      // The client takes seconds.
      maxRetryDelay: Math.max(1000, retry.maxRetryDelayMs ?? 32_000) / 1000,
      totalTimeout: (retry.totalTimeoutMs ?? 300_000) / 1000,
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  };
}

/** Same key rules as LocalBlobStore, so a key valid in one mode is valid in the other. */
function assertKey(key: string): string {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new InvalidRequestError(`invalid object key ${JSON.stringify(key)}`);
  }
  return key;
}

/**
 * The HTTP status of a client error (ApiError.code, a gaxios error's response status, or the `status: N`
 * the resumable upload writes into its "Retry limit exceeded" message), or undefined for network errors.
 */
function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  if (typeof code === 'string' && /^\d{3}$/.test(code)) return Number(code);
  const response = (error as { response?: { status?: unknown } } | null)?.response?.status;
  if (typeof response === 'number') return response;
  const retried = /^Retry (?:total time )?limit exceeded.*?status: (\d{3})/.exec(errorMessage(error))?.[1];
  return retried === undefined ? undefined : Number(retried);
}

/** The resumable upload's own give-ups: its session lost bytes it cannot resend, or its retries ran out. */
function isInterruptedUpload(error: unknown): boolean {
  return /offset is lower than the number of bytes written|Initiate a new upload|^Retry (total time )?limit exceeded/i.test(
    errorMessage(error),
  );
}

/** Errors of our own code (a bug), which must stay 500s rather than pass for an unavailable dependency. */
function isProgrammingError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GCS answers 404 "The specified bucket does not exist." for any call into a missing bucket. */
function isMissingBucket(error: unknown): boolean {
  return httpStatus(error) === 404 && /bucket does not exist/i.test(errorMessage(error));
}

function isNotFound(error: unknown): boolean {
  return httpStatus(error) === 404;
}

export class GcsBlobStore implements BlobStore {
  readonly location: string;
  readonly bucketName: string;
  readonly storage: Storage;
  private readonly resumableThreshold: number;
  /** Uploads of a body we hold, started again from the first byte after an interrupted one. */
  private readonly maxUploadRestarts: number;

  constructor(options: GcsBlobStoreOptions) {
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(options.bucket)) {
      throw new InvalidRequestError(`invalid bucket name ${JSON.stringify(options.bucket)}`);
    }
    this.bucketName = options.bucket;
    this.location = `gs://${options.bucket}`;
    this.storage = options.storage ?? new Storage(gcsStorageOptions(options));
    this.resumableThreshold = options.resumableThresholdBytes ?? DEFAULT_RESUMABLE_THRESHOLD;
    this.maxUploadRestarts = options.retry?.maxRetries ?? 5;
  }

  uri(key: string): string {
    return `${this.location}/${assertKey(key)}`;
  }

  /** The client's File handle for a key (for callers that need the SDK, e.g. BigQuery load jobs). */
  file(key: string, generation?: number): File {
    return this.storage
      .bucket(this.bucketName)
      .file(assertKey(key), generation === undefined ? {} : { generation });
  }

  async put(key: string, body: BlobBody, options: PutOptions = {}): Promise<BlobInfo> {
    const file = this.file(key);
    const bytes =
      typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? toBuffer(body) : undefined;
    // A body read once (a plain stream) cannot be uploaded again.
    const restarts = body instanceof Readable ? 0 : this.maxUploadRestarts;
    for (let attempt = 0; ; attempt++) {
      const data = bytes ?? (typeof body === 'function' ? await body() : (body as Readable));
      // The source's own failure is the caller's to report, not Cloud Storage's.
      let sourceError: unknown;
      if (data instanceof Readable) data.once('error', (error) => (sourceError ??= error));
      try {
        await this.save(file, data, options);
        return toBlobInfo(key, file.metadata);
      } catch (error) {
        if (data instanceof Readable) data.destroy();
        if (sourceError !== undefined) throw sourceError;
        if (options.ifAbsent && httpStatus(error) === 412) {
          throw new ConflictError(`object ${key} already exists at ${this.uri(key)}`, {
            objectKey: key,
            cause: error,
          });
        }
        const mapped = this.mapError(error, 'write', key);
        if (!isPipelineError(mapped) || !mapped.retryable || attempt >= restarts) throw mapped;
        // A new upload session, from the first byte: the failed one is abandoned (never finalized, never visible).
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  private async save(file: File, data: Buffer | Readable, options: PutOptions): Promise<void> {
    const contentType = options.contentType ?? 'application/octet-stream';
    await file.save(data, {
      resumable: data instanceof Readable || data.length > this.resumableThreshold,
      contentType,
      metadata: { contentType },
      // The client computes CRC32C while sending and compares it with the server's; on a mismatch it
      // deletes the object and fails (FILE_NO_UPLOAD).
      validation: 'crc32c',
      ...(options.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    });
  }

  async get(key: string): Promise<Buffer> {
    try {
      const [contents] = await this.file(key).download({ validation: 'crc32c' });
      return contents;
    } catch (error) {
      throw this.mapError(error, 'read', key);
    }
  }

  async getStream(key: string): Promise<Readable> {
    // Look the object up first so that a missing key rejects here (as LocalBlobStore does), then read
    // exactly that generation: a concurrent overwrite cannot mix two versions into one stream.
    let generation: number;
    try {
      const [metadata] = await this.file(key).getMetadata();
      generation = Number(metadata.generation);
    } catch (error) {
      throw this.mapError(error, 'read', key);
    }
    return this.file(key, generation).createReadStream({ validation: 'crc32c' });
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const [metadata] = await this.file(key).getMetadata();
      return toBlobInfo(key, metadata);
    } catch (error) {
      if (isNotFound(error) && !isMissingBucket(error)) return undefined;
      throw this.mapError(error, 'stat', key);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const bucket = this.storage.bucket(this.bucketName);
    const found: BlobInfo[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const [files, next] = await bucket.getFiles({
          prefix,
          autoPaginate: false,
          maxResults: LIST_PAGE_SIZE,
          ...(pageToken ? { pageToken } : {}),
        });
        for (const file of files) found.push(toBlobInfo(file.name, file.metadata));
        pageToken = (next as { pageToken?: string } | null)?.pageToken;
      } while (pageToken);
    } catch (error) {
      throw this.mapError(error, 'list', prefix);
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    try {
      await this.file(key).delete();
    } catch (error) {
      if (isNotFound(error) && !isMissingBucket(error)) return;
      throw this.mapError(error, 'delete', key);
    }
  }

  /**
   * What is left after the client's own retries, as a typed error naming the object:
   * 404 -> NotFoundError (the bucket or the object), 401/403 -> UpstreamError code PERMISSION_DENIED
   * (424, terminal: our credentials, not the caller's request), 429 -> RateLimitedError, 5xx, 408,
   * network errors, interrupted uploads and checksum mismatches (bytes damaged in transit) ->
   * UpstreamUnavailableError (503, retryable), another 4xx -> UpstreamError; an unrecognised error without a status -> 503, a programming error as is (500).
   */
  private mapError(
    error: unknown,
    operation: 'read' | 'write' | 'stat' | 'list' | 'delete',
    key: string,
  ): Error {
    if (isPipelineError(error)) return error;
    const status = httpStatus(error);
    const target = operation === 'list' ? `${this.location}/${key}*` : `${this.location}/${key}`;
    const context = { objectKey: key, cause: error };
    if (isMissingBucket(error)) {
      return new NotFoundError(
        `bucket ${this.location} does not exist (while trying to ${operation} ${target})`,
        context,
        'BUCKET_NOT_FOUND',
      );
    }
    if (status === 404) return new NotFoundError(`object ${key} not found at ${target}`, context);
    if (status === 401 || status === 403) {
      return new UpstreamError(
        `Cloud Storage denied ${operation} of ${target} (${status}): ${errorMessage(error)}; check the service account's roles on ${this.location}`,
        context,
        'PERMISSION_DENIED',
      );
    }
    if (status === 429) {
      return new RateLimitedError(
        `Cloud Storage rate-limited ${operation} of ${target} after retries: ${errorMessage(error)}`,
        context,
      );
    }
    if (status === undefined && isProgrammingError(error)) return error as Error;
    if (status === undefined || status >= 500 || status === 408) {
      const why = isInterruptedUpload(error)
        ? 'the upload was interrupted and could not be resumed'
        : (error as { code?: unknown }).code === 'FILE_NO_UPLOAD'
          ? 'the bytes stored did not match their checksum'
          : isTransientNetworkError(error)
            ? 'the connection failed'
            : 'Cloud Storage is unavailable';
      return new UpstreamUnavailableError(
        `Cloud Storage ${operation} of ${target} failed after retries (${why}): ${errorMessage(error)}`,
        context,
      );
    }
    return new UpstreamError(
      `Cloud Storage ${operation} of ${target} failed (${status}): ${errorMessage(error)}`,
      context,
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toBlobInfo(key: string, metadata: { size?: string | number; updated?: string }): BlobInfo {
  return {
    key,
    size: Number(metadata.size ?? 0),
    updated: metadata.updated ? new Date(metadata.updated) : new Date(0),
  };
}
