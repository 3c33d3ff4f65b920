/** The `etl` CLI as a child process, for the tests of its long-running commands (watch, schedule). */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { generateSalesChunks } from '@etl/sample-data';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');
const MAIN = path.join(REPO_ROOT, 'apps/cli/src/main.ts');
// The ML stage is not what these tests are about: off, for speed.
const ENV = { ...process.env, INIT_CWD: REPO_ROOT, ML_INSIGHTS: 'false', ETL_MODE: 'local' };

export interface Summary {
  runId: string;
  status: string;
  source: string;
  tables: Array<{ name: string; rowsIn: number; rowsLoaded: number }>;
}

/** A running CLI: its stdout JSON lines and stderr text as they come. */
export class Cli {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly summaries: Summary[] = [];
  stdout = '';
  stderr = '';
  private waiters: Array<() => void> = [];

  /** `env` adds to the tests' environment. */
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...ENV, ...env },
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.stdout += `${line}\n`;
      // --json prints one summary a line; `etl serve` prints text.
      if (line.startsWith('{')) this.summaries.push(JSON.parse(line) as Summary);
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
  }

  private notify() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves when `ready()` holds; fails after `timeoutMs` with what the process said. */
  async until(ready: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    return exited;
  }
}

export async function query(dataDir: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', MAIN, 'query', '--json', '--data-dir', dataDir, sql],
    { cwd: REPO_ROOT, env: ENV },
  );
  return JSON.parse(stdout) as Array<Record<string, unknown>>;
}

export const salesCsv = (rows: number, seed: number) => [...generateSalesChunks({ rows, seed })].join('');
