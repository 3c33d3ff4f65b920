/**
 * A full disk, for real: the extractor runs in its own user and mount namespace (`unshare -rm`, no root
 * needed where user namespaces are allowed) with its data folder on a 256 KiB tmpfs, so its writes fail
 * with ENOSPC from the kernel. Regression: extract answered 500 INTERNAL, the ENOSPC only in
 * extractor.log; now 507 INSUFFICIENT_STORAGE naming the object, its file and the space free, and nothing
 * of the run is left behind. (DuckDB's own "Could not write file ...: No space left on device" maps to the
 * same 507 naming the warehouse file; its unreadable-WAL recovery is tested in duckdb-warehouse.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServiceProcess } from './harness';

/** Whether this machine lets an unprivileged process mount a tmpfs in its own namespaces. */
const canMount =
  spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0"', tmpdir()]).status === 0;

describe.skipIf(!canMount)('disk full (a 256 KiB tmpfs under the extractor)', () => {
  let dataDir: string;
  let extractor: ServiceProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-full-'));
    extractor = await ServiceProcess.start('extractor', {
      dataDir,
      wrap: ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"', dataDir],
    });
  });
  afterAll(async () => {
    await extractor?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('extract answers 507 INSUFFICIENT_STORAGE naming the object, the file and the free space; nothing is left', async () => {
    const response = await fetch(`${extractor.url}/v1/extract`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runId: 'full-1', source: 'sample', sample: { rows: 20_000, seed: 1 } }),
    });
    expect(response.status).toBe(507);
    const { error } = (await response.json()) as {
      error: { code: string; message: string; retryable: boolean };
    };
    const raw = path.join(dataDir, 'blobs/runs/full-1/raw/sales.csv');
    expect(error.code).toBe('INSUFFICIENT_STORAGE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(
      `no space left on the disk writing object runs/full-1/raw/sales.csv at ${raw}`,
    );
    expect(error.message).toMatch(
      /it needs more than the \d+ bytes written before the disk filled; \d+ bytes are free there/,
    );
    expect(error.message).toContain('docs/runbook.md');
    // The service's view of its data folder (through its mount namespace): no raw file, no temp file.
    const inside = path.join(`/proc/${extractor.child.pid}/root`, dataDir, 'blobs/runs/full-1/raw');
    expect(await readdir(inside).catch(() => [])).toEqual([]);
  });
});
