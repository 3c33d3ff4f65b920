import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import type { ExtractResponse, TransformResponse } from '@etl/common/contracts';
import { createSilentLogger } from '@etl/common/logging';
import {
  datasetLeaseKey,
  LocalBlobStore,
  manifestKey,
  putJson,
  quarantineKey,
  stagedKey,
} from '@etl/common/storage';
import { DuckDbWarehouse, type Warehouse } from '@etl/common/warehouse';
import { Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { acquireLease, type Lease, readLease, releaseHeldLeases, releaseLease } from './lease';
import { type LoaderDeps, load } from './loader';

const LEASE = datasetLeaseKey('local', 'files', 'sales');
const NOW = new Date('2026-01-01T00:00:00Z');

let dir: string;
let store: LocalBlobStore;
let deps: LoaderDeps;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'loader-lease-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  deps = {
    store,
    warehouse: new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') }),
    logger: createSilentLogger(),
    now: () => NOW,
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What extract and transform leave behind for a run of the dataset local/files/sales. */
async function stageRun(runId: string, amounts: number[]): Promise<void> {
  const extract: ExtractResponse = {
    runId,
    source: 'local:/data/sales.csv',
    dataset: { id: 'local/files/sales', version: 'v1', previousVersion: null, changed: true },
    files: [],
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  await store.put(
    stagedKey(runId, 'sales'),
    writeArrowTable(new Table({ amount: vectorFromArray(amounts, new Float64()) })),
  );
  await store.put(
    quarantineKey(runId, 'sales'),
    writeArrowTable(
      new Table({ line: vectorFromArray([], new Int64()), reason: vectorFromArray([], new Utf8()) }),
    ),
  );
  const transform: TransformResponse = {
    runId,
    tables: [
      {
        name: 'sales',
        rowsIn: amounts.length,
        rowsOut: amounts.length,
        rowsQuarantined: 0,
        rowsDuplicate: 0,
        stagedKey: stagedKey(runId, 'sales'),
        quarantineKey: quarantineKey(runId, 'sales'),
      },
    ],
    quality: { passed: true, rejectRate: 0, maxRejectRate: 0.1 },
    skippedFiles: [],
    reportKey: `runs/${runId}/reports/transform.json`,
    manifestKey: manifestKey(runId, 'transform'),
  };
  await putJson(store, manifestKey(runId, 'extract'), extract);
  await putJson(store, manifestKey(runId, 'transform'), transform);
}

const holdLease = (runId: string, expiresAt: Date, holder?: { host: string; pid: number }) =>
  putJson(store, LEASE, {
    runId,
    acquiredAt: NOW.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ...(holder ? { holder } : {}),
  });

/** A real process that stays alive until killed: a loader holding a lease on this host. */
function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

/** The pid of a process that has run and exited: a loader that was killed. */
async function deadPid(): Promise<number> {
  const child = liveProcess();
  await new Promise((resolve) => child.once('spawn', resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return child.pid!;
}

async function storedLease(): Promise<Lease> {
  const lease = await readLease(store, LEASE);
  if (lease === undefined || lease === 'unreadable') throw new Error(`no readable lease at ${LEASE}`);
  return lease;
}

async function salesRows(): Promise<Array<{ run: string; n: number }>> {
  return (await deps.warehouse.query(
    'SELECT _run_id AS run, count(*)::INT AS n FROM sales GROUP BY 1 ORDER BY 1',
  )) as Array<{ run: string; n: number }>;
}

describe('the dataset load lease', () => {
  test('a load takes the lease and releases it at the end', async () => {
    await stageRun('r1', [1, 2, 3]);
    await load({ runId: 'r1' }, deps);
    expect(await store.exists(LEASE)).toBe(false);
    expect(await salesRows()).toEqual([{ run: 'r1', n: 3 }]);
  });

  test('a run of a dataset another run is loading: 409 DATASET_BUSY naming that run, warehouse untouched', async () => {
    await stageRun('r2', [1, 2]);
    await holdLease('r1', new Date(NOW.getTime() + 60_000));
    const failure = load({ runId: 'r2' }, deps);
    await expect(failure).rejects.toMatchObject({ status: 409, code: 'DATASET_BUSY', retryable: false });
    await expect(failure).rejects.toThrow(/being loaded by run r1 .*run r2 was refused/);
    expect(await store.exists(manifestKey('r2', 'load'))).toBe(false);
    // The holder's lease is left in place.
    expect(JSON.parse((await store.get(LEASE)).toString())).toMatchObject({ runId: 'r1' });
  });

  test('an expired lease (its holder died) is taken over', async () => {
    await stageRun('r2', [1, 2]);
    await holdLease('r1', new Date(NOW.getTime() - 1));
    await load({ runId: 'r2' }, deps);
    expect(await salesRows()).toEqual([{ run: 'r2', n: 2 }]);
    expect(await store.exists(LEASE)).toBe(false);
  });

  test('the same run retried after a crash takes its own lease back', async () => {
    await stageRun('r1', [1, 2, 3]);
    await holdLease('r1', new Date(NOW.getTime() + 60_000));
    await load({ runId: 'r1' }, deps);
    expect(await salesRows()).toEqual([{ run: 'r1', n: 3 }]);
  });

  test('a failed load releases the lease, so a retry can proceed', async () => {
    await stageRun('r1', [1, 2, 3]);
    const broken: Warehouse = Object.create(deps.warehouse);
    broken.load = () => Promise.reject(new Error('disk full'));
    await expect(load({ runId: 'r1' }, { ...deps, warehouse: broken })).rejects.toThrow(/disk full/);
    expect(await store.exists(LEASE)).toBe(false);
  });

  test('two runs of the same dataset started together: one loads, the other is refused; no duplicate', async () => {
    await stageRun('a', [1, 2, 3]);
    await stageRun('b', [1, 2, 3]);
    // A warehouse slow enough that the loads overlap.
    const slow: Warehouse = {
      ...deps.warehouse,
      kind: 'duckdb',
      location: deps.warehouse.location,
      load: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return deps.warehouse.load(request);
      },
      query: (sql, params) => deps.warehouse.query(sql, params),
      session: (work) => deps.warehouse.session(work),
      close: () => deps.warehouse.close(),
    };
    const results = await Promise.allSettled([
      load({ runId: 'a' }, { ...deps, warehouse: slow }),
      load({ runId: 'b' }, { ...deps, warehouse: slow }),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    const reason = (refused[0] as PromiseRejectedResult).reason as Error & { code: string };
    expect(reason.code).toBe('DATASET_BUSY');
    const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
    expect(reason.message).toContain(`being loaded by run ${winner}`);
    expect(await salesRows()).toEqual([{ run: winner, n: 3 }]);
  });

  test('leases of different datasets are independent', async () => {
    const other = datasetLeaseKey('local', 'files', 'returns');
    await acquireLease({ store, key: other, dataset: 'local/files/returns', runId: 'x', now: () => NOW });
    await stageRun('r1', [1]);
    await load({ runId: 'r1' }, deps);
    expect(await salesRows()).toEqual([{ run: 'r1', n: 1 }]);
    expect(await store.exists(other)).toBe(true);
  });

  // Regression: a loader killed mid-load left its lease for 30 minutes; the next run got 409 naming a dead run.
  test('a lease whose holder process on this host is dead is taken over at once, though not expired', async () => {
    await stageRun('r2', [1, 2]);
    const pid = await deadPid();
    await holdLease('r1', new Date(NOW.getTime() + 60_000), { host: hostname(), pid });
    await load({ runId: 'r2' }, deps);
    expect(await salesRows()).toEqual([{ run: 'r2', n: 2 }]);
    expect(await store.exists(LEASE)).toBe(false);
  });

  test('a lease whose holder process on this host is alive: 409 DATASET_BUSY naming the run, pid and host', async () => {
    await stageRun('r2', [1, 2]);
    const holder = liveProcess();
    try {
      await new Promise((resolve) => holder.once('spawn', resolve));
      await holdLease('r1', new Date(NOW.getTime() + 60_000), { host: hostname(), pid: holder.pid! });
      const failure = load({ runId: 'r2' }, deps);
      await expect(failure).rejects.toMatchObject({ status: 409, code: 'DATASET_BUSY' });
      await expect(failure).rejects.toThrow(
        `being loaded by run r1 (pid ${holder.pid} on host ${hostname()}, until 2026-01-01T00:01:00.000Z)`,
      );
      expect(await storedLease()).toMatchObject({ runId: 'r1', holder: { pid: holder.pid } });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a lease of a holder on another host stays until it expires', async () => {
    await stageRun('r2', [1, 2]);
    await holdLease('r1', new Date(NOW.getTime() + 60_000), { host: 'another-host', pid: 1 });
    await expect(load({ runId: 'r2' }, deps)).rejects.toMatchObject({ status: 409, code: 'DATASET_BUSY' });
  });

  test('a held lease records its holder and is renewed by a heartbeat until released', async () => {
    const options = { store, key: LEASE, dataset: 'local/files/sales', runId: 'hb', ttlMs: 400 };
    const taken = await acquireLease(options);
    expect(taken.holder).toEqual({ host: hostname(), pid: process.pid });
    await vi.waitFor(async () => expect((await storedLease()).expiresAt > taken.expiresAt).toBe(true), {
      timeout: 5_000,
      interval: 50,
    });
    expect((await storedLease()).acquiredAt).toBe(taken.acquiredAt);
    await releaseLease(options);
    expect(await store.exists(LEASE)).toBe(false);
  });

  test('shutting down releases every lease the process holds', async () => {
    const other = datasetLeaseKey('local', 'files', 'returns');
    await acquireLease({ store, key: LEASE, dataset: 'local/files/sales', runId: 'a' });
    await acquireLease({ store, key: other, dataset: 'local/files/returns', runId: 'b' });
    await releaseHeldLeases();
    expect([await store.exists(LEASE), await store.exists(other)]).toEqual([false, false]);
  });
});
