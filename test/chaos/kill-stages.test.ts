/**
 * A service process SIGKILLed in the middle of its stage. One run of 300,000 generated rows: the test
 * watches each stage's scratch files, kills the extractor while it is writing the raw file, the
 * transformer while its scratch folder is in use, and the loader while its Parquet scratch folder exists
 * (its DuckDB transaction open), and restarts each on the SAME port. The workflow's retry (connection
 * error -> backoff -> same request, same runId) completes the run; the warehouse holds exactly the
 * rows the run accounted for, once.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  findScratchFolder,
  localWarehouse,
  runEtl,
  type ServiceName,
  type Stack,
  startStack,
  tableFacts,
  waitFor,
} from './harness';

const ROWS = 300_000;
const RUN_ID = 'chaos-kill';

let dataDir: string;
let transformTemp: string;
let loaderTemp: string;
let stack: Stack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-kill-'));
  transformTemp = path.join(dataDir, 'transform-tmp');
  loaderTemp = path.join(dataDir, 'loader-tmp');
  await mkdir(transformTemp, { recursive: true });
  await mkdir(loaderTemp, { recursive: true });
  stack = await startStack(
    dataDir,
    { LOG_LEVEL: 'info' },
    // Scratch folders the test can watch: the transformer's, and the loader's (os.tmpdir() = TMPDIR).
    { transformer: { TRANSFORM_TEMP_DIR: transformTemp }, loader: { TMPDIR: loaderTemp } },
  );
});
afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Evidence that a stage is mid-work, from its scratch files. */
const midWork: Record<ServiceName, () => Promise<string | undefined>> = {
  // LocalBlobStore writes to `.tmp-<uuid>` beside the final key, then renames.
  extractor: async () => {
    const dir = path.join(dataDir, 'blobs', 'runs', RUN_ID, 'raw');
    for (const name of await entries(dir)) {
      if (!name.startsWith('.tmp-')) continue;
      const size = await stat(path.join(dir, name)).then(
        (s) => s.size,
        () => 0,
      );
      if (size > 1024 * 1024) return `raw/${name} at ${size} bytes`;
    }
    return undefined;
  },
  // The per-request scratch folder holds the prepared CSV (and DuckDB's Parquet output later).
  transformer: async () => {
    const folder = await findScratchFolder(transformTemp, 'etl-transform-');
    const files = folder ? await entries(folder) : [];
    return files.length > 0 ? `${path.basename(folder!)}/{${files.join(',')}}` : undefined;
  },
  // DuckDbWarehouse.load converts Arrow to Parquet in `etl-load-*` and keeps it until the commit.
  loader: () => findScratchFolder(loaderTemp, 'etl-load-'),
};

describe('SIGKILL in the middle of extract, transform and load', () => {
  test('each service killed mid-stage and restarted on its port: the run completes, exact rows, no duplicate', async () => {
    const kills: Array<{ service: ServiceName; pid: number; evidence: string }> = [];
    const monkey = (async () => {
      for (const service of ['extractor', 'transformer', 'loader'] as const) {
        const evidence = await waitFor(`${service} mid-work`, midWork[service], {
          timeoutMs: 180_000,
          intervalMs: 10,
        });
        const process = stack.services[service];
        kills.push({ service, pid: process.child.pid!, evidence });
        await process.kill('SIGKILL');
        await process.restart();
      }
    })();
    const result = await runEtl({
      urls: stack.urls,
      runId: RUN_ID,
      source: 'sample',
      options: { sample: { rows: ROWS, seed: 7 } },
      // Waits of 1, 2, 4, 8, 16 s: long enough for a restart under load.
      fastRetries: 2,
    });
    await monkey;

    expect(kills.map((k) => k.service)).toEqual(['extractor', 'transformer', 'loader']);
    for (const service of ['extractor', 'transformer', 'loader'] as const) {
      // Killed once, restarted once, on the same port (the URL the workflow uses did not change).
      expect(stack.services[service].pids).toHaveLength(2);
    }
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    const sales = result.tables.find((t) => t.name === 'sales')!;
    expect(sales.rowsIn).toBe(ROWS);
    expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(ROWS);

    const warehouse = localWarehouse(dataDir);
    const facts = await tableFacts(warehouse, 'sales');
    expect(facts).toEqual({ rows: sales.rowsLoaded, distinct: sales.rowsLoaded, runIds: [RUN_ID] });
    const [rejects] = await warehouse.query('SELECT count(*) AS n FROM sales_rejects');
    expect(Number(rejects?.n)).toBe(sales.rowsQuarantined);
    // The killed load left its lease behind; the retry of the same run took it back and released it.
    expect(await entries(path.join(dataDir, 'blobs', 'datasets', 'sample', 'generated', 'sales'))).toEqual([
      'state.json',
    ]);
    // The restarted services removed the scratch folders their killed predecessors left.
    expect((await entries(transformTemp)).filter((name) => name.startsWith('etl-'))).toEqual([
      expect.stringMatching(`^etl-transformer-pid${stack.services.transformer.child.pid}-`),
    ]);
    expect((await entries(loaderTemp)).filter((name) => name.startsWith('etl-'))).toEqual([
      expect.stringMatching(`^etl-loader-pid${stack.services.loader.child.pid}-`),
    ]);
    console.info(`chaos kills: ${JSON.stringify(kills)}`);
  });
});
