/**
 * The object-key contract. A key depends only on run, stage and table, so a retried request rewrites the
 * same object and never appends. Every other module builds and parses keys here.
 *
 *   runs/<runId>/raw/<file>
 *   runs/<runId>/staged/<table>.arrow
 *   runs/<runId>/staged/<table>.schema.json
 *   runs/<runId>/quarantine/<table>.arrow
 *   runs/<runId>/reports/<stage>.json
 *   runs/<runId>/manifest/<stage>.json
 *   datasets/<source>/<owner>/<slug>/state.json
 *   datasets/<source>/<owner>/<slug>/lease.json
 */
import { InvalidRequestError } from '../errors';

export const STAGES = ['extract', 'transform', 'load', 'analyze'] as const;
export type Stage = (typeof STAGES)[number];

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TABLE = /^[a-z][a-z0-9_]{0,62}$/;
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isRunId(value: string): boolean {
  return RUN_ID.test(value) && !value.includes('..');
}

export function isTableName(value: string): boolean {
  return TABLE.test(value);
}

export function assertRunId(runId: string): string {
  if (!isRunId(runId)) {
    throw new InvalidRequestError(
      `invalid runId ${JSON.stringify(runId)}: expected 1-128 letters, digits, '_', '.', '-' starting with a letter or digit`,
    );
  }
  return runId;
}

export function assertTableName(table: string): string {
  if (!isTableName(table)) {
    throw new InvalidRequestError(
      `invalid table name ${JSON.stringify(table)}: expected lower-case letters, digits and '_' starting with a letter, at most 63 characters`,
    );
  }
  return table;
}

/**
 * A raw file name may hold sub-folders (files unzipped from an archive) but never escapes its run:
 * no absolute paths, no `..`, no empty or dot segments, no backslashes or control characters.
 */
export function assertRawFileName(file: string): string {
  const segments = file.split('/');
  const bad =
    file.length === 0 ||
    file.length > 512 ||
    file.includes('\\') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    /[\u0000-\u001f]/.test(file) ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad)
    throw new InvalidRequestError(
      `invalid raw file name ${JSON.stringify(file)}: must be a relative path inside the run`,
    );
  return file;
}

function assertSegment(kind: string, value: string): string {
  if (!SEGMENT.test(value) || value.includes('..')) {
    throw new InvalidRequestError(`invalid ${kind} ${JSON.stringify(value)} in a dataset key`);
  }
  return value;
}

/** Every run's objects are under it, one folder a run. */
export const RUNS_PREFIX = 'runs/';
export const runPrefix = (runId: string): string => `${RUNS_PREFIX}${assertRunId(runId)}/`;
export const rawPrefix = (runId: string): string => `${runPrefix(runId)}raw/`;
export const rawKey = (runId: string, file: string): string =>
  `${rawPrefix(runId)}${assertRawFileName(file)}`;
export const stagedKey = (runId: string, table: string): string =>
  `${runPrefix(runId)}staged/${assertTableName(table)}.arrow`;
/** The schema a staged table was cleaned to (types, formats, value sketches), for the dataset state. */
export const stagedSchemaKey = (runId: string, table: string): string =>
  `${runPrefix(runId)}staged/${assertTableName(table)}.schema.json`;
export const quarantineKey = (runId: string, table: string): string =>
  `${runPrefix(runId)}quarantine/${assertTableName(table)}.arrow`;
export const reportKey = (runId: string, stage: Stage): string => `${runPrefix(runId)}reports/${stage}.json`;
export const manifestKey = (runId: string, stage: Stage): string =>
  `${runPrefix(runId)}manifest/${stage}.json`;
export const datasetStateKey = (source: string, owner: string, slug: string): string =>
  `datasets/${assertSegment('source', source)}/${assertSegment('owner', owner)}/${assertSegment('slug', slug)}/state.json`;
/** The load lease of a dataset: which run is loading it now (see services/loader/src/lease.ts). */
export const datasetLeaseKey = (source: string, owner: string, slug: string): string =>
  `datasets/${assertSegment('source', source)}/${assertSegment('owner', owner)}/${assertSegment('slug', slug)}/lease.json`;

export type ParsedKey =
  | { kind: 'raw'; runId: string; file: string }
  | { kind: 'staged' | 'quarantine'; runId: string; table: string }
  | { kind: 'report' | 'manifest'; runId: string; stage: Stage }
  | { kind: 'dataset-state'; source: string; owner: string; slug: string };

/** The inverse of the builders above; undefined for a key outside the contract. */
export function parseKey(key: string): ParsedKey | undefined {
  let m = /^runs\/([^/]+)\/raw\/(.+)$/.exec(key);
  if (m && isRunId(m[1]!)) return { kind: 'raw', runId: m[1]!, file: m[2]! };
  m = /^runs\/([^/]+)\/(staged|quarantine)\/([^/]+)\.arrow$/.exec(key);
  if (m && isRunId(m[1]!) && isTableName(m[3]!)) {
    return { kind: m[2] as 'staged' | 'quarantine', runId: m[1]!, table: m[3]! };
  }
  m = /^runs\/([^/]+)\/(reports|manifest)\/([^/]+)\.json$/.exec(key);
  if (m && isRunId(m[1]!) && (STAGES as readonly string[]).includes(m[3]!)) {
    return { kind: m[2] === 'reports' ? 'report' : 'manifest', runId: m[1]!, stage: m[3] as Stage };
  }
  m = /^datasets\/([^/]+)\/([^/]+)\/([^/]+)\/state\.json$/.exec(key);
  if (m) return { kind: 'dataset-state', source: m[1]!, owner: m[2]!, slug: m[3]! };
  return undefined;
}
