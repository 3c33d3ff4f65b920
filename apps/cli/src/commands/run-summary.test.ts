import { describe, expect, test } from 'vitest';
import { analysisLine, tableLine } from './run';

describe('the run summary as etl run prints it', () => {
  test("a table's schema changes and guesses each get a line under it", () => {
    const line = tableLine({
      name: 'ventas',
      files: ['ventas.csv'],
      rowsIn: 3,
      rowsLoaded: 3,
      rowsQuarantined: 0,
      rowsDuplicate: 0,
      schemaChanges: [{ change: 'added', column: 'canal', message: 'column canal added' }],
      guesses: [{ column: 'fecha', message: 'column fecha read as %d/%m/%Y' }],
    });
    expect(line).toBe(
      '  ventas: 3 in, 3 loaded, 0 quarantined, 0 duplicates (from ventas.csv)\n' +
        '    schema: column canal added\n' +
        '    guess: column fecha read as %d/%m/%Y\n',
    );
  });

  test('outputs skipped for one reason share it', () => {
    const line = analysisLine({
      status: 'skipped',
      skipped: [
        { output: 'forecast', reason: 'no event time' },
        { output: 'segments', reason: 'no customer column' },
        { output: 'anomalies', reason: 'no event time' },
      ],
    });
    expect(line).toBe(
      'analysis: skipped (forecast, anomalies skipped: no event time; segments skipped: no customer column)\n',
    );
  });
});
