/**
 * The production artefacts as the Dockerfile builds them, without Docker: `scripts/build.ts --deploy`
 * (the build stage's `pnpm build --deploy /deploy NAME`) assembles each image's /app folder in a temp
 * dir: the bundle, a package.json, and a node_modules holding real copies of exactly the packages the
 * bundle loads at run time, nothing linked back to the repository. Each folder is then started the way
 * the runtime stage starts it, `node dist/index.js` from that folder with only the image's environment
 * (no tsx, no NODE_PATH): /healthz answers, the three stages run a whole pipeline together (DuckDB's
 * native binding and parquet-wasm load from the copies), the insights app serves its pages and ECharts,
 * and SIGTERM ends each with exit status 0.
 *
 * Not covered: the base image itself (no registry here to pull node:20-slim from) and the build stage's
 * `pnpm fetch` / `pnpm install --frozen-lockfile` (the repository's install stands in for it).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { runWorkflowFile } from '@etl/workflow-runner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TARGETS } from '../../scripts/build';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** A Dockerfile's base-image argument as written in it (`${NODE_IMAGE}`). */
const NODE_IMAGE_ARG = '$' + '{NODE_IMAGE}';
const SERVICE_ARG = '$' + '{SERVICE}';
type Target = 'extractor' | 'transformer' | 'loader' | 'insights';

/** What each image's /app holds at its top level, and the externals its package.json pins. */
const EXPECTED: Record<Target, { entries: string[]; dependencies: string[] }> = {
  extractor: { entries: ['dist', 'package.json'], dependencies: [] },
  transformer: {
    entries: ['dist', 'node_modules', 'package.json', 'profiles'],
    dependencies: ['@duckdb/node-api', 'parquet-wasm'],
  },
  loader: {
    entries: ['dist', 'node_modules', 'package.json'],
    dependencies: ['@duckdb/node-api', 'parquet-wasm'],
  },
  insights: {
    entries: ['dist', 'node_modules', 'package.json', 'public'],
    dependencies: ['@duckdb/node-api', 'parquet-wasm'],
  },
};

let deployDir: string;
let dataDir: string;
const running: ChildProcess[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'etl-deploy-'));
  deployDir = path.join(dir, 'deploy');
  dataDir = path.join(dir, 'data');
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/build.ts', '--deploy', deployDir],
    {
      cwd: ROOT,
    },
  );
}, 60_000);

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  if (deployDir) await rm(path.dirname(deployDir), { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  output: string[];
}

/** `node dist/index.js` in the deploy folder, with the image's environment only; resolves once listening. */
function start(target: Target, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['dist/index.js'], {
    cwd: path.join(deployDir, target),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      NODE_OPTIONS: '--enable-source-maps',
      HOST: '127.0.0.1',
      PORT: '0',
      ETL_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${target} did not listen in 20 s:\n${output.join('')}`)),
      20_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${target} exited with ${code} before listening:\n${output.join('')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const record = JSON.parse(line) as { message?: string; url?: string };
      if (record.message === 'listening' && record.url) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url: record.url, output });
      }
    });
  });
}

function stop({ child }: Started): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Every entry under `dir` that is a symbolic link (the image must hold real files). */
async function symlinksUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if ((await lstat(file)).isSymbolicLink()) found.push(file);
  }
  return found;
}

describe('the Dockerfile', () => {
  test('frozen install, pnpm build --deploy of SERVICE, node:20-slim runtime as node, port 8080', async () => {
    const text = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(lines).toContain('ARG NODE_IMAGE=node:20-slim');
    expect(lines).toContain(`FROM ${NODE_IMAGE_ARG} AS build`);
    expect(lines).toContain('RUN pnpm install --frozen-lockfile --offline');
    expect(lines).toContain('RUN pnpm build --deploy /deploy "$SERVICE"');
    // The runtime stage: after the last FROM, only what the deploy folder holds.
    const runtime = lines.slice(lines.lastIndexOf(`FROM ${NODE_IMAGE_ARG}`));
    expect(runtime.length).toBeGreaterThan(1);
    expect(runtime).toContain('ARG SERVICE');
    expect(runtime.filter((line) => /^(COPY|ADD)\b/.test(line))).toEqual([
      `COPY --from=build /deploy/${SERVICE_ARG}/ /app/`,
    ]);
    expect(runtime).toContain('WORKDIR /app');
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('EXPOSE 8080');
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/index.js"]');
    expect(runtime.some((line) => line.startsWith('RUN'))).toBe(false);
  });

  test('SERVICE is one of the build targets, in the Dockerfile and in cloudbuild.yaml', async () => {
    expect(Object.keys(TARGETS).sort()).toEqual(Object.keys(EXPECTED).sort());
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const cloudbuild = await readFile(path.join(ROOT, 'cloudbuild.yaml'), 'utf8');
    expect(dockerfile).toContain(`SERVICE=${Object.keys(TARGETS).join('|')}`);
    expect(cloudbuild).toContain(`${Object.keys(TARGETS).join('|')}) ;;`);
    expect(cloudbuild).toContain(`docker build --build-arg SERVICE="${'$'}{_SERVICE}"`);
  });

  test('.dockerignore keeps installed and built files, local state and Terraform state out of the context', async () => {
    const ignored = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '.etl', '.git', '.env', 'terraform/*.tfstate*']) {
      expect(ignored).toContain(pattern);
    }
  });
});

describe('the deploy folders', () => {
  test('hold the bundle, a package.json pinning exactly its externals, and real copies of them', async () => {
    for (const [target, expected] of Object.entries(EXPECTED)) {
      const dir = path.join(deployDir, target);
      expect((await readdir(dir)).sort(), target).toEqual(expected.entries);
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        type: string;
        dependencies: Record<string, string>;
      };
      expect(manifest.type, `${target}: dist/index.js is ESM`).toBe('module');
      expect(Object.keys(manifest.dependencies).sort(), target).toEqual(expected.dependencies);
      if (expected.entries.includes('node_modules')) {
        expect(await symlinksUnder(path.join(dir, 'node_modules')), target).toEqual([]);
        const installed = await readdir(path.join(dir, 'node_modules', '@duckdb'));
        expect(installed).toContain('node-bindings');
      }
    }
    const echarts = await readdir(path.join(deployDir, 'insights/node_modules/echarts/dist'));
    expect(echarts).toEqual(['echarts.min.js']);
  });
});

describe('node dist/index.js in each deploy folder', () => {
  test('the three stages answer /healthz, run a whole pipeline together, and exit 0 on SIGTERM', async () => {
    const [extractor, transformer, loader] = await Promise.all([
      start('extractor'),
      start('transformer'),
      start('loader'),
    ]);
    for (const service of [extractor, transformer, loader]) {
      const health = await fetch(`${service.url}/healthz`);
      expect(health.status).toBe(200);
    }
    const result = await runWorkflowFile(
      path.join(ROOT, 'workflows/etl.workflows.yaml'),
      { source: 'sample', run_id: 'bundle-1', options: { sample: { rows: 200, seed: 7 } } },
      {
        env: { EXTRACTOR_URL: extractor.url, TRANSFORMER_URL: transformer.url, LOADER_URL: loader.url },
        alertSink: () => {},
        log: () => {},
      },
    );
    expect(result).toMatchObject({
      runId: 'bundle-1',
      status: 'succeeded',
      tables: [{ name: 'sales', rowsIn: 200 }],
    });
    const codes = await Promise.all([extractor, transformer, loader].map(stop));
    expect(codes).toEqual([0, 0, 0]);
  }, 30_000);

  test('insights serves /healthz, its pages and ECharts from the deploy folder, and exits 0 on SIGTERM', async () => {
    const insights = await start('insights');
    expect((await fetch(`${insights.url}/healthz`)).status).toBe(200);
    const page = await fetch(`${insights.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const echarts = await fetch(`${insights.url}/vendor/echarts.min.js`);
    expect(echarts.status).toBe(200);
    expect((await echarts.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
    expect(await stop(insights)).toBe(0);
  }, 30_000);
});
