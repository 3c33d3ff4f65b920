/**
 * `etl lease clear` as the runbook uses it, on a lease whose holder is a real process: refused while that
 * process runs, cleared once it is gone, and cleared anyway with --force.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { datasetLeaseKey, LocalBlobStore, putJson } from '@etl/common/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../test-support/cli-process';

const DATASET = 'sample/generated/sales';
const KEY = datasetLeaseKey('sample', 'generated', 'sales');

let dataDir: string;
let store: LocalBlobStore;
let holder: ChildProcess;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-lease-cli-'));
  store = new LocalBlobStore(path.join(dataDir, 'blobs'));
  // Stands in for a loader holding the lease on this host.
  holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => holder.once('spawn', resolve));
  await putJson(store, KEY, {
    runId: 'run-crashed',
    acquiredAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 120_000).toISOString(),
    holder: { host: hostname(), pid: holder.pid },
  });
});
afterEach(async () => {
  holder.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

async function etl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = path.join(REPO_ROOT, 'apps/cli/src/main.ts');
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, ...args, '--data-dir', dataDir],
      { cwd: REPO_ROOT, env: { ...process.env, ETL_MODE: 'local' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('etl lease clear', () => {
  test('refuses while the holder process runs; clears once it is gone', async () => {
    const refused = await etl('lease', 'clear', DATASET);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `refusing to clear the lease on dataset ${DATASET}: it is held by run run-crashed (pid ${holder.pid} on host ${hostname()}`,
    );
    expect(refused.stderr).toContain(`its loader, pid ${holder.pid}, is still running on this host`);
    expect(await store.exists(KEY)).toBe(true);

    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    const shown = await etl('lease', 'show', DATASET);
    expect(shown.stdout).toContain(`stale, its holder, pid ${holder.pid} on this host, is no longer running`);
    const cleared = await etl('lease', 'clear', DATASET);
    expect(cleared).toMatchObject({ code: 0 });
    expect(cleared.stdout).toContain(`cleared the lease on dataset ${DATASET} held by run run-crashed`);
    expect(await store.exists(KEY)).toBe(false);
    expect((await etl('lease', 'show', DATASET)).stdout).toContain(`no lease on dataset ${DATASET}`);
  });

  test('--force clears a live holder`s lease', async () => {
    const forced = await etl('lease', 'clear', DATASET, '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('(forced)');
    expect(await store.exists(KEY)).toBe(false);
  });
});
