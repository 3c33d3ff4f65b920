/**
 * Writing a dataset's table files under runs/<runId>/raw/. Every file is checked twice: its head before
 * anything is written (so a bad file in a folder or archive fails the step with nothing stored), then every
 * byte on its way to the store (so a file that goes bad later, or lies about its size, fails too).
 */
import type { Readable } from 'node:stream';
import type { RawFile, SkippedFile, TableFormat } from '@etl/common/contracts';
import { DataRejectedError, errorMessage, isPipelineError, type PipelineError } from '@etl/common/errors';
import { type BlobStore, rawKey, rawPrefix } from '@etl/common/storage';
import { FileInspector, HEAD_BYTES, NoDataError } from './file-inspector';

/** A file as found in a dataset: in a folder, in an archive, or the source itself. */
export interface DatasetFile {
  /** Its path in the dataset, which is its raw name if it is a table: `data/orders.csv`, `train.csv.zip/train.csv`. */
  name: string;
  /** Names the file in messages, e.g. `local file /data/orders.csv` or `entry "a.csv" in archive x.zip`. */
  label: string;
  /** Opens the bytes; may be called more than once (head check, then the copy). */
  open(): Promise<Readable>;
  /** Where the bytes already are on disk, so that an archive is opened in place instead of copied. */
  path?: string;
  /**
   * Called once the file has been copied: throws (a retryable 503) when it changed while it was read, i.e.
   * it is still being written. Sources whose bytes cannot change (an archive entry, a pinned generation)
   * leave it out.
   */
  assertSettled?: () => Promise<void>;
  /** Bytes the file may hold at most; more fails the read. */
  maxBytes?: number;
  tooLarge?: (bytes: number) => PipelineError;
  /** Its format when its name does not say it: a file the user named, read by its content (`sniffTextFormat`). */
  format?: TableFormat;
}

/** A table file to store as runs/<runId>/raw/<name>. */
export interface RawInput extends DatasetFile {
  format: TableFormat;
}

const CONTENT_TYPES: Record<TableFormat, string> = {
  delimited: 'text/csv',
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function readFailed(file: DatasetFile, error: unknown): PipelineError {
  if (isPipelineError(error)) return error;
  return new DataRejectedError(
    `could not read ${file.label}: ${errorMessage(error)}`,
    { cause: error },
    'UNREADABLE_FILE',
  );
}

async function openInput(input: DatasetFile): Promise<Readable> {
  try {
    return await input.open();
  } catch (error) {
    throw readFailed(input, error);
  }
}

/** The first HEAD_BYTES of an input, and whether that is all of it. */
async function readHead(input: RawInput): Promise<{ head: Buffer; isWholeFile: boolean }> {
  const stream = await openInput(input);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > HEAD_BYTES)
        return { head: Buffer.concat(chunks).subarray(0, HEAD_BYTES), isWholeFile: false };
    }
  } catch (error) {
    throw readFailed(input, error);
  } finally {
    stream.destroy();
  }
  return { head: Buffer.concat(chunks), isWholeFile: true };
}

export interface CheckedInputs {
  ready: RawInput[];
  skipped: SkippedFile[];
}

/**
 * Checks the head of every input. A file that holds no rows fails the step, unless `skipNoData` (a dataset
 * of several files), where it is skipped with the reason; anything else wrong always fails it.
 */
export async function checkRawInputs(
  inputs: readonly RawInput[],
  options: { skipNoData: boolean },
): Promise<CheckedInputs> {
  const checked: CheckedInputs = { ready: [], skipped: [] };
  for (const input of inputs) {
    const { head, isWholeFile } = await readHead(input);
    const problem = FileInspector.checkHead(input.label, input.format, head, isWholeFile);
    if (problem instanceof NoDataError && options.skipNoData) {
      checked.skipped.push({ name: input.name, reason: problem.reason });
    } else if (problem) {
      throw problem;
    } else {
      checked.ready.push(input);
    }
  }
  return checked;
}

/**
 * Copies one input to runs/<runId>/raw/<name>, inspected on the way. The store may open it again (an upload
 * interrupted half-way restarts from the first byte): each opening gets a fresh inspector, and the figures
 * are those of the copy that was stored.
 */
export async function writeRawFile(store: BlobStore, runId: string, input: RawInput): Promise<RawFile> {
  const key = rawKey(runId, input.name);
  let inspector: FileInspector | undefined;
  let source: Readable | undefined;
  const openInspected = async (): Promise<Readable> => {
    source?.destroy();
    source = await openInput(input);
    const opened = source;
    const inspecting = new FileInspector({
      label: input.label,
      format: input.format,
      maxBytes: input.maxBytes,
      tooLarge: input.tooLarge,
    });
    // pipe() does not forward errors: name the file in a read error and fail the store's write with it.
    opened.once('error', (error) => inspecting.destroy(readFailed(input, error)));
    opened.pipe(inspecting);
    inspector = inspecting;
    return inspecting;
  };
  try {
    await store.put(key, openInspected, { contentType: CONTENT_TYPES[input.format] });
  } finally {
    source?.destroy();
  }
  await input.assertSettled?.();
  return { name: input.name, key, ...inspector!.result(), format: input.format };
}

/** Checks every input (any problem fails), then copies them one by one. The caller removes the run's raw files on failure. */
export async function writeRawFiles(
  store: BlobStore,
  runId: string,
  inputs: readonly RawInput[],
): Promise<RawFile[]> {
  const { ready } = await checkRawInputs(inputs, { skipNoData: false });
  const files: RawFile[] = [];
  for (const input of ready) files.push(await writeRawFile(store, runId, input));
  return files;
}

/** Removes everything under runs/<runId>/raw/: a failed extract leaves nothing half-written. */
export async function removeRawFiles(store: BlobStore, runId: string): Promise<void> {
  for (const blob of await store.list(rawPrefix(runId))) await store.delete(blob.key);
}
