import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@etl/common/logging';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  type FakeTableau,
  type FakeTableauOptions,
  startFakeTableau,
} from '../../../../test/fakes/tableau/fake-tableau-server';
import { TableauClient, type TableauClientOptions } from './tableau-client';

const TOKEN_NAME = 'etl-refresh';
// Known values the secret scan looks for in every log line and error message.
const TOKEN_SECRET = 'S3cr3t-PAT-value-0f9a8b7c6d5e';
const DATASOURCE = { id: 'ds-1111', name: 'Sales (BigQuery)', project: 'ETL' };
const WORKBOOK = { id: 'wb-2222', name: 'Sales dashboard' };

let fake: FakeTableau;
const logLines: string[] = [];
const errorMessages: string[] = [];
const allTokens = new Set<string>();

function captureLogger(): Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return createLogger({ name: 'loader', level: 'trace', destination: sink });
}

async function startFake(options: Partial<FakeTableauOptions> = {}): Promise<FakeTableau> {
  fake = await startFakeTableau({
    tokenName: TOKEN_NAME,
    tokenSecret: TOKEN_SECRET,
    site: 'sales',
    datasources: [DATASOURCE, { id: 'ds-3333', name: 'Other' }],
    workbooks: [WORKBOOK],
    pollsUntilDone: 2,
    ...options,
  });
  return fake;
}

function client(overrides: Partial<TableauClientOptions> = {}): TableauClient {
  return new TableauClient({
    serverUrl: fake.url,
    apiVersion: '3.22',
    site: 'sales',
    tokenName: TOKEN_NAME,
    tokenSecret: TOKEN_SECRET,
    poll: { initialDelayMs: 5, maxDelayMs: 20, timeoutMs: 5000 },
    logger: captureLogger(),
    ...overrides,
  });
}

/** Runs a refresh that must fail and keeps its message for the secret scan. */
async function refreshError(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  const error = await promise.then(
    () => {
      throw new Error('expected the refresh to fail');
    },
    (e: unknown) => e as Error & { code?: string; status?: number },
  );
  errorMessages.push(error.message, JSON.stringify((error as { details?: unknown }).details ?? null));
  return error;
}

afterEach(async () => {
  for (const token of fake.issuedTokens()) allTokens.add(token);
  await fake.close();
});

beforeEach(async () => {
  await startFake();
});

describe('TableauClient.refreshExtract', () => {
  test('signs in with the PAT, refreshes the data source by id, polls the job to success, signs out', async () => {
    const result = await client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id });
    expect(result).toMatchObject({
      status: 'refreshed',
      adopted: false,
      target: { kind: 'datasource', id: DATASOURCE.id },
      job: { finishCode: 0, resource: { kind: 'datasource', id: DATASOURCE.id, name: DATASOURCE.name } },
    });
    const calls = fake.requests.map(
      (r) => `${r.method} ${r.path.replace(fake.siteId, '{site}')} ${r.status}`,
    );
    const job = result.job!.id;
    expect(calls).toEqual([
      'POST /api/3.22/auth/signin 200',
      `POST /api/3.22/sites/{site}/datasources/${DATASOURCE.id}/refresh 202`,
      `GET /api/3.22/sites/{site}/jobs/${job} 200`,
      `GET /api/3.22/sites/{site}/jobs/${job} 200`,
      `GET /api/3.22/sites/{site}/jobs/${job} 200`,
      'POST /api/3.22/auth/signout 204',
    ]);
    expect(fake.requests.slice(1).every((r) => r.authenticated)).toBe(true);
  });

  test('finds a data source by name with a filter on the list endpoint', async () => {
    const result = await client().refreshExtract({ kind: 'datasource', name: DATASOURCE.name });
    expect(result.target).toEqual({ kind: 'datasource', id: DATASOURCE.id, name: DATASOURCE.name });
    const lookup = fake.requests.find((r) => r.path.endsWith('/datasources'))!;
    expect(new URLSearchParams(lookup.query).get('filter')).toBe(`name:eq:${DATASOURCE.name}`);
  });

  test('a name that matches no data source is a NotFound naming it', async () => {
    const error = await refreshError(client().refreshExtract({ kind: 'datasource', name: 'Nope' }));
    expect(error).toMatchObject({ code: 'TABLEAU_DATASOURCE_NOT_FOUND', status: 404 });
    expect(error.message).toMatch(/named "Nope" on Tableau site "sales"/);
    expect(fake.requests.at(-1)?.path).toMatch(/signout$/);
  });

  test('refreshes a workbook', async () => {
    const result = await client().refreshExtract({ kind: 'workbook', id: WORKBOOK.id });
    expect(result).toMatchObject({
      status: 'refreshed',
      job: { resource: { kind: 'workbook', id: WORKBOOK.id } },
    });
    expect(fake.requests.some((r) => r.path.endsWith(`/workbooks/${WORKBOOK.id}/refresh`))).toBe(true);
  });

  test('signs in again when the session expires mid-poll (401002) and keeps polling the same job', async () => {
    await fake.close();
    await startFake({ pollsUntilDone: 3, faults: { expireSessionAfterPolls: 1 } });
    const result = await client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id });
    expect(result.status).toBe('refreshed');
    expect(fake.signIns()).toBe(2);
    expect(fake.requests.filter((r) => r.tableauCode === '401002')).toHaveLength(1);
    expect(fake.jobs.size).toBe(1);
    expect(logLines.some((l) => l.includes('signing in again'))).toBe(true);
  });

  test('follows the already-queued job when Tableau answers 409093 instead of failing', async () => {
    await fake.close();
    await startFake({ faults: { alreadyQueued: { times: 1 } } });
    const result = await client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id });
    expect(result).toMatchObject({ status: 'refreshed', adopted: true, job: { finishCode: 0 } });
    expect(fake.jobs.size).toBe(1);
    expect(result.job!.id).toBe([...fake.jobs.keys()][0]);
    expect(fake.requests.find((r) => r.tableauCode === '409093')?.status).toBe(409);
  });

  test('asks once more when the queued job is gone by the lookup, and follows the new refresh', async () => {
    await fake.close();
    await startFake({ faults: { alreadyQueued: { times: 1, finishAfterConflict: true } } });
    const result = await client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id });
    expect(result).toMatchObject({ status: 'refreshed', adopted: false });
    expect(fake.requests.filter((r) => r.path.endsWith('/refresh')).map((r) => r.status)).toEqual([409, 202]);
  });

  test('answers queued (no job) when the queued job is not among the listed jobs', async () => {
    await fake.close();
    await startFake({ faults: { alreadyQueued: { times: 1, listed: false } } });
    const result = await client().refreshExtract(byId());
    expect(result).toMatchObject({ status: 'queued', adopted: false });
    expect(fake.requests.filter((r) => r.path.endsWith('/refresh')).map((r) => r.status)).toEqual([409, 409]);
  });

  test('answers queued (no job) when the refresh stays queued and jobs cannot be listed', async () => {
    await fake.close();
    await startFake({ faults: { alreadyQueued: { times: 2 }, forbidJobList: true } });
    const result = await client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id });
    expect(result).toMatchObject({ status: 'queued', adopted: false });
    expect(result.job).toBeUndefined();
    expect(result.reason).toMatch(/already has a refresh of data source \(ds-1111\) queued/);
  });

  test('a job finishing with finishCode 1 fails with Tableau notes, terminal (424)', async () => {
    await fake.close();
    await startFake({ faults: { failJobs: { times: 1, note: 'BigQuery: Access Denied on etl.sales' } } });
    const error = await refreshError(client().refreshExtract({ kind: 'datasource', id: DATASOURCE.id }));
    expect(error).toMatchObject({ code: 'TABLEAU_REFRESH_FAILED', status: 424, retryable: false });
    expect(error.message).toMatch(/failed \(finishCode 1\): BigQuery: Access Denied on etl\.sales/);
    expect(fake.requests.at(-1)?.path).toMatch(/signout$/);
  });

  test('a job still running at the timeout answers 503 (retryable), naming the job', async () => {
    await fake.close();
    await startFake({ pollsUntilDone: 1000 });
    const error = await refreshError(
      client({ poll: { initialDelayMs: 5, maxDelayMs: 10, timeoutMs: 60 } }).refreshExtract({
        kind: 'datasource',
        id: DATASOURCE.id,
      }),
    );
    expect(error).toMatchObject({ code: 'TABLEAU_REFRESH_TIMEOUT', status: 503, retryable: true });
    expect(error.message).toContain([...fake.jobs.keys()][0]);
  });

  test('a wrong token secret is a terminal sign-in failure that names the variables, not the values', async () => {
    const error = await refreshError(client({ tokenSecret: `${TOKEN_SECRET}-wrong` }).refreshExtract(byId()));
    expect(error).toMatchObject({ code: 'TABLEAU_SIGN_IN_FAILED', status: 424 });
    expect(error.message).toMatch(/401001 Signin Error.*TABLEAU_TOKEN_SECRET/);
  });

  test('an unknown data source id is 404 TABLEAU_NOT_FOUND with Tableau code', async () => {
    const error = await refreshError(client().refreshExtract({ kind: 'datasource', id: 'missing' }));
    expect(error).toMatchObject({ code: 'TABLEAU_NOT_FOUND', status: 404 });
    expect(error.message).toMatch(/404011/);
  });

  test('an unreachable server is 503 (retryable)', async () => {
    const url = fake.url;
    await fake.close();
    await startFake();
    const error = await refreshError(client({ serverUrl: url }).refreshExtract(byId()));
    expect(error).toMatchObject({ code: 'TABLEAU_UNAVAILABLE', status: 503, retryable: true });
  });
});

afterAll(() => {
  // The secret scan: the PAT secret and every session token stay out of logs and errors.
  expect(logLines.length).toBeGreaterThan(10);
  expect(allTokens.size).toBeGreaterThan(3);
  const secrets = [TOKEN_SECRET, ...allTokens];
  for (const text of [...logLines, ...errorMessages]) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
});

/** The data source by id. */
function byId() {
  return { kind: 'datasource' as const, id: DATASOURCE.id };
}
