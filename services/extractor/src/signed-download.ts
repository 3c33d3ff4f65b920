/**
 * Fetching a signed storage URL into a file. A dropped connection resumes with `Range: bytes=N-` when the
 * server advertised `Accept-Ranges: bytes` (as the Kaggle CLI does), else starts over; the caller's retry
 * policy decides how often. Sizes are counted, so a missing or lying Content-Length cannot exceed the limit.
 */

import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PayloadTooLargeError, PipelineError, UpstreamError } from '@etl/common/errors';
import { parseRetryAfter, TransientFailure } from './retry';

export interface SignedDownloadOptions {
  /** Names the download in messages, e.g. `download of Kaggle dataset acme/sales version 3`. */
  what: string;
  maxBytes: number;
  /** Cut and retry a response that sends nothing for this long. */
  idleTimeoutMs: number;
  /** Runs one try again on TransientFailure, per the caller's policy. */
  retry: (attempt: () => Promise<void>) => Promise<void>;
  /** Renders an error for a message without secrets. */
  describeError: (error: unknown) => string;
}

/** Downloads `url` into `file` (created or truncated); returns the byte count. Sends no credentials. */
export async function downloadSignedUrl(
  url: URL,
  file: string,
  options: SignedDownloadOptions,
): Promise<number> {
  const { what, maxBytes } = options;
  const handle = await open(file, 'w');
  let received = 0;
  let canResume = false;
  const tooLarge = (bytes: number) =>
    new PayloadTooLargeError(
      `${what} is larger than the limit of ${maxBytes} bytes (MAX_DOWNLOAD_BYTES): ${bytes} bytes`,
      {},
      'DOWNLOAD_TOO_LARGE',
    );

  const attempt = async (): Promise<void> => {
    const resume = canResume && received > 0;
    if (!resume && received > 0) {
      await handle.truncate(0);
      received = 0;
    }
    const idle = new AbortController();
    const stall = () => idle.abort(new Error(`no data for ${options.idleTimeoutMs} ms`));
    let timer = setTimeout(stall, options.idleTimeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: resume ? { Range: `bytes=${received}-` } : {},
          redirect: 'follow',
          signal: idle.signal,
        });
      } catch (error) {
        throw new TransientFailure(
          'unavailable',
          `${what} could not connect: ${options.describeError(error)}`,
        );
      }
      if (response.status === 429) {
        const wait = parseRetryAfter(response.headers.get('retry-after'));
        throw new TransientFailure('rate-limited', `${what} was rate-limited (HTTP 429)`, wait);
      }
      if (response.status >= 500)
        throw new TransientFailure('unavailable', `${what} failed with HTTP ${response.status}`);
      if (response.status !== 200 && response.status !== 206) {
        throw new UpstreamError(
          `${what} failed: storage answered HTTP ${response.status}`,
          {},
          'KAGGLE_DOWNLOAD_FAILED',
        );
      }
      if (response.status === 200 && received > 0) {
        // The server ignored Range: start over.
        await handle.truncate(0);
        received = 0;
      }
      canResume = response.headers.get('accept-ranges') === 'bytes';
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      const total = Number.isFinite(length) ? received + length : undefined;
      if (total !== undefined && total > maxBytes) throw tooLarge(total);
      if (!response.body)
        throw new UpstreamError(`${what} failed: storage sent no body`, {}, 'KAGGLE_DOWNLOAD_FAILED');
      try {
        for await (const chunk of Readable.fromWeb(
          response.body as WebReadableStream<Uint8Array>,
        ) as AsyncIterable<Buffer>) {
          clearTimeout(timer);
          timer = setTimeout(stall, options.idleTimeoutMs);
          if (received + chunk.length > maxBytes) throw tooLarge(received + chunk.length);
          await handle.write(chunk, 0, chunk.length, received);
          received += chunk.length;
        }
      } catch (error) {
        if (error instanceof PipelineError) throw error;
        const detail = options.describeError(error);
        throw new TransientFailure('unavailable', `${what} broke off after ${received} bytes: ${detail}`);
      }
      if (total !== undefined && received !== total) {
        throw new TransientFailure('unavailable', `${what} ended after ${received} of ${total} bytes`);
      }
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await options.retry(attempt);
  } finally {
    await handle.close();
  }
  return received;
}
