/**
 * Bench inputs: generated sales CSVs (and a zip of each) cached under bench/.cache/, made once with the
 * CLI's own generator (`etl generate`, seed 42), plus the real Superstore file when /work/shared exists.
 */
import { existsSync, statSync } from 'node:fs';
import { link, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, runProcess } from './processes';

export interface Workload {
  name: string;
  /** The CSV file; for a dataset workload, the folder of its files. */
  csv: string;
  /** A zip holding the CSV, for the whole-run measure; undefined when `zip` is not installed. */
  zip?: string;
  bytes: number;
  /** A dataset workload: its files (each loaded as a table of its own) and the data rows of each. */
  dataset?: { files: string[]; rowsPerFile: number };
}

export const SUPERSTORE_CSV = path.resolve(REPO_ROOT, '../shared/data/superstore/Sample - Superstore.csv');
const SEED = 42;

/** "100k" -> 100000, "1M" -> 1000000, "2500" -> 2500. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`expected a size such as 2k, 100k or 1M, got ${JSON.stringify(text)}`);
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2]!]!;
  return Math.round(Number(match[1]) * scale);
}

export function sizeLabel(rows: number): string {
  if (rows % 1e6 === 0) return `${rows / 1e6}M`;
  if (rows % 1e3 === 0) return `${rows / 1e3}k`;
  return String(rows);
}

async function hasZip(): Promise<boolean> {
  try {
    return (await runProcess('zip', ['-v'])).code === 0;
  } catch {
    return false;
  }
}

/** The generated workload of `rows` rows, made (CSV, then zip) only when missing from the cache. */
export async function salesWorkload(
  rows: number,
  cacheDir: string,
  log: (line: string) => void,
): Promise<Workload> {
  await mkdir(cacheDir, { recursive: true });
  const name = `sales-${sizeLabel(rows)}`;
  const csv = path.join(cacheDir, `${name}.csv`);
  if (!existsSync(csv)) {
    log(`generating ${csv} (${rows} rows, seed ${SEED})`);
    const partial = `${csv}.partial`;
    const done = await runProcess(process.execPath, [
      'apps/cli/bin/etl.mjs',
      'generate',
      '--rows',
      String(rows),
      '--seed',
      String(SEED),
      '--out',
      partial,
    ]);
    if (done.code !== 0) throw new Error(`etl generate failed for ${csv}:\n${done.stderr}`);
    await rename(partial, csv);
  }
  const workload: Workload = { name, csv, bytes: statSync(csv).size };
  const zip = path.join(cacheDir, `${name}.zip`);
  if (!existsSync(zip)) {
    if (!(await hasZip())) {
      log('zip is not installed: the zipped workloads are skipped');
      return workload;
    }
    log(`zipping ${csv}`);
    const partial = `${zip}.partial`;
    await rm(partial, { force: true });
    const done = await runProcess('zip', ['-j', '-q', partial, csv]);
    if (done.code !== 0) throw new Error(`zip failed for ${csv}:\n${done.stderr}`);
    await rename(partial, zip);
  }
  return { ...workload, zip };
}

/**
 * "5x1M": a folder of `tables` files, each the `rows`-row workload's CSV (a hard link: no copy on disk),
 * which `etl run` loads as one table a file (`--tables`): the multi-table memory bound.
 */
export async function datasetWorkload(
  text: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<Workload> {
  const match = /^(\d+)x(.+)$/.exec(text.trim());
  if (!match) throw new Error(`expected a dataset such as 5x1M (tables x rows), got ${JSON.stringify(text)}`);
  const tables = Number(match[1]);
  const rows = parseSize(match[2]!);
  const single = await salesWorkload(rows, cacheDir, log);
  const dir = path.join(cacheDir, `sales-${tables}x${sizeLabel(rows)}`);
  await mkdir(dir, { recursive: true });
  const files = Array.from({ length: tables }, (_, i) => `part-${i + 1}.csv`);
  for (const file of files)
    if (!existsSync(path.join(dir, file))) await link(single.csv, path.join(dir, file));
  return {
    name: path.basename(dir),
    csv: dir,
    bytes: single.bytes * tables,
    dataset: { files, rowsPerFile: rows },
  };
}

export function superstoreWorkload(): Workload | undefined {
  if (!existsSync(SUPERSTORE_CSV)) return undefined;
  return { name: 'superstore', csv: SUPERSTORE_CSV, bytes: statSync(SUPERSTORE_CSV).size };
}
