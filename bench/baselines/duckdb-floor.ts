/**
 * Baseline (a), the engine floor: DuckDB alone reading the CSV straight into the typed table our
 * transformer planned (`read_csv` with the column types and date format given, `store_rejects` so rows
 * that fail a cast are counted, not fatal) and writing it as Parquet with `COPY`. No trimming, missing
 * tokens, line numbers, quarantine messages, de-duplication or Arrow: the least work DuckDB can do for
 * this output, so our transform's time over it is the price of the cleaning and the hand-over.
 *
 *   node --import tsx bench/baselines/duckdb-floor.ts <work-dir> <csv-file> <plan.json>
 *
 * plan.json holds the transform report's `columns` and `files` (for the encoding: DuckDB reads only UTF-8
 * here, its `latin-1` refuses Windows-1252's 0x80-0x9F, so a Windows-1252 file is transcoded to a UTF-8
 * copy first, outside the timing, as our transform does inside its). Rows written must be
 * our rowsOut + rowsDuplicate (the floor keeps duplicates), rejected rows our rowsQuarantined.
 * DuckDB gets the transformer's settings (DUCKDB_THREADS, DUCKDB_MEMORY_LIMIT).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { DuckDbWarehouse, quoteLiteral } from '@etl/common/warehouse';
import { transformerConfigSchema } from '@etl/transformer/config';
import { maxRssMb, printResult } from '../worker-result';

interface PlannedColumn {
  name: string;
  type: string;
  format: string | null;
}

interface Plan {
  columns: PlannedColumn[];
  files: { encoding: string }[];
}

/** The `read_csv` call for the planned types; dates share one format (read_csv has one `dateformat`). */
export function typedReadCsv(csv: string, plan: Plan): string {
  const columns = `{${plan.columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ')}}`;
  const dateFormats = [...new Set(plan.columns.filter((c) => c.type === 'DATE').map((c) => c.format))];
  if (dateFormats.length > 1) {
    throw new Error(
      `the floor needs one date format for every DATE column, the plan has ${dateFormats.join(', ')}`,
    );
  }
  const dateFormat = dateFormats[0] ? `, dateformat = ${quoteLiteral(dateFormats[0])}` : '';
  return `read_csv(${quoteLiteral(csv)}, auto_detect = false, header = true, delim = ',', quote = '"', escape = '"', columns = ${columns}${dateFormat}, store_rejects = true)`;
}

/** A UTF-8 copy of a Windows-1252 file. */
async function toUtf8(file: string, target: string): Promise<string> {
  const decoder = new TextDecoder('windows-1252');
  const out = createWriteStream(target);
  for await (const chunk of createReadStream(file))
    out.write(decoder.decode(chunk as Buffer, { stream: true }));
  out.end(decoder.decode());
  await finished(out);
  return target;
}

async function main([work, csv, planFile]: string[]): Promise<void> {
  if (!work || !csv || !planFile) throw new Error('usage: duckdb-floor.ts WORK CSV PLAN_JSON');
  const config = transformerConfigSchema.parse({ ...process.env, ETL_MODE: 'local' });
  const plan = JSON.parse(await readFile(planFile, 'utf8')) as Plan;
  const database = path.join(work, 'floor.duckdb');
  const parquet = path.join(work, 'floor.parquet');
  for (const file of [database, `${database}.wal`, parquet]) await rm(file, { force: true });
  const settings: Record<string, string> = { memory_limit: config.DUCKDB_MEMORY_LIMIT };
  if (config.DUCKDB_THREADS !== undefined) settings['threads'] = String(config.DUCKDB_THREADS);
  const duckdb = new DuckDbWarehouse({ file: database, settings });

  const input =
    plan.files[0]?.encoding === 'windows-1252' ? await toUtf8(csv, path.join(work, 'floor-input.csv')) : csv;
  const started = performance.now();
  // One call, so one connection: the reject tables are temporary, per connection.
  const [rejected] = await duckdb.query(
    `COPY (SELECT * FROM ${typedReadCsv(input, plan)}) TO ${quoteLiteral(parquet)} (FORMAT parquet);
     SELECT count(*) AS n FROM (SELECT DISTINCT file_id, line FROM reject_errors)`,
  );
  const ms = performance.now() - started;
  const [written] = await duckdb.query(`SELECT count(*) AS n FROM read_parquet(${quoteLiteral(parquet)})`);
  printResult({
    stage: 'duckdb-floor',
    ms,
    maxRssMb: maxRssMb(),
    rowsOut: Number(written?.['n'] ?? -1),
    rowsQuarantined: Number(rejected?.['n'] ?? -1),
    rowsDuplicate: 0,
  });
  for (const file of [database, `${database}.wal`, parquet, path.join(work, 'floor-input.csv')]) {
    await rm(file, { force: true });
  }
}

await main(process.argv.slice(2));
