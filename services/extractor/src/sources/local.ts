/**
 * The `local:PATH` source: one CSV file, a zip of CSV files, or a folder of CSV files (searched
 * recursively, sorted by path). With a root configured, the path (symlinks resolved) must stay inside it.
 */
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataRejectedError, InvalidRequestError, NotFoundError } from '@etl/common/errors';
import { type RawInput, writeRawFiles } from '../raw-files';
import { isCsvName, openCsvArchive } from '../unzip';
import type { SourceContext, SourceResult } from './source';

export interface LocalSourceOptions {
  /** LOCAL_SOURCE_ROOT: relative paths resolve against it and every path must stay inside it. */
  root?: string;
}

function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** A dataset slug from a file or folder name: `Sample - Superstore.csv` -> `sample-superstore`. */
export function slugifyName(name: string): string {
  const slug = name
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

function fileInput(file: string, name: string): RawInput {
  return { name, label: `local file ${file}`, open: async () => createReadStream(file) };
}

/** Regular CSV files under `folder`, as paths relative to it with `/`; symlinks are not followed. */
async function listCsvFiles(folder: string, prefix = ''): Promise<string[]> {
  const entries: Dirent[] = await readdir(path.join(folder, prefix), { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await listCsvFiles(folder, relative)));
    else if (entry.isFile() && isCsvName(relative)) found.push(relative);
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
  const slug = slugifyName(path.basename(target).replace(/\.(csv|zip)$/i, ''));
  const dataset = { kind: 'local', owner: 'files', slug } as const;
  const { store, runId } = context;

  if (info.isDirectory()) {
    const names = (await listCsvFiles(target)).sort();
    if (names.length === 0)
      throw new DataRejectedError(`folder ${target} contains no CSV files`, {}, 'NO_CSV_FILES');
    const inputs = names.map((name) => fileInput(path.join(target, ...name.split('/')), name));
    return { dataset, files: await writeRawFiles(store, runId, inputs) };
  }
  if (!info.isFile()) {
    throw new InvalidRequestError(`local path ${target} is neither a file nor a folder`, {}, 'NOT_A_FILE');
  }
  if (/\.zip$/i.test(target)) {
    const archive = await openCsvArchive(target, target, context.zipLimits);
    try {
      return { dataset, files: await writeRawFiles(store, runId, archive.inputs) };
    } finally {
      archive.close();
    }
  }
  return { dataset, files: await writeRawFiles(store, runId, [fileInput(target, path.basename(target))]) };
}
