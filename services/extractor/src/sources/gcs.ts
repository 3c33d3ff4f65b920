/**
 * The `gs://BUCKET/OBJECT` source: one object in Cloud Storage (typically the file whose upload fired an
 * Eventarc "object finalized" event): a table file, a .gz of one, or a zip holding a dataset. The object's
 * generation is the dataset version: the metadata is read first, then exactly that generation is copied,
 * so an overwrite in between cannot mix two uploads into one version. A table file is copied into
 * runs/<runId>/raw/ as it streams; a zip is downloaded to a temporary file and unpacked as a local archive
 * is (see sources/dataset.ts). Dataset id: `gcs/<bucket>/<slug of the object's base name>`.
 *
 * The `gs://BUCKET/PREFIX/` source: every object under the prefix, read as a local folder is (names relative
 * to the prefix: `gs://b/shop/sub/x.csv` -> `sub/x.csv`). Folder placeholders (names ending in `/`, empty)
 * are passed over. The listing pins each object's generation, every read asks for exactly that one, and
 * the version is the sha256 of the sorted `name generation` lines: a new upload of any object is a new
 * version. Dataset id: `gcs/<bucket>/<slug of the prefix's last segment>`.
 *
 * An object whose generation is gone when it is read (overwritten or deleted since it was listed) is a
 * retryable 503 SOURCE_CHANGED, not a 404: the workflow's retry lists again and reads the new version.
 *
 * The client is `@google-cloud/storage` as configured by @etl/common (`GcsBlobStore`'s client: the
 * retry policy, GCS_API_ENDPOINT for emulators and the test fake, Application Default Credentials
 * otherwise). The extractor's service account needs `roles/storage.objectViewer` on the inbox bucket.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import {
  errorMessage,
  isPipelineError,
  NotFoundError,
  PayloadTooLargeError,
  type PipelineError,
  UpstreamError,
  UpstreamUnavailableError,
} from '@etl/common/errors';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import type { DatasetFile } from '../files/raw-files';
import { extractDataset } from './dataset';
import { slugifyName } from './local';
import type { SourceContext, SourceResult } from './source';

type Storage = GcsBlobStore['storage'];

/** One object, or every object under a prefix (ending in `/`). */
export type GcsSource = { bucket: string; object: string } | { bucket: string; prefix: string };

export interface GcsSourceOptions {
  /** GCP_PROJECT. */
  projectId?: string;
  /** GCS_API_ENDPOINT: an emulator or the test fake; unset = Google with Application Default Credentials. */
  apiEndpoint?: string;
  /** MAX_DOWNLOAD_BYTES: a larger object (or prefix, all objects together) is refused before a byte is read. */
  maxObjectBytes?: number;
  /** A ready client (tests); by default one is built from the options above. */
  storage?: Storage;
}

/** Maps a client error to a PipelineError naming the object (same classes as GcsBlobStore). */
function gcsError(error: unknown, uri: string, bucket: string): PipelineError {
  if (isPipelineError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const status =
    typeof code === 'number' ? code : typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : 0;
  const message = errorMessage(error);
  const options = { cause: error };
  if (status === 404 && /bucket does not exist/i.test(message)) {
    return new NotFoundError(
      `source ${uri}: bucket gs://${bucket} does not exist`,
      options,
      'BUCKET_NOT_FOUND',
    );
  }
  if (status === 404) return new NotFoundError(`source ${uri} not found`, options, 'SOURCE_NOT_FOUND');
  if (status === 401 || status === 403) {
    return new UpstreamError(
      `source ${uri}: access denied (${message}); the extractor's service account needs roles/storage.objectViewer on gs://${bucket}`,
      options,
      'PERMISSION_DENIED',
    );
  }
  if (status === 429 || status === 408 || status >= 500 || status === 0) {
    return new UpstreamUnavailableError(`source ${uri}: Cloud Storage unavailable: ${message}`, options);
  }
  return new UpstreamError(`source ${uri}: Cloud Storage answered ${status}: ${message}`, options);
}

/** A read of a pinned generation: a 404 means the object changed since it was listed (the bucket is checked first). */
function pinnedReadError(error: unknown, at: string, bucket: string): PipelineError {
  const mapped = gcsError(error, at, bucket);
  if (mapped.code !== 'SOURCE_NOT_FOUND') return mapped;
  return new UpstreamUnavailableError(
    `source ${at} changed while it was read: that generation is gone (overwritten or deleted since it was listed); retry to read the current version`,
    { cause: error },
    'SOURCE_CHANGED',
  );
}

function tooLarge(uri: string, bytes: number, limit: number): PipelineError {
  return new PayloadTooLargeError(
    `source ${uri} holds ${bytes} bytes, more than MAX_DOWNLOAD_BYTES (${limit})`,
    {},
    'SOURCE_TOO_LARGE',
  );
}

/** Backslashes are legal in object names but not in raw file names. */
function rawName(name: string): string {
  return name.replaceAll('\\', '_');
}

function parseGeneration(value: unknown, uri: string): string {
  const generation = String(value ?? '');
  if (!/^\d+$/.test(generation)) {
    throw new UpstreamError(`source ${uri}: Cloud Storage reported no generation for the object`);
  }
  return generation;
}

/**
 * The object `name` at exactly `generation`, as a dataset file; client errors become PipelineErrors naming
 * `gs://bucket/name#generation`.
 */
function objectFile(
  storage: Storage,
  bucket: string,
  object: { name: string; generation: string; rawName: string },
  limit: number | undefined,
): DatasetFile {
  const uri = `gs://${bucket}/${object.name}`;
  const at = `${uri}#${object.generation}`;
  const file = storage.bucket(bucket).file(object.name, { generation: Number(object.generation) });
  return {
    name: object.rawName,
    label: `Cloud Storage object ${at}`,
    open: async (): Promise<Readable> => {
      const out = new PassThrough();
      const input = file.createReadStream({ validation: 'crc32c' });
      input.once('error', (error) => out.destroy(pinnedReadError(error, at, bucket)));
      input.pipe(out);
      return out;
    },
    ...(limit === undefined
      ? {}
      : { maxBytes: limit, tooLarge: (bytes: number) => tooLarge(uri, bytes, limit) }),
  };
}

async function extractObject(
  context: SourceContext,
  storage: Storage,
  bucket: string,
  object: string,
  limit: number | undefined,
): Promise<SourceResult> {
  const uri = `gs://${bucket}/${object}`;
  let metadata: { generation?: string | number; size?: string | number };
  try {
    [metadata] = await storage.bucket(bucket).file(object).getMetadata();
  } catch (error) {
    throw gcsError(error, uri, bucket);
  }
  const generation = parseGeneration(metadata.generation, uri);
  const size = Number(metadata.size ?? 0);
  if (limit !== undefined && size > limit) throw tooLarge(uri, size, limit);

  const base = rawName(path.posix.basename(object));
  const dataset = { kind: 'gcs', owner: bucket, slug: slugifyName(base) } as const;
  context.logger.info({ source: uri, generation, bytes: size }, 'reading Cloud Storage object');
  const file = objectFile(storage, bucket, { name: object, generation, rawName: base }, limit);
  const result = await extractDataset(context, { label: file.label, file });
  return { dataset, version: generation, ...result };
}

/** A listed object: its name and the generation every read of it asks for. */
interface ListedObject {
  name: string;
  generation: string;
  size: number;
}

/** Every object under `prefix` but folder placeholders (a name ending in `/` holding nothing). */
async function listPrefix(storage: Storage, bucket: string, prefix: string): Promise<ListedObject[]> {
  const uri = `gs://${bucket}/${prefix}`;
  const files = await storage
    .bucket(bucket)
    .getFiles({ prefix, autoPaginate: true })
    .then(([found]) => found)
    .catch((error: unknown) => {
      throw gcsError(error, uri, bucket);
    });
  const listed: ListedObject[] = [];
  for (const file of files) {
    const size = Number(file.metadata.size ?? 0);
    if (file.name.endsWith('/') && size === 0) continue;
    const generation = parseGeneration(file.metadata.generation, `gs://${bucket}/${file.name}`);
    listed.push({ name: file.name, generation, size });
  }
  return listed;
}

/** sha256 over the sorted `name generation` lines: the same objects at the same generations, the same version. */
function computePrefixVersion(objects: readonly { name: string; generation: string }[]): string {
  const lines = objects
    .map((object) => `${object.name} ${object.generation}\n`)
    .sort()
    .join('');
  return createHash('sha256').update(lines).digest('hex');
}

async function extractPrefix(
  context: SourceContext,
  storage: Storage,
  bucket: string,
  prefix: string,
  limit: number | undefined,
): Promise<SourceResult> {
  const uri = `gs://${bucket}/${prefix}`;
  const objects = await listPrefix(storage, bucket, prefix);
  if (objects.length === 0) {
    throw new NotFoundError(`source ${uri} not found: no objects under that prefix`, {}, 'SOURCE_NOT_FOUND');
  }
  const bytes = objects.reduce((sum, object) => sum + object.size, 0);
  if (limit !== undefined && bytes > limit) throw tooLarge(uri, bytes, limit);

  const version = computePrefixVersion(objects);
  const folder = path.posix.basename(prefix);
  const dataset = { kind: 'gcs', owner: bucket, slug: slugifyName(folder) } as const;
  context.logger.info(
    { source: uri, objects: objects.length, bytes, version },
    'reading Cloud Storage prefix',
  );
  const files = objects.map((object) =>
    objectFile(storage, bucket, { ...object, rawName: rawName(object.name.slice(prefix.length)) }, limit),
  );
  const result = await extractDataset(context, { label: `Cloud Storage prefix ${uri}`, folder: files });
  return { dataset, version, ...result };
}

export async function extractGcs(
  context: SourceContext,
  source: GcsSource,
  options: GcsSourceOptions = {},
): Promise<SourceResult> {
  const { bucket } = source;
  const storage =
    options.storage ??
    new GcsBlobStore({
      bucket,
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    }).storage;
  const limit = options.maxObjectBytes;
  return 'prefix' in source
    ? extractPrefix(context, storage, bucket, source.prefix, limit)
    : extractObject(context, storage, bucket, source.object, limit);
}
