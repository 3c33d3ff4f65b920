/**
 * DuckDB query -> apache-arrow Table. Two routes with the same result types (BIGINT -> Int64, DOUBLE ->
 * Float64, DATE -> Date32<DAY>, TIMESTAMP -> Timestamp<MICROSECOND>, TIME -> Time64<MICROSECOND>, VARCHAR -> Utf8, BOOLEAN -> Bool):
 *
 * - by vectors (`duckdb-vectors.ts`, the default): chunks are streamed and their memory copied into Arrow
 *   record batches; no Parquet file, no parquet-wasm heap (which never shrinks once grown).
 * - through Parquet: `COPY (query) TO x.parquet`, then parquet-wasm (`parquetToArrow`). Taken for a
 *   column type the vector copy does not convert. Strings that come back as LargeUtf8 are rebuilt as Utf8
 *   (same bytes, 32-bit offsets) so that every reader of the staged file sees one string type.
 */
import { readFile, rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetToArrow } from '@etl/common/arrow';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import {
  type Data,
  Field,
  makeData,
  makeVector,
  Schema,
  Table,
  Type,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import {
  type ArrowBatches,
  collectTable,
  queryToArrowBatches,
  UnsupportedColumnTypeError,
  type VectorsToArrowOptions,
} from './duckdb-vectors';

/** The query's rows as one table (see `queryToArrowStream` for the routes). */
export async function queryToArrow(
  connection: DuckDBConnection,
  sql: string,
  parquetFile: string,
): Promise<Table> {
  return collectTable(await queryToArrowStream(connection, sql, parquetFile));
}

/** The query's rows as record batches produced while they are read (the Parquet route yields a table's). */
export async function queryToArrowStream(
  connection: DuckDBConnection,
  sql: string,
  parquetFile: string,
  options: Pick<VectorsToArrowOptions, 'scanOnly'> = {},
): Promise<ArrowBatches> {
  try {
    return await queryToArrowBatches(connection, sql, options);
  } catch (error) {
    if (!(error instanceof UnsupportedColumnTypeError)) throw error;
    const table = await queryToArrowViaParquet(connection, sql, parquetFile);
    return {
      schema: table.schema,
      batches: (async function* () {
        yield* table.batches;
      })(),
    };
  }
}

/** The Parquet route: `COPY (sql) TO parquetFile`, read back with parquet-wasm, the file removed. */
export async function queryToArrowViaParquet(
  connection: DuckDBConnection,
  sql: string,
  parquetFile: string,
): Promise<Table> {
  await connection.run(
    `COPY (${sql}) TO ${quoteLiteral(parquetFile)} (FORMAT parquet, COMPRESSION uncompressed)`,
  );
  try {
    return withUtf8Strings(await parquetToArrow(await readFile(parquetFile)));
  } finally {
    await rm(parquetFile, { force: true });
  }
}

/** Replaces LargeUtf8 (and any other non-Utf8 string flavour) columns by Utf8 columns. */
export function withUtf8Strings(table: Table): Table {
  const needsRebuild = (type: { typeId: Type }): boolean => type.typeId === Type.LargeUtf8;
  if (!table.schema.fields.some((field) => needsRebuild(field.type))) return table;
  const columns: Record<string, Vector> = {};
  const fields = table.schema.fields.map((field, i) => {
    const column = table.getChildAt(i)!;
    if (!needsRebuild(field.type)) {
      columns[field.name] = column;
      return field;
    }
    columns[field.name] = largeToUtf8(column);
    return new Field(field.name, new Utf8(), field.nullable, field.metadata);
  });
  const rebuilt = new Table(columns);
  return new Table(new Schema(fields, table.schema.metadata), rebuilt.batches);
}

function largeToUtf8(column: Vector): Vector {
  const chunks = column.data.map((data: Data) => {
    const large = data.valueOffsets as unknown as BigInt64Array;
    const first = large[0] ?? 0n;
    const last = large[large.length - 1] ?? 0n;
    if (last - first > 0x7fffffffn) return undefined; // over 2 GiB of text in one chunk: cannot be Utf8
    // Typed-array conversion of the offsets only; the string bytes and the validity bitmap are shared.
    const valueOffsets = Int32Array.from(large, (offset) => Number(offset - first));
    return makeData({
      type: new Utf8(),
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      valueOffsets,
      data: (data.values as Uint8Array).subarray(Number(first)),
    });
  });
  if (chunks.some((chunk) => chunk === undefined)) return vectorFromArray(column.toArray(), new Utf8());
  return makeVector(chunks as Data<Utf8>[]);
}
