/**
 * Secrets never appear in anything the pipeline writes. Known values are set for KAGGLE_API_TOKEN,
 * KAGGLE_KEY and TABLEAU_TOKEN_SECRET; the real services run as child processes and the real workflow
 * runs against them, with Kaggle and Tableau calls that fail (rejected credentials, against the fakes),
 * and then the `etl` command itself runs a failing Kaggle source. Every line written is scanned: service
 * logs in <data-dir>/logs, alerts.jsonl, every blob under runs/ and datasets/, the workflow's error maps,
 * and the CLI's stdout and stderr.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunResult, runEtl, type Stack, startStack } from '../chaos/harness';
import { etl } from '../e2e/cli';
import { type FakeKaggle, startFakeKaggle } from '../fakes/kaggle';
import { type FakeTableau, startFakeTableau } from '../fakes/tableau';

const SECRETS = {
  KAGGLE_API_TOKEN: 'kgat-SECRET-token-7f3a9c1e5b2d',
  KAGGLE_USERNAME: 'etl-robot',
  KAGGLE_KEY: 'SECRET-kaggle-key-4e8d2a6c0b1f',
  TABLEAU_TOKEN_SECRET: 'SECRET-tableau-pat-9b7c5a3e1d0f',
};
const SECRET_VALUES = [SECRETS.KAGGLE_API_TOKEN, SECRETS.KAGGLE_KEY, SECRETS.TABLEAU_TOKEN_SECRET];

let dataDir: string;
let kaggle: FakeKaggle;
let tableau: FakeTableau;
let stack: Stack | undefined;
let env: Record<string, string>;
const written: Array<{ where: string; text: string }> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-secrets-'));
  // The fakes accept other credentials: every Kaggle and Tableau call with ours is refused.
  kaggle = await startFakeKaggle({
    datasets: { 'acme/sales': { version: 1, files: { 'sales.csv': 'a,b\n1,2\n' } } },
    token: 'the-right-token',
    username: 'etl-robot',
    key: 'the-right-key',
  });
  tableau = await startFakeTableau({
    tokenName: 'etl',
    tokenSecret: 'the-right-secret',
    datasources: [{ id: 'ds-1', name: 'sales' }],
  });
  env = {
    ...SECRETS,
    KAGGLE_API_BASE: kaggle.url,
    KAGGLE_MAX_ATTEMPTS: '1',
    TABLEAU_SERVER_URL: tableau.url,
    TABLEAU_TOKEN_NAME: 'etl',
    TABLEAU_DATASOURCE_ID: 'ds-1',
    LOG_LEVEL: 'debug',
  };
  stack = await startStack(dataDir, env);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await kaggle?.close();
  await tableau?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function remember(where: string, result: RunResult): void {
  written.push({ where, text: JSON.stringify(result) });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('secrets never appear in logs, errors, alerts or reports', () => {
  test('a Kaggle source with rejected credentials fails at extract with a 424 naming no secret', async () => {
    const result = await runEtl({
      urls: stack!.urls,
      runId: 'sec-kaggle',
      source: 'kaggle:acme/sales',
      alertsFile: path.join(dataDir, 'alerts.jsonl'),
    });
    remember('workflow result (kaggle)', result);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(424);
    expect(JSON.stringify(result.error)).toMatch(/KAGGLE_API_TOKEN/); // names the variable, not its value
  }, 60_000);

  test('a Tableau refresh with a rejected token secret fails after the load, naming no secret', async () => {
    const result = await runEtl({
      urls: stack!.urls,
      runId: 'sec-tableau',
      source: 'sample',
      options: { sample: { rows: 200, seed: 1 } },
      env: { TABLEAU_REFRESH: 'true' },
      alertsFile: path.join(dataDir, 'alerts.jsonl'),
    });
    remember('workflow result (tableau)', result);
    expect(result.status).toBe('failed');
    expect(result.alerts.map((a) => (a.data as { step?: string }).step)).toEqual(['refresh_tableau']);
    expect(tableau.requests.some((r) => r.status === 401)).toBe(true);
  }, 60_000);

  test('the etl command with a rejected Kaggle token: stdout and stderr name no secret', async () => {
    const cliDir = path.join(dataDir, 'cli');
    const result = await etl(['run', '--json', '--source', 'kaggle:acme/sales', '--data-dir', cliDir], env);
    expect(result.code).toBe(1);
    written.push({ where: 'etl stdout', text: result.stdout }, { where: 'etl stderr', text: result.stderr });
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed' });
  }, 120_000);

  test('every line written anywhere is free of the secret values', async () => {
    await stack?.stop();
    stack = undefined;
    const files = await filesUnder(dataDir);
    const blobs = files.filter((f) => f.includes(`${path.sep}blobs${path.sep}`));
    expect(files.some((f) => f.endsWith(`${path.sep}logs${path.sep}extractor.log`))).toBe(true);
    expect(files.some((f) => f.endsWith('alerts.jsonl'))).toBe(true);
    expect(blobs.some((f) => f.includes(`${path.sep}runs${path.sep}sec-tableau${path.sep}`))).toBe(true);
    for (const file of files) {
      if (file.endsWith('.duckdb') || file.endsWith('.wal')) continue;
      written.push({ where: path.relative(dataDir, file), text: (await readFile(file)).toString('latin1') });
    }
    // The logs did record the failures (so the scan looked at the right lines).
    const logs = written.filter(
      (w) => w.where.startsWith('logs') || w.where.startsWith(`cli${path.sep}logs`),
    );
    expect(logs.map((w) => w.text).join('\n')).toMatch(/401|rejected|denied/i);
    const leaks = written.flatMap((w) =>
      SECRET_VALUES.filter((secret) => w.text.includes(secret)).map((secret) => `${w.where}: ${secret}`),
    );
    expect(leaks).toEqual([]);
    expect(written.length).toBeGreaterThan(10);
  }, 60_000);
});
