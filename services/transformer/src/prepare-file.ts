/**
 * One raw CSV object -> one local UTF-8 file DuckDB can read: streamed from the store while its
 * encoding is detected (a BOM is dropped on the way), then transcoded only when it is not UTF-8.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isPipelineError, NotFoundError } from '@etl/common/errors';
import type { BlobStore } from '@etl/common/storage';
import { EncodingDetector, type TextEncoding } from './detect-encoding';
import { transcodeWindows1252File } from './transcode';

export interface PreparedFile {
  /** Local UTF-8 file without BOM. */
  path: string;
  encoding: TextEncoding;
  /** Bytes read from the store. */
  bytes: number;
}

export async function prepareCsvFile(
  store: BlobStore,
  key: string,
  dir: string,
  index: number,
): Promise<PreparedFile> {
  const downloaded = path.join(dir, `raw-${index}.csv`);
  const detector = new EncodingDetector();
  let bytes = 0;
  const detect = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, detector.update(chunk));
    },
  });
  let source: NodeJS.ReadableStream;
  try {
    source = await store.getStream(key);
  } catch (error) {
    if (isPipelineError(error) && error.status === 404) {
      throw new NotFoundError(
        `raw file ${key} listed in the extract manifest is missing from ${store.location}`,
        {
          cause: error,
          objectKey: key,
        },
      );
    }
    throw error;
  }
  await pipeline(source, detect, createWriteStream(downloaded));
  const encoding = detector.encoding;
  if (encoding !== 'windows-1252') return { path: downloaded, encoding, bytes };
  const transcoded = path.join(dir, `utf8-${index}.csv`);
  await transcodeWindows1252File(downloaded, transcoded);
  await rm(downloaded, { force: true });
  return { path: transcoded, encoding, bytes };
}
