/**
 * One raw text object (a CSV file, a JSON file) -> one local UTF-8 file DuckDB can read: streamed from the store while its
 * encoding is detected (a BOM is dropped on the way), then transcoded only when it is not UTF-8.
 * A byte limit stops the download as soon as it is crossed, so an oversized input never fills the disk.
 * An object of a local store is read where it is (a hard link): a plain UTF-8 file is not copied at all.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DataRejectedError,
  errorMessage,
  isPipelineError,
  NotFoundError,
  PayloadTooLargeError,
} from '@etl/common/errors';
import { type BlobStore, downloadToFile, LocalBlobStore } from '@etl/common/storage';
import { EncodingDetector, type LegacyEncoding, type TextEncoding } from './detect-encoding';
import { MIXED_LINE_ENDINGS_ERROR } from './parse-csv';
import { isUndecodable, repairUtf8File, transcodeFile } from './transcode';

export interface PreparedFile {
  /** Local UTF-8 file without BOM. */
  path: string;
  encoding: TextEncoding;
  /** Bytes read from the store. */
  bytes: number;
  /** The file ended with DOS's end-of-file mark (Ctrl-Z, 0x1A), which was left out. */
  eofMark?: boolean;
  /** `utf-8-mixed`: how many stray bytes were read as Windows-1252 characters. */
  strayBytes?: number;
}

/** DOS's end-of-file mark, which old exports still write after their last line: no record. */
const EOF_MARK = 0x1a;

export interface PrepareOptions {
  /** Largest number of bytes accepted for this file (the remaining input budget); no limit when unset. */
  maxBytes?: number;
  /** What the bytes must be; a legacy encoding decodes even bytes that happen to be valid UTF-8. */
  encoding?: 'auto' | 'utf-8' | 'windows-1252' | LegacyEncoding;
  /** How the limit is named in messages, e.g. "MAX_INPUT_BYTES", and its configured total. */
  limitName?: string;
  limitBytes?: number;
}

export async function prepareTextFile(
  store: BlobStore,
  key: string,
  dir: string,
  index: number,
  options: PrepareOptions = {},
): Promise<PreparedFile> {
  const missing = (cause?: unknown) =>
    new NotFoundError(`raw file ${key} listed in the extract manifest is missing from ${store.location}`, {
      ...(cause === undefined ? {} : { cause }),
      objectKey: key,
    });
  const wanted = options.encoding ?? 'auto';
  if (store instanceof LocalBlobStore && (wanted === 'auto' || wanted === 'utf-8')) {
    const info = await store.stat(key);
    if (!info) throw missing();
    if (options.maxBytes !== undefined && info.size > options.maxBytes) throw tooLarge(key, options);
    const linked = path.join(dir, `linked-${index}.csv`);
    await downloadToFile(store, key, linked);
    if (await isPlainUtf8(linked)) return { path: linked, encoding: 'utf-8', bytes: info.size };
    try {
      return await prepareCsvStream(
        createReadStream(linked, { highWaterMark: 1 << 20 }),
        key,
        dir,
        index,
        options,
      );
    } finally {
      await rm(linked, { force: true });
    }
  }
  let source: NodeJS.ReadableStream;
  try {
    source = await store.getStream(key);
  } catch (error) {
    if (isPipelineError(error) && error.status === 404) throw missing(error);
    throw error;
  }
  return prepareCsvStream(source, key, dir, index, options);
}

/**
 * Whether `file` is read as it is: valid UTF-8 without a byte-order mark, and not ending in DOS's end-of-file
 * mark. Read without writing a byte: 200 MB take ~0.1 s where a copy took ~0.2 s and as many bytes of disk.
 * A file that is not stops at its first BOM or invalid chunk, as the copy reads it again.
 */
async function isPlainUtf8(file: string): Promise<boolean> {
  const detector = new EncodingDetector();
  let last: number | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    detector.update(chunk);
    if (!detector.plainSoFar) return false;
    last = chunk.at(-1);
  }
  return detector.encoding === 'utf-8' && last !== EOF_MARK;
}

function tooLarge(key: string, options: PrepareOptions): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `raw file ${key} takes the input over its limit: expected at most ${options.maxBytes} more bytes (${options.limitName ?? 'limit'} = ${options.limitBytes ?? options.maxBytes} bytes for all files), read more than that`,
    {
      objectKey: key,
      details: { file: key, limitBytes: options.limitBytes ?? options.maxBytes },
    },
    'INPUT_TOO_LARGE',
  );
}

/** A local file (the `etl profile` command). */
export async function prepareLocalCsvFile(
  file: string,
  dir: string,
  index: number,
  options: PrepareOptions = {},
): Promise<PreparedFile> {
  return prepareCsvStream(createReadStream(file, { highWaterMark: 1 << 20 }), file, dir, index, options);
}

export async function prepareCsvStream(
  source: NodeJS.ReadableStream,
  key: string,
  dir: string,
  index: number,
  options: PrepareOptions = {},
): Promise<PreparedFile> {
  const downloaded = path.join(dir, `raw-${index}.csv`);
  const detector = new EncodingDetector();
  let bytes = 0;
  // A 0x1A ending the bytes so far is held back: if nothing follows, it is the end-of-file mark.
  let held = false;
  let eofMark = false;
  const detect = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (options.maxBytes !== undefined && bytes > options.maxBytes) {
        done(tooLarge(key, options));
        return;
      }
      let data = held ? Buffer.concat([Buffer.of(EOF_MARK), chunk]) : chunk;
      held = data.at(-1) === EOF_MARK;
      if (held) data = data.subarray(0, -1);
      done(null, detector.update(data));
    },
    flush(done) {
      // In UTF-16 the byte is half a character.
      eofMark = held && !detector.encoding.startsWith('utf-16');
      done(null, held && !eofMark ? Buffer.of(EOF_MARK) : undefined);
    },
  });
  try {
    await pipeline(source, detect, createWriteStream(downloaded));
  } catch (error) {
    await rm(downloaded, { force: true });
    throw error;
  }
  const detected = detector.encoding;
  const wanted = options.encoding ?? 'auto';
  if (wanted === 'utf-8' && detected !== 'utf-8' && detected !== 'utf-8-bom') {
    const marked = detected === 'utf-16le' || detected === 'utf-16be';
    const mixed = detected === 'utf-8-mixed';
    const found = marked
      ? `is ${detected} (by its byte-order mark)`
      : mixed
        ? 'is UTF-8 with stray bytes of another encoding (a Windows-1252 é among its UTF-8 text)'
        : `is not valid UTF-8 (it reads as ${detected})`;
    throw new DataRejectedError(
      `raw file ${key} ${found}, but its profile says encoding utf-8: set encoding: auto${marked || mixed ? '' : ` or ${detected}`}`,
      { objectKey: key },
      'ENCODING_MISMATCH',
    );
  }
  let encoding: TextEncoding = wanted === 'auto' || wanted === 'utf-8' ? detected : wanted;
  const mark = eofMark ? { eofMark } : {};
  if (encoding === 'utf-8' || encoding === 'utf-8-bom') return { path: downloaded, encoding, bytes, ...mark };
  const transcoded = path.join(dir, `utf8-${index}.csv`);
  if (encoding === 'utf-8-mixed') {
    const strayBytes = await repairUtf8File(downloaded, transcoded);
    await rm(downloaded, { force: true });
    return { path: transcoded, encoding, bytes, strayBytes, ...mark };
  }
  try {
    await transcodeFile(downloaded, transcoded, encoding);
  } catch (error) {
    if (!isUndecodable(error)) throw error;
    // Past the sample it was chosen from, the file holds bytes its legacy encoding cannot hold.
    if (wanted !== 'auto')
      throw new DataRejectedError(
        `raw file ${key} is not ${wanted} as its profile's source.encoding says: it holds bytes ${wanted} cannot decode`,
        { objectKey: key },
        'ENCODING_MISMATCH',
      );
    encoding = 'windows-1252';
    await transcodeFile(downloaded, transcoded, encoding);
  }
  await rm(downloaded, { force: true });
  return { path: transcoded, encoding, bytes, ...mark };
}

/**
 * `work` over `files`, done again when it fails with DuckDB's refusal of uneven line endings, which it gives
 * for the whole file wherever they begin: lines ending in both CRLF and LF (files joined from Windows and
 * Unix), or in CR CR LF (Python's csv writer on Windows, given a file not opened with `newline=''`). Each
 * file with such endings is first rewritten in place with LF endings, and `work` is told what was done to
 * each (a note, or undefined). Any other failure, or one no file explains, stands.
 */
export async function withEvenLineEndings<T>(
  files: readonly string[],
  work: (notes: ReadonlyArray<string | undefined>) => Promise<T>,
): Promise<T> {
  try {
    return await work(files.map(() => undefined));
  } catch (error) {
    if (!errorMessage(error).includes(MIXED_LINE_ENDINGS_ERROR)) throw error;
    const notes: Array<string | undefined> = [];
    for (const file of files) notes.push(await evenLineEndings(file));
    if (notes.every((note) => note === undefined)) throw error;
    return work(notes);
  }
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Rewrites `file` with LF line endings when its lines end in both CRLF and bare LF, or in CR CR LF; returns
 * what it did, for the run summary, or undefined when it did not.
 */
async function evenLineEndings(file: string): Promise<string | undefined> {
  let crlf = 0;
  let bare = 0;
  let doubled = 0;
  // CRs at the end of a chunk, held back: the next chunk may start with their LF.
  let held = 0;
  const toLf = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const data = held > 0 ? Buffer.concat([Buffer.alloc(held, CR), chunk]) : chunk;
      held = 0;
      while (held < 2 && data[data.length - 1 - held] === CR) held++;
      const end = data.length - held;
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = data.indexOf(LF); at >= 0 && at < end; at = data.indexOf(LF, at + 1)) {
        if (at > 0 && data[at - 1] === CR) {
          const cut = at > 1 && data[at - 2] === CR ? 2 : 1;
          if (cut === 2) doubled += 1;
          else crlf += 1;
          parts.push(data.subarray(from, at - cut));
          from = at;
        } else bare += 1;
      }
      parts.push(data.subarray(from, end));
      done(null, Buffer.concat(parts));
    },
    flush(done) {
      done(null, held > 0 ? Buffer.alloc(held, CR) : undefined);
    },
  });
  const evened = `${file}.lf.csv`;
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), toLf, createWriteStream(evened));
  const note =
    doubled > 0
      ? "its lines end in CR CR LF (Python's csv writer on Windows, given a file not opened with newline=''): read with LF endings"
      : crlf > 0 && bare > 0
        ? 'its lines end in both CRLF and LF (files joined from Windows and Unix): read with LF endings'
        : undefined;
  if (note === undefined) await rm(evened, { force: true });
  else await rename(evened, file);
  return note;
}

/** A copy of `file` without its first `bytes` bytes (title lines above the header), which replaces it. */
export async function skipLeadingBytes(file: string, bytes: number): Promise<string> {
  const table = `${file}.table.csv`;
  await pipeline(createReadStream(file, { start: bytes, highWaterMark: 1 << 20 }), createWriteStream(table));
  await rm(file, { force: true });
  return table;
}
