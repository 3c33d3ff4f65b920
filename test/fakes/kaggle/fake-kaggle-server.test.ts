import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeKaggle, startFakeKaggle } from './fake-kaggle-server';

let fake: FakeKaggle;

beforeEach(async () => {
  fake = await startFakeKaggle({
    datasets: { 'acme/sales': { version: 1, files: { 'a.csv': 'x,y\n1,2\n' } } },
    token: 'good-token',
  });
});

afterEach(async () => {
  await fake.close();
});

const call = (method: string, body: unknown, token = 'good-token') =>
  fetch(`${fake.url}/v1/datasets.DatasetApiService/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
  });

describe('fake Kaggle', () => {
  test('GetDataset answers the current version; 401 and 404 as Kaggle does', async () => {
    const ok = await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ref: 'acme/sales', currentVersionNumber: 1 });
    const denied = await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' }, 'bad');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ code: 401, message: 'Unauthenticated' });
    expect((await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'none' })).status).toBe(404);
    expect(fake.requests.map((r) => [r.method, r.auth, r.status])).toEqual([
      ['GetDataset', 'bearer', 200],
      ['GetDataset', 'bearer', 401],
      ['GetDataset', 'bearer', 404],
    ]);
  });

  test('DownloadDataset redirects to a signed zip that honours Range', async () => {
    const redirect = await call('DownloadDataset', { ownerSlug: 'acme', datasetSlug: 'sales' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(/\/storage\/acme\/sales\/1\/sales\.zip\?signature=[0-9a-f]+$/);
    const whole = await fetch(location);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const zip = Buffer.from(await whole.arrayBuffer());
    expect(zip.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(Number(whole.headers.get('content-length'))).toBe(zip.length);

    const tail = await fetch(location, { headers: { Range: 'bytes=10-' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes 10-${zip.length - 1}/${zip.length}`);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(zip.subarray(10));
    expect((await fetch(location, { headers: { Range: `bytes=${zip.length}-` } })).status).toBe(416);
    expect((await fetch(location.replace(/signature=\w+/, 'signature=forged'))).status).toBe(403);
  });

  test('faults: 429 with Retry-After, then 503, then normal service', async () => {
    fake.setFaults({ rateLimit: { times: 1, retryAfter: '3' }, unavailable: { times: 1 } });
    const limited = await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' })).status).toBe(503);
    expect((await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' })).status).toBe(200);
  });

  test('setVersion publishes a new current version and keeps the old one downloadable', async () => {
    fake.setVersion('acme/sales', 2, { 'b.csv': 'x\n1\n' });
    const info = (await (await call('GetDataset', { ownerSlug: 'acme', datasetSlug: 'sales' })).json()) as {
      currentVersionNumber: number;
    };
    expect(info.currentVersionNumber).toBe(2);
    expect(
      (await call('DownloadDataset', { ownerSlug: 'acme', datasetSlug: 'sales', datasetVersionNumber: 1 }))
        .status,
    ).toBe(302);
    expect(
      (await call('DownloadDataset', { ownerSlug: 'acme', datasetSlug: 'sales', datasetVersionNumber: 7 }))
        .status,
    ).toBe(404);
  });
});
