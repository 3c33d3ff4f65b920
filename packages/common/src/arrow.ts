/**
 * Arrow IPC is the contract between services: always the IPC *file* format (`.arrow`, ARROW1 magic).
 * Parquet is how data enters a warehouse (DuckDB reads it natively, BigQuery load jobs require it), so the
 * two conversions live here, once.
 */
import { Readable } from 'node:stream';
import {
  MessageHeader,
  type RecordBatch,
  RecordBatchFileWriter,
  type Schema,
  Table,
  tableFromIPC,
  tableToIPC,
} from 'apache-arrow';
import { DataRejectedError } from './errors';
import { type ArrowInput, END_OF_STREAM, isArrowFile, messageOf, openIpcFile } from './ipc-file';

export { type ArrowInput, isArrowFile } from './ipc-file';

/** Reads an Arrow IPC file; `name` (an object key) is only used in the error message. */
export function readArrowTable(bytes: Uint8Array, name = 'input'): Table {
  if (!isArrowFile(bytes)) {
    throw new DataRejectedError(
      `expected an Arrow IPC file at ${name}, found ${bytes.length} bytes without the ARROW1 magic`,
    );
  }
  return tableFromIPC(bytes);
}

export function writeArrowTable(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

/**
 * The same bytes as `writeArrowTable`, as a stream for `BlobStore.put`: the writer queues views of the
 * record batches' buffers and the stream copies them out in small chunks, so the whole file is never one
 * buffer (at 1M rows that buffer was ~270 MiB on top of the table).
 */
export function writeArrowTableStream(table: Table): Readable {
  return writeArrowBatchesStream(table.schema, table.batches);
}

/**
 * An Arrow IPC file of `schema` and the record batches of `batches`, encoded as they arrive: with a
 * batch source that produces them one at a time, only the batches not yet consumed by the reader of
 * the stream are held. A failing source destroys the stream with its error.
 */
export function writeArrowBatchesStream(
  schema: Schema,
  batches: Iterable<RecordBatch> | AsyncIterable<RecordBatch>,
): Readable {
  const writer = new RecordBatchFileWriter();
  writer.reset(undefined, schema);
  // Readable.from over the writer's async iterator, not apache-arrow's toNodeStream: that one exists only
  // when the package's Node entry point is loaded, which a bundled service does not get.
  const stream = Readable.from(writer, { objectMode: false });
  void (async () => {
    try {
      for await (const batch of batches) {
        if (stream.destroyed) return;
        writer.write(batch);
      }
      writer.close();
    } catch (error) {
      writer.abort(error);
      stream.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  return stream;
}

/**
 * DuckDB's row group. An insert of a part leaves its last row group partly filled, and the first checkpoint
 * of a later read-write opening rewrote the table to merge those: at 1M rows, parts of the transformer's
 * ~131k-row batches left 11 row groups instead of 9, the load took 7.2-8.2 s and the analyze stage's
 * closing 1.2 s more; parts of exactly one row group: 4.7-4.8 s, and 15 ms.
 */
export const DUCKDB_ROW_GROUP_ROWS = 122_880;

/** Cells of a full batch: a row group of 32 columns. */
const BATCH_CELLS = DUCKDB_ROW_GROUP_ROWS * 32;

/**
 * Rows per record batch (the transformer's output) and per Parquet part (a load) of a table of `columns`
 * columns: a DuckDB row group, but no more than BATCH_CELLS cells (and no fewer than 2,048 rows). The same
 * number on both sides lets a load hand the transformer's batches on as they are (`arrowToParquetParts`).
 * A batch is held whole, several times over, while it is written or converted: 131,072 rows of 1,000
 * columns were 3 GB of the transformer's memory, and as one Parquet part the loader peaked at 4.4 GB while
 * DuckDB ran out of its 1 GB (at 4,096 rows a part: 1.8 GB, and the load fits).
 */
export function batchRowsFor(columns: number): number {
  return Math.min(DUCKDB_ROW_GROUP_ROWS, Math.max(2048, Math.floor(BATCH_CELLS / Math.max(1, columns))));
}

/** The schema of an Arrow IPC file, without reading its record batches. */
export async function readArrowSchema(input: ArrowInput, name = 'input'): Promise<Schema> {
  const file = await openIpcFile(input, name);
  await file.close();
  return file.schema;
}

/**
 * Where a part goes, which decides its encoding: `upload` (the BigQuery load's parts cross a network: zstd,
 * with dictionaries, the fewest bytes) or `local` (the DuckDB load reads them where they are written, and
 * both sides are CPU-bound: neither compressed nor dictionary-encoded; its load of 1M rows took ~15% less
 * time than with zstd and dictionaries, for ~100 MiB more peak RSS, bench/RESULTS.md).
 */
export type PartUse = 'upload' | 'local';

/**
 * An Arrow IPC file -> Parquet files (encoded for `use`, an upload's by default) of exactly `partRows` rows
 * each but the last (by default `batchRowsFor` its columns, the transformer's batch), in row order; a table
 * without rows gives one part with its schema. A part is the file's own messages (`openIpcFile`): only a
 * record batch that lies across a part's edge is decoded, and its slices encoded again, which the
 * transformer's batches never need.
 * parquet-wasm's heap grows to the largest conversion it has done and never shrinks, and the conversion
 * holds the part's IPC stream: converting a part at a time bounds both by the part, and a local file
 * input is read only as far as the part being converted.
 */
export async function* arrowToParquetParts(
  input: ArrowInput,
  rowsPerPart: number | undefined = undefined,
  check: ParquetPartsCheck = {},
  use: PartUse = 'upload',
): AsyncGenerator<Uint8Array> {
  const name = check.name ?? 'input';
  const file = await openIpcFile(input, name);
  try {
    const partRows = rowsPerPart ?? batchRowsFor(file.schema.fields.length);
    // One buffer, grown as needed, holds each part's stream in turn: a new buffer a part, filled by a
    // concatenation, cost 0.7 s of page faults and copies at 1M rows.
    const stream = new StreamBuffer(file.prelude);
    const part = () => ipcStreamToParquet(stream.end(), name, use);
    let rows = 0;
    let parts = 0;
    let total = 0;
    for await (const batch of file.batches()) {
      let decoded: RecordBatch | undefined;
      for (let start = 0; start < batch.rows; ) {
        const take = Math.min(batch.rows - start, partRows - rows);
        if (take === batch.rows) await batch.readInto(stream.reserve(batch.length), 0);
        else {
          if (!decoded) {
            const bytes = new Uint8Array(batch.length);
            await batch.readInto(bytes, 0);
            decoded = tableFromIPC(Buffer.concat([file.prelude, bytes, END_OF_STREAM])).batches[0]!;
          }
          const slice = new Table([decoded.slice(start, start + take)]);
          stream.append(messageOf(tableToIPC(slice, 'stream'), MessageHeader.RecordBatch));
        }
        start += take;
        rows += take;
        total += take;
        if (rows === partRows) {
          yield await part();
          parts++;
          rows = 0;
        }
      }
    }
    if (rows > 0 || parts === 0) yield await part();
    if (check.expectedRows !== undefined && total !== check.expectedRows) {
      throw new DataRejectedError(
        `expected ${check.expectedRows} rows in ${name} as its manifest says, found ${total}`,
        check.name === undefined ? {} : { objectKey: check.name },
      );
    }
  } finally {
    await file.close();
  }
}

/** An IPC stream being built: the prelude, then messages; `end` gives it whole and starts the next. */
class StreamBuffer {
  private bytes: Uint8Array = new Uint8Array(0);
  private used = 0;

  constructor(private readonly prelude: Uint8Array) {
    this.append(prelude);
  }

  /** `length` bytes at the end of the stream, to be filled by the caller. */
  reserve(length: number): Uint8Array {
    const needed = this.used + length;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.used = needed;
    return this.bytes.subarray(needed - length, needed);
  }

  append(message: Uint8Array): void {
    this.reserve(message.length).set(message);
  }

  /** The stream with its end-of-stream marker; valid until the next call of any method. */
  end(): Uint8Array {
    this.append(END_OF_STREAM);
    const stream = this.bytes.subarray(0, this.used);
    this.used = this.prelude.length; // the prelude stays in place for the next stream
    return stream;
  }
}

/**
 * What `arrowToParquetParts` checks once it has read every batch (so the rows are counted on the way, not
 * in a pass of their own): a different row count is a DataRejectedError after the last part, which a
 * warehouse gets before it commits anything.
 */
export interface ParquetPartsCheck {
  expectedRows?: number;
  /** The object key the file came from, for the message. */
  name?: string;
}

/** The check of a warehouse table load that says what it expects (`TableLoad.expect`). */
export function partsCheck(load: { expect?: { rows: number; objectKey: string } }): ParquetPartsCheck {
  return load.expect ? { expectedRows: load.expect.rows, name: load.expect.objectKey } : {};
}

/**
 * parquet-wasm, loaded on first use: compiling its WebAssembly took ~150 ms of every start of the
 * transformer, which converts through Parquet only on its rare fallback route.
 */
let parquetWasm: Promise<typeof import('parquet-wasm/node')> | undefined;
const loadParquet = () => {
  parquetWasm ??= import('parquet-wasm/node');
  return parquetWasm;
};

/**
 * Loads parquet-wasm now, for a process that will convert soon (the loader, once listening): ~110 ms spent
 * while the run's first stages work rather than on its first load's clock. A failure is the first use's.
 */
export function preloadParquet(): void {
  loadParquet().catch(() => undefined);
}

async function ipcStreamToParquet(stream: Uint8Array, name: string, use: PartUse): Promise<Uint8Array> {
  const parquet = await loadParquet();
  let table: ReturnType<typeof parquet.Table.fromIPCStream>;
  try {
    table = parquet.Table.fromIPCStream(stream);
  } catch (error) {
    throw new DataRejectedError(`the Arrow IPC file at ${name} cannot be read: ${String(error)}`, {
      cause: error,
      objectKey: name,
    });
  }
  // A part is read once, whole: page and chunk statistics would only cost its writing (0.5-0.8 s at 1M rows).
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(use === 'local' ? parquet.Compression.UNCOMPRESSED : parquet.Compression.ZSTD)
    .setDictionaryEnabled(use === 'upload')
    .setStatisticsEnabled(parquet.EnabledStatistics.None)
    .build();
  return parquet.writeParquet(table, properties);
}

/** Parquet bytes -> Arrow table. */
export async function parquetToArrow(bytes: Uint8Array): Promise<Table> {
  const parquet = await loadParquet();
  return tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
}
