import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createLogger, createSilentLogger } from '@etl/common/logging';
import { datasetStateKey, putJson } from '@etl/common/storage';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeKaggle, startFakeKaggle } from '../../../test/fakes/kaggle';
import { createExtractorApp } from './app';
import { DEFAULT_ZIP_LIMITS, type ExtractDeps, extract } from './extractor';
import { KaggleClient, type KaggleClientOptions } from './kaggle-client';
import { extractKaggle } from './sources/kaggle';
import { buildWalmartZip, WALMART_RAW_NAMES, WALMART_TABLES, walmartEntries } from './testing/datasets';
import { createTempStore, listRawKeys, listRunKeys, type TempStore } from './testing/temp-store';
import { buildZip } from './testing/yazl-zip';

const TOKEN = 'kgat_s3cr3t-token-0123456789';
const USERNAME = 'alice';
const KEY = 'k3y-0f-al1ce-abcdef0123456789';
const ORDERS_V2 = 'order_id,sales\n1,10.00\n';
const ORDERS_V3 = 'order_id,sales\n1,10.00\n2,12.50\n';
const RETURNS = 'order_id,returned\n1,Yes\n';

let temp: TempStore;
let fake: FakeKaggle;
let waits: number[];

beforeEach(async () => {
  temp = await createTempStore();
  waits = [];
  fake = await startFakeKaggle({
    datasets: { 'acme/superstore': { version: 2, files: { 'orders.csv': ORDERS_V2 } } },
    token: TOKEN,
    username: USERNAME,
    key: KEY,
  });
  fake.setVersion('acme/superstore', 3, {
    'data/orders.csv': ORDERS_V3,
    'returns.csv': RETURNS,
    'README.md': '# about',
  });
});

afterEach(async () => {
  await fake.close();
  await temp.cleanup();
});

function client(overrides: Partial<KaggleClientOptions> = {}): KaggleClient {
  return new KaggleClient({
    baseUrl: fake.url,
    credentials: { kind: 'token', token: TOKEN },
    maxDownloadBytes: 10 * 1024 * 1024,
    backoffMs: 100,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
}

const deps = (kaggle: KaggleClient, extra: Partial<ExtractDeps> = {}): ExtractDeps => ({
  store: temp.store,
  logger: createSilentLogger(),
  kaggle,
  ...extra,
});

const apiCalls = () => fake.requests.filter((r) => r.method !== 'storage');

async function expectNothingWritten(runId: string): Promise<void> {
  expect(await listRawKeys(temp.store, runId)).toEqual([]);
  expect(await listRunKeys(temp.store, runId)).toEqual([]);
}

describe('kaggle source', () => {
  test('token auth: reports the current version, downloads it, unzips the CSV files', async () => {
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    expect(result.dataset).toEqual({
      id: 'kaggle/acme/superstore',
      version: '3',
      previousVersion: null,
      changed: true,
    });
    expect(result.files.map((f) => [f.name, f.key, f.bytes])).toEqual([
      ['data/orders.csv', 'runs/k1/raw/data/orders.csv', ORDERS_V3.length],
      ['returns.csv', 'runs/k1/raw/returns.csv', RETURNS.length],
    ]);
    expect(result.skippedFiles).toEqual([{ name: 'README.md', reason: 'documentation, not a table' }]);
    expect((await temp.store.get('runs/k1/raw/data/orders.csv')).toString()).toBe(ORDERS_V3);

    expect(fake.requests.map((r) => [r.method, r.auth, r.status])).toEqual([
      ['GetDataset', 'bearer', 200],
      ['DownloadDataset', 'bearer', 302],
      // The signed URL is the credential: ours never travel to storage.
      ['storage', 'none', 200],
    ]);
    expect(fake.requests[0]!.path).toBe('/v1/datasets.DatasetApiService/GetDataset');
    expect(fake.requests[0]!.body).toEqual({ ownerSlug: 'acme', datasetSlug: 'superstore' });
    // The version is pinned before downloading, so report and bytes agree.
    expect(fake.requests[1]!.body).toEqual({
      ownerSlug: 'acme',
      datasetSlug: 'superstore',
      datasetVersionNumber: 3,
    });
  });

  test('a competition-style download with nested zips is unpacked level by level; README and images listed as skipped', async () => {
    fake.setVersion(
      'acme/walmart',
      1,
      await walmartEntries({
        'README.md': '# Walmart',
        'img/stores.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      }),
    );
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/walmart' }, deps(client()));
    expect(result.dataset).toMatchObject({ id: 'kaggle/acme/walmart', version: '1' });
    expect(result.files.map((f) => [f.name, f.format])).toEqual(
      WALMART_RAW_NAMES.map((name) => [name, 'delimited']),
    );
    expect((await temp.store.get('runs/k1/raw/train.csv.zip/train.csv')).toString()).toBe(
      WALMART_TABLES['train.csv.zip/train.csv'],
    );
    expect(result.skippedFiles).toEqual([
      { name: 'README.md', reason: 'documentation, not a table' },
      { name: 'img/stores.png', reason: 'image, not a table' },
    ]);
  });

  test('a download with no table file: 422 NO_TABLE_FILES naming the Kaggle dataset and its files', async () => {
    fake.setVersion('acme/docs', 1, { 'README.md': '# nothing here' });
    const failure = extract({ runId: 'k1', source: 'kaggle:acme/docs' }, deps(client()));
    await expect(failure).rejects.toMatchObject({ status: 422, code: 'NO_TABLE_FILES' });
    await expect(failure).rejects.toThrow(
      /^Kaggle dataset acme\/docs version 1 contains no table files .*; found README\.md: documentation, not a table$/,
    );
    await expectNothingWritten('k1');
  });

  test('basic auth (KAGGLE_USERNAME/KAGGLE_KEY)', async () => {
    const kaggle = client({ credentials: { kind: 'basic', username: USERNAME, key: KEY } });
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(kaggle));
    expect(result.dataset.version).toBe('3');
    expect(apiCalls().map((r) => r.auth)).toEqual(['basic', 'basic']);
  });

  test('an explicit version is downloaded without asking for the current one', async () => {
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore/2' }, deps(client()));
    expect(result.dataset.version).toBe('2');
    expect(result.files.map((f) => f.name)).toEqual(['orders.csv']);
    expect(apiCalls().map((r) => r.method)).toEqual(['DownloadDataset']);
  });

  test('change detection follows the Kaggle version number', async () => {
    await putJson(temp.store, datasetStateKey('kaggle', 'acme', 'superstore'), {
      version: '3',
      runId: 'k0',
      loadedAt: '2025-01-01T00:00:00.000Z',
    });
    const same = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    expect(same.dataset).toMatchObject({ version: '3', previousVersion: '3', changed: false });
    fake.setVersion('acme/superstore', 4);
    const next = await extract({ runId: 'k2', source: 'kaggle:acme/superstore' }, deps(client()));
    expect(next.dataset).toMatchObject({ version: '4', previousVersion: '3', changed: true });
  });

  test('429 with Retry-After: waits as asked, then succeeds', async () => {
    fake.setFaults({ rateLimit: { times: 2, retryAfter: '7' } });
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    expect(result.dataset.version).toBe('3');
    expect(waits).toEqual([7000, 7000]);
    expect(apiCalls().map((r) => r.status)).toEqual([429, 429, 200, 302]);
  });

  test('429 that outlasts the tries: 429 RATE_LIMITED, retryable, nothing written', async () => {
    fake.setFaults({ rateLimit: { times: 10, retryAfter: '2' } });
    const failure = extract(
      { runId: 'k1', source: 'kaggle:acme/superstore' },
      deps(client({ maxAttempts: 3 })),
    );
    await expect(failure).rejects.toMatchObject({
      status: 429,
      retryable: true,
      code: 'KAGGLE_RATE_LIMITED',
    });
    await expect(failure).rejects.toThrow(
      /GetDataset for dataset acme\/superstore is rate-limited by Kaggle after 3 tries/,
    );
    expect(waits).toEqual([2000, 2000]);
    await expectNothingWritten('k1');
  });

  test('a Retry-After too long to wait in-request fails at once with 429', async () => {
    fake.setFaults({ rateLimit: { times: 1, retryAfter: '3600' } });
    const failure = extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    await expect(failure).rejects.toMatchObject({ status: 429, details: { retryAfterSeconds: 3600 } });
    expect(waits).toEqual([]);
  });

  test('an error code in a 200 body counts as that error (here 429, retried)', async () => {
    fake.setFaults({ errorInBody: { times: 1, code: 429, message: 'TooManyRequests' } });
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    expect(result.dataset.version).toBe('3');
    expect(waits).toEqual([100]);
  });

  test('a 503 storm: backs off, then 503 UPSTREAM unavailable, retryable, nothing written', async () => {
    fake.setFaults({ unavailable: { times: 100 } });
    const failure = extract(
      { runId: 'k1', source: 'kaggle:acme/superstore' },
      deps(client({ maxAttempts: 4 })),
    );
    await expect(failure).rejects.toMatchObject({ status: 503, retryable: true, code: 'KAGGLE_UNAVAILABLE' });
    await expect(failure).rejects.toThrow(
      /GetDataset for dataset acme\/superstore failed after 4 tries: .*HTTP 503/,
    );
    expect(waits).toEqual([100, 200, 400]);
    await expectNothingWritten('k1');
  });

  test('an unreachable API: 503 after retries', async () => {
    const kaggle = client({ baseUrl: 'http://127.0.0.1:9', maxAttempts: 2 });
    const failure = extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(kaggle));
    await expect(failure).rejects.toMatchObject({ status: 503 });
    await expect(failure).rejects.toThrow(/could not reach http:\/\/127\.0\.0\.1:9/);
  });

  test('an unknown dataset: 404 naming owner/slug', async () => {
    const failure = extract({ runId: 'k1', source: 'kaggle:acme/nothing-here' }, deps(client()));
    await expect(failure).rejects.toMatchObject({ status: 404, code: 'KAGGLE_DATASET_NOT_FOUND' });
    await expect(failure).rejects.toThrow(/Kaggle dataset acme\/nothing-here not found/);
    await expectNothingWritten('k1');
  });

  test('an unknown version: 404 naming the version', async () => {
    const failure = extract({ runId: 'k1', source: 'kaggle:acme/superstore/9' }, deps(client()));
    await expect(failure).rejects.toThrow(/Kaggle dataset acme\/superstore version 9 not found/);
  });

  test('a connection dropped mid-download: resumed with Range, same bytes', async () => {
    fake.setFaults({ dropDownload: { times: 1 } });
    const result = await extract({ runId: 'k1', source: 'kaggle:acme/superstore' }, deps(client()));
    expect((await temp.store.get('runs/k1/raw/data/orders.csv')).toString()).toBe(ORDERS_V3);
    expect(result.files).toHaveLength(2);
    const storage = fake.requests.filter((r) => r.method === 'storage');
    expect(storage.map((r) => r.status)).toEqual([200, 206]);
    expect(storage[1]!.range).toMatch(/^bytes=\d+-$/);
  });

  test('a download that keeps breaking: clean 503, nothing written, no temp file left', async () => {
    fake.setFaults({ dropDownload: { times: 100 } });
    const failure = extract(
      { runId: 'k1', source: 'kaggle:acme/superstore' },
      deps(client({ maxAttempts: 3 })),
    );
    await expect(failure).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(failure).rejects.toThrow(/download of Kaggle dataset acme\/superstore version 3/);
    await expectNothingWritten('k1');
  });

  test('a download larger than MAX_DOWNLOAD_BYTES: 413', async () => {
    const failure = extract(
      { runId: 'k1', source: 'kaggle:acme/superstore' },
      deps(client({ maxDownloadBytes: 100 })),
    );
    await expect(failure).rejects.toMatchObject({ status: 413, code: 'DOWNLOAD_TOO_LARGE' });
    await expect(failure).rejects.toThrow(/MAX_DOWNLOAD_BYTES/);
    await expectNothingWritten('k1');
  });
});

describe('kaggle download classified by its name and bytes', () => {
  /** A client whose download is `bytes`, named `fileName` (as Kaggle names a download by its storage URL). */
  const downloading = (fileName: string, bytes: Buffer) => ({
    getDataset: async () => {
      throw new Error('the version is pinned in these tests');
    },
    downloadDataset: async (_dataset: unknown, file: string) => {
      await writeFile(file, bytes);
      return { bytes: bytes.length, fileName };
    },
  });
  const context = () => ({
    store: temp.store,
    runId: 'k1',
    logger: createSilentLogger(),
    zipLimits: DEFAULT_ZIP_LIMITS,
  });
  const source = { owner: 'acme', slug: 'sales', version: 1 };

  test('a zip whose name does not say so is still unpacked (its bytes do)', async () => {
    const result = await extractKaggle(context(), source, downloading('download', await buildWalmartZip()));
    expect(result.files.map((f) => f.name)).toEqual(WALMART_RAW_NAMES);
  });

  test('a single .xlsx starts like a zip but is stored as the workbook it is', async () => {
    const workbook = await buildZip({ 'xl/workbook.xml': '<workbook/>' });
    const result = await extractKaggle(context(), source, downloading('orders.xlsx', workbook));
    expect(result.files.map((f) => [f.name, f.format, f.bytes])).toEqual([
      ['orders.xlsx', 'xlsx', workbook.length],
    ]);
  });

  test('a single .csv.gz is stored gunzipped under its name without .gz', async () => {
    const result = await extractKaggle(context(), source, downloading('orders.csv.gz', gzipSync(ORDERS_V2)));
    expect(result.files.map((f) => [f.name, f.bytes])).toEqual([['orders.csv', ORDERS_V2.length]]);
  });
});

describe('rejected credentials never leak the secret', () => {
  function captureLogs(): { lines: string[]; destination: Writable } {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { lines, destination };
  }

  test.each([
    [
      'a bad token',
      { kind: 'token', token: 'kgat_wrong-but-secret-0123456789' },
      'kgat_wrong-but-secret-0123456789',
    ],
    [
      'a bad key',
      { kind: 'basic', username: USERNAME, key: 'wrong-key-but-secret-9876543210' },
      'wrong-key-but-secret-9876543210',
    ],
  ] as const)(
    '%s: 424 KAGGLE_CREDENTIALS_REJECTED over HTTP (final, never retried), secret in no message and no log line',
    async (_case, credentials, secret) => {
      const { lines, destination } = captureLogs();
      const logger = createLogger({ name: 'extractor', level: 'trace', destination });
      const kaggle = client({ credentials, logger });
      const app = createExtractorApp({ store: temp.store, logger, kaggle });
      const response = await request(app)
        .post('/v1/extract')
        .send({ runId: 'k1', source: 'kaggle:acme/superstore' });

      expect(response.status).toBe(424);
      expect(response.body.error).toMatchObject({ code: 'KAGGLE_CREDENTIALS_REJECTED', retryable: false });
      expect(response.body.error.message).toMatch(
        /Kaggle rejected the credentials .*HTTP 401 .*acme\/superstore/,
      );
      expect(fake.requests.map((r) => r.status)).toEqual([401]);
      expect(lines.length).toBeGreaterThan(0);
      const basic = Buffer.from(`${USERNAME}:${secret}`).toString('base64');
      for (const text of [JSON.stringify(response.body), ...lines]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(basic);
      }
      await expectNothingWritten('k1');
    },
  );
});
