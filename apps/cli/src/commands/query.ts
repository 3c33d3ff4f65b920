import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbWarehouse, type Row } from '@etl/common/warehouse';
import { resolveDataDir, UsageError } from '../args';

export const queryUsage = 'etl query [--json] [--write] [--data-dir DIR] "SQL"';

const READ_ONLY = /read-only mode|read only mode/i;

export async function queryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`expected one SQL statement\nusage: ${queryUsage}`);
  const file = path.join(resolveDataDir(values['data-dir']), 'warehouse.duckdb');
  // For reading: a stray DROP or DELETE must not lose loaded rows that the next run (unchanged version,
  // skipped) would not bring back. --write opens it for changes.
  if (!values.write && !existsSync(file)) throw new UsageError(`no warehouse at ${file}: run etl run first`);
  const warehouse = new DuckDbWarehouse({
    file,
    ...(values.write ? {} : { settings: { access_mode: 'READ_ONLY' } }),
  });
  const rows = await warehouse.query(positionals[0]!).catch((error: unknown) => {
    if (!values.write && READ_ONLY.test(String(error)))
      throw new UsageError(
        `etl query opens the warehouse read-only; pass --write to change it (${String(error)})`,
      );
    throw error;
  });
  process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : formatTable(rows));
  return 0;
}

/** A plain aligned text table, numbers right-aligned. */
export function formatTable(rows: Row[]): string {
  if (rows.length === 0) return '(0 rows)\n';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => (row[c] === null ? 'NULL' : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((c) => rows.every((row) => typeof row[c] === 'number' || row[c] === null));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')}\n(${rows.length} rows)\n`;
}
