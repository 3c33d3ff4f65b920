/**
 * The `gs://BUCKET/OBJECT` source: one object in Cloud Storage (typically the file whose upload fired an
 * Eventarc "object finalized" event): a table file, a .gz of one, or a zip holding a dataset. The object's
 * generation is the dataset version: the metadata is read first, then exactly that generation is copied,
 * so an overwrite in between cannot mix two uploads into one version. A table file is copied into
 * runs/<runId>/raw/ as it streams; a zip is downloaded to a temporary file and unpacked as a local archive
 * is (see sources/dataset.ts). Dataset id: `gcs/<bucket>/<slug of the object's base name>`.
 *
 * The client is `@google-cloud/storage` as configured by @etl/common (`GcsBlobStore`'s client: the
 * retry policy, GCS_API_ENDPOINT for emulators and the test fake, Application Default Credentials
 * otherwise). The extractor's service account needs `roles/storage.objectViewer` on the inbox bucket.
 */
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
import { GcsBlobStore } from '@etl/common/storage';
import { extractDataset } from './dataset';
import { slugifyName } from './local';
import type { SourceContext, SourceResult } from './source';

type Storage = GcsBlobStore['storage'];

export interface GcsSource {
  bucket: string;
  object: string;
}

export interface GcsSourceOptions {
  /** GCP_PROJECT. */
  projectId?: string;
  /** GCS_API_ENDPOINT: an emulator or the test fake; unset = Google with Application Default Credentials. */
  apiEndpoint?: string;
  /** MAX_DOWNLOAD_BYTES: a larger object is refused before a byte is read. */
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

function tooLarge(uri: string, bytes: number, limit: number): PipelineError {
  return new PayloadTooLargeError(
    `source ${uri} holds ${bytes} bytes, more than MAX_DOWNLOAD_BYTES (${limit})`,
    {},
    'SOURCE_TOO_LARGE',
  );
}

export async function extractGcs(
  context: SourceContext,
  source: GcsSource,
  options: GcsSourceOptions = {},
): Promise<SourceResult> {
  const { bucket, object } = source;
  const uri = `gs://${bucket}/${object}`;
  const storage =
    options.storage ??
    new GcsBlobStore({
      bucket,
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    }).storage;

  let metadata: { generation?: string | number; size?: string | number };
  try {
    [metadata] = await storage.bucket(bucket).file(object).getMetadata();
  } catch (error) {
    throw gcsError(error, uri, bucket);
  }
  const generation = String(metadata.generation ?? '');
  if (!/^\d+$/.test(generation)) {
    throw new UpstreamError(`source ${uri}: Cloud Storage reported no generation for the object`);
  }
  const size = Number(metadata.size ?? 0);
  const limit = options.maxObjectBytes;
  if (limit !== undefined && size > limit) throw tooLarge(uri, size, limit);
  const at = `${uri}#${generation}`;
  const file = storage.bucket(bucket).file(object, { generation: Number(generation) });

  /** The pinned generation's bytes; client errors become PipelineErrors naming the object. */
  const openObject = async (): Promise<Readable> => {
    const out = new PassThrough();
    const input = file.createReadStream({ validation: 'crc32c' });
    input.once('error', (error) => out.destroy(gcsError(error, at, bucket)));
    input.pipe(out);
    return out;
  };

  // Backslashes are legal in object names but not in raw file names.
  const base = path.posix.basename(object).replaceAll('\\', '_');
  const dataset = { kind: 'gcs', owner: bucket, slug: slugifyName(base) } as const;
  context.logger.info({ source: uri, generation, bytes: size }, 'reading Cloud Storage object');

  const result = await extractDataset(context, {
    label: `Cloud Storage object ${at}`,
    file: {
      name: base,
      label: `Cloud Storage object ${at}`,
      open: openObject,
      ...(limit === undefined
        ? {}
        : { maxBytes: limit, tooLarge: (bytes: number) => tooLarge(uri, bytes, limit) }),
    },
  });
  return { dataset, version: generation, ...result };
}
