/**
 * SQL literals DuckDB reads back as the text they quote, whatever it holds.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { expect, test } from 'vitest';
import { quoteLiteral } from './sql';

test("a literal reads back as its text: quotes, a NUL byte (which ends DuckDB's SQL text), thousands of them", async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const texts = ["O'Brien", 'a\0b', '\0'.repeat(4096), "it's\0'quoted'", 'Zürich ¥ 合计', ''];
    for (const text of texts) {
      const reader = await connection.runAndReadAll(`SELECT ${quoteLiteral(text)} AS v`);
      expect(reader.getRowObjects()[0]!['v']).toBe(text);
    }
    expect(quoteLiteral("O'Brien")).toBe("'O''Brien'");
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
