import { describe, expect, test } from 'vitest';
import { analysisLine, notInVersionLine, tableLine } from './run';

describe('the run summary as etl run prints it', () => {
  test("a table's schema changes, notes and guesses each get a line under it", () => {
    const line = tableLine({
      name: 'ventas',
      files: ['ventas.csv'],
      rowsIn: 3,
      rowsLoaded: 3,
      rowsQuarantined: 0,
      rowsDuplicate: 0,
      schemaChanges: [{ change: 'added', column: 'canal', message: 'column canal added' }],
      guesses: [{ column: 'fecha', message: 'column fecha read as %d/%m/%Y' }],
      notes: [{ message: "file ventas.csv: ends with DOS's end-of-file mark" }],
    });
    expect(line).toBe(
      '  ventas: 3 in, 3 loaded, 0 quarantined, 0 duplicates (from ventas.csv)\n' +
        '    schema: column canal added\n' +
        "    note: file ventas.csv: ends with DOS's end-of-file mark\n" +
        '    guess: column fecha read as %d/%m/%Y\n',
    );
  });

  test('a table an earlier version loaded and this one has no file for is named with its rows', () => {
    expect(notInVersionLine({ name: 'rossmann_test', rows: 41, version: '4f2c9a01b7e3d5c6' })).toBe(
      '  not in this version: rossmann_test keeps its 41 rows of version 4f2c9a01b7e3 (no file of this version loads into it)\n',
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

  test("an event log's sales rows are said before what was skipped", () => {
    const line = analysisLine({
      status: 'partial',
      sales: {
        evidence: 'event_type says which rows are sales: only its "purchase" rows (2 of 7) are summed',
      },
      skipped: [{ output: 'forecast', reason: 'the dates span 1 day' }],
    });
    expect(line).toBe(
      'analysis: partial (event_type says which rows are sales: only its "purchase" rows (2 of 7) are summed; forecast skipped: the dates span 1 day)\n',
    );
  });
});
