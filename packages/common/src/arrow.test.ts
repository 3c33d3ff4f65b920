import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Field, Float64, Schema, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import {
  arrowToParquetParts,
  batchRowsFor,
  isArrowFile,
  parquetToArrow,
  readArrowTable,
  writeArrowBatchesStream,
  writeArrowTable,
  writeArrowTableStream,
} from './arrow';
import { duckdb } from './duckdb';
import { DataRejectedError } from './errors';

describe('Arrow IPC files', () => {
  test('round-trip keeps rows, types and nulls', () => {
    const table = new Table({
      amount: vectorFromArray([1.5, null, 3], new Float64()),
      name: vectorFromArray(['a', 'b', null], new Utf8()),
    });
    const bytes = writeArrowTable(table);
    expect(isArrowFile(bytes)).toBe(true);
    const back = readArrowTable(bytes);
    expect(back.numRows).toBe(3);
    expect(back.getChild('amount')?.toArray()[0]).toBe(1.5);
    expect(back.getChild('name')?.get(2)).toBeNull();
    expect(String(back.schema.fields[1]?.type)).toBe('Utf8');
  });

  test('an empty table with schema metadata survives', () => {
    const schema = new Schema([new Field('x', new Float64(), true)], new Map([['etl.table', 'orders']]));
    const bytes = writeArrowTable(new Table(schema));
    const back = readArrowTable(bytes);
    expect(back.numRows).toBe(0);
    expect(back.schema.metadata.get('etl.table')).toBe('orders');
  });

  test('the streamed IPC file has the same bytes as the buffered one, for several batches and none', async () => {
    const one = tableFromArrays({
      n: Int32Array.from({ length: 1000 }, (_, i) => i),
      s: Array.from({ length: 1000 }, (_, i) => `v${i}`),
    });
    const schema = new Schema([new Field('x', new Float64(), true)], new Map([['etl.table', 'orders']]));
    for (const table of [one.concat(one.slice(0, 10)), new Table(schema)]) {
      const chunks: Buffer[] = [];
      for await (const chunk of writeArrowTableStream(table)) chunks.push(Buffer.from(chunk as Uint8Array));
      const streamed = Buffer.concat(chunks);
      expect(streamed.equals(Buffer.from(writeArrowTable(table)))).toBe(true);
      expect(readArrowTable(streamed).numRows).toBe(table.numRows);
    }
  });

  test('batches from an async source are written as they come, to the same bytes; a failing source fails the stream', async () => {
    const table = tableFromArrays({ n: Int32Array.from({ length: 3000 }, (_, i) => i) });
    const parts = [table.slice(0, 1000), table.slice(1000)].flatMap((t) => t.batches);
    const whole = new Table(table.schema, parts);
    let produced = 0;
    async function* source() {
      for (const batch of parts) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        produced++;
        yield batch;
      }
    }
    const collect = async (stream: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    };
    const streamed = await collect(writeArrowBatchesStream(table.schema, source()));
    expect(produced).toBe(parts.length);
    expect(streamed.equals(Buffer.from(writeArrowTable(whole)))).toBe(true);

    async function* failing() {
      yield parts[0]!;
      throw new Error('chunk 2 could not be read');
    }
    await expect(collect(writeArrowBatchesStream(table.schema, failing()))).rejects.toThrow(
      'chunk 2 could not be read',
    );
  });

  test('bytes that are not an Arrow file are rejected naming the object', () => {
    expect(() => readArrowTable(new Uint8Array(0), 'runs/r1/staged/orders.arrow')).toThrow(DataRejectedError);
    expect(() => readArrowTable(new Uint8Array(0), 'runs/r1/staged/orders.arrow')).toThrow(
      /runs\/r1\/staged\/orders\.arrow, found 0 bytes/,
    );
  });
});

const readParts = (parts: Uint8Array[]) => Promise.all(parts.map(parquetToArrow));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('Parquet bridge', () => {
  test('Arrow -> Parquet -> Arrow keeps the values', async () => {
    const table = tableFromArrays({ amount: Float64Array.from([1, 2, 3]) });
    const [parquet] = (await collect(arrowToParquetParts(writeArrowTable(table)))) as [Uint8Array];
    expect(Buffer.from(parquet.subarray(0, 4)).toString()).toBe('PAR1');
    const back = await parquetToArrow(parquet);
    expect(Array.from(back.getChild('amount')!.toArray() as Float64Array)).toEqual([1, 2, 3]);
  });

  test('parts for an upload are zstd with dictionaries; for a local load neither compressed nor with dictionaries; both read back the same', async () => {
    const table = tableFromArrays({ amount: Float64Array.from({ length: 100 }, (_, i) => i / 4) });
    const dir = await mkdtemp(path.join(tmpdir(), 'parts-'));
    try {
      const connection = await (await duckdb().DuckDBInstance.create(':memory:')).connect();
      for (const use of ['upload', 'local'] as const) {
        const [part] = (await collect(arrowToParquetParts(writeArrowTable(table), undefined, {}, use))) as [
          Uint8Array,
        ];
        const file = path.join(dir, `${use}.parquet`);
        await writeFile(file, part);
        const chunks = await connection.runAndReadAll(
          `SELECT DISTINCT compression, dictionary_page_offset IS NOT NULL FROM parquet_metadata('${file}')`,
        );
        expect(chunks.getRows()).toEqual([use === 'local' ? ['UNCOMPRESSED', false] : ['ZSTD', true]]);
        const back = await parquetToArrow(part);
        expect(Array.from(back.getChild('amount')!.toArray() as Float64Array)).toEqual(
          Array.from({ length: 100 }, (_, i) => i / 4),
        );
      }
      connection.closeSync();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('parts: exactly partRows rows each but the last, batches sliced at their edges, in order; an empty table gives its schema', async () => {
    const one = tableFromArrays({ amount: Float64Array.from([1, 2, 3]) });
    const table = one.concat(tableFromArrays({ amount: Float64Array.from([4]) }), one);
    const parts = await collect(arrowToParquetParts(writeArrowTable(table), 4));
    expect((await readParts(parts)).map((t) => t.numRows)).toEqual([4, 3]);
    const cut = await readParts(await collect(arrowToParquetParts(writeArrowTable(table), 3)));
    expect(cut.map((t) => t.numRows)).toEqual([3, 3, 1]);
    expect(cut.flatMap((t) => Array.from(t.getChild('amount')!.toArray() as Float64Array))).toEqual([
      1, 2, 3, 4, 1, 2, 3,
    ]);
    const oneBatch = tableFromArrays({ amount: Float64Array.from({ length: 10 }, (_, i) => i) });
    const sliced = await readParts(await collect(arrowToParquetParts(writeArrowTable(oneBatch), 3)));
    expect(sliced.map((t) => t.numRows)).toEqual([3, 3, 3, 1]);
    expect(sliced.flatMap((t) => Array.from(t.getChild('amount')!.toArray() as Float64Array))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const values = (await readParts(parts)).flatMap((t) =>
      Array.from(t.getChild('amount')!.toArray() as Float64Array),
    );
    expect(values).toEqual([1, 2, 3, 4, 1, 2, 3]);
    const empty = await collect(arrowToParquetParts(writeArrowTable(one.slice(0, 0))));
    expect(empty).toHaveLength(1);
    expect((await parquetToArrow(empty[0]!)).schema.fields.map((f) => f.name)).toEqual(['amount']);
  });

  test('a local Arrow file gives the same parts as its bytes, read a batch at a time, its rows counted on the way', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'arrow-file-'));
    try {
      const one = tableFromArrays({ amount: Float64Array.from([1, 2, 3]), n: Int32Array.from([7, 8, 9]) });
      const bytes = writeArrowTable(one.concat(one, one));
      const file = path.join(dir, 'staged.arrow');
      await writeFile(file, bytes);
      const fromFile = await collect(arrowToParquetParts({ path: file }, 4));
      const fromBytes = await collect(arrowToParquetParts(bytes, 4));
      expect((await readParts(fromFile)).map((t) => t.numRows)).toEqual([4, 4, 1]);
      const rows = async (parts: Uint8Array[]) =>
        (await readParts(parts)).map((t) => t.toArray().map((r) => r.toJSON()));
      expect(await rows(fromFile)).toEqual(await rows(fromBytes));
      // The rows are counted on the way: the manifest's count passes, another is refused after the last part.
      const key = 'runs/r1/staged/x.arrow';
      expect(
        await collect(arrowToParquetParts({ path: file }, 4, { expectedRows: 9, name: key })),
      ).toHaveLength(3);
      await expect(
        collect(arrowToParquetParts({ path: file }, 4, { expectedRows: 10, name: key })),
      ).rejects.toThrow('expected 10 rows in runs/r1/staged/x.arrow as its manifest says, found 9');
      const empty = path.join(dir, 'empty.arrow');
      await writeFile(empty, writeArrowTable(one.slice(0, 0)));
      expect(await collect(arrowToParquetParts({ path: empty }, 4, { expectedRows: 0 }))).toHaveLength(1);
      const notArrow = path.join(dir, 'x.arrow');
      await writeFile(notArrow, 'id,name\n1,a\n');
      await expect(collect(arrowToParquetParts({ path: notArrow }, 4, { name: key }))).rejects.toThrow(
        /Arrow IPC file at runs\/r1\/staged\/x\.arrow/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a part is bounded by cells, not rows: a row group up to 32 columns, fewer beyond, never under 2,048', () => {
    expect([10, 32, 33, 1_000, 100_000].map(batchRowsFor)).toEqual([122_880, 122_880, 119_156, 3_932, 2_048]);
  });

  test('dictionary columns: every part carries the dictionary, also where a batch is sliced', async () => {
    const one = tableFromArrays({
      s: ['a', 'b', 'a', 'c', 'd', 'c', 'e'],
      n: Int32Array.from({ length: 7 }, (_, i) => i),
    });
    expect(String(one.schema.fields[0]!.type)).toBe('Dictionary<Int32, Utf8>');
    const table = new Table([one.batches[0]!.slice(0, 3), one.batches[0]!.slice(3)]);
    for (const [partRows, expected] of [
      [3, ['a0 b1 a2', 'c3 d4 c5', 'e6']],
      [5, ['a0 b1 a2 c3 d4', 'c5 e6']],
    ] as const) {
      const parts = await readParts(await collect(arrowToParquetParts(writeArrowTable(table), partRows)));
      expect(
        parts.map((t) =>
          t
            .toArray()
            .map((r) => `${r.s}${r.n}`)
            .join(' '),
        ),
      ).toEqual(expected);
    }
  });

  test('a file cut short or missing bytes is refused naming the object, before any part', async () => {
    const bytes = Buffer.from(
      writeArrowTable(tableFromArrays({ n: Int32Array.from({ length: 100 }, (_, i) => i) })),
    );
    const key = 'runs/r1/staged/orders.arrow';
    const parts = (input: Uint8Array) => collect(arrowToParquetParts(input, undefined, { name: key }));
    await expect(parts(bytes.subarray(0, bytes.length - 20))).rejects.toThrow(
      'expected an Arrow IPC file at runs/r1/staged/orders.arrow: it does not end with ARROW1 (is it cut short?)',
    );
    const missing = Buffer.concat([bytes.subarray(0, 8), bytes.subarray(24)]);
    const refused = await parts(missing).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataRejectedError);
    expect(refused).toMatchObject({ status: 422, objectKey: key });
    expect((refused as Error).message).toMatch(
      /^expected an Arrow IPC file at runs\/r1\/staged\/orders\.arrow: /,
    );
  });
});
