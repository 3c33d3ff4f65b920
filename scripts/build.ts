/**
 * `pnpm build`: one self-contained ESM bundle per service (dist/index.js), the artefact a container
 * image runs with plain `node`. Native and WebAssembly packages stay external and are installed
 * beside the bundle as production dependencies.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXTERNAL = ['@duckdb/node-api', '@duckdb/node-bindings', 'parquet-wasm'];

const services = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(path.join(ROOT, 'services'));
for (const name of services) {
  const dir = path.join(ROOT, 'services', name);
  const started = Date.now();
  await build({
    entryPoints: [path.join(dir, 'src/index.ts')],
    outfile: path.join(dir, 'dist/index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    external: EXTERNAL,
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  console.log(`services/${name}/dist/index.js (${Date.now() - started} ms)`);
}
