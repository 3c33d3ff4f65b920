import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readArrowTable, writeArrowTable } from '@etl/common/arrow';
import { LargeUtf8, makeData, makeVector, Table, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { withDuckDb } from './duckdb-session';
import { queryToArrow, withUtf8Strings } from './duckdb-to-arrow';

describe('queryToArrow', () => {
  test('copies vectors, and takes the Parquet route for a type the vector copy refuses', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'duckdb-to-arrow-test-'));
    try {
      await withDuckDb({ threads: 1 }, scratch, async (connection) => {
        const parquetFile = path.join(scratch, 'out.parquet');
        const direct = await queryToArrow(
          connection,
          "SELECT 1::BIGINT AS n, 'a long text value' AS s",
          parquetFile,
        );
        expect(direct.toArray().map((r) => r.toJSON())).toEqual([{ n: 1n, s: 'a long text value' }]);
        const fallback = await queryToArrow(
          connection,
          'SELECT 1.25::DECIMAL(10,2) AS d, 2::BIGINT AS n',
          parquetFile,
        );
        expect(fallback.numRows).toBe(1);
        expect(fallback.getChild('n')!.get(0)).toBe(2n);
        expect(String(fallback.schema.fields[0]!.type)).toMatch(/Decimal/);
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('withUtf8Strings', () => {
  test('LargeUtf8 columns become Utf8 with the same values and nulls', () => {
    const bytes = Buffer.from('abcdé');
    const large = makeData({
      type: new LargeUtf8(),
      length: 3,
      nullCount: 1,
      nullBitmap: Uint8Array.from([0b101]),
      valueOffsets: BigInt64Array.from([0n, 3n, 3n, 6n]),
      data: bytes,
    });
    const table = new Table({ s: makeVector(large) });
    const fixed = withUtf8Strings(table);
    expect(String(fixed.schema.fields[0]!.type)).toBe('Utf8');
    expect(fixed.getChild('s')!.type).toBeInstanceOf(Utf8);
    const back = readArrowTable(writeArrowTable(fixed));
    expect(back.getChild('s')!.toArray()).toEqual(['abc', null, 'dé']);
  });

  test('a table without LargeUtf8 is returned as is', () => {
    const table = new Table({ s: makeVector(makeData({ type: new Utf8(), length: 0 })) });
    expect(withUtf8Strings(table)).toBe(table);
  });
});
