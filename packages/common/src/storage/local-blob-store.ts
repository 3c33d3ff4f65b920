/**
 * BlobStore on a local folder. Writes go to a temporary file in the same folder, then rename (atomic
 * on POSIX), so a crash mid-write never leaves a partial object under its final key.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent, type WriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import {
  ConflictError,
  diskFullError,
  freeBytesAt,
  InvalidRequestError,
  isDiskFullError,
  NotFoundError,
} from '../errors';
import type { BlobBody, BlobInfo, BlobStore, PutOptions } from './blob-store';

const TEMP_MARK = '.tmp-';

/** The latest modification time of a folder or of anything in it, ms. */
async function newestChange(folder: string): Promise<number> {
  let newest = (await stat(folder)).mtimeMs;
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const at = path.join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestChange(at) : (await stat(at)).mtimeMs);
  }
  return newest;
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export class LocalBlobStore implements BlobStore {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /** The file behind a key; only keys inside the root are accepted. */
  filePath(key: string): string {
    const segments = key.split('/');
    if (
      key.length === 0 ||
      key.startsWith('/') ||
      segments.some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw new InvalidRequestError(`invalid object key ${JSON.stringify(key)}`);
    }
    if (segments.some((s) => s.startsWith(TEMP_MARK))) {
      throw new InvalidRequestError(
        `invalid object key ${JSON.stringify(key)}: '${TEMP_MARK}' names are reserved`,
      );
    }
    return path.join(this.root, ...segments);
  }

  uri(key: string): string {
    return this.filePath(key);
  }

  /**
   * Removes each folder directly under `prefix` (a run's `runs/<id>/`) none of whose files changed in the last
   * `maxAgeMs`, except those named in `keep`; returns the removed folders' keys (`runs/<id>/`). The local
   * counterpart of the run-data bucket's lifecycle rule (Terraform's `run_data_retention_days`).
   */
  async expireFolders(
    prefix: string,
    maxAgeMs: number,
    keep: readonly string[] = [],
    now = Date.now(),
  ): Promise<string[]> {
    const folder = prefix.replace(/\/$/, '');
    const root = this.filePath(folder);
    let entries: Dirent[];
    try {
      entries = await readdir(root, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    const removed: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || keep.includes(entry.name)) continue;
      const run = path.join(root, entry.name);
      if (now - (await newestChange(run)) <= maxAgeMs) continue;
      await rm(run, { recursive: true, force: true });
      removed.push(`${folder}/${entry.name}/`);
    }
    return removed;
  }

  async put(key: string, body: BlobBody, options: PutOptions = {}): Promise<BlobInfo> {
    const target = this.filePath(key);
    const temp = path.join(path.dirname(target), `${TEMP_MARK}${randomUUID()}`);
    let output: WriteStream | undefined;
    try {
      await mkdir(path.dirname(target), { recursive: true });
      const source =
        typeof body === 'function'
          ? await body()
          : body instanceof Readable
            ? body
            : Readable.from([typeof body === 'string' ? Buffer.from(body) : body]);
      output = createWriteStream(temp);
      await pipeline(source, output);
      if (options.ifAbsent) {
        // link() fails when the target exists: an atomic create-if-absent.
        try {
          await link(temp, target);
        } catch (error) {
          if (isErrno(error, 'EEXIST'))
            throw new ConflictError(`object ${key} already exists`, { objectKey: key });
          throw error;
        }
        await unlink(temp);
      } else {
        await rename(temp, target);
      }
    } catch (error) {
      // A failed pipeline destroys the output, but an open still in flight may create the temp file after the
      // removal: it is removed once the stream has closed (awaited with a plain listener, as `events.once`
      // rejects with the stream's error).
      const open = output;
      if (open && !open.closed) await new Promise<void>((resolve) => open.once('close', () => resolve()));
      await rm(temp, { force: true });
      if (isDiskFullError(error))
        throw await this.diskFull(error, key, target, body, output?.bytesWritten ?? 0);
      throw error;
    }
    return (await this.stat(key))!;
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.filePath(key));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw this.notFound(key);
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable> {
    const file = this.filePath(key);
    if (!(await this.exists(key))) throw this.notFound(key);
    return createReadStream(file, { highWaterMark: 1 << 20 });
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.filePath(key));
      return info.isFile() ? { key, size: info.size, updated: info.mtime } : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    // Walk only the folder the prefix points into, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const folderKey = slash < 0 ? '' : prefix.slice(0, slash);
    const start = folderKey ? this.filePath(folderKey) : this.root;
    const found: BlobInfo[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_MARK)) continue;
        const key = `${keyPrefix}${entry.name}`;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${key}/`);
        else if (entry.isFile() && key.startsWith(prefix)) {
          const info = await stat(path.join(dir, entry.name));
          found.push({ key, size: info.size, updated: info.mtime });
        }
      }
    };
    await walk(start, folderKey ? `${folderKey}/` : '');
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.filePath(key), { force: true });
  }

  /** 507 naming the object, its file, the bytes it needed (at least those written when streamed) and the free space. */
  private async diskFull(error: unknown, key: string, target: string, body: BlobBody, written: number) {
    const known =
      typeof body === 'string'
        ? Buffer.byteLength(body)
        : body instanceof Uint8Array
          ? body.length
          : undefined;
    const free = await freeBytesAt(this.root);
    return diskFullError(error, {
      what: `object ${key}`,
      path: target,
      ...(known === undefined ? {} : { neededBytes: known }),
      ...(free === undefined ? {} : { freeBytes: free }),
      ...(known === undefined && written > 0 ? { writtenBytes: written } : {}),
    });
  }

  private notFound(key: string): NotFoundError {
    return new NotFoundError(`object ${key} not found in ${this.location}`, { objectKey: key });
  }
}
