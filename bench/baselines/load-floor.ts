/**
 * Baseline (b), the load floor: DuckDB alone inserting the rows our load inserts (every staged table and
 * its quarantine, with the four lineage columns) from `read_parquet` of local files into tables of a fresh
 * warehouse file, in one transaction, committed. The staged Arrow files are converted to Parquet before the
 * clock starts, so the floor has no Arrow reading and no conversion: our load's time over it is the price
 * of the Arrow hand-over and of the load's bookkeeping (slice replace, schema alignment, `_etl_tables`).
 *
 *   node --import tsx bench/baselines/load-floor.ts <stage-dir>
 *
 * `<stage-dir>` is the transform's work folder of bench/stage-worker.ts (its blob store holds the staged
 * files). The time is open + insert + commit; `timingsMs` also gives an explicit `CHECKPOINT` after the
 * commit and the close, which are durability, not loading (see bench/RESULTS.md). DuckDB gets the loader's
 * settings (WAREHOUSE_MEMORY_LIMIT).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { arrowToParquetParts } from '@etl/common/arrow';
import type { TransformResponse } from '@etl/common/contracts';
import { downloadToFile, LocalBlobStore, readStageManifest } from '@etl/common/storage';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import { loaderConfigSchema } from '@etl/loader/config';
import { BENCH_RUN_ID, maxRssMb, printResult } from '../worker-result';

async function main([work]: string[]): Promise<void> {
  if (!work) throw new Error('usage: load-floor.ts STAGE_DIR');
  const config = loaderConfigSchema.parse({ ...process.env, ETL_MODE: 'local', ETL_DATA_DIR: work });
  const store = new LocalBlobStore(path.join(work, 'blobs'));
  const transform = await readStageManifest<TransformResponse>(store, BENCH_RUN_ID, 'transform');
  const scratch = await mkdtemp(path.join(work, 'load-floor-'));
  const database = path.join(scratch, 'warehouse.duckdb');
  try {
    // Untimed: the staged Arrow files as Parquet parts, one list per target table.
    const tables: { name: string; files: string[] }[] = [];
    for (const t of transform.tables) {
      const staged: [string, string][] = [[t.name, t.stagedKey]];
      if (t.kind !== 'features') staged.push([`${t.name}_rejects`, t.quarantineKey]);
      for (const [name, key] of staged) {
        const arrow = path.join(scratch, `${name}.arrow`);
        await downloadToFile(store, key, arrow);
        const files: string[] = [];
        for await (const part of arrowToParquetParts({ path: arrow })) {
          files.push(path.join(scratch, `${name}-${files.length}.parquet`));
          await writeFile(files.at(-1)!, part);
        }
        await rm(arrow);
        tables.push({ name, files });
      }
    }

    const timingsMs: Record<string, number> = {};
    let last = performance.now();
    const lap = (step: string) => {
      const now = performance.now();
      timingsMs[step] = Math.round(now - last);
      last = now;
    };
    const started = last;
    const instance = await DuckDBInstance.create(database, { memory_limit: config.WAREHOUSE_MEMORY_LIMIT });
    const connection = await instance.connect();
    lap('open');
    const lineage = `'local/bench/sales'::VARCHAR AS _source, '${BENCH_RUN_ID}'::VARCHAR AS _run_id, now()::TIMESTAMPTZ AS _loaded_at, 'v1'::VARCHAR AS _source_version`;
    const rows: Record<string, number> = {};
    await connection.run('BEGIN TRANSACTION');
    for (const { name, files } of tables) {
      const source = `read_parquet([${files.map(quoteLiteral).join(', ')}])`;
      const target = quoteIdentifier(name);
      await connection.run(`CREATE TABLE ${target} AS SELECT *, ${lineage} FROM ${source} LIMIT 0`);
      const inserted = await connection.runAndReadAll(
        `INSERT INTO ${target} SELECT *, ${lineage} FROM ${source}`,
      );
      rows[name] = Number(inserted.getRows()[0]?.[0] ?? -1);
    }
    lap('insert');
    await connection.run('COMMIT');
    lap('commit');
    const ms = performance.now() - started;
    await connection.run('CHECKPOINT');
    lap('checkpoint');
    connection.closeSync();
    instance.closeSync();
    lap('close');
    const table = transform.tables[0]!;
    printResult({
      stage: 'load-floor',
      ms,
      maxRssMb: maxRssMb(),
      rowsOut: rows[table.name] ?? -1,
      rowsQuarantined: rows[`${table.name}_rejects`] ?? -1,
      rowsDuplicate: 0,
      report: { timingsMs },
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
