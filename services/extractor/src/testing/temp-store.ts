/**
 * Test support: a LocalBlobStore in a fresh temp folder with a scratch folder for source files, extract deps
 * over it, and helpers to look at what a run wrote.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { type BlobStore, LocalBlobStore, rawPrefix, runPrefix } from '@etl/common/storage';
import { afterEach, beforeEach } from 'vitest';
import type { ExtractDeps } from '../extractor';

interface TempFolder {
  root: string;
  store: LocalBlobStore;
  scratch: string;
}

export class TempStore {
  #folder: TempFolder | undefined;

  get store(): LocalBlobStore {
    return this.#current().store;
  }

  /** A scratch folder next to the store, for source files; it exists once the store is open. */
  get scratch(): string {
    return this.#current().scratch;
  }

  /** Makes a fresh temp folder holding an empty store and an empty scratch folder. */
  async open(): Promise<void> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'extractor-test-'));
    const scratch = path.join(root, 'scratch');
    await mkdir(scratch);
    this.#folder = { root, store: new LocalBlobStore(path.join(root, 'blobs')), scratch };
  }

  /** Removes the temp folder and everything in it. */
  async cleanup(): Promise<void> {
    const root = this.#folder?.root;
    this.#folder = undefined;
    if (root) await rm(root, { recursive: true, force: true });
  }

  /** Writes `content` to `name` (may hold folders) in the scratch folder; returns the file's path. */
  async writeScratch(name: string, content: Buffer | string): Promise<string> {
    const file = path.join(this.scratch, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    return file;
  }

  /** Extract deps over this store with a silent logger, plus `extra`. */
  deps(extra: Partial<ExtractDeps> = {}): ExtractDeps {
    return { store: this.store, logger: createSilentLogger(), ...extra };
  }

  #current(): TempFolder {
    if (!this.#folder)
      throw new Error('expected an open temp store, found none: open() it or use useTempStore()');
    return this.#folder;
  }
}

export async function createTempStore(): Promise<TempStore> {
  const temp = new TempStore();
  await temp.open();
  return temp;
}

/** A temp store for each test of the calling file or describe block: opened before the test, removed after. */
export function useTempStore(): TempStore {
  const temp = new TempStore();
  beforeEach(() => temp.open());
  afterEach(() => temp.cleanup());
  return temp;
}

export async function listRawKeys(store: BlobStore, runId: string): Promise<string[]> {
  return (await store.list(rawPrefix(runId))).map((blob) => blob.key);
}

export async function listRunKeys(store: BlobStore, runId: string): Promise<string[]> {
  return (await store.list(runPrefix(runId))).map((blob) => blob.key);
}
