import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout's root: the nearest folder at or above `from` holding pnpm-workspace.yaml; undefined outside
 * a checkout (a container image). Code that finds files of the repository walks up to it rather than
 * counting `..` from its own folder, since a module may run from its source, a bundle or a bundle's chunk.
 */
export function findWorkspaceRoot(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** `findWorkspaceRoot`, for code that only runs from a checkout (the `etl` command). */
export function workspaceRoot(from: string): string {
  const root = findWorkspaceRoot(from);
  if (!root)
    throw new Error(`expected ${from} to be inside the project's checkout (no pnpm-workspace.yaml above it)`);
  return root;
}
