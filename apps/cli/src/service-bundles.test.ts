import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '@etl/common/workspace-root';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { isBundleFresh as isFresh } from '../../../scripts/in-place-bundles.mjs';
import { isBundleFresh } from './service-bundles';

let root: string;
const startedAt = Date.parse('2026-12-01T00:00:00Z');
const at = (iso: string) => new Date(iso);

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'bundles-'));
  await mkdir(path.join(root, 'services/loader/dist'), { recursive: true });
  await mkdir(path.join(root, 'services/loader/src'), { recursive: true });
  await writeFile(path.join(root, 'services/loader/src/index.ts'), 'export {};\n');
  await utimes(
    path.join(root, 'services/loader/src/index.ts'),
    at('2026-11-30T00:00:00Z'),
    at('2026-11-30T00:00:00Z'),
  );
  await writeFile(path.join(root, 'services/loader/dist/index.js'), '');
  await writeFile(
    path.join(root, 'services/loader/dist/index.inputs.json'),
    JSON.stringify({ startedAt, files: ['services/loader/src/index.ts'] }),
  );
});
afterEach(() => rm(root, { recursive: true, force: true }));

test('a bundle is fresh while none of its inputs changed since its build started', () => {
  expect(isBundleFresh('loader', root)).toBe(true);
});

test('an input modified after the build started, or gone, makes the bundle stale', async () => {
  const input = path.join(root, 'services/loader/src/index.ts');
  await utimes(input, at('2026-12-01T00:00:01Z'), at('2026-12-01T00:00:01Z'));
  expect(isBundleFresh('loader', root)).toBe(false);
  await rm(input);
  expect(isBundleFresh('loader', root)).toBe(false);
});

test('no bundle, or no list of its inputs (a build older than the list), is stale', async () => {
  expect(isBundleFresh('extractor', root)).toBe(false);
  await rm(path.join(root, 'services/loader/dist/index.inputs.json'));
  expect(isBundleFresh('loader', root)).toBe(false);
});

test('`pnpm etl` (bin/etl.mjs) runs the command from its bundle, built first when stale, in one process', async () => {
  const repo = workspaceRoot(import.meta.dirname);
  const etl = spawnSync(process.execPath, ['apps/cli/bin/etl.mjs', 'query', '--help'], {
    cwd: repo,
    encoding: 'utf8',
  });
  // A usage error is the command's own answer (exit 2 and its message), from the bundle it built.
  expect({ status: etl.status, stderr: etl.stderr }).toMatchObject({
    status: 2,
    stderr: expect.stringContaining('etl query:'),
  });
  expect(etl.stderr).not.toContain('running from source under tsx');
  expect(isFresh(path.join(repo, 'apps/cli'), repo)).toBe(true);
}, 60_000);
