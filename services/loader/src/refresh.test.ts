import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, parseConfig } from '@etl/common/config';
import { createLogger, type Logger } from '@etl/common/logging';
import { LocalBlobStore, manifestKey, putJson } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeTableau, startFakeTableau } from '../../../test/fakes/tableau/fake-tableau-server';
import { createLoaderApp } from './app';
import { loaderConfigSchema } from './config';
import { createTableauRefresh, type TableauRefreshSetup } from './tableau';

const SECRET = 'pat-secret-do-not-log-4242';
const DATASOURCE = { id: 'ds-9', name: 'Sales' };

let dir: string;
let store: LocalBlobStore;
let warehouse: DuckDbWarehouse;
let fake: FakeTableau;
let lines: string[];
let logger: Logger;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refresh-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  fake = await startFakeTableau({
    tokenName: 'etl',
    tokenSecret: SECRET,
    site: 'acme',
    datasources: [DATASOURCE],
    pollsUntilDone: 1,
  });
  lines = [];
  logger = createLogger({
    name: 'loader',
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
});
afterEach(async () => {
  await fake.close();
  await warehouse.close();
  await rm(dir, { recursive: true, force: true });
});

/** The setup index.ts builds from the environment; the data source by name unless `target` says otherwise. */
function tableauFromEnv(
  target: Record<string, string> = { TABLEAU_DATASOURCE_NAME: DATASOURCE.name },
): TableauRefreshSetup | undefined {
  const setup = createTableauRefresh(
    parseConfig(loaderConfigSchema, {
      TABLEAU_SERVER_URL: fake.url,
      TABLEAU_SITE: 'acme',
      TABLEAU_TOKEN_NAME: 'etl',
      TABLEAU_TOKEN_SECRET: SECRET,
      ...target,
    }),
  );
  // Polls every few ms instead of every second.
  return setup && { ...setup, client: { ...setup.client, poll: { initialDelayMs: 5, maxDelayMs: 10 } } };
}

function app(tableau: TableauRefreshSetup | undefined) {
  return createLoaderApp({ store, warehouse, logger, tableau });
}

async function markLoaded(runId: string): Promise<void> {
  await putJson(store, manifestKey(runId, 'load'), { runId });
}

describe('POST /v1/refresh', () => {
  test('without TABLEAU_* config answers 200 skipped and says so in the log', async () => {
    const res = await request(app(createTableauRefresh(parseConfig(loaderConfigSchema, {}))))
      .post('/v1/refresh')
      .send({ runId: 'run-1' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ runId: 'run-1', status: 'skipped', reason: 'TABLEAU_* not configured' });
    expect(lines.some((l) => l.includes('Tableau refresh skipped: TABLEAU_* not configured'))).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  test('refreshes the configured data source (by name) and answers the finished job', async () => {
    await markLoaded('run-2');
    const res = await request(app(tableauFromEnv())).post('/v1/refresh').send({ runId: 'run-2' });
    expect(res.status).toBe(200);
    const jobId = [...fake.jobs.keys()][0];
    expect(res.body).toMatchObject({
      runId: 'run-2',
      status: 'refreshed',
      jobId,
      adopted: false,
      target: { kind: 'datasource', id: DATASOURCE.id, name: DATASOURCE.name },
    });
    expect(res.body.completedAt).toEqual(expect.any(String));
    expect(lines.join('')).not.toContain(SECRET);
  });

  test('refuses to refresh a run that has not been loaded (404), without calling Tableau', async () => {
    const res = await request(app(tableauFromEnv())).post('/v1/refresh').send({ runId: 'run-3' });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/run run-3 has no load manifest/);
    expect(fake.requests).toHaveLength(0);
  });

  test('a failed Tableau job answers 424 with the one error shape and no secret', async () => {
    await fake.close();
    fake = await startFakeTableau({
      tokenName: 'etl',
      tokenSecret: SECRET,
      site: 'acme',
      datasources: [DATASOURCE],
      pollsUntilDone: 1,
      faults: { failJobs: { times: 1 } },
    });
    await markLoaded('run-4');
    const res = await request(app(tableauFromEnv({ TABLEAU_DATASOURCE_ID: DATASOURCE.id })))
      .post('/v1/refresh')
      .send({ runId: 'run-4' });
    expect(res.status).toBe(424);
    expect(res.body.error).toMatchObject({ code: 'TABLEAU_REFRESH_FAILED', retryable: false });
    const all = JSON.stringify(res.body) + lines.join('');
    expect(all).not.toContain(SECRET);
    for (const token of fake.issuedTokens()) expect(all).not.toContain(token);
  });

  test('validates the body', async () => {
    const res = await request(app(undefined)).post('/v1/refresh').send({ runId: '../x' });
    expect(res.status).toBe(400);
  });
});

describe('Tableau config', () => {
  test('is off unless the server URL, token name and secret are all set', () => {
    expect(createTableauRefresh(parseConfig(loaderConfigSchema, {}))).toBeUndefined();
    expect(() =>
      parseConfig(loaderConfigSchema, { TABLEAU_SERVER_URL: 'https://tableau.example.com' }),
    ).toThrow(/TABLEAU_TOKEN_NAME: required with TABLEAU_SERVER_URL/);
  });

  test('needs exactly one of data source id, data source name or workbook id', () => {
    const base = {
      TABLEAU_SERVER_URL: 'https://tableau.example.com',
      TABLEAU_TOKEN_NAME: 'n',
      TABLEAU_TOKEN_SECRET: SECRET,
    };
    expect(() => parseConfig(loaderConfigSchema, base)).toThrow(/expected exactly one of/);
    expect(() =>
      parseConfig(loaderConfigSchema, { ...base, TABLEAU_DATASOURCE_ID: 'a', TABLEAU_WORKBOOK_ID: 'b' }),
    ).toThrow(ConfigError);
    const setup = createTableauRefresh(
      parseConfig(loaderConfigSchema, { ...base, TABLEAU_WORKBOOK_ID: 'wb' }),
    );
    expect(setup).toMatchObject({
      target: { kind: 'workbook', id: 'wb' },
      client: { apiVersion: '3.22', site: '' },
      timeoutMs: 900_000,
    });
  });

  test('a config error names the variable, never the secret value', () => {
    try {
      parseConfig(loaderConfigSchema, { TABLEAU_TOKEN_SECRET: SECRET });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/TABLEAU_SERVER_URL/);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });
});
