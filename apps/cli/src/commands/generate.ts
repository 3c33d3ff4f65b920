import { parseArgs } from 'node:util';
import { writeSalesCsv } from '@etl/sample-data';
import { resolveFromCaller, UsageError } from '../args';

export const generateUsage = 'etl generate --rows N --out FILE [--seed S]';

export async function generateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '42' } },
    strict: true,
  });
  const rows = Number(values.rows);
  const seed = Number(values.seed);
  if (!values.out || !Number.isInteger(rows) || rows < 1 || !Number.isInteger(seed)) {
    throw new UsageError(`expected --rows (a positive integer) and --out\nusage: ${generateUsage}`);
  }
  const file = resolveFromCaller(values.out);
  await writeSalesCsv(file, { rows, seed });
  process.stderr.write(`wrote ${rows} rows to ${file}\n`);
  return 0;
}
