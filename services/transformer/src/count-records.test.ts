import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CsvRecordCounter, countCsvRecords } from './count-records';
import { withDuckDb } from './duckdb-session';
import { type ParseDialect, readCsvRows } from './parse-csv';

const COMMA: ParseDialect = { delimiter: ',', quote: '"', header: true };

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'count-records-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeCsv(text: string | Buffer): Promise<string> {
  const file = path.join(dir, `${++files}.csv`);
  await writeFile(file, text);
  return file;
}

/** The counter over `text` split into two chunks at every offset, and byte by byte: always the same count. */
function countSplits(text: string, dialect: ParseDialect, columns: number): number {
  const bytes = Buffer.from(text);
  const counts = new Set<number>();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const counter = new CsvRecordCounter(dialect, columns);
    counter.update(bytes.subarray(0, cut));
    counter.update(bytes.subarray(cut));
    counts.add(counter.finish());
  }
  const byByte = new CsvRecordCounter(dialect, columns);
  for (let i = 0; i < bytes.length; i++) byByte.update(bytes.subarray(i, i + 1));
  counts.add(byByte.finish());
  expect([...counts], `chunk boundaries change the count of ${JSON.stringify(text)}`).toHaveLength(1);
  return [...counts][0]!;
}

/** What the transformer's DuckDB read makes of the file: rows + unparseable records, undefined if it refuses. */
async function readWithDuckDb(
  connection: DuckDBConnection,
  file: string,
  dialect: ParseDialect,
  columns: number,
): Promise<number | undefined> {
  await connection.run('DROP TABLE IF EXISTS rejects; DROP TABLE IF EXISTS rows');
  try {
    const read = await readCsvRows(
      connection,
      [{ path: file, key: file }],
      columns,
      dialect,
      'rows',
      (relation, i) => `SELECT *, ${i}::INTEGER AS __file FROM ${relation}`,
    );
    return read.files[0]!.rows + read.files[0]!.unparseable;
  } catch {
    return undefined;
  }
}

const withTestDuckDb = <T>(work: (connection: DuckDBConnection) => Promise<T>) =>
  withDuckDb({ threads: 1, memoryLimit: '256MB' }, dir, work);

/** `text` holds `records` records, by the counter (whatever the chunks), from a file, and as DuckDB reads it. */
async function expectRecords(
  text: string,
  records: number,
  { dialect = COMMA, columns = 2 }: { dialect?: ParseDialect; columns?: number } = {},
): Promise<void> {
  expect(countSplits(text, dialect, columns)).toBe(records);
  const file = await writeCsv(text);
  expect(await countCsvRecords(file, dialect, { columns, highWaterMark: 3 })).toEqual({ records });
  expect(await withTestDuckDb((connection) => readWithDuckDb(connection, file, dialect, columns))).toBe(
    records,
  );
}

describe('countCsvRecords counts records as the transformer reads them with DuckDB', () => {
  test('a line break ends a record; the header is not one; the last needs no line break', async () => {
    await expectRecords('id,name\n1,a\n2,b\n', 2);
    await expectRecords('id,name\n1,a\n2,b', 2);
    await expectRecords('id,name\n1,a\n2,b\n', 3, { dialect: { ...COMMA, header: false } });
    await expectRecords('id,name\n', 0);
    await expectRecords('id,name', 0);
    expect(countSplits('', COMMA, 2)).toBe(0);
  });

  test('CRLF and a bare CR end a record', async () => {
    await expectRecords('id,name\r\n1,a\r\n2,b\r\n', 2);
    await expectRecords('id,name\r\n1,a\r\n2,b', 2);
    await expectRecords('id,name\r1,a\r2,b\r', 2);
  });

  test('line breaks and delimiters inside quotes, and doubled quotes, are text', async () => {
    await expectRecords('id,note\n1,"a\nb"\n2,"c\r\nd,e"\n3,"say ""hi""\nthere"\n4,""""\n', 4);
    await expectRecords('id,note\r\n1,"a\r\nb\nc"\r\n2,x\r\n', 2);
    await expectRecords('"id\nnumber",name\n1,a\n', 1);
  });

  test('with a backslash escape, \\" and \\\\ inside quotes are text, wherever the chunks split them', async () => {
    const backslash = { ...COMMA, escape: '\\' };
    await expectRecords('id,note\n1,"say \\"hi\\"\nthere"\n2,"a \\\\"\n3,x\n', 3, { dialect: backslash });
    await expectRecords('id,note\n1,"\\"\\"\\""\n2,"line\nbreak \\\\\\""\n', 2, { dialect: backslash });
  });

  test('a quote opens only where a field starts, or one space after; elsewhere it is text', async () => {
    await expectRecords('id,size\n1,5" screen\n2,7" screen\n', 2);
    await expectRecords('id,note\n1, "a\nb"\n2,x\n', 2);
    // Two spaces: the quote is text, so the line break ends the record (and `b"` is one more).
    await expectRecords('id,note\n1,  "a\nb"\n2,x\n', 3);
    await expectRecords('id,note\n1,\t"a\nb"\n2,x\n', 3);
  });

  test('after a closing quote, spaces and a quote go on quoting; anything else ends quoting for the field', async () => {
    await expectRecords('id,note\n1,"a" "b\nc"\n2,x\n', 2);
    await expectRecords('id,note\n1,"a"b"\n2,x\n', 2);
    await expectRecords('id,note\n1,"a"b,"c\nd"\n2,x\n', 2);
  });

  test('a quote left open runs to the end of the file: one record', async () => {
    await expectRecords('id,note\n1,x\n2,"open\n3,y\n', 2);
  });

  test('blank lines are not records, whatever the line ending; spaces or a tab make one', async () => {
    await expectRecords('id,name\n\n1,a\n\n\n2,b\n\n', 2);
    await expectRecords('id,name\r\n\r\n1,a\r\n\r\n2,b\r\n\r\n', 2);
    await expectRecords('id,name\r\r1,a\r\r2,b\r\r', 2);
    await expectRecords('\n1,a\n2,b\n', 2, { dialect: { ...COMMA, header: false } });
    await expectRecords('id,name\n1,a\n \n\t\n2,b\n', 4);
    await expectRecords('id,name\n1,a\n  ', 2);
  });

  test('in a one-column file a blank line is a record (DuckDB reads it as NULL)', async () => {
    await expectRecords('id\n1\n\n2\n\n', 4, { columns: 1 });
    await expectRecords('id\r\n1\r\n\r\n2\r\n', 3, { columns: 1 });
    await expectRecords('\n\n1\n', 3, { columns: 1, dialect: { ...COMMA, header: false } });
  });

  test('with a header, the first line is the header even when it is blank', async () => {
    await expectRecords('\nid,name\n1,a\n', 2);
    await expectRecords('\nid\n1\n', 2, { columns: 1 });
  });

  test('where DuckDB strays from these rules, the counts disagree (and the transform refuses the file)', async () => {
    const expectStray = async (text: string, records: number, read: number) => {
      expect(countSplits(text, COMMA, 2)).toBe(records);
      const file = await writeCsv(text);
      expect(await withTestDuckDb((connection) => readWithDuckDb(connection, file, COMMA, 2))).toBe(read);
    };
    // DuckDB takes the line ending from the first line break, here the quoted LF, and then reads no record of
    // the CRLF file, without an error: what the count is for.
    await expectStray('"unit\nprice",qty\r\n1,2\r\n3,4\r\n', 2, 0);
    // An LF in a CRLF file, right after a closing quote, is text to DuckDB: two records make one rejected.
    await expectStray('id,note\r\n1,"a"\n2,b\r\n3,c\r\n', 3, 2);
  });

  test('another quote character: it quotes, and `"` is text', async () => {
    const dialect = { delimiter: '|', quote: "'", header: true };
    await expectRecords("id|note\n1|'a\nb'\n2|'it''s'\n3|\"open\n", 3, { dialect });
    await expectRecords('id;note\n1;"a;\nb"\n', 1, { dialect: { delimiter: ';', quote: '"', header: true } });
  });

  test('a quote or delimiter of more than one byte is refused (DuckDB refuses it first)', () => {
    expect(() => new CsvRecordCounter({ delimiter: ',', quote: '€', header: true }, 2)).toThrow(
      'expected a one-byte CSV quote, got "€" (3 bytes)',
    );
  });

  test('random CSV files with damaged lines: the count is always what DuckDB reads', async () => {
    const random = mulberry32(20251);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    let compared = 0;
    await withTestDuckDb(async (connection) => {
      for (let run = 0; run < 150; run++) {
        const dialect = {
          delimiter: pick([',', ';', '\t', '|']),
          quote: pick(['"', "'"]),
          header: random() < 0.7,
        };
        const columns = pick([1, 2, 3]);
        const lineEnding = pick(['\n', '\r\n', '\r']);
        const text = randomCsv(random, pick, dialect, columns, lineEnding);
        const read = await readWithDuckDb(connection, await writeCsv(text), dialect, columns);
        if (read === undefined) continue;
        compared++;
        expect(countSplits(text, dialect, columns), JSON.stringify({ text, dialect, columns })).toBe(read);
      }
    });
    expect(compared).toBeGreaterThan(100);
  });
});

/**
 * A CSV as real exports write them (fields quoted when they must be, one line ending), with damage real files
 * show: blank and whitespace lines, a field too many or too few, a quote inside a field, text after a closing
 * quote. Not an unbalanced quote: it turns the rest of the file inside out, and where line breaks inside quotes
 * then land outside them, DuckDB reads a line ending unlike the file's as text in some places and refuses the
 * file in others (the count then disagrees, and the transform refuses the file).
 */
function randomCsv(
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
  dialect: ParseDialect,
  columns: number,
  lineEnding: string,
): string {
  const { delimiter, quote } = dialect;
  const lines: string[] = [];
  const units = ['a', '1', ' ', 'é', delimiter, quote, '"', "'", '\n', '\r\n', '\t', '\0'];
  // DuckDB takes the line ending from the first line break, quoted or not (see the test above).
  const firstLineUnits = units.filter((unit) => !/[\r\n]/.test(unit));
  const field = () => {
    let value = '';
    for (let i = Math.floor(random() * 5); i > 0; i--)
      value += pick(lines.length > 0 ? units : firstLineUnits);
    const needsQuotes = /[\r\n]/.test(value) || value.includes(delimiter) || value.includes(quote);
    if (needsQuotes || (value.startsWith(' ') && random() < 0.5)) {
      return `${quote}${value.replaceAll(quote, quote + quote)}${quote}`;
    }
    return value;
  };
  for (let i = Math.floor(random() * 8) + 1; i > 0; i--) {
    const damage = lines.length > 0 ? random() : 1;
    if (damage < 0.08) lines.push('');
    else if (damage < 0.12) lines.push(pick([' ', '\t', '  ']));
    else if (damage < 0.14) lines.push(`${field()}${delimiter}5${quote} screen`);
    else if (damage < 0.16) lines.push(`${quote}a${quote}b${delimiter.repeat(columns - 1)}`);
    else {
      const count = damage < 0.22 ? columns + pick([-1, 1]) : columns;
      lines.push(Array.from({ length: Math.max(count, 1) }, () => field()).join(delimiter));
    }
  }
  return lines.join(lineEnding) + (random() < 0.8 ? lineEnding : '');
}

function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
