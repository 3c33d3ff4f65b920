/** Shared flag handling: every command accepts --data-dir, resolved against the caller's directory. */
import path from 'node:path';

/** pnpm runs scripts from the repo root; INIT_CWD is where the user typed the command. */
export function callerDirectory(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

export function resolveFromCaller(file: string): string {
  return path.resolve(callerDirectory(), file);
}

/** --data-dir, else ETL_DATA_DIR, else .etl in the caller's directory. */
export function resolveDataDir(flag: string | undefined): string {
  return resolveFromCaller(flag ?? process.env.ETL_DATA_DIR ?? '.etl');
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses repeated KEY=VALUE flags (--env, --route). */
export function parsePairs(values: string[] | undefined, flag: string): Array<[string, string]> {
  return (values ?? []).map((value) => {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got ${JSON.stringify(value)}`);
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

/** A numeric flag value, or a usage error naming the flag. */
export function parseNumberFlag(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got ${JSON.stringify(value)}`);
  return n;
}
