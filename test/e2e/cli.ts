/** Runs the real `etl` command in a child process, as a user would. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SHARED_DIR = path.resolve(REPO_ROOT, '../shared');
export const SUPERSTORE_CSV = path.join(SHARED_DIR, 'data/superstore/Sample - Superstore.csv');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function etl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'apps/cli/src/main.ts', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, INIT_CWD: REPO_ROOT, ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `etl <command> --json`: stdout must be exactly one JSON document. */
export function parseJsonStdout<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}
