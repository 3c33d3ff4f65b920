/**
 * One stage in its own process, so that the peak RSS it reports is the stage's alone:
 *
 *   node --import tsx bench/stage-worker.ts transform <work-dir> <csv-file>
 *   node --import tsx bench/stage-worker.ts load <work-dir>
 *
 * `transform` puts the CSV in a LocalBlobStore under <work-dir> with an extract manifest (as the extractor
 * would), then times `transform()` alone. `load` times `load()` on the outputs a previous `transform` left
 * in the same <work-dir>, into a fresh DuckDB warehouse file. Both build their dependencies from the
 * service's own config schema (defaults plus the environment), as the service's index.ts does.
 * The last stdout line is a JSON `StageResult`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ExtractResponse } from '@etl/common/contracts';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore, manifestKey, putJson, rawKey, reportKey } from '@etl/common/storage';
import { createWarehouse } from '@etl/common/warehouse';
import { loaderConfigSchema } from '@etl/loader/config';
import { load } from '@etl/loader/stage';
import { transformerConfigSchema } from '@etl/transformer/config';
import { transform } from '@etl/transformer/stage';
import { BENCH_RUN_ID, maxRssMb, printResult, type StageResult } from './worker-result';

const TABLE = 'sales';

async function runTransform(work: string, csv: string): Promise<StageResult> {
  const config = transformerConfigSchema.parse({ ...process.env, ETL_MODE: 'local', ETL_DATA_DIR: work });
  const store = new LocalBlobStore(path.join(work, 'blobs'));
  await rm(path.join(work, 'blobs'), { recursive: true, force: true });
  const name = path.basename(csv);
  const key = rawKey(BENCH_RUN_ID, name);
  await store.put(key, createReadStream(csv));
  const hash = createHash('sha256');
  await pipeline(createReadStream(csv), hash);
  const manifest: ExtractResponse = {
    runId: BENCH_RUN_ID,
    source: `local:${csv}`,
    dataset: { id: 'local/bench/sales', version: 'v1', previousVersion: null, changed: true },
    files: [{ name, key, bytes: (await stat(csv)).size, sha256: hash.digest('hex'), format: 'delimited' }],
    skippedFiles: [],
    manifestKey: manifestKey(BENCH_RUN_ID, 'extract'),
  };
  await putJson(store, manifest.manifestKey, manifest);

  const started = performance.now();
  const response = await transform(
    { runId: BENCH_RUN_ID, table: TABLE, maxRejectRate: 1 },
    {
      store,
      logger: createSilentLogger(),
      tempDir: config.TRANSFORM_TEMP_DIR,
      sampleRows: config.TRANSFORM_SAMPLE_ROWS,
      duckdb: {
        ...(config.DUCKDB_THREADS === undefined ? {} : { threads: config.DUCKDB_THREADS }),
        memoryLimit: config.DUCKDB_MEMORY_LIMIT,
      },
    },
  );
  const ms = performance.now() - started;
  const counts = response.tables[0]!;
  const report = (
    JSON.parse((await store.get(response.reportKey)).toString('utf8')) as {
      tables: Record<string, unknown>[];
    }
  ).tables[0]!;
  return {
    stage: 'transform',
    ms,
    maxRssMb: maxRssMb(),
    rowsOut: counts.rowsOut,
    rowsQuarantined: counts.rowsQuarantined,
    rowsDuplicate: counts.rowsDuplicate,
    report: { columns: report['columns'], files: report['files'], timingsMs: report['timingsMs'] },
  };
}

async function runLoad(work: string): Promise<StageResult> {
  const config = loaderConfigSchema.parse({ ...process.env, ETL_MODE: 'local', ETL_DATA_DIR: work });
  const store = new LocalBlobStore(path.join(work, 'blobs'));
  // Every run loads into an empty warehouse and has no load manifest yet.
  await store.delete(manifestKey(BENCH_RUN_ID, 'load'));
  for (const suffix of ['', '.wal']) await rm(path.join(work, `warehouse.duckdb${suffix}`), { force: true });
  const warehouse = await createWarehouse(config);
  const started = performance.now();
  const response = await load({ runId: BENCH_RUN_ID }, { store, warehouse, logger: createSilentLogger() });
  const ms = performance.now() - started;
  await warehouse.close();
  const rows = (name: string) => response.tables.find((t) => t.name === name)?.rowsLoaded ?? -1;
  const report = JSON.parse((await store.get(reportKey(BENCH_RUN_ID, 'load'))).toString('utf8')) as {
    timingsMs?: unknown;
  };
  return {
    stage: 'load',
    ms,
    maxRssMb: maxRssMb(),
    rowsOut: rows(TABLE),
    rowsQuarantined: rows(`${TABLE}_rejects`),
    rowsDuplicate: 0,
    report: { timingsMs: report.timingsMs },
  };
}

async function main(argv: string[]): Promise<void> {
  const [stage, work, csv] = argv;
  if (stage === 'transform' && work && csv) {
    printResult(await runTransform(work, csv));
  } else if (stage === 'load' && work) {
    printResult(await runLoad(work));
  } else {
    throw new Error(`usage: stage-worker.ts transform WORK CSV | load WORK (got ${argv.join(' ')})`);
  }
}

await main(process.argv.slice(2));
