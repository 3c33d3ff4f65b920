/** Parses the request's `source` string: `sample`, `local:PATH` or `kaggle:OWNER/SLUG[/VERSION]`. */
import { InvalidRequestError } from '@etl/common/errors';

export type SourceRef =
  | { kind: 'sample' }
  | { kind: 'local'; path: string }
  | { kind: 'kaggle'; owner: string; slug: string; version: number | undefined };

// Strict on purpose: the parts end up in URLs and object keys, so no URLs, slashes or `..` get through.
const KAGGLE_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const KAGGLE_VERSION = /^[1-9][0-9]{0,8}$/;

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
  throw new InvalidRequestError(
    `unknown source scheme in ${JSON.stringify(source)}: expected "sample", "local:PATH" or "kaggle:OWNER/SLUG"`,
  );
}
