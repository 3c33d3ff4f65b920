/**
 * Watches a folder for new data files (CSV/TSV, .gz, Parquet, JSON, Excel, zips) and hands each one to a job once per CONTENT: the
 * sha256 of every file handled is remembered in a state file, so the same bytes copied again, or the
 * file renamed, never run twice, while a changed file (new bytes, same name) does. A file is handled
 * only once it is stable: its size and modification time unchanged across two checks at least
 * `intervalMs` apart, so a file still being copied in is not read half-written.
 *
 * Change detection: node:fs.watch wakes the loop early where the platform supports it, and the folder
 * is also polled every `intervalMs`, which alone is enough (network and container file systems often
 * deliver no events). Jobs run one at a time; files that arrive meanwhile are picked up afterwards.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The table formats and archives a dataset may be (docs/datasets.md); `.txt` is left out: notes. */
export const WATCHED_EXTENSIONS = [
  '.csv',
  '.tsv',
  '.zip',
  '.gz',
  '.parquet',
  '.json',
  '.jsonl',
  '.ndjson',
  '.xlsx',
];

export interface WatchedFile {
  path: string;
  name: string;
  sha256: string;
  bytes: number;
}

export interface HandledFile {
  name: string;
  bytes: number;
  runId: string;
  status: string;
  at: string;
}

export interface WatchState {
  version: 1;
  /** Keyed by sha256 of the content. */
  files: Record<string, HandledFile>;
}

export type WatchEvent =
  | { type: 'watching'; dir: string; known: number }
  | { type: 'new-file'; file: WatchedFile }
  | { type: 'duplicate'; file: WatchedFile; first: HandledFile }
  | { type: 'handled'; file: WatchedFile; handled: HandledFile }
  | { type: 'job-error'; file: WatchedFile; error: unknown }
  | { type: 'scan-error'; error: unknown };

export interface WatchFolderOptions {
  dir: string;
  /** JSON file remembering the contents already handled (created when missing). */
  statePath: string;
  job: (file: WatchedFile) => Promise<{ runId: string; status: string }>;
  intervalMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: WatchEvent) => void;
}

export async function readWatchState(statePath: string): Promise<WatchState> {
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: {} };
    throw error;
  }
  const state = JSON.parse(text) as Partial<WatchState>;
  if (state.version !== 1 || typeof state.files !== 'object' || state.files === null) {
    throw new Error(`expected {"version": 1, "files": {...}} in ${statePath}, found ${text.slice(0, 80)}`);
  }
  return state as WatchState;
}

/** Written to a temporary file, then renamed: a crash never leaves half a state file. */
export async function writeWatchState(statePath: string, state: WatchState): Promise<void> {
  await mkdir(path.dirname(statePath), { recursive: true });
  const temporary = `${statePath}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, statePath);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function isWatchedName(name: string): boolean {
  return !name.startsWith('.') && WATCHED_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Resolves when `signal` aborts (after the job in progress, if any, has ended). */
export async function watchFolder(options: WatchFolderOptions): Promise<void> {
  const intervalMs = options.intervalMs ?? 1000;
  const signal = options.signal ?? new AbortController().signal;
  const emit = options.onEvent ?? (() => {});
  const state = await readWatchState(options.statePath);
  // Candidates: the size and mtime last seen, and since when they have not changed.
  const pending = new Map<string, { size: number; mtimeMs: number; since: number }>();
  // Files already hashed, by name -> "size:mtime", so an unchanged file is not hashed on every scan.
  const settled = new Map<string, string>();

  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dir, { persistent: false }, () => wake?.());
    watcher.on('error', () => {}); // polling carries on
  } catch {
    watcher = undefined; // no events on this file system: polling only
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      wake = done;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake = undefined;
        resolve();
      }
    });

  emit({ type: 'watching', dir: options.dir, known: Object.keys(state.files).length });
  try {
    while (!signal.aborted) {
      try {
        await scan();
      } catch (error) {
        emit({ type: 'scan-error', error });
      }
      if (!signal.aborted) await sleep(intervalMs);
    }
  } finally {
    watcher?.close();
  }

  async function scan(): Promise<void> {
    const entries = await readdir(options.dir, { withFileTypes: true });
    const names = entries
      .filter((e) => e.isFile() && isWatchedName(e.name))
      .map((e) => e.name)
      .sort();
    for (const name of [...pending.keys(), ...settled.keys()]) {
      if (!names.includes(name)) {
        pending.delete(name);
        settled.delete(name);
      }
    }
    for (const name of names) {
      if (signal.aborted) return;
      const file = path.join(options.dir, name);
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      const signature = `${info.size}:${info.mtimeMs}`;
      if (settled.get(name) === signature) continue;
      const now = Date.now();
      const seen = pending.get(name);
      if (!seen || seen.size !== info.size || seen.mtimeMs !== info.mtimeMs) {
        pending.set(name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
        continue;
      }
      if (now - seen.since < intervalMs) continue;
      pending.delete(name);
      settled.set(name, signature);
      await handle({ path: file, name, bytes: info.size, sha256: await sha256File(file) });
    }
  }

  async function handle(file: WatchedFile): Promise<void> {
    const first = state.files[file.sha256];
    if (first) {
      emit({ type: 'duplicate', file, first });
      return;
    }
    emit({ type: 'new-file', file });
    try {
      const outcome = await options.job(file);
      const handled: HandledFile = {
        name: file.name,
        bytes: file.bytes,
        runId: outcome.runId,
        status: outcome.status,
        at: new Date().toISOString(),
      };
      state.files[file.sha256] = handled;
      await writeWatchState(options.statePath, state);
      emit({ type: 'handled', file, handled });
    } catch (error) {
      // Not remembered: the next change of the file, or a restart, tries again.
      emit({ type: 'job-error', file, error });
    }
  }
}
