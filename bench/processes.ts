/**
 * Child processes for the bench: workers that print a JSON result line, and the real `etl run`, whose
 * service processes are watched through /proc for their peak resident set (VmHWM) and their CPU time.
 *
 * Why /proc polling: the CLI starts the three services as grandchildren of the bench, and neither
 * `process.resourceUsage()` (own process only) nor getrusage(RUSAGE_CHILDREN) (one maximum over every
 * descendant, and only once reaped) tells them apart. VmHWM is the kernel's high-water mark of each
 * process's RSS, so a poll only has to read it once more before the process exits: the only peak that can
 * be missed is growth within the last poll interval (100 ms) before a service exits, and services are
 * idle by then (they are stopped after the workflow returns).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StageResult } from './worker-result';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const POLL_MS = 100;

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Each stderr line with the time it arrived, in ms after the spawn (pipes are written synchronously). */
  stderrLines: { ms: number; line: string }[];
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<Finished> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  const stderrLines: Finished['stderrLines'] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    const ms = performance.now() - started;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) stderrLines.push({ ms, line });
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stdout, stderr, wallMs: performance.now() - started, stderrLines }),
    );
  });
}

/** `node --import tsx <script> ...args`, whose last stdout line is a StageResult. */
export async function runNodeWorker(
  script: string,
  args: readonly string[],
  nodeOptions: readonly string[] = [],
): Promise<StageResult> {
  const done = await runProcess(process.execPath, [...nodeOptions, '--import', 'tsx', script, ...args]);
  return parseResult(`${script} ${args.join(' ')}`, done);
}

export function parseResult(label: string, done: Finished): StageResult {
  const last = done.stdout.trim().split('\n').at(-1) ?? '';
  if (done.code !== 0 || !last.startsWith('{')) {
    throw new Error(
      `expected ${label} to exit 0 with a JSON result line, got exit code ${done.code}\n--- stderr (tail) ---\n${done.stderr.slice(-3000)}\n--- stdout (tail) ---\n${done.stdout.slice(-1000)}`,
    );
  }
  return JSON.parse(last) as StageResult;
}

/** Every descendant of `pid` (children of children ...), from /proc/<pid>/task/<tid>/children. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      // Exited meanwhile.
    }
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times: USER_HZ, 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/**
 * VmHWM of a process in MiB, its CPU time so far (user + system, ms) and its command line; undefined once it
 * has exited.
 */
function readProcess(pid: number): { peakMb: number; cpuMs: number; cmdline: string } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\u0000', ' ');
    return kb === undefined
      ? undefined
      : { peakMb: Number(kb) / 1024, cpuMs: (ticks * 1000) / TICKS_PER_SECOND, cmdline };
  } catch {
    return undefined;
  }
}

/** Names a process of `etl run` by its command line: a service, the CLI itself, or its basename. */
function processName(cmdline: string): string {
  const service = /services\/(\w+)\/(?:src\/index\.ts|dist\/index\.js)/.exec(cmdline)?.[1];
  if (service) return service;
  if (/apps\/cli\/src\/main\.ts/.test(cmdline)) return 'cli';
  return path.basename(cmdline.split(' ')[0] ?? 'unknown');
}

/** What `watchProcesses` found, per named process. */
export interface ProcessUse {
  /** Peak RSS, MiB. */
  peaks: Record<string, number>;
  /**
   * CPU time (user + system), ms, summed over the processes of a name: as last polled, so up to one poll
   * interval of each process's work before it exited is missed.
   */
  cpuMs: Record<string, number>;
}

/**
 * Peak RSS and CPU time per named process of the tree under `root` (itself included), polled every 100 ms
 * until `stop()`; esbuild helpers that tsx starts are ignored.
 */
export function watchProcesses(root: ChildProcess): { stop(): ProcessUse } {
  const peaks: Record<string, number> = {};
  const cpu = new Map<number, { name: string; ms: number }>();
  const sample = (): void => {
    if (root.pid === undefined) return;
    for (const pid of [root.pid, ...descendants(root.pid)]) {
      const found = readProcess(pid);
      if (!found || found.cmdline.trim() === '') continue; // exited (a zombie has no command line)
      const name = processName(found.cmdline);
      if (name === 'esbuild') continue;
      peaks[name] = Math.max(peaks[name] ?? 0, found.peakMb);
      cpu.set(pid, { name, ms: found.cpuMs });
    }
  };
  const timer = setInterval(sample, POLL_MS);
  return {
    stop() {
      clearInterval(timer);
      const cpuMs: Record<string, number> = {};
      for (const { name, ms } of cpu.values()) cpuMs[name] = (cpuMs[name] ?? 0) + ms;
      return { peaks, cpuMs };
    },
  };
}
