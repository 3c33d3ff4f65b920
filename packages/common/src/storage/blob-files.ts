/** Moving whole objects between a BlobStore and local files, streamed so memory stays flat. */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore } from './blob-store';

export async function downloadToFile(store: BlobStore, key: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
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
