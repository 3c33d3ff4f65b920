/**
 * A full disk, for real: the extractor runs in its own user and mount namespace (`unshare -rm`, no root
 * needed where user namespaces are allowed) with its data folder on a 256 KiB tmpfs, so its writes fail
 * with ENOSPC from the kernel. Regression: extract answered 500 INTERNAL, the ENOSPC only in
 * extractor.log; now 507 INSUFFICIENT_STORAGE naming the object, its file and the space free, and nothing
 * of the run is left behind. The warehouse the same way (warehouse-disk-full-child.ts, on an 8 MiB tmpfs):
 * DuckDB's own "Could not write file ...: No space left on device" is the same 507 naming the warehouse
 * file, the previous version stays, and the load succeeds once there is room; its unreadable-WAL recovery
 * is tested in duckdb-warehouse.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, ServiceProcess } from './harness';

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

/** Runs warehouse-disk-full-child.ts with `dir` on a tmpfs of `size`; its JSON lines, one per step. */
async function warehouseOnTmpfs(dir: string, size: string): Promise<Array<Record<string, unknown>>> {
  const child = spawn(
    'unshare',
    [
      '-rm',
      'sh',
      '-c',
      `mount -t tmpfs -o size=${size} tmpfs "$0" && exec "$@"`,
      dir,
      process.execPath,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/chaos/warehouse-disk-full-child.ts'),
      dir,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the warehouse child exited with ${code}: ${stderr.slice(-2000)}`);
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(!canMount)('disk full under the warehouse (an 8 MiB tmpfs under DuckDB)', () => {
  test('a load that fills the disk is 507 naming the file, the previous version stays, and it loads once there is room', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-full-warehouse-'));
    try {
      const [first, full, fullSmall, freed] = await warehouseOnTmpfs(dir, '8m');
      const warehouseFile = path.join(dir, 'warehouse.duckdb');
      expect(first).toMatchObject({ answer: [{ rowsLoaded: 2_000 }], held: [{ n: 2_000, run: 'run-1' }] });
      // A large load fills the disk writing its rows to the database file.
      expect(full).toMatchObject({
        answer: {
          status: 507,
          code: 'INSUFFICIENT_STORAGE',
          message: expect.stringContaining(
            `no space left on the disk writing the warehouse ${warehouseFile} at`,
          ),
        },
        held: [{ n: 2_000, run: 'run-1' }],
      });
      // A small one at its commit, writing the log. Regression: a 500 "cannot rollback - no transaction is
      // active", since the failed COMMIT had ended the transaction.
      expect(fullSmall).toMatchObject({
        answer: {
          status: 507,
          code: 'INSUFFICIENT_STORAGE',
          message: expect.stringContaining(`at ${warehouseFile}.wal (0 bytes are free there)`),
        },
        held: [{ n: 2_000, run: 'run-1' }],
      });
      expect(freed).toMatchObject({
        answer: [{ rowsLoaded: 200_000, rowsReplaced: 2_000 }],
        held: [{ n: 200_000, run: 'run-2' }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!canMount)(
  'disk full under the transformer (a 256 KiB tmpfs as its TRANSFORM_TEMP_DIR)',
  () => {
    test('transform answers 507 naming the file it could not write; its output objects are not written', async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-full-transform-'));
      const scratch = await mkdtemp(path.join(tmpdir(), 'etl-chaos-full-scratch-'));
      const extractor = await ServiceProcess.start('extractor', { dataDir });
      const transformer = await ServiceProcess.start('transformer', {
        dataDir,
        env: { TRANSFORM_TEMP_DIR: scratch },
        wrap: ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"', scratch],
      });
      try {
        const post = (url: string, body: unknown) =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        const extracted = await post(`${extractor.url}/v1/extract`, {
          runId: 'full-t',
          source: 'sample',
          sample: { rows: 20_000, seed: 1 },
        });
        expect(extracted.status).toBe(200);
        const response = await post(`${transformer.url}/v1/transform`, { runId: 'full-t' });
        const { error } = (await response.json()) as {
          error: { code: string; message: string; retryable: boolean };
        };
        expect({ status: response.status, code: error.code, retryable: error.retryable }).toEqual({
          status: 507,
          code: 'INSUFFICIENT_STORAGE',
          retryable: false,
        });
        expect(error.message).toMatch(
          new RegExp(
            `^no space left on the disk writing the scratch files of run full-t \\(TRANSFORM_TEMP_DIR\\) at ${scratch}/etl-transformer-pid\\d+-\\w+/etl-transform-\\w+: ENOSPC`,
          ),
        );
        const run = path.join(dataDir, 'blobs/runs/full-t');
        expect(await readdir(run)).toEqual(['manifest', 'raw']);
        expect(await readdir(path.join(run, 'manifest'))).toEqual(['extract.json']);
      } finally {
        await transformer.stop();
        await extractor.stop();
        await rm(dataDir, { recursive: true, force: true });
        await rm(scratch, { recursive: true, force: true });
      }
    });
  },
);
