/**
 * `etl run` on the services of a running `etl serve` (./served-services): used when they run the code as it
 * is with the run's settings, otherwise the run starts its own and says why; serve.json never holds a
 * setting's value; a served service that stops fails the run at once.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { servedServices, serviceSettings } from './served-services';
import { SERVICE_NAMES } from './services';
import { Cli } from './test-support/cli-process';

// A look-alike of Rossmann's store.csv: no date, no amount, empty cells in a numeric column.
const STORES = [
  'Store,StoreType,Assortment,CompetitionDistance,CompetitionOpenSinceMonth,CompetitionOpenSinceYear,Promo2,Promo2SinceWeek,Promo2SinceYear,PromoInterval',
  '1,c,a,1270,9,2008,0,,,',
  '2,a,a,570,11,2007,1,13,2010,"Jan,Apr,Jul,Oct"',
  '3,a,a,14130,12,2006,1,14,2011,"Jan,Apr,Jul,Oct"',
  '4,c,c,620,9,2009,0,,,',
  '5,a,a,29910,4,2015,0,,,',
].join('\n');

const SECRET = 'served-test-secret-4f1c';
const CREDENTIALS = { KAGGLE_USERNAME: 'served-test', KAGGLE_KEY: SECRET };

let dir: string;
let dataDir: string;
let csv: string;
let serve: Cli;
let served: Record<string, number>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-served-'));
  dataDir = path.join(dir, 'data');
  csv = path.join(dir, 'store.csv');
  await writeFile(csv, `${STORES}\n`);
  serve = new Cli(['serve', '--port', '0', '--data-dir', dataDir], CREDENTIALS);
  await serve.until(() => serve.stdout.includes('Ctrl-C stops'), 'etl serve', 120_000);
  served = Object.fromEntries(
    [...serve.stdout.matchAll(/^(\w+)\s+\S+ \(pid (\d+)\)$/gm)].map(([, name, pid]) => [name!, Number(pid)]),
  );
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const runPids = (stderr: string) =>
  Object.fromEntries(
    [...stderr.matchAll(/(extractor|transformer|loader) pid (\d+)/g)].map(([, n, p]) => [n!, Number(p)]),
  );

describe('etl run with etl serve running on its data dir', () => {
  test('the run uses the served services and loads every row; serve.json keeps digests, not values', async () => {
    const run = new Cli(['run', '--json', '--source', `local:${csv}`, '--data-dir', dataDir], CREDENTIALS);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr).toMatch(/: services of etl serve: extractor pid \d+/);
    expect(runPids(run.stderr)).toEqual(served);
    expect(run.summaries[0]).toMatchObject({
      status: 'succeeded',
      tables: [{ name: 'store', rowsIn: 5, rowsLoaded: 5 }],
    });
    const record = await readFile(path.join(dataDir, 'serve.json'), 'utf8');
    expect(record).not.toContain(SECRET);
    expect(JSON.parse(record).settings.KAGGLE_KEY).toMatch(/^[0-9a-f]{16}$/);
  });

  test('a run with another setting starts its own services and names the setting', async () => {
    const run = new Cli(['run', '--json', '--force', '--source', `local:${csv}`, '--data-dir', dataDir], {
      ...CREDENTIALS,
      LOG_LEVEL: 'debug',
    });
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr).toContain(
      `not using the services of etl serve (pid ${serve.child.pid}) runs with another LOG_LEVEL than this run`,
    );
    expect(run.stderr).toMatch(/: services started: /);
    const own = runPids(run.stderr);
    for (const name of SERVICE_NAMES) expect(own[name]).not.toBe(served[name]);
    expect(run.summaries[0]).toMatchObject({ status: 'succeeded', tables: [{ rowsLoaded: 5 }] });
  });

  test('a served service stopping mid-run fails the run at once, naming it; etl serve then removes its record', async () => {
    const run = new Cli(['run', '--json', '--rows', '200000', '--data-dir', dataDir], CREDENTIALS);
    await run.until(() => run.stderr.includes('transform: started'), 'the transform');
    process.kill(served.transformer!, 'SIGKILL');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderr).toContain(
      `the transformer service (pid ${served.transformer}) stopped during the run`,
    );
    expect(await serve.exited).toEqual({ code: 1, signal: null });
    await expect(readFile(path.join(dataDir, 'serve.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('servedServices', () => {
  const record = (pid: number, build: number) => ({
    pid,
    services: SERVICE_NAMES.map((name) => ({ name, url: 'http://127.0.0.1:9', pid, logFile: '', build })),
    settings: serviceSettings({ LOG_LEVEL: 'info' }),
  });

  test('another build than the code now: not used, and says to restart', async () => {
    const folder = path.join(dir, 'other-build');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'serve.json'), JSON.stringify(record(process.pid, 1)));
    expect(await servedServices(folder, { LOG_LEVEL: 'info' })).toEqual({
      notUsed: `etl serve (pid ${process.pid}) runs another build of the extractor than the code now (restart it)`,
    });
  });

  test('a record left by an etl serve that is gone: nothing to say', async () => {
    const folder = path.join(dir, 'gone');
    await mkdir(folder, { recursive: true });
    // Beyond Linux's largest pid (2^22): never a live process.
    await writeFile(path.join(folder, 'serve.json'), JSON.stringify(record(2 ** 22 + 1, 1)));
    expect(await servedServices(folder, { LOG_LEVEL: 'info' })).toEqual({});
  });
});
