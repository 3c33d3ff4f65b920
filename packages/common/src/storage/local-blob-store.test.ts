/** expireFolders: the local store's lifecycle rule over run folders. */
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { LocalBlobStore } from './local-blob-store';

let dir: string;
let store: LocalBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-blob-store-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const DAY = 86_400_000;

/** Dates `file` (a file, or a folder and everything in it) `days` back. */
async function age(file: string, days: number): Promise<void> {
  const at = new Date(Date.now() - days * DAY);
  const entries = await readdir(file, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) await age(path.join(file, entry.name), days);
  await utimes(file, at, at);
}

test('a run folder none of whose files changed in the period is removed; a newer file, or keep, saves one', async () => {
  for (const key of ['runs/old/raw/a.csv', 'runs/old/manifest/extract.json', 'runs/mixed/raw/a.csv'])
    await store.put(key, 'x');
  await store.put('runs/current/raw/a.csv', 'x');
  await store.put('datasets/local/files/a/state.json', '{}');
  await age(store.filePath('runs/old'), 40);
  await age(store.filePath('runs/current'), 40);
  await age(store.filePath('runs/mixed'), 40);
  await store.put('runs/mixed/manifest/load.json', 'x');

  expect(await store.expireFolders('runs/', 30 * DAY, ['current'])).toEqual(['runs/old/']);
  expect(await store.exists('runs/old/manifest/extract.json')).toBe(false);
  expect(await store.exists('runs/mixed/raw/a.csv')).toBe(true);
  expect(await store.exists('runs/current/raw/a.csv')).toBe(true);
  expect(await store.exists('datasets/local/files/a/state.json')).toBe(true);
  expect(await new LocalBlobStore(path.join(dir, 'empty')).expireFolders('runs/', DAY)).toEqual([]);
});
