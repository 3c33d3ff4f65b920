/**
 * DuckDB query -> apache-arrow Table by copying vector memory, chunk by chunk, into Arrow record batches
 * (see /work/shared/reference/perf-notes.md for the measurements behind it).
 *
 * The raw route through @duckdb/node-bindings: `vector_get_data` is a view of a vector's memory, so
 * fixed-width columns (BIGINT, DOUBLE, DATE as int32 days, TIMESTAMP as int64 microseconds, ...) are copied
 * straight into Arrow buffers; `vector_get_validity` is DuckDB's LSB-first validity mask (like Arrow's
 * null bitmap, `null` when every row of the chunk is valid). Traps handled here:
 *
 * - Text is a 16-byte struct per row (4-byte length, then the bytes inline up to 12 bytes, else a prefix
 *   and a pointer). The struct of a NULL row is garbage: validity is checked before a row is read, as
 *   reading a garbage pointer kills the process.
 * - Vector memory belongs to the data chunk: every view is copied before the next chunk is fetched, and
 *   the chunk object stays referenced (`chunk` below) while its vectors are read.
 * - Streamed chunks are not always 2048 rows, so validity bits are copied at any bit offset.
 *
 * A string longer than 12 bytes costs one native call (`get_data_from_pointer`, ~0.8 us with its garbage:
 * 5-6 s per million rows of retail data). Text columns with few distinct values avoid it: they are read as
 * DuckDB ENUMs (fixed-width dictionary codes) and expanded here into the same Utf8 column, each distinct
 * value crossing the native boundary once. The query is then materialised once in a temporary table
 * (unless it is a plain scan), its first rows scanned for an approximate distinct count of every text
 * column, the whole for the distinct values of the chosen ones, then read. A result of fewer than
 * MIN_ENUM_ROWS rows is read as it is. Reading text in
 * 12-character `substring` pieces (all inline) was measured too and dropped: it costs DuckDB more than it
 * saves (bench/RESULTS.md).
 *
 * Arrow types are those of the Parquet route (`duckdb-to-arrow.ts`): BIGINT -> Int64, INTEGER -> Int32,
 * SMALLINT -> Int16, TINYINT -> Int8 (and unsigned), DOUBLE -> Float64, FLOAT -> Float32, DATE ->
 * Date32<DAY>, TIMESTAMP -> Timestamp<MICROSECOND>, TIME -> Time<MICROSECOND>, BOOLEAN -> Bool, VARCHAR -> Utf8. Any other
 * type is refused with `UnsupportedColumnTypeError`, so the caller can take the Parquet route.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import { batchRowsFor } from '@etl/common/arrow';
import { duckdb } from '@etl/common/duckdb';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import {
  Bool,
  type Data,
  type DataType,
  DateDay,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
} from 'apache-arrow';
import { aggregateRow } from './duckdb-session';

type RawChunk = DuckDBDataChunk['chunk'];
type RawVector = object;

/** The few @duckdb/node-bindings functions used here (the package node-api is built on). */
interface NodeBindings {
  data_chunk_get_vector(chunk: RawChunk, columnIndex: number): RawVector;
  vector_get_data(vector: RawVector, byteCount: number): Uint8Array;
  vector_get_validity(vector: RawVector, byteCount: number): Uint8Array | null;
  get_data_from_pointer(buffer: ArrayBuffer, pointerOffset: number, byteCount: number): Uint8Array;
}

const { DuckDBEnumType, DuckDBTypeId } = duckdb();
// @duckdb/node-bindings is resolved through @duckdb/node-api, whose dependency it is, so that exactly the
// binary node-api uses is loaded.
const requireHere = createRequire(import.meta.url);
const bindings = createRequire(requireHere.resolve('@duckdb/node-api'))(
  '@duckdb/node-bindings',
) as NodeBindings;

export class UnsupportedColumnTypeError extends Error {
  constructor(column: string, type: string) {
    super(`column ${column} has DuckDB type ${type}, which the vector copy does not convert to Arrow`);
    this.name = 'UnsupportedColumnTypeError';
  }
}

export interface VectorsToArrowOptions {
  /**
   * Rows per Arrow record batch, exactly, but the last (a chunk is split at a batch's edge); by default
   * DuckDB's row group, fewer for a result of more than 32 columns (`batchRowsFor`).
   */
  batchRows?: number;
  /** Read low-cardinality text columns as ENUMs (see above); on by default. */
  dictionaryText?: boolean;
  /** A text column is read as an ENUM when (approximate) distinct values * minRepeats <= rows. */
  minRepeats?: number;
  /**
   * The query is a filter over stored tables, cheaper to run once per pass than to store: the ENUM
   * passes then read it directly instead of a temporary copy.
   */
  scanOnly?: boolean;
}

const DEFAULT_MIN_REPEATS = 8;
/** A result of fewer rows is read as plain text: the ENUMs' statements would cost more than they save. */
const MIN_ENUM_ROWS = 10_000;
const MAX_ENUM_VALUES = 65_535;
const ENUM_SAMPLE_ROWS = 131_072;
const STRING_STRUCT_BYTES = 16;
const STRING_INLINE_BYTES = 12;

interface FixedKind {
  kind: 'fixed';
  width: number;
  arrow: () => DataType;
}

interface ColumnSpec {
  name: string;
  arrow: DataType;
  read:
    | FixedKind
    | { kind: 'bool' }
    | { kind: 'text' }
    | { kind: 'enum'; width: number; values: Uint8Array[] };
}

const FIXED: Partial<Record<DuckDB.DuckDBTypeId, FixedKind>> = {
  [DuckDBTypeId.TINYINT]: { kind: 'fixed', width: 1, arrow: () => new Int8() },
  [DuckDBTypeId.SMALLINT]: { kind: 'fixed', width: 2, arrow: () => new Int16() },
  [DuckDBTypeId.INTEGER]: { kind: 'fixed', width: 4, arrow: () => new Int32() },
  [DuckDBTypeId.BIGINT]: { kind: 'fixed', width: 8, arrow: () => new Int64() },
  [DuckDBTypeId.UTINYINT]: { kind: 'fixed', width: 1, arrow: () => new Uint8() },
  [DuckDBTypeId.USMALLINT]: { kind: 'fixed', width: 2, arrow: () => new Uint16() },
  [DuckDBTypeId.UINTEGER]: { kind: 'fixed', width: 4, arrow: () => new Uint32() },
  [DuckDBTypeId.UBIGINT]: { kind: 'fixed', width: 8, arrow: () => new Uint64() },
  [DuckDBTypeId.FLOAT]: { kind: 'fixed', width: 4, arrow: () => new Float32() },
  [DuckDBTypeId.DOUBLE]: { kind: 'fixed', width: 8, arrow: () => new Float64() },
  [DuckDBTypeId.DATE]: { kind: 'fixed', width: 4, arrow: () => new DateDay() },
  [DuckDBTypeId.TIMESTAMP]: { kind: 'fixed', width: 8, arrow: () => new TimestampMicrosecond() },
  [DuckDBTypeId.TIME]: { kind: 'fixed', width: 8, arrow: () => new TimeMicrosecond() },
};

const ENUM_CODE_WIDTH: Partial<Record<DuckDB.DuckDBTypeId, number>> = {
  [DuckDBTypeId.UTINYINT]: 1,
  [DuckDBTypeId.USMALLINT]: 2,
  [DuckDBTypeId.UINTEGER]: 4,
};

const utf8 = new TextEncoder();

function columnSpec(name: string, type: DuckDBType): ColumnSpec {
  const fixed = FIXED[type.typeId];
  if (fixed) return { name, arrow: fixed.arrow(), read: fixed };
  if (type.typeId === DuckDBTypeId.BOOLEAN) return { name, arrow: new Bool(), read: { kind: 'bool' } };
  if (type.typeId === DuckDBTypeId.VARCHAR) return { name, arrow: new Utf8(), read: { kind: 'text' } };
  if (type instanceof DuckDBEnumType) {
    const width = ENUM_CODE_WIDTH[type.internalTypeId];
    if (width === undefined) throw new UnsupportedColumnTypeError(name, type.toString());
    const values = type.values.map((value) => utf8.encode(value));
    return { name, arrow: new Utf8(), read: { kind: 'enum', width, values } };
  }
  throw new UnsupportedColumnTypeError(name, type.toString());
}

/**
 * Copies `count` bits of `source` from bit `from` into `target` from bit `at`; `source` null = all set.
 * A `from` inside a byte (only where a chunk is split at a batch's edge) is copied a bit at a time.
 */
export function copyBits(
  target: Uint8Array,
  at: number,
  whole: Uint8Array | null,
  count: number,
  from = 0,
): void {
  if (count === 0) return;
  if (whole === null) {
    setBits(target, at, count);
    return;
  }
  if (from & 7) {
    for (let bit = 0; bit < count; bit++) {
      if (isValid(whole, from + bit)) target[(at + bit) >> 3]! |= 1 << ((at + bit) & 7);
    }
    return;
  }
  const source = whole.subarray(from >> 3);
  const shift = at & 7;
  let byte = at >> 3;
  const fullBytes = count >> 3;
  if (shift === 0) {
    target.set(source.subarray(0, fullBytes), byte);
    byte += fullBytes;
  } else {
    for (let i = 0; i < fullBytes; i++, byte++) {
      const bits = source[i]!;
      target[byte]! |= (bits << shift) & 0xff;
      target[byte + 1]! |= bits >> (8 - shift);
    }
  }
  for (let bit = fullBytes * 8; bit < count; bit++) {
    if ((source[bit >> 3]! >> (bit & 7)) & 1) {
      const t = at + bit;
      target[t >> 3]! |= 1 << (t & 7);
    }
  }
}

function setBits(target: Uint8Array, at: number, count: number): void {
  let bit = at;
  const end = at + count;
  while (bit < end && bit & 7) {
    target[bit >> 3]! |= 1 << (bit & 7);
    bit++;
  }
  const fullEnd = end & ~7;
  if (bit < fullEnd) {
    target.fill(0xff, bit >> 3, fullEnd >> 3);
    bit = fullEnd;
  }
  for (; bit < end; bit++) target[bit >> 3]! |= 1 << (bit & 7);
}

function countNulls(bitmap: Uint8Array, length: number): number {
  let valid = 0;
  const fullBytes = length >> 3;
  for (let i = 0; i < fullBytes; i++) valid += POPCOUNT[bitmap[i]!]!;
  for (let bit = fullBytes * 8; bit < length; bit++) valid += (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  return length - valid;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

const isValid = (validity: Uint8Array | null, row: number): boolean =>
  validity === null || ((validity[row >> 3]! >> (row & 7)) & 1) === 1;

const readUint32 = (data: Uint8Array, at: number): number =>
  (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;

/**
 * One column of a record batch being built. Its buffers start at `capacity` rows and double as rows come:
 * a batch's full size (128k rows) allocated up front for each column of a 100-row result was ~40 MB of
 * zeroed memory a query, most of the transform of a small file (bench/RESULTS.md).
 */
class ColumnBuilder {
  private validity: Uint8Array;
  private values: Uint8Array;
  private offsets: Int32Array | undefined;
  private bytes = 0;
  private hasNulls = false;
  length = 0;

  constructor(
    private readonly spec: ColumnSpec,
    private readonly column: number,
    private capacity: number,
  ) {
    this.validity = new Uint8Array(Math.ceil(capacity / 8));
    const read = spec.read;
    if (read.kind === 'fixed') this.values = new Uint8Array(capacity * read.width);
    else if (read.kind === 'bool') this.values = new Uint8Array(Math.ceil(capacity / 8));
    else {
      this.offsets = new Int32Array(capacity + 1);
      this.values = new Uint8Array(capacity * 16);
    }
  }

  /** Appends the chunk's rows `from` to `from + rows`. */
  append(chunk: RawChunk, from: number, rows: number): void {
    const read = this.spec.read;
    const end = from + rows;
    if (this.length + rows > this.capacity) this.reserve(this.length + rows);
    const vector = bindings.data_chunk_get_vector(chunk, this.column);
    const validity = bindings.vector_get_validity(vector, Math.ceil(end / 64) * 8);
    if (validity !== null) this.hasNulls = true;
    copyBits(this.validity, this.length, validity, rows, from);
    switch (read.kind) {
      case 'fixed': {
        // Garbage under NULL rows is harmless for fixed-width values: Arrow ignores them.
        const data = bindings.vector_get_data(vector, end * read.width);
        this.values.set(data.subarray(from * read.width, end * read.width), this.length * read.width);
        break;
      }
      case 'bool': {
        const data = bindings.vector_get_data(vector, end);
        for (let row = from; row < end; row++) {
          if (data[row] && isValid(validity, row)) {
            const bit = this.length + row - from;
            this.values[bit >> 3]! |= 1 << (bit & 7);
          }
        }
        break;
      }
      case 'text':
        this.appendText(bindings.vector_get_data(vector, end * STRING_STRUCT_BYTES), validity, from, end);
        break;
      case 'enum':
        this.appendEnum(bindings.vector_get_data(vector, end * read.width), validity, from, end, read);
        break;
    }
    this.length += rows;
  }

  /**
   * Text: only a valid row's struct is read (the struct of a NULL row is garbage). Long strings whose
   * bytes follow each other in DuckDB's string heap (almost all of them: measured 99.8% on retail data)
   * are copied as one run with one native call; every byte of a run belongs to one of its strings.
   */
  private appendText(data: Uint8Array, validity: Uint8Array | null, from: number, end: number): void {
    const offsets = this.offsets!;
    let runStruct = -1; // struct offset of the run's first string
    let runOut = 0; // where the run's bytes go in `values`
    let runEnd = 0; // address just past the run's last string
    const flush = (): void => {
      if (runStruct < 0) return;
      const size = this.bytes - runOut;
      const bytes = bindings.get_data_from_pointer(
        data.buffer as ArrayBuffer,
        data.byteOffset + runStruct + 8,
        size,
      );
      this.values.set(bytes, runOut);
      runStruct = -1;
    };
    for (let row = from; row < end; row++) {
      if (isValid(validity, row)) {
        const structAt = row * STRING_STRUCT_BYTES;
        const size = readUint32(data, structAt);
        if (size <= STRING_INLINE_BYTES) {
          flush();
          this.appendInline(data, structAt, size);
        } else {
          const address = readUint32(data, structAt + 8) + readUint32(data, structAt + 12) * 2 ** 32;
          if (runStruct >= 0 && address !== runEnd) flush();
          if (runStruct < 0) {
            runStruct = structAt;
            runOut = this.bytes;
          }
          if (this.bytes + size > this.values.length) this.grow(size);
          this.bytes += size;
          runEnd = address + size;
        }
      }
      offsets[this.length + row - from + 1] = this.bytes;
    }
    flush();
  }

  /** ENUM codes -> the dictionary's bytes; a NULL row's code is garbage and is not read. */
  private appendEnum(
    data: Uint8Array,
    validity: Uint8Array | null,
    from: number,
    end: number,
    read: { width: number; values: Uint8Array[] },
  ): void {
    const offsets = this.offsets!;
    const codes =
      read.width === 1
        ? data
        : read.width === 2
          ? new Uint16Array(data.buffer, data.byteOffset, end)
          : new Uint32Array(data.buffer, data.byteOffset, end);
    for (let row = from; row < end; row++) {
      if (isValid(validity, row)) {
        const value = read.values[codes[row]!]!;
        const size = value.length;
        if (this.bytes + size > this.values.length) this.grow(size);
        const values = this.values;
        const at = this.bytes;
        if (size <= 32) for (let i = 0; i < size; i++) values[at + i] = value[i]!;
        else values.set(value, at);
        this.bytes = at + size;
      }
      offsets[this.length + row - from + 1] = this.bytes;
    }
  }

  private appendInline(data: Uint8Array, structAt: number, size: number): void {
    if (this.bytes + size > this.values.length) this.grow(size);
    const values = this.values;
    const at = this.bytes;
    const from = structAt + 4;
    for (let i = 0; i < size; i++) values[at + i] = data[from + i]!;
    this.bytes = at + size;
  }

  /** Room for `rows` rows in every buffer but the text bytes (those grow by themselves, `grow`). */
  private reserve(rows: number): void {
    let capacity = this.capacity * 2;
    while (capacity < rows) capacity *= 2;
    this.capacity = capacity;
    this.validity = resized(this.validity, Math.ceil(capacity / 8));
    const read = this.spec.read;
    if (read.kind === 'fixed') this.values = resized(this.values, capacity * read.width);
    else if (read.kind === 'bool') this.values = resized(this.values, Math.ceil(capacity / 8));
    else {
      const offsets = new Int32Array(capacity + 1);
      offsets.set(this.offsets!);
      this.offsets = offsets;
    }
  }

  private grow(size: number): void {
    let next = this.values.length * 2;
    while (next < this.bytes + size) next *= 2;
    if (next > 0x7fffffff) throw new RangeError('over 2 GiB of text in one record batch: lower batchRows');
    const grown = new Uint8Array(next);
    grown.set(this.values.subarray(0, this.bytes));
    this.values = grown;
  }

  finish(): Data {
    const length = this.length;
    const nullCount = this.hasNulls ? countNulls(this.validity, length) : 0;
    const nullBitmap = nullCount > 0 ? this.validity.slice(0, Math.ceil(length / 8)) : undefined;
    const read = this.spec.read;
    const type = this.spec.arrow;
    if (read.kind === 'fixed') {
      const bytes = this.values.slice(0, length * read.width);
      const ArrayType = (type as DataType & { ArrayType: new (b: ArrayBuffer) => ArrayLike<unknown> })
        .ArrayType;
      return makeData({ type, length, nullCount, nullBitmap, data: new ArrayType(bytes.buffer) } as never);
    }
    if (read.kind === 'bool') {
      const data = this.values.slice(0, Math.ceil(length / 8));
      return makeData({ type: type as Bool, length, nullCount, nullBitmap, data });
    }
    return makeData({
      type: type as Utf8,
      length,
      nullCount,
      nullBitmap,
      valueOffsets: this.offsets!.slice(0, length + 1),
      data: this.values.slice(0, this.bytes),
    });
  }
}

/** `bytes` copied into a zeroed array of `length` bytes. */
function resized(bytes: Uint8Array, length: number): Uint8Array {
  const grown = new Uint8Array(length);
  grown.set(bytes);
  return grown;
}

/** Rows of one DuckDB vector: a result's first batch is sized for one, and grows (`ColumnBuilder`). */
const VECTOR_ROWS = 2048;

/** Streams `result` as record batches of exactly `batchRows` rows but the last. */
async function* readBatches(
  result: DuckDBResult,
  schema: Schema,
  specs: ColumnSpec[],
  batchRows: number,
): AsyncGenerator<RecordBatch> {
  const newBuilders = (capacity: number) => specs.map((spec, i) => new ColumnBuilder(spec, i, capacity));
  // A batch after a full one is sized whole: the result is that large.
  let builders: ColumnBuilder[] | undefined = newBuilders(Math.min(batchRows, VECTOR_ROWS));
  let rows = 0;
  const finish = (): RecordBatch => {
    const children = builders!.map((b) => b.finish());
    const data = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children });
    builders = undefined;
    rows = 0;
    return new RecordBatch(schema, data);
  };
  // DuckDB produces the next chunk (on its own thread) while this one is copied; every fetch returns a
  // chunk of its own, and `chunk` stays referenced until its vectors have been copied.
  let next = result.fetchChunk();
  for (;;) {
    const chunk = await next;
    if (chunk === null || chunk.rowCount === 0) break;
    next = result.fetchChunk();
    next.catch(() => {}); // awaited on the next turn; a copy error below must not leave it unhandled
    for (let from = 0; from < chunk.rowCount; ) {
      const take = Math.min(chunk.rowCount - from, batchRows - rows);
      builders ??= newBuilders(batchRows);
      for (const builder of builders) builder.append(chunk.chunk, from, take);
      from += take;
      rows += take;
      if (rows === batchRows) yield finish();
    }
  }
  if (rows > 0) yield finish();
}

/** A query's schema and its rows as record batches, produced as they are read. */
export interface ArrowBatches {
  schema: Schema;
  /** Read it to the end (or `return()` it): that drops what the query created. */
  batches: AsyncGenerator<RecordBatch>;
}

/**
 * Runs `sql` and streams its rows as Arrow record batches, converting vector memory directly (no
 * Parquet): one batch is held at a time. Throws `UnsupportedColumnTypeError` before reading any row when a
 * column has a type not listed above.
 */
export async function queryToArrowBatches(
  connection: DuckDBConnection,
  sql: string,
  options: VectorsToArrowOptions = {},
): Promise<ArrowBatches> {
  const { sql: finalSql, cleanup } =
    (options.dictionaryText ?? true)
      ? await withEnumText(
          connection,
          sql,
          options.minRepeats ?? DEFAULT_MIN_REPEATS,
          options.scanOnly ?? false,
        )
      : { sql, cleanup: [] };
  const dropCreated = async () => {
    for (const statement of cleanup) await connection.run(statement);
  };
  try {
    const result = await connection.stream(finalSql);
    const names = result.columnNames();
    const specs = result.columnTypes().map((type, i) => columnSpec(names[i]!, type));
    const schema = new Schema(specs.map((s) => new Field(s.name, s.arrow, true)));
    const batchRows = options.batchRows ?? batchRowsFor(specs.length);
    async function* batches(): AsyncGenerator<RecordBatch> {
      try {
        yield* readBatches(result, schema, specs, batchRows);
      } finally {
        await dropCreated();
      }
    }
    return { schema, batches: batches() };
  } catch (error) {
    await dropCreated();
    throw error;
  }
}

/** `queryToArrowBatches` collected into one table. */
export async function queryToArrowByVectors(
  connection: DuckDBConnection,
  sql: string,
  options: VectorsToArrowOptions = {},
): Promise<Table> {
  return collectTable(await queryToArrowBatches(connection, sql, options));
}

/** Streamed batches read to the end into one table (a table without rows keeps the schema). */
export async function collectTable({ schema, batches }: ArrowBatches): Promise<Table> {
  const collected: RecordBatch[] = [];
  for await (const batch of batches) collected.push(batch);
  return collected.length === 0 ? new Table(schema) : new Table(schema, collected);
}

let tempCounter = 0;

/**
 * Rewrites `sql` so that its text columns with few distinct values come out as ENUMs (created here), and
 * returns the statements that drop what was created (types first, then the temporary table).
 */
async function withEnumText(
  connection: DuckDBConnection,
  sql: string,
  minRepeats: number,
  scanOnly: boolean,
): Promise<{ sql: string; cleanup: string[] }> {
  const described = await connection.runAndReadAll(`SELECT * FROM (${sql}) LIMIT 0`);
  const names = described.columnNames();
  const types = described.columnTypes();
  const text = names.filter((_, i) => types[i]!.typeId === DuckDBTypeId.VARCHAR);
  // Columns are addressed by name below: a result with a repeated name is read as it is.
  if (text.length === 0 || new Set(names).size !== names.length) return { sql, cleanup: [] };
  // Unless it is a plain scan, the query runs once, into a temporary table (insertion order kept), and the
  // passes below scan that.
  const id = `__arrow_${process.pid}_${++tempCounter}`;
  const source = scanOnly ? `(${sql})` : quoteIdentifier(id);
  const cleanup: string[] = [];
  if (!scanOnly) {
    await connection.run(`CREATE TEMP TABLE ${source} AS ${sql}`);
    cleanup.push(`DROP TABLE IF EXISTS ${source}`);
  }
  const c = (name: string) => quoteIdentifier(name);
  // Which columns repeat enough is judged on the first rows; the distinct lists below are exact.
  const [counts = []] = (
    await connection.runAndReadAll(
      `SELECT count(*)::BIGINT, ${text.map((n) => `approx_count_distinct(${c(n)})::BIGINT`).join(', ')} FROM (SELECT * FROM ${source} LIMIT ${ENUM_SAMPLE_ROWS})`,
    )
  ).getRows();
  const rows = Number(counts[0] ?? 0);
  const chosen = text.filter((_, t) => {
    const distinct = Number(counts[t + 1] ?? 0);
    return rows >= MIN_ENUM_ROWS && distinct * minRepeats <= rows && distinct <= MAX_ENUM_VALUES;
  });
  const enums = new Map<string, string>();
  if (chosen.length > 0) {
    // Without FILTER, a batch of columns at a time (see countWhere and COLUMN_BATCH): the NULL is dropped here.
    const lists = await aggregateRow(
      connection,
      chosen.map((n, i) => [`list(DISTINCT ${c(n)}) AS l${i}`]),
      (aggregates) => `SELECT ${aggregates.join(', ')} FROM ${source}`,
    );
    for (const [i, name] of chosen.entries()) {
      const values = ((lists[`l${i}`] as Array<string | null> | null) ?? []).filter((v) => v !== null);
      // No value at all, or more than the approximate count promised: the column is read as text.
      if (values.length === 0 || values.length > MAX_ENUM_VALUES) continue;
      const type = quoteIdentifier(`${id}_enum${i}`);
      await connection.run(`CREATE TYPE ${type} AS ENUM (${values.map(quoteLiteral).join(', ')})`);
      cleanup.unshift(`DROP TYPE IF EXISTS ${type}`);
      enums.set(name, type);
    }
  }
  const columns = names.map((name) => {
    const type = enums.get(name);
    return type ? `CAST(${c(name)} AS ${type}) AS ${c(name)}` : c(name);
  });
  return { sql: `SELECT ${columns.join(', ')} FROM ${source}`, cleanup };
}
