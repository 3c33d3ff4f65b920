/** Test support: a LocalBlobStore in a fresh temp folder, plus helpers to look at what a run wrote. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BlobStore, LocalBlobStore, rawPrefix, runPrefix } from '@etl/common/storage';

export interface TempStore {
  store: LocalBlobStore;
  /** A scratch folder next to the store, for source files. */
  scratch: string;
  cleanup(): Promise<void>;
}

export async function createTempStore(): Promise<TempStore> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'extractor-test-'));
  const scratch = path.join(root, 'scratch');
  return {
    store: new LocalBlobStore(path.join(root, 'blobs')),
    scratch,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export async function listRawKeys(store: BlobStore, runId: string): Promise<string[]> {
  return (await store.list(rawPrefix(runId))).map((blob) => blob.key);
}

export async function listRunKeys(store: BlobStore, runId: string): Promise<string[]> {
  return (await store.list(runPrefix(runId))).map((blob) => blob.key);
}
