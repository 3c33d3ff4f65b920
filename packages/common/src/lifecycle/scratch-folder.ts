/**
 * A service's scratch space is one folder per process, `etl-<service>-pid<pid>-XXXXXX`, so that what a
 * killed process left (hundreds of MB of prepared CSV or Parquet) can be attributed to its owner and
 * removed by the next start, while the folders of live processes are never touched.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging';
import { isProcessAlive } from './process-alive';

const SCRATCH_FOLDER = /^etl-[a-z]+-pid(\d+)-[A-Za-z0-9]{6}$/;

/** The scratch folders this process made (it may make one per parent folder). */
const claimedFolders = new Set<string>();

export interface ScratchFolderOptions {
  /** The folder the scratch folder is made in, e.g. os.tmpdir(). */
  parent: string;
  service: string;
  logger: Logger;
}

/** The owner pid of a per-process scratch folder, from its name; undefined for any other name. */
export function scratchFolderOwner(name: string): number | undefined {
  const match = SCRATCH_FOLDER.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes the per-process scratch folders in `parent` whose owner is gone. A folder with our own pid that
 * this process did not make is stale too: an earlier process had the same pid (a restarted container).
 */
export async function sweepStaleScratch(parent: string, logger: Logger): Promise<string[]> {
  const names = await readdir(parent).catch(() => []);
  const stale = names.filter((name) => {
    const owner = scratchFolderOwner(name);
    if (owner === undefined) return false;
    return owner === process.pid ? !claimedFolders.has(path.join(parent, name)) : !isProcessAlive(owner);
  });
  for (const name of stale) {
    await rm(path.join(parent, name), { recursive: true, force: true });
    logger.info(
      { folder: path.join(parent, name), ownerPid: scratchFolderOwner(name) },
      `removed the scratch folder ${name} of a process that is gone`,
    );
  }
  return stale;
}

/** Sweeps `parent`, then makes this process's own scratch folder in it. */
export async function claimScratchFolder({ parent, service, logger }: ScratchFolderOptions): Promise<string> {
  await sweepStaleScratch(parent, logger);
  const folder = await mkdtemp(path.join(parent, `etl-${service}-pid${process.pid}-`));
  claimedFolders.add(folder);
  return folder;
}
