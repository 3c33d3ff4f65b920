/**
 * How `etl run` and `etl serve` start a service: from its bundle, `services/<name>/dist/index.js` (what
 * `pnpm build` makes and a container image runs), when the bundle is fresh; else the bundles are built
 * first (scripts/build.ts, once after each change of a service's code), and only when that build fails
 * does the service start from its TypeScript under tsx, as before.
 *
 * Why: under tsx every start compiled and resolved each service's few hundred modules (the CLI's start-up
 * was ~2-3 s of a 100-row run); a bundle is one file Node loads directly (bench/RESULTS.md).
 *
 * Fresh, and the build: scripts/in-place-bundles.mjs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceRoot } from '@etl/common/workspace-root';
import { BUNDLE_INPUTS, buildBundles, isBundleFresh as isFresh } from '../../../scripts/in-place-bundles.mjs';

const REPO_ROOT = workspaceRoot(import.meta.dirname);

/** The Node arguments that start `name`: its bundle, or its source under tsx. */
export interface ServiceEntry {
  args: string[];
  from: 'bundle' | 'source';
  /** The bundle's build (`bundleBuild`); none from source. */
  build?: number;
}

const bundleDir = (name: string, root = REPO_ROOT) => path.join(root, 'services', name);

/** Whether `root`/services/<name>/dist/index.js exists and was built from the files as they are now. */
export function isBundleFresh(name: string, root = REPO_ROOT): boolean {
  return isFresh(bundleDir(name, root), root);
}

/**
 * When `name`'s bundle was built (the start of its build, from its input list), if the bundle is fresh: two
 * processes started from the same build of a service run the same code.
 */
export function bundleBuild(name: string, root = REPO_ROOT): number | undefined {
  return isBundleFresh(name, root) ? buildStamp(name, root) : undefined;
}

/** The start of the build of `name`'s bundle, from its input list, whether or not the bundle is fresh. */
function buildStamp(name: string, root = REPO_ROOT): number | undefined {
  try {
    const inputs = JSON.parse(readFileSync(path.join(bundleDir(name, root), BUNDLE_INPUTS), 'utf8'));
    return typeof inputs.startedAt === 'number' ? inputs.startedAt : undefined;
  } catch {
    return undefined;
  }
}

/** The entries of `names`, building the stale bundles first (one build for all of them). */
export async function serviceEntries(
  names: readonly string[],
  onProgress: (line: string) => void = () => {},
): Promise<Record<string, ServiceEntry>> {
  const stale = names.filter((name) => !isBundleFresh(name));
  let failed: string | undefined;
  if (stale.length > 0) {
    onProgress(
      `building ${stale.map((n) => `services/${n}/dist`).join(', ')} (changed since the last build)`,
    );
    failed = await buildBundles(stale, REPO_ROOT);
    if (failed)
      onProgress(`the build failed; starting ${stale.join(', ')} from source under tsx:\n${failed}`);
  }
  const entries: Record<string, ServiceEntry> = {};
  for (const name of names) {
    // Fresh by now (or started from source): its freshness, ~15-20 ms of stat calls, is not checked again.
    const build = buildStamp(name);
    entries[name] =
      failed && stale.includes(name)
        ? { args: ['--import', 'tsx', path.join(bundleDir(name), 'src', 'index.ts')], from: 'source' }
        : {
            args: [path.join(bundleDir(name), 'dist', 'index.js')],
            from: 'bundle',
            ...(build === undefined ? {} : { build }),
          };
  }
  return entries;
}
