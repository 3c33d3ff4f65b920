/**
 * Parses the request's `source` string: `sample`, `local:PATH`, `kaggle:OWNER/SLUG[/VERSION]`,
 * `gs://BUCKET/OBJECT` (the object name verbatim, as an Eventarc finalize event carries it: not URL-encoded)
 * or `gs://BUCKET/PREFIX/` (ending in `/`: every object under the prefix, as a folder).
 */
import { InvalidRequestError } from '@etl/common/errors';
import { classifyFile } from './files/dataset-files';

export type SourceRef =
  | { kind: 'sample' }
  | { kind: 'local'; path: string }
  | { kind: 'kaggle'; owner: string; slug: string; version: number | undefined }
  | { kind: 'gcs'; bucket: string; object: string }
  | { kind: 'gcs'; bucket: string; prefix: string };

// Strict on purpose: the parts end up in URLs and object keys, so no URLs, slashes or `..` get through.
const KAGGLE_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const KAGGLE_VERSION = /^[1-9][0-9]{0,8}$/;

// Cloud Storage naming rules (cloud.google.com/storage/docs/buckets#naming, .../objects#naming). Bucket
// names also become the dataset key's owner segment, which holds at most 128 characters.
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,126}[a-z0-9]$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a name are the thing rejected
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a bucket name is invalid, or undefined. */
function bucketProblem(bucket: string): string | undefined {
  if (!BUCKET.test(bucket)) {
    return 'expected 3-128 lower-case letters, digits, - _ and ., starting and ending with a letter or digit';
  }
  if (bucket.includes('..') || bucket.split('.').some((part) => part.length > 63)) {
    return 'dot-separated parts must be 1-63 characters';
  }
  if (bucket.startsWith('goog') || IPV4.test(bucket))
    return 'names starting with "goog" or IP addresses are reserved';
  return undefined;
}

/** Why an object name or a prefix (ending in `/`) is invalid (or not a file the extractor takes), or undefined. */
function objectProblem(object: string): string | undefined {
  if (object === '' || object === '.' || object === '..') return 'the object name is empty';
  if (Buffer.byteLength(object, 'utf8') > 1024) return 'object names hold at most 1024 bytes';
  if (CONTROL.test(object)) return 'the object name contains control characters';
  if (object.endsWith('/')) {
    // The prefix's last segment names the dataset; an empty one (`a//`, `/a/`) would name nothing.
    return object.slice(0, -1).split('/').includes('')
      ? 'a prefix has no empty segments (no leading or doubled /)'
      : undefined;
  }
  const kind = classifyFile(object);
  return kind.kind === 'skip' ? `the extractor does not read it: ${kind.reason}` : undefined;
}

function isKagglePart(value: string | undefined): value is string {
  return value !== undefined && KAGGLE_PART.test(value) && !value.includes('..');
}

export function parseSourceRef(source: string): SourceRef {
  if (source === 'sample') return { kind: 'sample' };
  if (source.startsWith('local:')) {
    const localPath = source.slice('local:'.length);
    if (localPath.trim() === '' || localPath.includes('\0')) {
      throw new InvalidRequestError(
        `invalid source ${JSON.stringify(source)}: expected local:PATH with a non-empty path`,
      );
    }
    return { kind: 'local', path: localPath };
  }
  if (source.startsWith('kaggle:')) {
    const [owner, slug, version, ...rest] = source.slice('kaggle:'.length).split('/');
    const versionOk = version === undefined || KAGGLE_VERSION.test(version);
    if (!isKagglePart(owner) || !isKagglePart(slug) || !versionOk || rest.length > 0) {
      throw new InvalidRequestError(
        `invalid source ${JSON.stringify(source)}: expected kaggle:OWNER/SLUG or kaggle:OWNER/SLUG/VERSION ` +
          '(letters, digits, _ . - and a positive version number)',
      );
    }
    return { kind: 'kaggle', owner, slug, version: version === undefined ? undefined : Number(version) };
  }
  if (source.startsWith('gs://')) {
    const rest = source.slice('gs://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const object = slash < 0 ? '' : rest.slice(slash + 1);
    const problem = bucketProblem(bucket) ?? objectProblem(object);
    if (problem) {
      throw new InvalidRequestError(
        `invalid source ${JSON.stringify(source)}: expected gs://BUCKET/OBJECT naming a table file, a .zip or a .gz, or gs://BUCKET/PREFIX/ (${problem})`,
      );
    }
    return object.endsWith('/') ? { kind: 'gcs', bucket, prefix: object } : { kind: 'gcs', bucket, object };
  }
  throw new InvalidRequestError(
    `unknown source scheme in ${JSON.stringify(source)}: expected "sample", "local:PATH", "kaggle:OWNER/SLUG", "gs://BUCKET/OBJECT" or "gs://BUCKET/PREFIX/"`,
  );
}
