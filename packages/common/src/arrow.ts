/**
 * Arrow IPC is the contract between services: always the IPC *file* format (`.arrow`, ARROW1 magic).
 * Parquet is how data enters a warehouse (DuckDB reads it natively, BigQuery load jobs require it), so the
 * two conversions live here, once.
 */
import { Readable } from 'node:stream';
import {
  type RecordBatch,
  RecordBatchFileWriter,
  type Schema,
  Table,
  tableFromIPC,
  tableToIPC,
} from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { DataRejectedError } from './errors';

const ARROW_MAGIC = 'ARROW1';

export function isArrowFile(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && Buffer.from(bytes.subarray(0, 6)).toString('latin1') === ARROW_MAGIC;
}

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

/** Arrow (table or IPC bytes, file or stream) -> Parquet with zstd compression. */
export function arrowToParquet(input: Table | Uint8Array): Uint8Array {
  return tableToParquet(isTable(input) ? input : tableFromIPC(input));
}

/** Rows per Parquet part of `arrowToParquetParts`: one record batch of the transformer's files. */
export const PARQUET_PART_ROWS = 131_072;

/**
 * Arrow IPC bytes -> Parquet files (zstd) of whole record batches, about `partRows` rows each, in row
 * order; a table without rows gives one part with its schema. parquet-wasm's heap grows to the largest
 * conversion it has done and never shrinks, and `arrowToParquet` holds an IPC stream copy of the whole
 * table besides: converting a part at a time bounds both by the part.
 */
export function* arrowToParquetParts(input: Uint8Array, partRows = PARQUET_PART_ROWS): Generator<Uint8Array> {
  const table = tableFromIPC(input);
  let group: RecordBatch[] = [];
  let rows = 0;
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue;
    group.push(batch);
    rows += batch.numRows;
    if (rows >= partRows) {
      yield tableToParquet(new Table(table.schema, group));
      group = [];
      rows = 0;
    }
  }
  if (group.length > 0 || table.numRows === 0) yield tableToParquet(new Table(table.schema, group));
}

function tableToParquet(table: Table): Uint8Array {
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const properties = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).build();
  return parquet.writeParquet(wasmTable, properties);
}

/** Parquet bytes -> Arrow table. */
export function parquetToArrow(bytes: Uint8Array): Table {
  return tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
}

function isTable(value: Table | Uint8Array): value is Table {
  return !(value instanceof Uint8Array);
}
