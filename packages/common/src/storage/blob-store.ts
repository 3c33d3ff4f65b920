/**
 * Where run data lives: a local folder in embedded mode, a Cloud Storage bucket in the cloud. Stage code
 * only sees this interface; the adapter is chosen once, in each process's index.ts.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  key: string;
  size: number;
  updated: Date;
}

/**
 * What `put` stores. A function opens the body afresh on each call: a source the caller still holds (a
 * file, a download it can repeat), so an upload that fails half-way is restarted from the first byte. A
 * plain stream can be read once: an upload of it that fails half-way fails the put (retryable).
 */
export type BlobBody = Uint8Array | string | Readable | (() => Promise<Readable>);

export interface PutOptions {
  /** Fail with ConflictError when the key already exists (a lease, a first-writer-wins marker). */
  ifAbsent?: boolean;
  contentType?: string;
}

export interface BlobStore {
  /** Human-readable location for messages and references, e.g. `file:///abs/.etl/blobs` or `gs://bucket`. */
  readonly location: string;
  /** Writes atomically: readers see the old object or the new one, never a partial one. */
  put(key: string, body: BlobBody, options?: PutOptions): Promise<BlobInfo>;
  /** Throws NotFoundError naming the key when it does not exist. */
  get(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  stat(key: string): Promise<BlobInfo | undefined>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<BlobInfo[]>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A reference to the object for other systems (a file path or a gs:// URI). */
  uri(key: string): string;
}
