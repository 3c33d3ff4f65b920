/**
 * A raw file of the local store is read where it is: linked, not copied, unless it needs a BOM or an
 * end-of-file mark dropped, or transcoding. The raw object itself is never changed.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { prepareTextFile } from './prepare-file';
import { createTestStore, type TestStore } from './test-support';

let t: TestStore;
let scratch: string;
beforeEach(async () => {
  t = await createTestStore();
  scratch = path.join(t.root, 'scratch');
  await mkdir(scratch);
});
afterEach(async () => {
  await t.cleanup();
});

const inode = async (file: string) => (await stat(file)).ino;

test('plain UTF-8 is linked, not copied; a BOM, an end-of-file mark or Windows-1252 get a copy of their own', async () => {
  await t.store.put('raw/plain.csv', 'id,name\n1,Zoë\n');
  const plain = await prepareTextFile(t.store, 'raw/plain.csv', scratch, 0);
  expect(plain).toEqual({ path: expect.any(String), encoding: 'utf-8', bytes: 15 });
  expect(await inode(plain.path)).toBe(await inode(t.store.filePath('raw/plain.csv')));

  await t.store.put('raw/bom.csv', '\ufeffid,name\n1,Zoë\n');
  const bom = await prepareTextFile(t.store, 'raw/bom.csv', scratch, 1);
  expect(bom.encoding).toBe('utf-8-bom');
  expect(await readFile(bom.path, 'utf8')).toBe('id,name\n1,Zoë\n');
  expect(await inode(bom.path)).not.toBe(await inode(t.store.filePath('raw/bom.csv')));
  expect(await readFile(t.store.filePath('raw/bom.csv'), 'utf8')).toBe('\ufeffid,name\n1,Zoë\n');

  await t.store.put('raw/dos.csv', 'id,name\r\n1,Ann\r\n\x1a');
  const dos = await prepareTextFile(t.store, 'raw/dos.csv', scratch, 2);
  expect(dos).toMatchObject({ eofMark: true });
  expect(await readFile(dos.path, 'utf8')).toBe('id,name\r\n1,Ann\r\n');

  await t.store.put('raw/latin.csv', Buffer.from([0x69, 0x64, 0x0a, 0x5a, 0x6f, 0xeb, 0x0a]));
  const latin = await prepareTextFile(t.store, 'raw/latin.csv', scratch, 3);
  expect(latin.encoding).toBe('windows-1252');
  expect(await readFile(latin.path, 'utf8')).toBe('id\nZoë\n');
});

test('a local object over the byte limit is refused before it is read; a missing one is a 404 naming it', async () => {
  await t.store.put('raw/big.csv', 'id\n1\n2\n3\n');
  await expect(
    prepareTextFile(t.store, 'raw/big.csv', scratch, 0, {
      maxBytes: 5,
      limitName: 'MAX_INPUT_BYTES',
      limitBytes: 5,
    }),
  ).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE', status: 413 });
  await expect(prepareTextFile(t.store, 'raw/none.csv', scratch, 1)).rejects.toMatchObject({
    status: 404,
    message: expect.stringContaining('raw file raw/none.csv listed in the extract manifest is missing'),
  });
});
