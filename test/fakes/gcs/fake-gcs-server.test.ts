/** The fake's own protocol, over raw HTTP: the parts the adapter tests do not reach. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { crc32c } from './crc32c';
import { type FakeGcs, startFakeGcs } from './fake-gcs-server';

let gcs: FakeGcs;
beforeEach(async () => {
  gcs = await startFakeGcs({ buckets: ['b'] });
});
afterEach(async () => {
  await gcs.close();
});

async function startSession(name: string, query = ''): Promise<string> {
  const res = await fetch(`${gcs.url}/upload/storage/v1/b/b/o?uploadType=resumable&name=${name}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(200);
  return res.headers.get('location')!;
}

describe('fake GCS server', () => {
  test('crc32c matches the RFC 3720 check value', () => {
    // CRC-32C of "123456789" is 0xE3069283.
    expect(Buffer.from(crc32c(Buffer.from('123456789')), 'base64').toString('hex')).toBe('e3069283');
  });

  test('chunked resumable upload: 308 + Range per chunk, status query, then the object', async () => {
    const session = await startSession('chunked.bin');
    const data = Buffer.alloc(10, 7);
    const first = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-3/*' },
      body: data.subarray(0, 4),
    });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe('bytes=0-3');
    const status = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    expect([status.status, status.headers.get('range')]).toEqual([308, 'bytes=0-3']);
    expect(gcs.read('b', 'chunked.bin')).toBeUndefined();
    const last = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 4-9/10', 'x-goog-hash': `crc32c=${crc32c(data)}` },
      body: data.subarray(4),
    });
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({ name: 'chunked.bin', size: '10', crc32c: crc32c(data) });
    expect(gcs.read('b', 'chunked.bin')).toEqual(data);
  });

  test('a checksum that does not match the bytes is refused', async () => {
    const session = await startSession('bad.bin');
    const res = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-*/*', 'x-goog-hash': `crc32c=${crc32c(Buffer.from('other'))}` },
      body: 'data',
    });
    expect(res.status).toBe(400);
    expect(gcs.objects.size).toBe(0);
  });

  test('ifGenerationMatch=0 on an existing object is 412, at session start and at finalize', async () => {
    const session = await startSession('race.txt', '&ifGenerationMatch=0');
    await fetch(await startSession('race.txt'), {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-*/*' },
      body: 'a',
    });
    const late = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-*/*' },
      body: 'b',
    });
    expect(late.status).toBe(412);
    const early = await fetch(
      `${gcs.url}/upload/storage/v1/b/b/o?uploadType=resumable&name=race.txt&ifGenerationMatch=0`,
      {
        method: 'POST',
        body: '{}',
      },
    );
    expect(early.status).toBe(412);
    expect(gcs.read('b', 'race.txt')?.toString()).toBe('a');
  });

  test('404 bodies name the bucket or the object as GCS does', async () => {
    const bucket = await fetch(`${gcs.url}/storage/v1/b/nope/o/x`);
    expect(bucket.status).toBe(404);
    expect(await bucket.json()).toMatchObject({ error: { message: 'The specified bucket does not exist.' } });
    const object = await fetch(`${gcs.url}/storage/v1/b/b/o/x`);
    expect(await object.json()).toMatchObject({ error: { code: 404, message: 'No such object: b/x' } });
  });

  test('faults apply to the next matching requests only', async () => {
    gcs.inject({ method: 'GET', path: '/o/x', status: 503, times: 2 });
    expect((await fetch(`${gcs.url}/storage/v1/b/b/o/y`)).status).toBe(404);
    expect((await fetch(`${gcs.url}/storage/v1/b/b/o/x`)).status).toBe(503);
    expect((await fetch(`${gcs.url}/storage/v1/b/b/o/x`)).status).toBe(503);
    expect((await fetch(`${gcs.url}/storage/v1/b/b/o/x`)).status).toBe(404);
    gcs.inject({ path: '/o/x', destroyAfterBytes: 0 });
    await expect(fetch(`${gcs.url}/storage/v1/b/b/o/x`)).rejects.toThrow();
  });
  test('regression: a read of a named generation that is no longer live is 404, not the live bytes', async () => {
    // The fake used to ignore `generation=` and serve whatever was live, so a reader that pins the
    // generation it saw in the metadata (GcsBlobStore.getStream, the extractor's gs:// source) could not
    // be tested against an overwrite in between.
    const upload = async (body: string) => {
      const session = await startSession('g.csv');
      const res = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-2/3' }, body });
      return (await res.json()) as { generation: string };
    };
    const first = await upload('one');
    const second = await upload('two');
    expect(second.generation).not.toBe(first.generation);
    const read = (generation: string) =>
      fetch(`${gcs.url}/storage/v1/b/b/o/g.csv?alt=media&generation=${generation}`);
    const stale = await read(first.generation);
    expect(stale.status).toBe(404);
    expect(await stale.json()).toMatchObject({
      error: { message: `No such object: b/g.csv#${first.generation}` },
    });
    const live = await read(second.generation);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe('two');
  });
});
