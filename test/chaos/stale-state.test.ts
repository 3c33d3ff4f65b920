/**
 * What a killed service leaves behind, and the next start or run clearing it: its scratch folder in the
 * temp dir (hundreds of MB per kill), and the dataset lease of a load it was running (which made the next
 * run of the dataset fail with 409 DATASET_BUSY naming a dead run).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  killWhen,
  localWarehouse,
  runEtl,
  ServiceProcess,
  type Stack,
  startStack,
  tableFacts,
  waitFor,
} from './harness';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-stale-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The etl folders in `parent` (tsx keeps its cache, tsx-<uid>, in TMPDIR too). */
const etlFolders = async (parent: string) =>
  (await readdir(parent)).filter((name) => name.startsWith('etl-')).sort();

const ownFolder = async (parent: string, service: string, pid: number) =>
  (await readdir(parent)).find((name) => name.startsWith(`etl-${service}-pid${pid}-`));

describe('a SIGKILLed service`s scratch folder', () => {
  test('is removed by the next service start; a live process`s folder and other folders are left alone', async () => {
    const scratch = path.join(dataDir, 'scratch');
    await mkdir(path.join(scratch, 'etl-load-unattributed'), { recursive: true });
    const env = { TMPDIR: scratch };
    const live = await ServiceProcess.start('transformer', { dataDir, env });
    const killed = await ServiceProcess.start('loader', { dataDir, env });
    const killedFolder = await waitFor('the loader`s scratch folder', () =>
      ownFolder(scratch, 'loader', killed.child.pid!),
    );
    // What a load leaves in it when killed: its Parquet scratch.
    await mkdir(path.join(scratch, killedFolder, 'etl-load-x'));
    await writeFile(path.join(scratch, killedFolder, 'etl-load-x', 'sales.parquet'), Buffer.alloc(1 << 20));
    await killed.kill('SIGKILL');
    expect(await etlFolders(scratch)).toContain(killedFolder);

    await killed.restart();
    try {
      const liveFolder = await ownFolder(scratch, 'transformer', live.child.pid!);
      const newFolder = await ownFolder(scratch, 'loader', killed.child.pid!);
      expect(await etlFolders(scratch)).toEqual([liveFolder, newFolder, 'etl-load-unattributed'].sort());
      expect(await readFile(killed.logFile, 'utf8')).toContain(
        `removed the scratch folder ${killedFolder} of a process that is gone`,
      );
    } finally {
      await Promise.all([live.stop(), killed.stop()]);
    }
    // A graceful stop removes the process's own folder.
    expect(await etlFolders(scratch)).toEqual(['etl-load-unattributed']);
  });
});

describe('the lease of a loader SIGKILLed mid-load', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(dataDir, { LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('is taken over by the next run of the dataset at once (no 409 naming the dead run)', async () => {
    const leaseFile = path.join(dataDir, 'blobs', 'datasets', 'sample', 'generated', 'sales', 'lease.json');
    const loader = stack.services.loader;
    const killedPid = loader.child.pid!;
    const monkey = killWhen(loader, 'the load`s lease', () =>
      readFile(leaseFile, 'utf8').catch(() => undefined),
    );
    const killedRun = await runEtl({
      urls: stack.urls,
      runId: 'stale-1',
      source: 'sample',
      options: { sample: { rows: 100_000, seed: 3 } },
      fastRetries: 16,
    });
    await monkey;
    expect(killedRun.status).toBe('failed');
    // The lease is left behind, naming the dead loader.
    expect(JSON.parse(await readFile(leaseFile, 'utf8'))).toMatchObject({
      runId: 'stale-1',
      holder: { pid: killedPid },
    });

    await loader.restart();
    const next = await runEtl({
      urls: stack.urls,
      runId: 'stale-2',
      source: 'sample',
      force: true,
      options: { sample: { rows: 1_000, seed: 4 } },
    });
    expect(next.status, JSON.stringify(next.error)).toBe('succeeded');
    const sales = next.tables.find((t) => t.name === 'sales')!;
    const facts = await tableFacts(localWarehouse(dataDir), 'sales');
    expect(facts).toEqual({ rows: sales.rowsLoaded, distinct: sales.rowsLoaded, runIds: ['stale-2'] });
    await expect(readFile(leaseFile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(loader.logFile, 'utf8')).toContain(
      `taking over the lease on sample/generated/sales of run stale-1: its holder, pid ${killedPid} on this host, is no longer running`,
    );
  });
});
