/** downloadToFile from a local store: the object's own file, linked, which a later put cannot change. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { downloadToFile } from './blob-files';
import { LocalBlobStore } from './local-blob-store';

let dir: string;
let store: LocalBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blob-files-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test('a local object is linked, not copied, and keeps its bytes when the key is written again', async () => {
  await store.put('runs/r1/staged/t.arrow', 'first version');
  const file = path.join(dir, 'scratch', 't.arrow');
  await downloadToFile(store, 'runs/r1/staged/t.arrow', file);
  expect((await stat(file)).ino).toBe((await stat(store.filePath('runs/r1/staged/t.arrow'))).ino);
  await store.put('runs/r1/staged/t.arrow', 'second version');
  expect(await readFile(file, 'utf8')).toBe('first version');
});

test('a missing object is a 404 naming its key', async () => {
  await expect(
    downloadToFile(store, 'runs/r1/staged/none.arrow', path.join(dir, 'x.arrow')),
  ).rejects.toMatchObject({ status: 404, message: expect.stringContaining('runs/r1/staged/none.arrow') });
});
