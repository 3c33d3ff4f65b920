/**
 * The `local:PATH` source: one file (a table file, a .gz of one, or a zip holding a dataset), or a folder
 * searched recursively, every file in it taken as the dataset publishes it (see sources/dataset.ts). With a
 * root configured, the path (symlinks resolved) must stay inside it.
 *
 * A file still being written is not loaded as a snapshot: when its size or modification time changed
 * while it was copied, or it is a delimited text file modified in the last SETTLE_MS whose last line has
 * no line terminator, the extract fails with a retryable 503 SOURCE_STILL_WRITING naming the file (the
 * workflow retries it with backoff; the raw files copied so far are removed).
 */
import { createReadStream, type Dirent, type Stats } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { utf16ByteOrder } from '@etl/common/byte-order';
import type { SkippedFile } from '@etl/common/contracts';
import { InvalidRequestError, NotFoundError, UpstreamUnavailableError } from '@etl/common/errors';
import { classifyFile, stripDataExtensions } from '../files/dataset-files';
import type { DatasetFile } from '../files/raw-files';
import { extractDataset } from './dataset';
import type { SourceContext, SourceResult } from './source';

export interface LocalSourceOptions {
  /** LOCAL_SOURCE_ROOT: relative paths resolve against it and every path must stay inside it. */
  root?: string;
}

function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Bytes of a file's start that `sniffTextFormat` reads. */
const SNIFF_BYTES = 64 * 1024;

/**
 * The format of a text file whose name does not say it, by its first bytes: JSON when it starts with `{` or
 * `[`, delimited when its first line holds a `,` `;` tab or `|` and a line follows; undefined for binary
 * content (a NUL byte) or anything else, which stays skipped with its reason.
 */
export async function sniffTextFormat(file: string): Promise<'delimited' | 'json' | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head.includes(0)) return undefined;
    const text = head.toString('utf8').replace(/^\uFEFF/, '');
    if (/^\s*[[{]/.test(text)) return 'json';
    const lines = text.split(/\r\n|\n|\r/);
    return lines.length > 1 && /[,;\t|]/.test(lines[0]!) ? 'delimited' : undefined;
  } finally {
    await handle.close();
  }
}

/** Owner segment of a local dataset id, `local/files/<slug>`, unless another path holds that id (local-identity.ts). */
export const LOCAL_OWNER = 'files';

/** A dataset slug from a file or folder name: `Sample - Superstore.csv` -> `sample-superstore`, `Sales.csv.gz` -> `sales`. */
export function slugifyName(name: string): string {
  const slug = stripDataExtensions(name)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
  return slug || 'data';
}

async function resolveLocalPath(requested: string, root: string | undefined): Promise<string> {
  const base = root === undefined ? process.cwd() : path.resolve(root);
  const target = path.resolve(base, requested);
  const outside = () =>
    new InvalidRequestError(
      `local path ${JSON.stringify(requested)} resolves outside LOCAL_SOURCE_ROOT (${base})`,
      {},
      'PATH_OUTSIDE_ROOT',
    );
  // Lexical check first: a path outside the root is refused whether or not it exists.
  if (root !== undefined && !isInside(base, target)) throw outside();
  try {
    await stat(target);
  } catch {
    throw new NotFoundError(
      `local path ${JSON.stringify(requested)} not found (looked for ${target})`,
      {},
      'SOURCE_NOT_FOUND',
    );
  }
  if (root !== undefined && !isInside(await realpath(base), await realpath(target))) throw outside();
  return target;
}

/** A delimited file modified this recently whose last byte is not a line terminator is taken as still being written. */
export const SETTLE_MS = 5_000;

function stillWriting(file: string, why: string): UpstreamUnavailableError {
  return new UpstreamUnavailableError(
    `local file ${file} is still being written (${why}); not loaded as a partial snapshot: retry once the writer has finished`,
    {},
    'SOURCE_STILL_WRITING',
  );
}

/** Whether the file's last character is a line terminator: a byte, or a code unit in UTF-16 with a byte-order mark. */
async function endsWithLineTerminator(file: string, size: number): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const tail = Buffer.alloc(2);
    await handle.read({ buffer: head, position: 0 });
    await handle.read({ buffer: tail, position: Math.max(0, size - 2) });
    const utf16 = utf16ByteOrder(head);
    const unit =
      utf16 === undefined ? undefined : utf16 === 'utf-16le' ? tail.readUInt16LE(0) : tail.readUInt16BE(0);
    const last = unit ?? tail[size >= 2 ? 1 : 0]!;
    return last === 0x0a || last === 0x0d;
  } finally {
    await handle.close();
  }
}

/**
 * Throws SOURCE_STILL_WRITING when the file changed since `before` (its last opening), or when a delimited
 * file ends mid-line and was modified within SETTLE_MS.
 */
async function assertLocalFileSettled(file: string, before: Stats, delimited: boolean): Promise<void> {
  const after = await stat(file);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw stillWriting(
      file,
      `it changed while it was read: ${before.size} bytes modified at ${before.mtime.toISOString()}, then ${after.size} bytes modified at ${after.mtime.toISOString()}`,
    );
  }
  const age = Date.now() - after.mtimeMs;
  if (delimited && age < SETTLE_MS && after.size > 0 && !(await endsWithLineTerminator(file, after.size))) {
    throw stillWriting(
      file,
      `its last line has no line terminator and it was modified ${Math.round(age)} ms ago, less than ${SETTLE_MS} ms`,
    );
  }
}

/** A local file as a dataset file; a zip is named `archive PATH` in messages, as its entries are. */
function localFile(file: string, name: string): DatasetFile {
  const kind = classifyFile(name);
  const label = kind.kind === 'zip' ? `archive ${file}` : `local file ${file}`;
  let opened: Stats | undefined;
  return {
    name,
    label,
    path: file,
    open: async () => {
      opened = await stat(file);
      return createReadStream(file);
    },
    assertSettled: async () => {
      if (opened)
        await assertLocalFileSettled(file, opened, kind.kind === 'table' && kind.format === 'delimited');
    },
  };
}

/**
 * Every file under `folder`, named by its path relative to it with `/`, table or not (so that what is not a
 * table is listed with its reason). Symbolic links are not followed, and are listed as skipped.
 */
async function listFolder(
  folder: string,
  prefix = '',
): Promise<{ files: DatasetFile[]; skipped: SkippedFile[] }> {
  const entries: Dirent[] = await readdir(path.join(folder, prefix), { withFileTypes: true });
  const found: { files: DatasetFile[]; skipped: SkippedFile[] } = { files: [], skipped: [] };
  for (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const inner = await listFolder(folder, name);
      found.files.push(...inner.files);
      found.skipped.push(...inner.skipped);
    } else if (entry.isFile()) {
      found.files.push(localFile(path.join(folder, ...name.split('/')), name));
    } else {
      const reason = entry.isSymbolicLink() ? 'symbolic link, not followed' : 'not a regular file';
      found.skipped.push({ name, reason });
    }
  }
  return found;
}

export async function extractLocal(
  context: SourceContext,
  requested: string,
  options: LocalSourceOptions = {},
): Promise<SourceResult> {
  const target = await resolveLocalPath(requested, options.root);
  const info = await stat(target);
  const dataset = {
    kind: 'local',
    owner: LOCAL_OWNER,
    slug: slugifyName(path.basename(target)),
    location: await realpath(target),
  } as const;

  if (info.isDirectory()) {
    const { files, skipped } = await listFolder(target);
    return {
      dataset,
      ...(await extractDataset(context, { label: `folder ${target}`, folder: files, skipped })),
    };
  }
  if (!info.isFile()) {
    throw new InvalidRequestError(`local path ${target} is neither a file nor a folder`, {}, 'NOT_A_FILE');
  }
  const file = localFile(target, path.basename(target));
  // A file named by the user whose extension says nothing (`export.dat`, none) is read by its content.
  const kind = classifyFile(file.name);
  const format = kind.kind === 'skip' && kind.unknownFormat ? await sniffTextFormat(target) : undefined;
  if (format) context.logger.info({ file: target, format }, 'no table extension: read by its content');
  return {
    dataset,
    ...(await extractDataset(context, { label: file.label, file: format ? { ...file, format } : file })),
  };
}
