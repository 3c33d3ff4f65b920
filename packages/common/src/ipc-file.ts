/**
 * An Arrow IPC file read as its encapsulated messages, without decoding a record batch: the footer locates
 * them. An IPC stream is the same messages one after another, so the schema message, the dictionary
 * batches and a run of whole record batches, then the end-of-stream marker, are a stream as they are.
 * The loader hands such streams to parquet-wasm: decoding the batches with arrow-js and encoding them
 * again took 1.4 s of its one JavaScript thread at 1M rows.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { MessageHeader, type Schema, Table, tableToIPC } from 'apache-arrow';
import { type FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { DataRejectedError } from './errors';

/**
 * `ARROW1` and its padding open the file; `ARROW1` closes it, after the footer and its int32 length. The
 * messages between are located by the footer only.
 */
const MAGIC = Buffer.from('ARROW1', 'latin1');
const OPENING_BYTES = 8;
const CLOSING_BYTES = 4 + MAGIC.length;
const CONTINUATION = 0xffffffff;

export function isArrowFile(bytes: Uint8Array): boolean {
  return (
    bytes.length >= OPENING_BYTES + CLOSING_BYTES &&
    Buffer.from(bytes.subarray(0, MAGIC.length)).equals(MAGIC)
  );
}

/** The end-of-stream marker: a continuation and a zero metadata length. */
export const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

/** One record batch: its row count and the length of its message (metadata and body). */
export interface BatchMessage {
  rows: number;
  length: number;
  /** Reads the message into `into` from `at`: a caller that builds a stream reuses one buffer. */
  readInto(into: Uint8Array, at: number): Promise<void>;
}

export interface IpcFile {
  schema: Schema;
  /** The schema message and every dictionary batch: what a stream of this file's record batches opens with. */
  prelude: Uint8Array;
  /** The record batches in file order, each located (its metadata read) when it is asked for. */
  batches(): AsyncGenerator<BatchMessage>;
  close(): Promise<void>;
}

/** An Arrow IPC file: its bytes, or a local file that is read one record batch at a time. */
export type ArrowInput = Uint8Array | { path: string };

/**
 * Opens an Arrow IPC file (see `ArrowInput`); reads its footer and its prelude only. Anything that is not
 * a whole IPC file is a DataRejectedError naming `name` (an object key).
 */
export async function openIpcFile(input: ArrowInput, name = 'input'): Promise<IpcFile> {
  const source = input instanceof Uint8Array ? bytesSource(input) : await fileSource(input.path);
  const rejected = (error: unknown) =>
    error instanceof DataRejectedError
      ? error
      : new DataRejectedError(`expected an Arrow IPC file at ${name}: ${(error as Error).message ?? error}`, {
          cause: error,
          objectKey: name,
        });
  try {
    const footer = await readFooter(source);
    // Encoded from the footer's schema: arrow-js writes no schema message into a file's body.
    const schemaMessage = messageOf(tableToIPC(new Table(footer.schema), 'stream'), MessageHeader.Schema);
    const dictionaries = [...footer.dictionaryBatches()];
    const prelude = Buffer.alloc(schemaMessage.length + dictionaries.reduce((n, b) => n + blockLength(b), 0));
    prelude.set(schemaMessage);
    let at = schemaMessage.length;
    for (const block of dictionaries) {
      await readBlock(source, block, prelude, at);
      at += blockLength(block);
    }
    async function* batches(): AsyncGenerator<BatchMessage> {
      for (const block of footer.recordBatches()) {
        let batch: BatchMessage;
        try {
          const message = decodeMessage(await source.read(block.offset, block.metaDataLength), 0);
          if (!message.isRecordBatch())
            throw new Error(`the block at byte ${block.offset} is not a record batch`);
          const readInto = (into: Uint8Array, at: number) =>
            readBlock(source, block, into, at).catch((error: unknown) => {
              throw rejected(error);
            });
          batch = { rows: message.header().length, length: blockLength(block), readInto };
        } catch (error) {
          throw rejected(error);
        }
        yield batch;
      }
    }
    return { schema: footer.schema, prelude, batches, close: source.close };
  } catch (error) {
    await source.close();
    throw rejected(error);
  }
}

/**
 * The first message of type `type` in an IPC stream (of one batch, as `tableToIPC(table, 'stream')` writes
 * for a one-batch table), metadata and body.
 */
export function messageOf(stream: Uint8Array, type: MessageHeader): Uint8Array {
  for (let at = 0; at < stream.length; ) {
    const message = decodeMessage(stream, at);
    const end = at + 8 + messageLength(stream, at) + message.bodyLength;
    if (message.headerType === type) return stream.subarray(at, end);
    at = end;
  }
  throw new Error(`expected a ${MessageHeader[type]} message in the IPC stream`);
}

interface Source {
  size: number;
  /** Up to `length` bytes from `offset` (fewer past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** `length` bytes from `offset` into `into` at `at`; the number of bytes there were. */
  readInto(offset: number, length: number, into: Uint8Array, at: number): Promise<number>;
  close(): Promise<void>;
}

function bytesSource(bytes: Uint8Array): Source {
  const read = async (offset: number, length: number) =>
    bytes.subarray(offset, Math.min(bytes.length, offset + length));
  return {
    size: bytes.length,
    read,
    readInto: async (offset, length, into, at) => {
      const part = await read(offset, length);
      into.set(part, at);
      return part.length;
    },
    close: async () => {},
  };
}

async function fileSource(path: string): Promise<Source> {
  const file: FileHandle = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const readInto = async (offset: number, length: number, into: Uint8Array, at: number) => {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await file.read(into, at + done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    };
    return {
      size,
      read: async (offset, length) => {
        const into = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        return into.subarray(0, await readInto(offset, into.length, into, 0));
      },
      readInto,
      close: () => file.close().catch(() => {}), // closing twice is harmless
    };
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function readFooter(source: Source): Promise<Footer> {
  if (!isArrowFile(await source.read(0, OPENING_BYTES + CLOSING_BYTES))) {
    throw new Error(`found ${source.size} bytes without the ARROW1 magic`);
  }
  const closing = Buffer.from(await source.read(source.size - CLOSING_BYTES, CLOSING_BYTES));
  if (!closing.subarray(4).equals(MAGIC)) throw new Error('it does not end with ARROW1 (is it cut short?)');
  const length = closing.readInt32LE(0);
  const start = source.size - CLOSING_BYTES - length;
  if (length <= 0 || start < OPENING_BYTES) throw new Error(`its footer length ${length} is impossible`);
  return Footer.decode(await source.read(start, length));
}

const blockLength = (block: FileBlock) => block.metaDataLength + block.bodyLength;

async function readBlock(source: Source, block: FileBlock, into: Uint8Array, at: number): Promise<void> {
  const length = blockLength(block);
  if ((await source.readInto(block.offset, length, into, at)) !== length) {
    throw new Error(`the block at byte ${block.offset} runs past the file's end`);
  }
}

/** The metadata length of the message at `at` (after its continuation marker, as every writer since 0.15). */
function messageLength(bytes: Uint8Array, at: number): number {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < at + 8 || view.readUInt32LE(at) !== CONTINUATION) {
    throw new Error(`no IPC message at byte ${at}`);
  }
  return view.readInt32LE(at + 4);
}

function decodeMessage(bytes: Uint8Array, at: number): Message {
  const length = messageLength(bytes, at);
  if (length <= 0 || at + 8 + length > bytes.length) throw new Error(`the message at byte ${at} is cut`);
  return Message.decode(bytes.subarray(at + 8, at + 8 + length));
}
