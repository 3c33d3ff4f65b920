/**
 * A small Kaggle API client for the two calls the extractor needs, speaking the wire protocol of the
 * official CLI: `POST {base}/v1/datasets.DatasetApiService/{Method}` with a camelCase JSON body, Bearer
 * token or HTTP Basic auth. Downloads follow the redirect to the signed storage URL by hand (so the
 * credentials never go there), stream to a file, and resume with `Range` after a dropped connection.
 *
 * Secrets: the token and key are only ever placed in the Authorization header. Upstream text that
 * reaches a message is passed through `redact()` first.
 */
import {
  errorMessage,
  NotFoundError,
  type PipelineError,
  RateLimitedError,
  UpstreamError,
  UpstreamUnavailableError,
} from '@etl/common/errors';
import { createSilentLogger, type Logger } from '@etl/common/logging';
import { z } from 'zod';
import { backoffDelay, parseRetryAfter, type Sleep, sleep, TransientFailure } from './retry';
import { downloadSignedUrl } from './signed-download';

export type KaggleCredentials =
  | { kind: 'token'; token: string }
  | { kind: 'basic'; username: string; key: string };

export interface KaggleClientOptions {
  /** e.g. https://api.kaggle.com (no trailing /v1). */
  baseUrl: string;
  credentials: KaggleCredentials;
  /** Largest download accepted, in bytes. */
  maxDownloadBytes: number;
  /** Tries per call, the first included. Default 5. */
  maxAttempts?: number;
  /** First backoff wait after a 5xx or a dropped connection; doubles per retry. Default 1 s. */
  backoffMs?: number;
  /** Cap on one backoff wait. Default 30 s. */
  maxBackoffMs?: number;
  /** A Retry-After longer than this is not waited for in-request: the call fails with 429. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Timeout of one API call (not of a download). Default 30 s. */
  requestTimeoutMs?: number;
  /** A download that sends nothing for this long is cut and retried (the CLI's chunk timeout). Default 300 s. */
  downloadIdleTimeoutMs?: number;
  sleep?: Sleep;
  logger?: Logger;
  userAgent?: string;
}

export interface KaggleDatasetRef {
  owner: string;
  slug: string;
  version?: number;
}

/** `owner/slug` or `owner/slug version N`, for messages. */
export function nameKaggleDataset({ owner, slug, version }: KaggleDatasetRef): string {
  return version === undefined ? `${owner}/${slug}` : `${owner}/${slug} version ${version}`;
}

const datasetSchema = z.looseObject({
  ref: z.string().optional(),
  title: z.string().optional(),
  currentVersionNumber: z.number().int().positive(),
});

export type KaggleDataset = z.infer<typeof datasetSchema>;

export interface KaggleDownload {
  bytes: number;
  /** Last path segment of the storage URL, e.g. `superstore.zip`. */
  fileName: string;
}

const SERVICE = 'datasets.DatasetApiService';
const USER_AGENT = 'kaggle-api/v1.7.0 (sales-etl extractor)';
const MAX_ERROR_TEXT = 300;

function lastPathSegment(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Reads `{code, message}` or `{error: {code, message}}` from a JSON reply; Kaggle reports some errors so. */
function errorInBody(body: unknown): { code: number; message: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const candidate = (body as { error?: unknown }).error ?? body;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const { code, message } = candidate as { code?: unknown; message?: unknown };
  return typeof code === 'number' && code >= 400
    ? { code, message: typeof message === 'string' ? message : '' }
    : undefined;
}

export class KaggleClient {
  private readonly baseUrl: string;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly requestTimeoutMs: number;
  private readonly downloadIdleTimeoutMs: number;
  private readonly sleep: Sleep;
  private readonly logger: Logger;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];

  constructor(private readonly options: KaggleClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.downloadIdleTimeoutMs = options.downloadIdleTimeoutMs ?? 300_000;
    this.sleep = options.sleep ?? sleep;
    this.logger = options.logger ?? createSilentLogger();
    const { credentials } = options;
    const authorization =
      credentials.kind === 'token'
        ? `Bearer ${credentials.token}`
        : `Basic ${Buffer.from(`${credentials.username}:${credentials.key}`).toString('base64')}`;
    this.headers = {
      Authorization: authorization,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': options.userAgent ?? USER_AGENT,
    };
    this.secrets = (
      credentials.kind === 'token'
        ? [credentials.token]
        : [credentials.key, authorization.slice('Basic '.length)]
    ).filter((secret) => secret.length >= 4);
  }

  get authKind(): KaggleCredentials['kind'] {
    return this.options.credentials.kind;
  }

  /** Dataset metadata, including `currentVersionNumber`. */
  async getDataset(dataset: KaggleDatasetRef): Promise<KaggleDataset> {
    const body = { ownerSlug: dataset.owner, datasetSlug: dataset.slug };
    const json = await this.withRetries('GetDataset', dataset, async () => {
      const response = await this.post('GetDataset', body);
      await this.throwIfFailed('GetDataset', dataset, response);
      const parsed: unknown = await response.json().catch(() => undefined);
      this.throwIfBodyError('GetDataset', dataset, parsed);
      return parsed;
    });
    const result = datasetSchema.safeParse(json);
    if (!result.success) {
      throw new UpstreamError(
        `Kaggle GetDataset for dataset ${nameKaggleDataset(dataset)} answered without a valid currentVersionNumber`,
        {},
        'KAGGLE_BAD_REPLY',
      );
    }
    return result.data;
  }

  /** Downloads a dataset version's zip into `file` (created or truncated). */
  async downloadDataset(dataset: KaggleDatasetRef, file: string): Promise<KaggleDownload> {
    const body = {
      ownerSlug: dataset.owner,
      datasetSlug: dataset.slug,
      ...(dataset.version === undefined ? {} : { datasetVersionNumber: dataset.version }),
    };
    const location = await this.withRetries('DownloadDataset', dataset, async () => {
      const response = await this.post('DownloadDataset', body);
      await this.throwIfFailed('DownloadDataset', dataset, response);
      const target = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && target) {
        await response.body?.cancel();
        return new URL(target, this.url('DownloadDataset'));
      }
      const parsed: unknown = await response.json().catch(() => undefined);
      this.throwIfBodyError('DownloadDataset', dataset, parsed);
      throw new UpstreamError(
        `Kaggle DownloadDataset for dataset ${nameKaggleDataset(dataset)} answered ${response.status} without a redirect to the file`,
        {},
        'KAGGLE_BAD_REPLY',
      );
    });
    const bytes = await downloadSignedUrl(location, file, {
      what: `download of Kaggle dataset ${nameKaggleDataset(dataset)}`,
      maxBytes: this.options.maxDownloadBytes,
      idleTimeoutMs: this.downloadIdleTimeoutMs,
      retry: (attempt) => this.withRetries('DownloadDataset', dataset, attempt),
      describeError: (error) => this.causeText(error),
    });
    return { bytes, fileName: lastPathSegment(location) || `${dataset.slug}.zip` };
  }

  private url(method: string): string {
    return `${this.baseUrl}/v1/${SERVICE}/${method}`;
  }

  private async post(method: string, body: unknown): Promise<Response> {
    try {
      return await fetch(this.url(method), {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (error) {
      throw new TransientFailure('unavailable', `could not reach ${this.baseUrl}: ${this.causeText(error)}`);
    }
  }

  private describe(method: string, dataset: KaggleDatasetRef): string {
    return `Kaggle ${method} for dataset ${nameKaggleDataset(dataset)}`;
  }

  /** Maps a non-2xx/3xx status onto a typed error, or a TransientFailure to retry. */
  private async throwIfFailed(method: string, dataset: KaggleDatasetRef, response: Response): Promise<void> {
    if (response.status < 400) return;
    const text = this.redact((await response.text().catch(() => '')).slice(0, MAX_ERROR_TEXT));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const upstream = errorInBody(parsed)?.message || text;
    this.throwForStatus(method, dataset, response.status, upstream, response.headers.get('retry-after'));
  }

  private throwIfBodyError(method: string, dataset: KaggleDatasetRef, body: unknown): void {
    const error = errorInBody(body);
    if (error) this.throwForStatus(method, dataset, error.code, this.redact(error.message), null);
  }

  private throwForStatus(
    method: string,
    dataset: KaggleDatasetRef,
    status: number,
    upstream: string,
    retryAfter: string | null,
  ): never {
    const what = this.describe(method, dataset);
    const said = upstream ? `: ${upstream}` : '';
    if (status === 429) {
      throw new TransientFailure(
        'rate-limited',
        `${what} was rate-limited (HTTP 429)${said}`,
        parseRetryAfter(retryAfter),
      );
    }
    if (status >= 500) throw new TransientFailure('unavailable', `${what} failed with HTTP ${status}${said}`);
    if (status === 401 || status === 403) {
      throw new UpstreamError(
        `Kaggle rejected the credentials (${this.authKind === 'token' ? 'KAGGLE_API_TOKEN' : 'KAGGLE_USERNAME/KAGGLE_KEY'}) ` +
          `with HTTP ${status} on ${method} for dataset ${nameKaggleDataset(dataset)}${said}`,
        { details: { status } },
        'KAGGLE_CREDENTIALS_REJECTED',
      );
    }
    if (status === 404) {
      throw new NotFoundError(
        `Kaggle dataset ${nameKaggleDataset(dataset)} not found${said}`,
        {},
        'KAGGLE_DATASET_NOT_FOUND',
      );
    }
    throw new UpstreamError(
      `${what} failed with HTTP ${status}${said}`,
      { details: { status } },
      'KAGGLE_ERROR',
    );
  }

  /** Runs `attempt` until it succeeds, fails for good, or tries run out. */
  private async withRetries<T>(
    method: string,
    dataset: KaggleDatasetRef,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let tryNumber = 1; ; tryNumber++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof TransientFailure)) throw error;
        const waitMs =
          error.kind === 'rate-limited' && error.waitMs !== undefined
            ? error.waitMs
            : backoffDelay(tryNumber, this.backoffMs, this.maxBackoffMs);
        const tooLong = error.kind === 'rate-limited' && waitMs > this.maxRetryAfterMs;
        if (tryNumber >= this.maxAttempts || tooLong)
          throw this.giveUp(error, tryNumber, method, dataset, waitMs);
        this.logger.warn(
          { method, dataset: nameKaggleDataset(dataset), attempt: tryNumber, waitMs, reason: error.kind },
          `${error.message}; retrying in ${waitMs} ms`,
        );
        await this.sleep(waitMs);
      }
    }
  }

  private giveUp(
    error: TransientFailure,
    tries: number,
    method: string,
    dataset: KaggleDatasetRef,
    waitMs: number,
  ): PipelineError {
    const what = this.describe(method, dataset);
    if (error.kind === 'rate-limited') {
      const retryAfterSeconds = Math.ceil(waitMs / 1000);
      return new RateLimitedError(
        `${what} is rate-limited by Kaggle after ${tries} tries; retry after ${retryAfterSeconds} s`,
        { details: { retryAfterSeconds }, cause: error },
        'KAGGLE_RATE_LIMITED',
      );
    }
    return new UpstreamUnavailableError(
      `${what} failed after ${tries} tries: ${error.message}`,
      { cause: error },
      'KAGGLE_UNAVAILABLE',
    );
  }

  private causeText(error: unknown): string {
    const cause =
      error instanceof Error && error.cause !== undefined ? ` (${errorMessage(error.cause)})` : '';
    return this.redact(`${errorMessage(error)}${cause}`);
  }

  /** Removes the credentials from text that came from elsewhere, in case a server or library echoes them. */
  private redact(text: string): string {
    return this.secrets.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
  }
}

/** The credentials the config holds, token first (as the CLI does); undefined when none are set. */
export function readKaggleCredentials(config: {
  KAGGLE_API_TOKEN?: string | undefined;
  KAGGLE_USERNAME?: string | undefined;
  KAGGLE_KEY?: string | undefined;
}): KaggleCredentials | undefined {
  if (config.KAGGLE_API_TOKEN) return { kind: 'token', token: config.KAGGLE_API_TOKEN };
  if (config.KAGGLE_USERNAME && config.KAGGLE_KEY) {
    return { kind: 'basic', username: config.KAGGLE_USERNAME, key: config.KAGGLE_KEY };
  }
  return undefined;
}
