/**
 * `pnpm build [--deploy DIR] [NAME...]`: one self-contained ESM bundle per service and for the insights
 * app (dist/index.js), the artefact a container image runs with plain `node`. Native and WebAssembly
 * packages stay external: they are loaded from node_modules beside the bundle at run time.
 *
 *   pnpm build                         services/<name>/dist/index.js and apps/insights/dist/index.js
 *   pnpm build --deploy /deploy loader /deploy/loader/: what the loader's image holds, and nothing else:
 *       dist/index.js (+ .map), dist/chunks/*.js: what it imports lazily (see CHUNKS)
 *       package.json     {"type": "module"} and the externals the bundle imports, pinned
 *       node_modules/    exactly those externals and their dependencies (optional ones when installed),
 *                        copied from the installed tree: the versions of pnpm-lock.yaml
 *       public/, node_modules/echarts/{package.json, dist/echarts.min.js}   (insights only)
 *       profiles/        the dataset profiles (transformer only)
 *
 * The Dockerfile (`--build-arg SERVICE=<name>`) runs the second form in its build stage and copies
 * /deploy/<name> into the runtime image; test/deploy/bundle.test.ts starts each folder with plain
 * `node dist/index.js`.
 */

import { cp, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_INPUTS } from './in-place-bundles.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXTERNAL = ['@duckdb/node-api', '@duckdb/node-bindings', 'parquet-wasm'];

/** What `pnpm build` builds: name -> package folder. */
export const TARGETS: Record<string, string> = {
  extractor: 'services/extractor',
  transformer: 'services/transformer',
  loader: 'services/loader',
  insights: 'apps/insights',
};

/**
 * Bundles built in place only, never into an image: the `etl` command, started from its bundle by
 * apps/cli/bin/etl.mjs (under tsx it took 1.2-1.4 s to start).
 */
export const LOCAL_TARGETS: Record<string, { dir: string; entry: string }> = {
  cli: { dir: 'apps/cli', entry: 'src/main.ts' },
};

/**
 * Folders a target reads at run time, copied into its deploy folder: `from` relative to the repository,
 * `to` relative to the deploy folder (= the image's /app, the working directory).
 */
const ASSETS: Record<string, Array<{ from: string; to: string }>> = {
  // PUBLIC_DIR = <bundle>/../public (apps/insights/src/app.ts).
  insights: [{ from: 'apps/insights/public', to: 'public' }],
  // The dataset profiles: the transformer's default PROFILES_DIR in an image is ./profiles.
  transformer: [{ from: 'profiles', to: 'profiles' }],
};
/** Single files of packages a target resolves at run time (require.resolve), not imports. */
const PACKAGE_FILES: Record<string, Array<{ name: string; files: string[] }>> = {
  insights: [{ name: 'echarts', files: ['package.json', 'dist/echarts.min.js', 'LICENSE'] }],
};

const BUILTINS = new Set(builtinModules);

/**
 * Packages a module loads with `createRequire`, which esbuild does not follow: external to every bundle that
 * holds the module.
 */
const REQUIRED_BY: Record<string, string> = { 'packages/common/src/duckdb.ts': '@duckdb/node-api' };

/** The package a bare import names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/'))
    return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return BUILTINS.has(name) ? undefined : name;
}

/**
 * The packages a bundle imports from node_modules at run time, from esbuild's metafile: the EXTERNAL ones
 * it uses, each with the folder of a file that imports it (where Node's lookup starts), and
 * (`unresolved`) bare requires esbuild could not resolve and left in place. Those are optional requires
 * in a try/catch (e.g. node-fetch's `encoding`): absent from the image on purpose.
 */
export function externalPackages(metafile: Metafile): {
  externals: Map<string, string>;
  unresolved: string[];
} {
  const externals = new Map<string, string>();
  const unresolved = new Set<string>();
  for (const [input, info] of Object.entries(metafile.inputs)) {
    const required = REQUIRED_BY[input];
    if (required && !externals.has(required))
      externals.set(required, path.dirname(path.resolve(ROOT, input)));
    for (const imported of info.imports) {
      if (!imported.external) continue;
      const name = packageName(imported.path);
      // `<runtime>`: esbuild's own helper module, not a package.
      if (!name || name.startsWith('<')) continue;
      if (!EXTERNAL.includes(name)) unresolved.add(name);
      else if (!externals.has(name)) externals.set(name, path.dirname(path.resolve(ROOT, input)));
    }
  }
  return {
    externals: new Map([...externals].sort(([a], [b]) => a.localeCompare(b))),
    unresolved: [...unresolved].sort(),
  };
}

/** Node's lookup of `name` from a package's real folder: <ancestor>/node_modules/<name>, nearest first. */
async function findPackage(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name);
      if (await isDirectory(candidate)) return realpath(candidate);
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readPackageJson(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * The externals and every package they depend on, as name -> real folder. A flat node_modules can hold
 * one version of each: two versions of one package is an error, not a silent pick.
 */
export async function dependencyClosure(roots: Map<string, string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (name: string, from: string, optional: boolean, wantedBy: string): Promise<void> => {
    const dir = await findPackage(name, from);
    if (!dir) {
      if (optional) return; // another platform's binary, not installed here
      throw new Error(
        `expected ${name} (needed by ${wantedBy}) to be installed near ${from}; run pnpm install`,
      );
    }
    const existing = found.get(name);
    if (existing) {
      if (existing !== dir)
        throw new Error(`two versions of ${name} in one bundle's dependencies: ${existing} and ${dir}`);
      return;
    }
    found.set(name, dir);
    const pkg = await readPackageJson(dir);
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep, dir, false, name);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) await visit(dep, dir, true, name);
  };
  for (const [name, from] of roots) await visit(name, from, false, 'the bundle');
  return found;
}

/**
 * `dist/index.inputs.json` (BUNDLE_INPUTS) beside an in-place bundle: the files it was built from (relative
 * to the repository, this script included) and when the build started. A bundle is started only when no
 * input changed since (scripts/in-place-bundles.mjs), else it is built again.
 */
export interface BundleInputs {
  /** Date.now() when the build started: an input modified later makes the bundle stale. */
  startedAt: number;
  files: string[];
}

/**
 * Modules imported with `import()` (the Google Cloud clients, in gcp mode only) go into chunk files beside
 * the bundle, content-hashed, so that a local service neither loads nor parses them: the loader started in
 * 865 ms as one file with them in it, 641 ms without (bench/RESULTS.md).
 */
const CHUNKS = 'chunks';

/**
 * Removes chunks of earlier builds, once a day old: a service started from the previous build may still
 * import one of its chunks (its name is its content's hash, so a current one is never replaced).
 */
async function pruneChunks(dir: string, current: Set<string>): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    if (current.has(file)) continue;
    const modified = (await stat(file).catch(() => undefined))?.mtimeMs;
    if (modified !== undefined && modified < dayAgo) await rm(file, { force: true });
  }
}

/** Writes `file` through a temporary sibling and a rename. */
async function writeWhole(file: string, contents: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

export interface BuildResult {
  name: string;
  outDir: string;
  externals: string[];
  unresolved: string[];
  ms: number;
}

/** Bundles one target into `outDir/dist`; with `deploy`, also assembles its runtime files in `outDir`. */
export async function buildTarget(
  name: string,
  options: { outDir?: string; deploy?: boolean } = {},
): Promise<BuildResult> {
  const local = LOCAL_TARGETS[name];
  const relative = TARGETS[name] ?? local?.dir;
  if (!relative)
    throw new Error(
      `unknown build target ${JSON.stringify(name)}: expected ${[...Object.keys(TARGETS), ...Object.keys(LOCAL_TARGETS)].join(', ')}`,
    );
  if (local && options.deploy) throw new Error(`${name} is built in place only, never deployed`);
  const pkgDir = path.join(ROOT, relative);
  const outDir = options.outDir ?? pkgDir;
  const started = Date.now();
  if (options.deploy) await rm(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { index: path.join(pkgDir, local?.entry ?? 'src/index.ts') },
    outdir: path.join(outDir, 'dist'),
    splitting: true,
    chunkNames: `${CHUNKS}/[name]-[hash]`,
    // Written below, each file replaced whole: a process starting the bundle meanwhile (`etl run`
    // builds on first use, tests run in parallel) reads the old file or the new one, never half of one.
    write: false,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    metafile: true,
    external: EXTERNAL,
    // Classes keep their names: bundling renames a class that shadows a global (abort-controller's
    // AbortSignal -> AbortSignal2), and node-fetch (under gaxios, so every Cloud Storage upload) accepts a
    // signal only when its constructor is named AbortSignal.
    keepNames: true,
    // Bundled CommonJS dependencies call require() and read __dirname/__filename at load time (google-gax,
    // pino): give the ESM bundle all three. Paths built from them point into dist/, where no package
    // files are; the code paths the services use (REST clients, pino to stdout) never read them.
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        "import { fileURLToPath as __fileURLToPath } from 'node:url';",
        "import { dirname as __pathDirname } from 'node:path';",
        'const require = __createRequire(import.meta.url);',
        'const __filename = __fileURLToPath(import.meta.url);',
        'const __dirname = __pathDirname(__filename);',
      ].join(' '),
    },
    logLevel: 'warning',
  });
  await mkdir(path.join(outDir, 'dist', CHUNKS), { recursive: true });
  // Maps, then chunks, then index.js, and the list of inputs last: a bundle is fresh only once all are in.
  const order = (file: string) =>
    file.endsWith('.map') ? 0 : path.basename(path.dirname(file)) === CHUNKS ? 1 : 2;
  const outputs = [...result.outputFiles].sort((a, b) => order(a.path) - order(b.path));
  for (const file of outputs) await writeWhole(file.path, file.contents);
  await pruneChunks(path.join(outDir, 'dist', CHUNKS), new Set(outputs.map((f) => f.path)));
  if (!options.deploy) {
    const inputs: BundleInputs = {
      startedAt: started,
      files: [...Object.keys(result.metafile.inputs), path.relative(ROOT, import.meta.filename)],
    };
    await writeWhole(path.join(outDir, BUNDLE_INPUTS), JSON.stringify(inputs));
  }
  const { externals, unresolved } = externalPackages(result.metafile);
  if (options.deploy) await assembleDeploy(name, pkgDir, outDir, externals);
  return { name, outDir, externals: [...externals.keys()], unresolved, ms: Date.now() - started };
}

async function assembleDeploy(
  name: string,
  pkgDir: string,
  outDir: string,
  externals: Map<string, string>,
): Promise<void> {
  const closure = await dependencyClosure(externals);
  const dependencies: Record<string, string> = {};
  for (const external of externals.keys()) {
    dependencies[external] = (await readPackageJson(closure.get(external)!)).version;
  }
  const manifest = { name: `@etl/${name}-image`, private: true, type: 'module', dependencies };
  await writeFile(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [dep, dir] of closure) {
    await cp(dir, path.join(outDir, 'node_modules', dep), { recursive: true, dereference: true });
  }
  for (const asset of ASSETS[name] ?? []) {
    const from = path.join(ROOT, asset.from);
    if (!(await isDirectory(from)))
      throw new Error(`expected the folder ${asset.from} for the ${name} image`);
    await cp(from, path.join(outDir, asset.to), { recursive: true });
  }
  for (const { name: dep, files } of PACKAGE_FILES[name] ?? []) {
    const dir = await findPackage(dep, pkgDir);
    if (!dir) throw new Error(`expected ${dep} to be installed for ${name}; run pnpm install`);
    for (const file of files) {
      const from = path.join(dir, file);
      if (!(await stat(from).catch(() => undefined))) continue;
      await mkdir(path.dirname(path.join(outDir, 'node_modules', dep, file)), { recursive: true });
      await cp(from, path.join(outDir, 'node_modules', dep, file));
    }
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { deploy: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const names = positionals.length > 0 ? positionals : Object.keys(TARGETS);
  for (const name of names) {
    const deployDir = values.deploy === undefined ? undefined : path.resolve(values.deploy, name);
    const built = await buildTarget(name, deployDir ? { outDir: deployDir, deploy: true } : {});
    const where = path.relative(process.cwd(), path.join(built.outDir, 'dist/index.js'));
    const optional =
      built.unresolved.length > 0 ? `; optional requires left out: ${built.unresolved.join(', ')}` : '';
    console.log(`${where} (${built.ms} ms; externals: ${built.externals.join(', ') || 'none'}${optional})`);
  }
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('scripts/build.ts')) await main();
