/**
 * Arrow IPC is the contract between services: always the IPC *file* format (`.arrow`, ARROW1 magic).
 * Parquet is how data enters a warehouse (DuckDB reads it natively, BigQuery load jobs require it), so the
 * two conversions live here, once.
 */
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow';
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

/** Arrow (table or IPC bytes, file or stream) -> Parquet with zstd compression. */
export function arrowToParquet(input: Table | Uint8Array): Uint8Array {
  const stream = isTable(input) ? tableToIPC(input, 'stream') : tableToIPC(tableFromIPC(input), 'stream');
  const wasmTable = parquet.Table.fromIPCStream(stream);
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
