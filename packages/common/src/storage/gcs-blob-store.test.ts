import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { CRC32C } from '@google-cloud/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { crc32c } from '../../../../test/fakes/gcs/crc32c';
import { type FakeGcs, startFakeGcs } from '../../../../test/fakes/gcs/fake-gcs-server';
import { baseConfigSchema, parseConfig } from '../config';
import { ConflictError, InvalidRequestError, NotFoundError, UpstreamError } from '../errors';
import { createBlobStore } from './create-blob-store';
import { GcsBlobStore, type GcsBlobStoreOptions } from './gcs-blob-store';

let gcs: FakeGcs;
let store: GcsBlobStore;

/**
 * Retries as in production, but short: each wait is 10 ms plus the client's fixed 0-1 s jitter, and never
 * above 1 s (the lowest cap the client accepts).
 */
const FAST_RETRY = {
  maxRetries: 3,
  maxRetryDelayMs: 1000,
  retryDelayMultiplier: 0.01,
  totalTimeoutMs: 20_000,
};

function makeStore(overrides: Partial<GcsBlobStoreOptions> = {}): GcsBlobStore {
  return new GcsBlobStore({
    bucket: 'etl',
    projectId: 'test',
    apiEndpoint: gcs.url,
    retry: FAST_RETRY,
    ...overrides,
  });
}

beforeEach(async () => {
  gcs = await startFakeGcs({ buckets: ['etl'], listPageSize: 2 });
  store = makeStore();
});
afterEach(async () => {
  await gcs.close();
});

const uploads = () => gcs.requests.filter((r) => r.kind === 'upload' || r.kind === 'status');

describe('GcsBlobStore (against the fake GCS server)', () => {
  test('the fake computes CRC32C exactly as the client does', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('hello'), randomBytes(70_000)]) {
      const c = new CRC32C();
      c.update(data);
      expect(crc32c(data)).toBe(c.toString());
    }
  });

  test('puts and gets bytes, strings and streams', async () => {
    const info = await store.put('runs/r1/raw/a.csv', 'id,amount\n1,2\n', { contentType: 'text/csv' });
    expect(info).toMatchObject({ key: 'runs/r1/raw/a.csv', size: 14 });
    expect(info.updated).toBeInstanceOf(Date);
    expect((await store.get('runs/r1/raw/a.csv')).toString()).toBe('id,amount\n1,2\n');
    expect(gcs.objects.get('etl/runs/r1/raw/a.csv')?.contentType).toBe('text/csv');

    await store.put('runs/r1/raw/b.bin', new Uint8Array([1, 2, 3]));
    expect([...(await store.get('runs/r1/raw/b.bin'))]).toEqual([1, 2, 3]);

    await store.put('runs/r1/raw/c.txt', Readable.from([Buffer.from('streamed '), Buffer.from('body')]));
    expect(await text(await store.getStream('runs/r1/raw/c.txt'))).toBe('streamed body');
  });

  test('small bodies go in one multipart request, streams as a resumable upload', async () => {
    await store.put('small.txt', 'x');
    expect(uploads().map((r) => r.path)).toEqual([expect.stringContaining('uploadType=multipart')]);
    gcs.requests.length = 0;
    await store.put('stream.txt', Readable.from([Buffer.from('y')]));
    expect(uploads().map((r) => `${r.method} ${r.path.includes('uploadType=resumable')}`)).toEqual([
      'POST true',
      'PUT true',
    ]);
  });

  test('a large object goes through a resumable upload and reads back intact', async () => {
    const big = randomBytes(9 * 1024 * 1024);
    const info = await store.put('runs/r1/raw/big.bin', big);
    expect(info.size).toBe(big.length);
    expect(uploads().map((r) => r.method)).toEqual(['POST', 'PUT']);
    expect((await store.get('runs/r1/raw/big.bin')).equals(big)).toBe(true);
  });

  test('stat, exists and a missing key', async () => {
    await store.put('k/one.json', '{}');
    expect(await store.stat('k/one.json')).toMatchObject({ key: 'k/one.json', size: 2 });
    expect(await store.exists('k/one.json')).toBe(true);
    expect(await store.stat('k/nope.json')).toBeUndefined();
    expect(await store.exists('k/nope.json')).toBe(false);
    await expect(store.get('k/nope.json')).rejects.toThrow(NotFoundError);
    await expect(store.get('k/nope.json')).rejects.toThrow('gs://etl/k/nope.json');
    await expect(store.getStream('k/nope.json')).rejects.toThrow(NotFoundError);
  });

  test('list returns every object under a prefix, sorted, across pages', async () => {
    for (const key of ['runs/r1/b', 'runs/r1/a', 'runs/r1/sub/c', 'runs/r10/x', 'runs/r2/y']) {
      await store.put(key, key);
    }
    const listed = await store.list('runs/r1/');
    expect(listed.map((i) => i.key)).toEqual(['runs/r1/a', 'runs/r1/b', 'runs/r1/sub/c']);
    expect(listed[0]!.size).toBe('runs/r1/a'.length);
    // Page size 2: the client followed nextPageToken.
    expect(gcs.requests.filter((r) => r.kind === 'list')).toHaveLength(2);
    expect((await store.list('runs/r1')).map((i) => i.key)).toHaveLength(4);
    expect(await store.list('nothing/')).toEqual([]);
  });

  test('delete removes an object; deleting a missing key is fine', async () => {
    await store.put('d/x', 'x');
    await store.delete('d/x');
    expect(await store.exists('d/x')).toBe(false);
    await store.delete('d/x');
  });

  test('ifAbsent creates once, then conflicts naming the object', async () => {
    await store.put('leases/run-1.json', 'first', { ifAbsent: true });
    const second = store.put('leases/run-1.json', 'second', { ifAbsent: true });
    await expect(second).rejects.toThrow(ConflictError);
    await expect(second).rejects.toThrow('gs://etl/leases/run-1.json');
    expect((await store.get('leases/run-1.json')).toString()).toBe('first');
    // A plain put overwrites.
    await store.put('leases/run-1.json', 'third');
    expect((await store.get('leases/run-1.json')).toString()).toBe('third');
  });

  test('invalid keys are rejected before any request', async () => {
    for (const key of ['', '/abs', 'a//b', 'a/../b', './a']) {
      await expect(store.put(key, 'x')).rejects.toThrow(InvalidRequestError);
    }
    expect(gcs.requests).toHaveLength(0);
  });

  test('uri and location name the bucket', () => {
    expect(store.location).toBe('gs://etl');
    expect(store.uri('runs/r1/staged/orders.arrow')).toBe('gs://etl/runs/r1/staged/orders.arrow');
  });

  test('a 503 storm is retried until it passes', async () => {
    gcs.inject({ method: 'POST', path: 'uploadType=multipart', status: 503, times: 2 });
    await store.put('storm.txt', 'survived');
    expect(uploads().map((r) => r.status)).toEqual([503, 503, 200]);
    expect((await store.get('storm.txt')).toString()).toBe('survived');
  });

  test('429 on a download is retried', async () => {
    await store.put('rl.txt', 'slow down');
    gcs.inject({ method: 'GET', path: 'alt=media', status: 429, times: 1 });
    expect((await store.get('rl.txt')).toString()).toBe('slow down');
    expect(gcs.requests.filter((r) => r.kind === 'download').map((r) => r.status)).toEqual([429, 200]);
  });

  test('a 503 storm longer than the retry budget ends in a retryable error naming the object', async () => {
    const impatient = makeStore({ retry: { ...FAST_RETRY, maxRetries: 1 } });
    gcs.inject({ method: 'GET', path: '/o/gone.txt', status: 503, times: 4 });
    const read = impatient.get('gone.txt');
    await expect(read).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(impatient.stat('gone.txt')).rejects.toThrow('gs://etl/gone.txt');
    expect(gcs.requests.map((r) => r.status)).toEqual([503, 503, 503, 503]);
  });

  test('a connection dropped mid-upload is retried without a partial object ever visible', async () => {
    const big = randomBytes(9 * 1024 * 1024);
    gcs.inject({ method: 'PUT', path: 'upload_id=', destroyAfterBytes: 1024 * 1024 });
    let sawPartial = false;
    const watcher = setInterval(() => {
      const stored = gcs.read('etl', 'runs/r1/raw/dropped.bin');
      if (stored && stored.length !== big.length) sawPartial = true;
    }, 1);
    try {
      await store.put('runs/r1/raw/dropped.bin', big);
    } finally {
      clearInterval(watcher);
    }
    expect(sawPartial).toBe(false);
    expect(gcs.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toContain(0);
    expect((await store.get('runs/r1/raw/dropped.bin')).equals(big)).toBe(true);
  });

  test('a missing bucket is a NotFoundError naming the bucket', async () => {
    const missing = makeStore({ bucket: 'no-such-bucket' });
    await expect(missing.put('a.txt', 'x')).rejects.toThrow('bucket gs://no-such-bucket does not exist');
    await expect(missing.get('a.txt')).rejects.toMatchObject({ status: 404, code: 'BUCKET_NOT_FOUND' });
    await expect(missing.stat('a.txt')).rejects.toThrow(NotFoundError);
    await expect(missing.list('runs/')).rejects.toThrow('gs://no-such-bucket');
    await expect(missing.delete('a.txt')).rejects.toThrow(NotFoundError);
  });

  test('403 is a terminal UpstreamError naming the object', async () => {
    gcs.inject({ path: '/o/secret.txt', status: 403, times: 10 });
    const read = store.get('secret.txt');
    await expect(read).rejects.toThrow(UpstreamError);
    await expect(read).rejects.toMatchObject({ status: 424, code: 'PERMISSION_DENIED', retryable: false });
    await expect(read).rejects.toThrow('gs://etl/secret.txt');
    // Not retried: one request.
    expect(gcs.requests).toHaveLength(1);
  });
});

describe('createBlobStore in gcp mode', () => {
  test('builds a GcsBlobStore from config, pointed at GCS_API_ENDPOINT', async () => {
    const config = parseConfig(baseConfigSchema, {
      ETL_MODE: 'gcp',
      GCP_PROJECT: 'test',
      ETL_BUCKET: 'etl',
      BIGQUERY_DATASET: 'sales',
      GCS_API_ENDPOINT: gcs.url,
    });
    const fromConfig = await createBlobStore(config);
    expect(fromConfig).toBeInstanceOf(GcsBlobStore);
    expect(fromConfig.location).toBe('gs://etl');
    await fromConfig.put('wired.txt', 'yes');
    expect(gcs.read('etl', 'wired.txt')?.toString()).toBe('yes');
  });
});
