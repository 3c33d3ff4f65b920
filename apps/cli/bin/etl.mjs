#!/usr/bin/env node
/**
 * The `etl` command (`pnpm etl`): apps/cli/src/main.ts from its bundle, apps/cli/dist/index.js, when that
 * was built from the code as it is now; else the bundle is built first (scripts/build.ts cli, ~2 s, once
 * after each change), and only if that build fails does the command run from its TypeScript under tsx.
 * Under tsx the command took 1.2-1.4 s to start, compiling and resolving its modules; from the bundle
 * ~0.3 s (bench/RESULTS.md). One process either way: signals and exit codes are the command's own.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundles, isBundleFresh } from '../../../scripts/in-place-bundles.mjs';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(ROOT, 'apps/cli');

async function fresh() {
  if (isBundleFresh(CLI, ROOT)) return true;
  const failed = await buildBundles(['cli'], ROOT);
  if (failed)
    process.stderr.write(`etl: building apps/cli/dist failed; running from source under tsx:\n${failed}\n`);
  return failed === undefined;
}

if (await fresh()) {
  await import(pathToFileURL(path.join(CLI, 'dist/index.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(CLI, 'src/main.ts')).href);
}
