/**
 * `etl run --resume RUN_ID [--from STAGE]`: a run that failed at the transform quality gate is completed
 * with the same run id, without extracting again; `--from` removes exactly the manifests of the stages it
 * redoes. The pipeline runs for real (the CLI in a child process, the three services, DuckDB).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LocalBlobStore, manifestKey } from '@etl/common/storage';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UsageError } from '../args';
import { removeManifestsFrom, stagesFrom } from '../run-state';
import { runCommand } from './run';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');
const MAIN = path.join(REPO_ROOT, 'apps/cli/src/main.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function etl(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      {
        cwd: REPO_ROOT,
        // The ML stage is not what this is about: off, for speed.
        env: { ...process.env, INIT_CWD: REPO_ROOT, ML_INSIGHTS: 'false', ETL_MODE: 'local' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-resume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const manifestFile = (runId: string, stage: string) =>
  path.join(dir, 'blobs', 'runs', runId, 'manifest', `${stage}.json`);

describe('etl run --resume', () => {
  test('completes a run that failed at transform without extracting again', async () => {
    // The generated sample has a few rows that cannot be typed: a 0 % reject limit fails the gate (422).
    const failed = await etl([
      'run',
      '--rows',
      '200',
      '--max-reject-rate',
      '0',
      '--run-id',
      'gate-1',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      runId: 'gate-1',
      status: 'failed',
      error: { code: 422 },
    });
    const extractFile = manifestFile('gate-1', 'extract');
    const before = await stat(extractFile);
    const extractManifest = await readFile(extractFile, 'utf8');
    await expect(stat(manifestFile('gate-1', 'transform'))).rejects.toThrow(/ENOENT/);

    // No --source: the run's own (sample, 200 rows) comes from its extract manifest.
    const resumed = await etl([
      'run',
      '--resume',
      'gate-1',
      '--max-reject-rate',
      '0.5',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as {
      runId: string;
      status: string;
      tables: Array<{ name: string; rowsIn: number; rowsLoaded: number; rowsQuarantined: number }>;
    };
    expect(summary).toMatchObject({ runId: 'gate-1', status: 'succeeded', source: 'sample' });
    const [sales] = summary.tables;
    expect(sales?.rowsIn).toBe(200);
    expect(sales!.rowsLoaded + sales!.rowsQuarantined).toBeLessThanOrEqual(200);
    expect(sales!.rowsLoaded).toBeGreaterThan(150);
    // The extract manifest was answered, not rewritten: same bytes, same modification time.
    const after = await stat(extractFile);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(extractFile, 'utf8')).toBe(extractManifest);

    const rows = await etl([
      'query',
      '--json',
      '--data-dir',
      dir,
      "SELECT count(*) AS n FROM sales WHERE _run_id = 'gate-1'",
    ]);
    expect(rows.code, rows.stderr).toBe(0);
    expect(Number((JSON.parse(rows.stdout) as Array<{ n: unknown }>)[0]?.n)).toBe(sales!.rowsLoaded);
  }, 60_000);

  test('refuses a --source other than the run extracted, --from without --resume, and an unknown stage', async () => {
    await expect(
      runCommand(['--resume', 'gate-1', '--source', 'kaggle:acme/other', '--data-dir', dir]),
    ).rejects.toThrow(/run gate-1 extracted sample .*not kaggle:acme\/other/);
    await expect(runCommand(['--from', 'load', '--data-dir', dir])).rejects.toThrow(UsageError);
    await expect(runCommand(['--resume', 'gate-1', '--from', 'refresh', '--data-dir', dir])).rejects.toThrow(
      /--from expects extract, transform, load/,
    );
    await expect(runCommand(['--resume', 'nope-1', '--data-dir', dir])).rejects.toThrow(
      /run nope-1 has no extract manifest .*pass --source/,
    );
  });
});

describe('removeManifestsFrom', () => {
  test('removes the manifests of the stage and the later ones, and only those', async () => {
    const root = path.join(dir, 'store');
    const store = new LocalBlobStore(root);
    for (const stage of ['extract', 'transform', 'load', 'analyze'] as const) {
      await store.put(manifestKey('r-9', stage), '{}');
    }
    await store.put('runs/r-9/reports/transform.json', '{}');
    await writeFile(path.join(dir, 'unrelated.json'), '{}');

    expect(await removeManifestsFrom(store, 'r-9', 'transform')).toEqual([
      'runs/r-9/manifest/transform.json',
      'runs/r-9/manifest/load.json',
      'runs/r-9/manifest/analyze.json',
    ]);
    expect(await store.exists(manifestKey('r-9', 'extract'))).toBe(true);
    expect(await store.exists('runs/r-9/reports/transform.json')).toBe(true);
    // Already gone: nothing to remove, no error.
    expect(await removeManifestsFrom(store, 'r-9', 'load')).toEqual([]);
    expect(stagesFrom('extract')).toEqual(['extract', 'transform', 'load', 'analyze']);
  });
});
