/**
 * Bundles in the checkout (`<package>/dist/index.js`): whether one was built from the files as they are now,
 * and building stale ones, for whatever starts them: `etl run` / `etl serve` (the services' bundles,
 * apps/cli/src/service-bundles.ts) and the `etl` command itself (apps/cli/bin/etl.mjs). Plain JavaScript, so
 * that the command can use it before TypeScript loads.
 *
 * Fresh means: the bundle's input list (`dist/index.inputs.json`, written by scripts/build.ts) names files
 * that all still exist and none modified since the build started. A source edit, a `git checkout` or a
 * dependency installed at another version (pnpm keeps versions in versioned folders) makes it stale, so a
 * test never runs a bundle older than the code it tests.
 */
import { spawn } from 'node:child_process';
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

/**
 * `node --import tsx scripts/build.ts NAME...` in `root`.
 * @param {readonly string[]} names build targets (scripts/build.ts)
 * @param {string} root the checkout's root
 * @returns {Promise<string | undefined>} undefined once built; the build's output when it failed
 */
export function buildBundles(names, root) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/build.ts', ...names], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) => resolve(String(error)));
    child.once('close', (code) =>
      resolve(code === 0 ? undefined : output.trim().slice(-2000) || `exit code ${code}`),
    );
  });
}
