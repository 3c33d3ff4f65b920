/**
 * `csvError`: what DuckDB says of a file it cannot read is the file's 422; a fault of ours is not.
 */
import { describe, expect, test } from 'vitest';
import { csvError } from './parse-csv';

const files = [
  { path: '/tmp/scratch/a.csv', key: 'runs/r1/raw/a.csv' },
  { path: '/tmp/scratch/b.csv', key: 'runs/r1/raw/b.csv' },
];

describe('csvError', () => {
  test("DuckDB's error reading a file is a 422 naming it by its object key", () => {
    const error = new Error(
      'Invalid Input Error: CSV Error on Line: 7\nOriginal Line: 1,2\nfile /tmp/scratch/b.csv: expected 3 fields',
    );
    expect(csvError(error, files)).toMatchObject({
      status: 422,
      code: 'UNPARSEABLE_FILE',
      message: 'could not parse runs/r1/raw/b.csv as CSV: Invalid Input Error: CSV Error on Line: 7',
    });
  });

  test('a JavaScript error or SQL DuckDB cannot bind stays as it is: our bug, not bad data', () => {
    for (const error of [
      new ReferenceError('unpivotedAggregates is not defined'),
      new TypeError("Cannot read properties of undefined (reading 'name')"),
      new Error('Binder Error: Referenced column "v12" not found in FROM clause!'),
      new Error('Parser Error: syntax error at or near ")"'),
      new Error('INTERNAL Error: Attempted to access index 3 within vector of size 3'),
    ]) {
      expect(csvError(error, files)).toBe(error);
    }
  });
});
