/**
 * Whether a bundle in the checkout was built from the files as they are now, for whatever starts one:
 * `etl run` / `etl serve` (the services' bundles, apps/cli/src/service-bundles.ts) and the `etl` command
 * itself (apps/cli/bin/etl.mjs). Plain JavaScript, so that the command can ask before TypeScript loads.
 *
 * Fresh means: the bundle's input list (`dist/index.inputs.json`, written by scripts/build.ts) names files
 * that all still exist and none modified since the build started. A source edit, a `git checkout` or a
 * dependency installed at another version (pnpm keeps versions in versioned folders) makes it stale, so a
 * test never runs a bundle older than the code it tests.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const BUNDLE_INPUTS = 'dist/index.inputs.json';

/**
 * @param {string} packageDir the bundled package's folder (`<root>/services/loader`, `<root>/apps/cli`)
 * @param {string} root the checkout's root, which the input list's paths are relative to
 * @returns {boolean} whether `<packageDir>/dist/index.js` exists and no input changed since its build
 */
export function isBundleFresh(packageDir, root) {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(path.join(packageDir, BUNDLE_INPUTS), 'utf8'));
    statSync(path.join(packageDir, 'dist', 'index.js'));
  } catch {
    return false;
  }
  for (const file of inputs.files) {
    const modified = statSync(path.join(root, file), { throwIfNoEntry: false })?.mtimeMs;
    if (modified === undefined || modified >= inputs.startedAt) return false;
  }
  return true;
}
