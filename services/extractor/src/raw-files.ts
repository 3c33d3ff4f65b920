/**
 * Writing a source's CSV files under runs/<runId>/raw/. Every file is checked twice: its head before
 * anything is written (so a bad file in a folder or archive fails the step with nothing stored), then
 * every byte on its way to the store (so a file that goes bad later, or lies about its size, fails too).
 */
import type { Readable } from 'node:stream';
import type { RawFile } from '@etl/common/contracts';
import { DataRejectedError, errorMessage, isPipelineError, type PipelineError } from '@etl/common/errors';
import { type BlobStore, rawKey, rawPrefix } from '@etl/common/storage';
import { CsvInspector, HEAD_BYTES } from './csv-inspector';

export interface RawInput {
  /** Name inside the run: runs/<runId>/raw/<name>. */
  name: string;
  /** Names the file in messages, e.g. `local file /data/orders.csv` or `entry "a.csv" in archive x.zip`. */
  label: string;
  /** Opens the bytes; may be called twice (head check, then the copy). */
  open(): Promise<Readable>;
  /** Bytes the file may hold at most; more fails the copy. */
  maxBytes?: number;
  tooLarge?: (bytes: number) => PipelineError;
}

function readFailed(input: RawInput, error: unknown): PipelineError {
  if (isPipelineError(error)) return error;
  return new DataRejectedError(
    `could not read ${input.label}: ${errorMessage(error)}`,
    { cause: error },
    'UNREADABLE_FILE',
  );
}

async function openInput(input: RawInput): Promise<Readable> {
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

export async function checkRawInputs(inputs: readonly RawInput[]): Promise<void> {
  for (const input of inputs) {
    const { head, isWholeFile } = await readHead(input);
    const problem = CsvInspector.checkHead(input.label, head, isWholeFile);
    if (problem) throw problem;
  }
}

export async function writeRawFile(store: BlobStore, runId: string, input: RawInput): Promise<RawFile> {
  const key = rawKey(runId, input.name);
  const source = await openInput(input);
  const inspector = new CsvInspector({
    label: input.label,
    maxBytes: input.maxBytes,
    tooLarge: input.tooLarge,
  });
  // pipe() does not forward errors: name the file in a read error and fail the store's write with it.
  source.once('error', (error) => inspector.destroy(readFailed(input, error)));
  source.pipe(inspector);
  try {
    await store.put(key, inspector, { contentType: 'text/csv' });
  } finally {
    source.destroy();
  }
  return { name: input.name, key, ...inspector.result() };
}

/** Checks every input, then copies them one by one. The caller removes the run's raw files on failure. */
export async function writeRawFiles(
  store: BlobStore,
  runId: string,
  inputs: readonly RawInput[],
): Promise<RawFile[]> {
  await checkRawInputs(inputs);
  const files: RawFile[] = [];
  for (const input of inputs) files.push(await writeRawFile(store, runId, input));
  return files;
}

/** Removes everything under runs/<runId>/raw/: a failed extract leaves nothing half-written. */
export async function removeRawFiles(store: BlobStore, runId: string): Promise<void> {
  for (const blob of await store.list(rawPrefix(runId))) await store.delete(blob.key);
}
