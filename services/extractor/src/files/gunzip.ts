/**
 * Gunzipping a file of a dataset without trusting it. A gzip header declares no trustworthy size, so the
 * guards work on counted bytes while streaming: the expanded size against what is left of the dataset's
 * MAX_UNZIPPED_BYTES, and the ratio of expanded to compressed bytes (above a floor) against MAX_ZIP_RATIO.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataRejectedError, errorMessage, type PipelineError } from '@etl/common/errors';
import { RATIO_FLOOR_BYTES, unsafeArchive } from './unzip';

export interface GunzipOptions {
  /** Names the .gz file in messages. */
  label: string;
  maxRatio: number;
  /** Bytes the file may expand to. */
  maxBytes: number;
  tooLarge: (bytes: number) => PipelineError;
  /** Called with the expanded size once the whole file has been read. */
  onEnd: (bytes: number) => void;
}

export function gunzip(source: Readable, options: GunzipOptions): Readable {
  const { label, maxRatio, maxBytes } = options;
  const inflate = createGunzip();
  let expanded = 0;
  const guarded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      expanded += chunk.length;
      if (expanded > maxBytes) {
        done(options.tooLarge(expanded));
        return;
      }
      // bytesWritten: compressed bytes consumed so far, so this is the ratio of what has been expanded.
      const ratio = expanded / Math.max(1, inflate.bytesWritten);
      if (expanded > RATIO_FLOOR_BYTES && ratio > maxRatio) {
        done(
          unsafeArchive(
            `${label} expands at a ratio of more than ${maxRatio}:1 (${Math.round(ratio)}:1 after ${expanded} bytes; MAX_ZIP_RATIO): a decompression bomb?`,
          ),
        );
        return;
      }
      done(null, chunk);
    },
    flush(done) {
      options.onEnd(expanded);
      done();
    },
  });
  source.once('error', (error) => guarded.destroy(error));
  inflate.once('error', (error) =>
    guarded.destroy(
      new DataRejectedError(
        `${label} is not a readable gzip file: ${errorMessage(error)}`,
        { cause: error },
        'CORRUPT_ARCHIVE',
      ),
    ),
  );
  // A reader that stops early (the head check) or fails must not leave the source open.
  guarded.once('close', () => {
    source.destroy();
    inflate.destroy();
  });
  source.pipe(inflate).pipe(guarded);
  return guarded;
}
