import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeTableau, startFakeTableau } from './fake-tableau-server';

let fake: FakeTableau;
const api = () => `${fake.url}/api/3.22`;

beforeEach(async () => {
  fake = await startFakeTableau({
    tokenName: 'n',
    tokenSecret: 's',
    site: 'acme',
    siteId: 'site-luid',
    datasources: [{ id: 'ds-1', name: 'Sales' }],
    workbooks: [{ id: 'wb-1', name: 'Dash' }],
    pollsUntilDone: 1,
  });
});
afterEach(async () => {
  await fake.close();
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${api()}${path}`, {
    method,
    headers: {
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(token ? { 'X-Tableau-Auth': token } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: the replies are plain JSON the assertions check
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function signIn(): Promise<string> {
  const res = await call('POST', '/auth/signin', undefined, {
    credentials: {
      personalAccessTokenName: 'n',
      personalAccessTokenSecret: 's',
      site: { contentUrl: 'acme' },
    },
  });
  expect(res.status).toBe(200);
  expect(res.body?.credentials.site).toEqual({ id: 'site-luid', contentUrl: 'acme' });
  return res.body?.credentials.token as string;
}

describe('fake Tableau REST API', () => {
  test('PAT sign-in: a wrong secret or site is 401 401001', async () => {
    for (const credentials of [
      { personalAccessTokenName: 'n', personalAccessTokenSecret: 'x', site: { contentUrl: 'acme' } },
      { personalAccessTokenName: 'n', personalAccessTokenSecret: 's', site: { contentUrl: 'other' } },
    ]) {
      const res = await call('POST', '/auth/signin', undefined, { credentials });
      expect(res.status).toBe(401);
      expect(res.body?.error).toMatchObject({ code: '401001', summary: 'Signin Error' });
    }
  });

  test('signed-in calls need a live X-Tableau-Auth token (401002) and the session site LUID', async () => {
    expect((await call('GET', '/sites/site-luid/jobs/x')).body?.error.code).toBe('401002');
    const token = await signIn();
    expect((await call('GET', '/sites/other/datasources', token)).status).toBe(404);
    await call('POST', '/auth/signout', token);
    expect((await call('GET', '/sites/site-luid/datasources', token)).body?.error.code).toBe('401002');
  });

  test('lists data sources with a name filter', async () => {
    const token = await signIn();
    const res = await call(
      'GET',
      `/sites/site-luid/datasources?filter=${encodeURIComponent('name:eq:Sales')}`,
      token,
    );
    expect(res.body?.datasources.datasource).toEqual([
      { id: 'ds-1', name: 'Sales', project: { name: 'default' } },
    ]);
    const none = await call('GET', '/sites/site-luid/datasources?filter=name:eq:Nope', token);
    expect(none.body?.datasources.datasource).toEqual([]);
  });

  test('refresh answers 202 + job; a second refresh while it runs is 409 409093; the job finishes', async () => {
    const token = await signIn();
    const first = await call('POST', '/sites/site-luid/datasources/ds-1/refresh', token, {});
    expect(first.status).toBe(202);
    expect(first.body?.job).toMatchObject({
      mode: 'Asynchronous',
      type: 'RefreshExtract',
      extractRefreshJob: { datasource: { id: 'ds-1', name: 'Sales' } },
    });
    const again = await call('POST', '/sites/site-luid/datasources/ds-1/refresh', token, {});
    expect(again.status).toBe(409);
    expect(again.body?.error).toMatchObject({ code: '409093', summary: 'Resource Conflict' });
    const listed = await call(
      'GET',
      '/sites/site-luid/jobs?filter=jobType:eq:refresh_extracts,status:eq:Pending',
      token,
    );
    expect(listed.body?.backgroundJobs.backgroundJob.map((j: { id: string }) => j.id)).toEqual([
      first.body?.job.id,
    ]);
    const running = await call('GET', `/sites/site-luid/jobs/${first.body?.job.id}`, token);
    expect(running.body?.job.finishCode).toBeUndefined();
    const done = await call('GET', `/sites/site-luid/jobs/${first.body?.job.id}`, token);
    expect(done.body?.job).toMatchObject({ finishCode: '0', progress: '100' });
  });

  test('workbook refresh, unknown ids 404, failing jobs finish with finishCode 1 and notes', async () => {
    fake.setFaults({ failJobs: { times: 1, note: 'boom' } });
    const token = await signIn();
    expect((await call('POST', '/sites/site-luid/workbooks/nope/refresh', token, {})).status).toBe(404);
    const job = (await call('POST', '/sites/site-luid/workbooks/wb-1/refresh', token, {})).body?.job;
    await call('GET', `/sites/site-luid/jobs/${job.id}`, token);
    const done = await call('GET', `/sites/site-luid/jobs/${job.id}`, token);
    expect(done.body?.job).toMatchObject({ finishCode: '1', extractRefreshJob: { notes: 'boom' } });
  });

  test('faults: the session expires after N polls; Query Jobs can be forbidden', async () => {
    fake.setFaults({ expireSessionAfterPolls: 1, forbidJobList: true });
    const token = await signIn();
    const job = (await call('POST', '/sites/site-luid/datasources/ds-1/refresh', token, {})).body?.job;
    expect((await call('GET', `/sites/site-luid/jobs/${job.id}`, token)).status).toBe(200);
    expect((await call('GET', `/sites/site-luid/jobs/${job.id}`, token)).body?.error.code).toBe('401002');
    const fresh = await signIn();
    expect((await call('GET', '/sites/site-luid/jobs', fresh)).status).toBe(403);
    expect(fake.signIns()).toBe(2);
  });
});
