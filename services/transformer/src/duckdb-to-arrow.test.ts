import { readArrowTable, writeArrowTable } from '@etl/common/arrow';
import { LargeUtf8, makeData, makeVector, Table, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { withUtf8Strings } from './duckdb-to-arrow';

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
