import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readArrowTable, writeArrowTable } from '@etl/common/arrow';
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { withDuckDb } from './duckdb-session';
import { queryToArrowViaParquet } from './duckdb-to-arrow';
import { copyBits, queryToArrowByVectors, UnsupportedColumnTypeError } from './duckdb-vectors';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'duckdb-vectors-test-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Column-wise plain values, comparable across routes (BigInt kept, typed arrays spread). */
function columnsOf(table: Table): Record<string, unknown[]> {
  return Object.fromEntries(
    table.schema.fields.map((field, i) => [field.name, [...table.getChildAt(i)!].map((v) => v ?? null)]),
  );
}

function schemaOf(table: Table): string[] {
  return table.schema.fields.map((f) => `${f.name}: ${String(f.type)}${f.nullable ? '' : ' not null'}`);
}

async function expectSameAsParquet(
  connection: DuckDBConnection,
  sql: string,
  options: Parameters<typeof queryToArrowByVectors>[2] = {},
): Promise<Table> {
  const viaParquet = await queryToArrowViaParquet(connection, sql, path.join(scratch, 'expected.parquet'));
  const viaVectors = await queryToArrowByVectors(connection, sql, options);
  expect(schemaOf(viaVectors)).toEqual(schemaOf(viaParquet));
  expect(viaVectors.numRows).toBe(viaParquet.numRows);
  expect(columnsOf(viaVectors)).toEqual(columnsOf(viaParquet));
  // And the IPC file round-trips to the same values.
  expect(columnsOf(readArrowTable(writeArrowTable(viaVectors)))).toEqual(columnsOf(viaParquet));
  return viaVectors;
}

const withDb = <T>(work: (c: DuckDBConnection) => Promise<T>) =>
  withDuckDb({ threads: 2, memoryLimit: '512MB' }, scratch, work);

// Every type the transformer produces, NULL in every column every 7th row, strings inline (<= 12 bytes),
// exactly 12 and 13 bytes, long, multi-byte, long in some rows and in every row.
const ALL_TYPES_SQL = (rows: number) => `
  SELECT
    CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1000003 - 5000000000 END::BIGINT AS big,
    CASE WHEN i % 7 = 1 THEN NULL ELSE i - 100 END::INTEGER AS int,
    CASE WHEN i % 7 = 2 THEN NULL ELSE i / 3.0 END::DOUBLE AS dbl,
    CASE WHEN i % 7 = 3 THEN NULL ELSE DATE '1969-12-25' + (i % 40000)::INTEGER END AS day,
    CASE WHEN i % 7 = 4 THEN NULL ELSE TIMESTAMP '2024-02-29 12:34:56.789012' + to_seconds(i) END AS ts,
    CASE WHEN i % 7 = 5 THEN NULL ELSE i % 3 = 0 END AS flag,
    CASE WHEN i % 7 = 6 THEN NULL ELSE repeat('é', (i % 9)::INTEGER) || repeat('x', (i % 30)::INTEGER) END AS text,
    CASE WHEN i % 5 = 0 THEN NULL WHEN i % 4 = 0 THEN 'Office Supplies' WHEN i % 4 = 1 THEN 'twelve bytes'
         WHEN i % 4 = 2 THEN 'thirteen byte' ELSE 'Zoë – ☕ 𝄞 Ångström' END AS category,
    CASE WHEN i % 11 = 0 THEN '' ELSE 'US-2024-' || i END AS order_id,
    CASE WHEN i % 2 = 0 THEN repeat('ab', 40) || i WHEN i % 3 = 0 THEN NULL ELSE 'short' END AS sometimes_long,
    repeat('Ünïcödé ', 7) || i AS always_long
  FROM range(${rows}) t(i)`;

describe('queryToArrowByVectors', () => {
  test('matches the Parquet route on every type, with NULLs, over several chunks and batches of exactly batchRows rows', async () => {
    await withDb(async (connection) => {
      // 3,001 rows a batch: chunks are split at bit offsets inside a byte of their validity masks.
      const table = await expectSameAsParquet(connection, ALL_TYPES_SQL(10_000), { batchRows: 3001 });
      expect(table.batches.map((b) => b.numRows)).toEqual([3001, 3001, 3001, 997]);
      expect(table.getChild('category')!.nullCount).toBe(2000);
      // A filter leaves chunks partly filled: batches are still exact.
      const filtered = await expectSameAsParquet(
        connection,
        `SELECT * FROM (${ALL_TYPES_SQL(10_000)}) WHERE big IS NULL OR big % 3 <> 0`,
        { batchRows: 2500 },
      );
      expect(filtered.batches.slice(0, -1).every((b) => b.numRows === 2500)).toBe(true);
      expect(filtered.batches.at(-1)!.numRows).toBeLessThanOrEqual(2500);
    });
  });

  test('matches with one batch per chunk, and without the ENUM route', async () => {
    await withDb((connection) =>
      expectSameAsParquet(connection, ALL_TYPES_SQL(5000), { batchRows: 1, dictionaryText: false }),
    );
  });

  test('low-cardinality text goes through ENUMs (1-, 2-byte codes), which are dropped afterwards with the temporary table', async () => {
    await withDb(async (connection) => {
      const sql = `SELECT CASE WHEN i % 9 = 0 THEN NULL ELSE 'Office Supplies – ' || (i % 300) END AS wide,
                          'Category ' || (i % 5) AS narrow, 'US-2024-' || i AS unique_id, i AS n
                   FROM range(20000) t(i) ORDER BY i DESC`;
      await expectSameAsParquet(connection, sql, { batchRows: 4096 });
      const types = await connection.runAndReadAll(
        "SELECT count(*) FROM duckdb_types() WHERE type_name LIKE '__arrow%'",
      );
      const tables = await connection.runAndReadAll(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__arrow%'",
      );
      expect(Number(types.getRows()[0]![0])).toBe(0);
      expect(Number(tables.getRows()[0]![0])).toBe(0);
    });
  });

  test('a result with a repeated column name is read without ENUMs', async () => {
    await withDb(async (connection) => {
      const table = await queryToArrowByVectors(connection, "SELECT 'x' AS a, 'y' AS a FROM range(100)");
      expect(table.numRows).toBe(100);
    });
  });

  test('an empty result keeps its schema', async () => {
    await withDb(async (connection) => {
      const table = await queryToArrowByVectors(connection, `${ALL_TYPES_SQL(10)} WHERE false`);
      expect(table.numRows).toBe(0);
      expect(schemaOf(table)).toEqual(
        schemaOf(
          await queryToArrowViaParquet(
            connection,
            `${ALL_TYPES_SQL(10)} WHERE false`,
            path.join(scratch, 'e.parquet'),
          ),
        ),
      );
      expect(readArrowTable(writeArrowTable(table)).numRows).toBe(0);
    });
  });

  test('all-NULL columns and a single row', async () => {
    await withDb(async (connection) => {
      await expectSameAsParquet(
        connection,
        'SELECT NULL::VARCHAR AS s, NULL::BIGINT AS n, NULL::BOOLEAN AS b, NULL::DATE AS d FROM range(3000)',
      );
      await expectSameAsParquet(connection, "SELECT 'only' AS s, 1::BIGINT AS n");
    });
  });

  test('a type it cannot convert is refused before any row is read', async () => {
    await withDb(async (connection) => {
      await expect(
        queryToArrowByVectors(connection, 'SELECT 1.5::DECIMAL(10,2) AS d'),
      ).rejects.toBeInstanceOf(UnsupportedColumnTypeError);
    });
  });

  test('long strings copied in runs: stored order (adjacent in the heap), shuffled order, NULLs and short strings between', async () => {
    await withDb(async (connection) => {
      await connection.run(`CREATE TABLE runs AS SELECT i,
        CASE WHEN i % 5 = 0 THEN NULL WHEN i % 97 = 0 THEN 'short' ELSE 'CA-2016-' || lpad(i::VARCHAR, 9, '0') END AS id
        FROM range(10000) t(i)`);
      const stored = await expectSameAsParquet(connection, 'SELECT id FROM runs', { scanOnly: true });
      expect(stored.getChildAt(0)!.get(1)).toBe('CA-2016-000000001');
      await expectSameAsParquet(connection, 'SELECT id FROM runs ORDER BY hash(i)', { batchRows: 4096 });
      await connection.run('DROP TABLE runs');
    });
  });

  test('with scanOnly the ENUM passes read the query itself instead of a temporary copy', async () => {
    await withDb(async (connection) => {
      await connection.run("CREATE TABLE cats AS SELECT 'Category ' || (i % 5) AS c FROM range(5000) t(i)");
      const statements: string[] = [];
      const recording = new Proxy(connection, {
        get: (target, key) =>
          key === 'run'
            ? (sql: string) => {
                statements.push(sql);
                return target.run(sql);
              }
            : Reflect.get(target, key),
      });
      const sql = "SELECT c FROM cats WHERE c <> 'Category 3'";
      const scanned = await queryToArrowByVectors(recording, sql, { scanOnly: true });
      expect(statements.filter((s) => s.startsWith('CREATE TEMP TABLE'))).toEqual([]);
      const copied = await queryToArrowByVectors(recording, sql);
      expect(statements.filter((s) => s.startsWith('CREATE TEMP TABLE'))).toHaveLength(1);
      expect(columnsOf(scanned)).toEqual(columnsOf(copied));
      expect(scanned.numRows).toBe(4000);
      await connection.run('DROP TABLE cats');
    });
  });

  test('strings of every length around the 12-byte inline limit, one- to four-byte characters', async () => {
    await withDb((connection) =>
      expectSameAsParquet(
        connection,
        `SELECT repeat('x', i::INTEGER) AS ascii, repeat('ß', i::INTEGER) AS two_byte, repeat('☕', (i % 20)::INTEGER) || 'end' AS mixed
         FROM range(0, 60) t(i)`,
      ),
    );
  });
});

describe('copyBits', () => {
  test('copies from and to every bit offset, and a null mask sets every bit', () => {
    const source = Uint8Array.from([0b10110101, 0b01100011, 0b1]);
    const bits = (bytes: Uint8Array, from: number, count: number) =>
      Array.from({ length: count }, (_, i) => (bytes[(from + i) >> 3]! >> ((from + i) & 7)) & 1);
    for (let at = 0; at < 16; at++) {
      for (const count of [0, 1, 7, 8, 9, 17]) {
        for (const from of [0, 3, 8]) {
          const target = new Uint8Array(8);
          copyBits(target, at, source, count, from);
          expect(bits(target, at, count)).toEqual(bits(source, from, count));
          expect(bits(target, 0, at).every((b) => b === 0)).toBe(true);
        }
        const all = new Uint8Array(8);
        copyBits(all, at, null, count);
        expect(bits(all, at, count).every((b) => b === 1)).toBe(true);
        expect(bits(all, at + count, 64 - at - count).every((b) => b === 0)).toBe(true);
      }
    }
  });
});
