/** Moving whole objects between a BlobStore and local files, streamed so memory stays flat. */
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';

/**
 * The object as the local file `file`, to be read, never written to: from a LocalBlobStore on the same file
 * system, a hard link to the object's own file rather than a copy (the copy was 0.4 s of a 1M-row load and
 * 5 s at 10M). The store replaces an object by renaming a new file over it, so the link keeps the bytes it
 * was made with.
 */
export async function downloadToFile(store: BlobStore, key: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  if (store instanceof LocalBlobStore) {
    try {
      await link(store.filePath(key), file);
      return;
    } catch {
      // Another file system, or no such object: copied below, which names a missing key.
    }
  }
  await pipeline(await store.getStream(key), createWriteStream(file));
}

/** The store may read the file more than once: an upload interrupted half-way starts again from its first byte. */
export function uploadFile(store: BlobStore, key: string, file: string): Promise<BlobInfo> {
  return store.put(key, async () => createReadStream(file));
}

export async function getJson<T = unknown>(store: BlobStore, key: string): Promise<T> {
  return JSON.parse((await store.get(key)).toString('utf8')) as T;
}

export function putJson(store: BlobStore, key: string, value: unknown): Promise<BlobInfo> {
  return store.put(key, `${JSON.stringify(value, null, 2)}\n`, { contentType: 'application/json' });
}
