/**
 * The gs://BUCKET/OBJECT and gs://BUCKET/PREFIX/ sources through the extract stage, against the fake GCS
 * server: the official client with an apiEndpoint, as the extractor runs with GCS_API_ENDPOINT.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createSilentLogger } from '@etl/common/logging';
import { GcsBlobStore } from '@etl/common/storage/gcs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FakeGcs, startFakeGcs } from '../../../../test/fakes/gcs';
import { type ExtractDeps, extract } from '../extractor';
import { parseSourceRef } from '../source-ref';
import { buildWalmartZip, WALMART_RAW_NAMES, WALMART_TABLES } from '../testing/datasets';
import { createTempStore, listRunKeys, type TempStore } from '../testing/temp-store';
import { buildZip } from '../testing/yazl-zip';

const CSV = 'order_id,sales\n1,10.50\n2,20.00\n';

let gcs: FakeGcs;
let inbox: GcsBlobStore;
let temp: TempStore;

beforeAll(async () => {
  // Pages of two objects, so that a prefix listing is followed over several pages.
  gcs = await startFakeGcs({ buckets: ['inbox'], listPageSize: 2 });
  inbox = new GcsBlobStore({ bucket: 'inbox', projectId: 'test', apiEndpoint: gcs.url });
});
afterAll(async () => {
  await gcs.close();
});
beforeEach(async () => {
  temp = await createTempStore();
});
afterEach(async () => {
  await temp.cleanup();
});

const deps = (extra: Partial<ExtractDeps['gcs']> = {}): ExtractDeps => ({
  store: temp.store,
  logger: createSilentLogger(),
  gcs: { projectId: 'test', apiEndpoint: gcs.url, ...extra },
});

const generationOf = (name: string) => String(gcs.objects.get(`inbox/${name}`)!.generation);

describe('gs:// source', () => {
  test('a .csv object is copied into the run; dataset gcs/<bucket>/<slug>, version = its generation', async () => {
    await inbox.put('drops/2026/Sales Q1.csv', CSV);
    const response = await extract({ runId: 'g-1', source: 'gs://inbox/drops/2026/Sales Q1.csv' }, deps());
    expect(response.dataset).toEqual({
      id: 'gcs/inbox/sales-q1',
      version: generationOf('drops/2026/Sales Q1.csv'),
      previousVersion: null,
      changed: true,
    });
    expect(response.files.map((f) => [f.name, f.bytes])).toEqual([['Sales Q1.csv', CSV.length]]);
    expect((await temp.store.get('runs/g-1/raw/Sales Q1.csv')).toString()).toBe(CSV);
    // Metadata first, then exactly that generation's bytes.
    const reads = gcs.requests.filter((r) => r.kind !== 'upload' && r.path.includes('Sales%20Q1.csv'));
    expect(reads[0]!.kind).toBe('metadata');
    expect(
      reads
        .filter((r) => r.kind === 'download')
        .every((r) => r.path.includes(`generation=${response.dataset.version}`)),
    ).toBe(true);
  });

  test('a re-upload under the same name is a new version', async () => {
    await inbox.put('daily.csv', CSV);
    const first = await extract({ runId: 'g-2', source: 'gs://inbox/daily.csv' }, deps());
    await inbox.put('daily.csv', `${CSV}3,30.00\n`);
    const second = await extract({ runId: 'g-3', source: 'gs://inbox/daily.csv' }, deps());
    expect(second.dataset.id).toBe(first.dataset.id);
    expect(second.dataset.version).not.toBe(first.dataset.version);
    expect(second.files[0]!.bytes).toBe(CSV.length + 8);
  });

  test('a .zip object: its CSV entries are unpacked into the run', async () => {
    await inbox.put(
      'drops/bundle.zip',
      await buildZip({ 'orders.csv': CSV, 'sub/items.csv': 'a,b\n1,2\n', 'readme.txt': 'x' }),
    );
    const response = await extract({ runId: 'g-4', source: 'gs://inbox/drops/bundle.zip' }, deps());
    expect(response.dataset.id).toBe('gcs/inbox/bundle');
    expect(response.files.map((f) => f.name).sort()).toEqual(['orders.csv', 'sub/items.csv']);
  });

  test('a .zip object with nested zips: unpacked level by level, names under the nested zip', async () => {
    await inbox.put('kaggle/walmart.zip', await buildWalmartZip({ 'README.md': '# Walmart' }));
    const response = await extract({ runId: 'g-7', source: 'gs://inbox/kaggle/walmart.zip' }, deps());
    expect(response.dataset.id).toBe('gcs/inbox/walmart');
    expect(response.files.map((f) => f.name)).toEqual(WALMART_RAW_NAMES);
    expect((await temp.store.get('runs/g-7/raw/features.csv.zip/features.csv')).toString()).toBe(
      WALMART_TABLES['features.csv.zip/features.csv'],
    );
    expect(response.skippedFiles).toEqual([{ name: 'README.md', reason: 'documentation, not a table' }]);
  });

  test('a .csv.gz object is stored gunzipped; a .parquet object as parquet', async () => {
    await inbox.put('drops/Daily Sales.csv.gz', gzipSync(CSV));
    const gz = await extract({ runId: 'g-8', source: 'gs://inbox/drops/Daily Sales.csv.gz' }, deps());
    expect(gz.dataset.id).toBe('gcs/inbox/daily-sales');
    expect(gz.files.map((f) => [f.name, f.bytes, f.format])).toEqual([
      ['Daily Sales.csv', CSV.length, 'delimited'],
    ]);
    expect((await temp.store.get('runs/g-8/raw/Daily Sales.csv')).toString()).toBe(CSV);

    await inbox.put(
      'drops/orders.parquet',
      Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(8), Buffer.from('PAR1')]),
    );
    const parquet = await extract({ runId: 'g-9', source: 'gs://inbox/drops/orders.parquet' }, deps());
    expect(parquet.files.map((f) => [f.name, f.format])).toEqual([['orders.parquet', 'parquet']]);
  });

  test('errors name the object: missing object, missing bucket, access denied, too large; nothing is written', async () => {
    await expect(extract({ runId: 'g-5', source: 'gs://inbox/nope.csv' }, deps())).rejects.toMatchObject({
      status: 404,
      code: 'SOURCE_NOT_FOUND',
      message: 'source gs://inbox/nope.csv not found',
    });
    await expect(extract({ runId: 'g-5', source: 'gs://other-bucket/a.csv' }, deps())).rejects.toMatchObject({
      status: 404,
      code: 'BUCKET_NOT_FOUND',
      message: expect.stringContaining('gs://other-bucket does not exist'),
    });
    await inbox.put('secret.csv', CSV);
    gcs.inject({ path: 'secret.csv', status: 403 });
    await expect(extract({ runId: 'g-5', source: 'gs://inbox/secret.csv' }, deps())).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      retryable: false,
      message: expect.stringMatching(
        /^source gs:\/\/inbox\/secret\.csv: access denied .*roles\/storage\.objectViewer on gs:\/\/inbox$/,
      ),
    });
    await expect(
      extract({ runId: 'g-5', source: 'gs://inbox/secret.csv' }, deps({ maxObjectBytes: 10 })),
    ).rejects.toMatchObject({
      status: 413,
      code: 'SOURCE_TOO_LARGE',
      message: `source gs://inbox/secret.csv holds ${CSV.length} bytes, more than MAX_DOWNLOAD_BYTES (10)`,
    });
    expect(await listRunKeys(temp.store, 'g-5')).toEqual([]);
  });

  test('a file that is not CSV is rejected naming the object and its generation', async () => {
    await inbox.put('binary.csv', Buffer.from([0, 1, 2, 3, 0, 0, 255, 254]));
    const error = await extract({ runId: 'g-6', source: 'gs://inbox/binary.csv' }, deps()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 422 });
    expect((error as Error).message).toContain(
      `Cloud Storage object gs://inbox/binary.csv#${generationOf('binary.csv')}`,
    );
  });
});

describe('gs://BUCKET/PREFIX/ source', () => {
  const SHOP = 'drops/Spring Shop/';
  const STORES = 'store,city\n1,Lyon\n2,Lille\n';

  /** Two table files, a README, a nested zip and two folder placeholders under SHOP; one look-alike outside. */
  async function uploadShop(): Promise<void> {
    await inbox.put(`${SHOP}orders.csv`, CSV);
    await inbox.put(`${SHOP}stores.csv`, STORES);
    await inbox.put(`${SHOP}README.md`, '# Spring shop');
    await inbox.put(`${SHOP}extra/items.zip`, await buildZip({ 'items.csv': 'a,b\n1,2\n' }));
    // Folder placeholders, as the console's "create folder" makes them.
    await inbox.storage.bucket('inbox').file(SHOP).save('');
    await inbox.storage.bucket('inbox').file(`${SHOP}extra/`).save('');
    await inbox.put('drops/Spring Shop.csv', CSV);
  }

  /** The version the source must report: sha256 over the sorted `name generation` lines of the objects. */
  function expectedVersion(names: readonly string[]): string {
    const lines = names.map((name) => `${SHOP}${name} ${generationOf(`${SHOP}${name}`)}\n`).sort();
    return createHash('sha256').update(lines.join('')).digest('hex');
  }
  const SHOP_OBJECTS = ['orders.csv', 'stores.csv', 'README.md', 'extra/items.zip'];

  test('every object under the prefix, named relative to it; placeholders skipped; version from the generations', async () => {
    await uploadShop();
    const before = gcs.requests.length;
    const response = await extract({ runId: 'p-1', source: `gs://inbox/${SHOP}` }, deps());
    expect(response.dataset).toEqual({
      id: 'gcs/inbox/spring-shop',
      version: expectedVersion(SHOP_OBJECTS),
      previousVersion: null,
      changed: true,
    });
    expect(response.files.map((f) => [f.name, f.bytes])).toEqual([
      ['extra/items.zip/items.csv', 8],
      ['orders.csv', CSV.length],
      ['stores.csv', STORES.length],
    ]);
    expect(response.skippedFiles).toEqual([{ name: 'README.md', reason: 'documentation, not a table' }]);
    expect((await temp.store.get('runs/p-1/raw/stores.csv')).toString()).toBe(STORES);

    const requests = gcs.requests.slice(before);
    // One listing, followed over its pages (two objects a page), and no metadata call per object.
    const lists = requests.filter((r) => r.kind === 'list');
    expect(lists.length).toBeGreaterThan(1);
    expect(lists.every((r) => r.path.includes('prefix=drops%2FSpring%20Shop%2F'))).toBe(true);
    expect(requests.filter((r) => r.kind === 'metadata')).toEqual([]);
    // Every read asks for the listed generation; placeholders and the look-alike are never read.
    const downloads = requests.filter((r) => r.kind === 'download');
    expect(downloads.length).toBeGreaterThan(0);
    for (const download of downloads) {
      const name = decodeURIComponent(/\/o\/([^?]+)/.exec(download.path)![1]!);
      expect(SHOP_OBJECTS.map((n) => `${SHOP}${n}`)).toContain(name);
      expect(download.path).toContain(`generation=${generationOf(name)}`);
    }
  });

  test('the same objects again: the same version; one object re-uploaded (same bytes): a new version', async () => {
    await uploadShop();
    const first = await extract({ runId: 'p-2', source: `gs://inbox/${SHOP}` }, deps());
    const again = await extract({ runId: 'p-3', source: `gs://inbox/${SHOP}` }, deps());
    expect(again.dataset.version).toBe(first.dataset.version);

    await inbox.put(`${SHOP}README.md`, '# Spring shop');
    const reuploaded = await extract({ runId: 'p-4', source: `gs://inbox/${SHOP}` }, deps());
    expect(reuploaded.dataset.id).toBe(first.dataset.id);
    expect(reuploaded.dataset.version).not.toBe(first.dataset.version);
    expect(reuploaded.dataset.version).toBe(expectedVersion(SHOP_OBJECTS));
  });

  test('an empty prefix, or one holding only folder placeholders, is 404 naming it; a missing bucket is BUCKET_NOT_FOUND', async () => {
    await expect(extract({ runId: 'p-5', source: 'gs://inbox/nothing/' }, deps())).rejects.toMatchObject({
      status: 404,
      code: 'SOURCE_NOT_FOUND',
      message: 'source gs://inbox/nothing/ not found: no objects under that prefix',
    });
    await inbox.storage.bucket('inbox').file('hollow/').save('');
    await inbox.storage.bucket('inbox').file('hollow/sub/').save('');
    await expect(extract({ runId: 'p-5', source: 'gs://inbox/hollow/' }, deps())).rejects.toMatchObject({
      status: 404,
      code: 'SOURCE_NOT_FOUND',
      message: 'source gs://inbox/hollow/ not found: no objects under that prefix',
    });
    await expect(extract({ runId: 'p-5', source: 'gs://other-bucket/shop/' }, deps())).rejects.toMatchObject({
      status: 404,
      code: 'BUCKET_NOT_FOUND',
      message: expect.stringContaining('gs://other-bucket does not exist'),
    });
    expect(await listRunKeys(temp.store, 'p-5')).toEqual([]);
  });

  test('a listing that keeps answering 503 ends in a retryable 503 naming the prefix', async () => {
    await inbox.put('flaky/orders.csv', CSV);
    const impatient = new GcsBlobStore({
      bucket: 'inbox',
      projectId: 'test',
      apiEndpoint: gcs.url,
      retry: { maxRetries: 1, maxRetryDelayMs: 1000, retryDelayMultiplier: 0.01, totalTimeoutMs: 20_000 },
    });
    gcs.inject({ method: 'GET', path: /\/b\/inbox\/o\?.*prefix=flaky/, status: 503, times: 2 });
    const before = gcs.requests.length;
    await expect(
      extract({ runId: 'p-6', source: 'gs://inbox/flaky/' }, deps({ storage: impatient.storage })),
    ).rejects.toMatchObject({
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(/^source gs:\/\/inbox\/flaky\/: Cloud Storage unavailable: /),
    });
    const requests = gcs.requests.slice(before);
    expect(requests.filter((r) => r.kind === 'list').map((r) => r.status)).toEqual([503, 503]);
    expect(requests.filter((r) => r.kind === 'download')).toEqual([]);
    expect(await listRunKeys(temp.store, 'p-6')).toEqual([]);
  });

  test('an object overwritten between its listing and its read: retryable 503 SOURCE_CHANGED (was a terminal 404); the retry reads the new version', async () => {
    await inbox.put('racing/a.csv', CSV);
    await inbox.put('racing/b.csv', CSV);
    const key = 'inbox/racing/b.csv';
    const grown = `${CSV}3,30.00\n`;
    gcs.inject({
      method: 'GET',
      path: 'racing%2Fb.csv?alt=media',
      beforeHandle: () => {
        const old = gcs.objects.get(key)!;
        gcs.objects.set(key, { ...old, data: Buffer.from(grown), generation: old.generation + 1 });
      },
    });
    const failure = extract({ runId: 'g-race', source: 'gs://inbox/racing/' }, deps());
    await expect(failure).rejects.toMatchObject({ status: 503, retryable: true, code: 'SOURCE_CHANGED' });
    await expect(failure).rejects.toThrow(/gs:\/\/inbox\/racing\/b\.csv#\d+ changed while it was read/);
    expect(await listRunKeys(temp.store, 'g-race')).toEqual([]);

    const retried = await extract({ runId: 'g-race', source: 'gs://inbox/racing/' }, deps());
    expect(retried.files.map((f) => [f.name, f.bytes])).toEqual([
      ['a.csv', CSV.length],
      ['b.csv', grown.length],
    ]);
  });

  test('MAX_DOWNLOAD_BYTES holds for all the objects together: 413 naming the prefix before a byte is read', async () => {
    await uploadShop();
    const total = SHOP_OBJECTS.reduce((sum, name) => sum + gcs.read('inbox', `${SHOP}${name}`)!.length, 0);
    const before = gcs.requests.length;
    await expect(
      extract({ runId: 'p-7', source: `gs://inbox/${SHOP}` }, deps({ maxObjectBytes: total - 1 })),
    ).rejects.toMatchObject({
      status: 413,
      code: 'SOURCE_TOO_LARGE',
      message: `source gs://inbox/${SHOP} holds ${total} bytes, more than MAX_DOWNLOAD_BYTES (${total - 1})`,
    });
    expect(gcs.requests.slice(before).filter((r) => r.kind === 'download')).toEqual([]);
    expect(await listRunKeys(temp.store, 'p-7')).toEqual([]);

    const fits = await extract(
      { runId: 'p-8', source: `gs://inbox/${SHOP}` },
      deps({ maxObjectBytes: total }),
    );
    expect(fits.files).toHaveLength(3);
  });

  test('a prefix with no table file is 422 NO_TABLE_FILES listing what it holds', async () => {
    await inbox.put('docs-only/README.md', '# nothing here');
    await expect(extract({ runId: 'p-9', source: 'gs://inbox/docs-only/' }, deps())).rejects.toMatchObject({
      status: 422,
      code: 'NO_TABLE_FILES',
      message: expect.stringMatching(
        /^Cloud Storage prefix gs:\/\/inbox\/docs-only\/ contains no table files .*found README\.md: documentation, not a table$/,
      ),
    });
  });
});

describe('parseSourceRef: gs://', () => {
  test('bucket and object, the object name verbatim (as Eventarc sends it)', () => {
    expect(parseSourceRef('gs://inbox/drops/a b#1.csv')).toEqual({
      kind: 'gcs',
      bucket: 'inbox',
      object: 'drops/a b#1.csv',
    });
    expect(parseSourceRef('gs://my.bucket_1/X.ZIP')).toEqual({
      kind: 'gcs',
      bucket: 'my.bucket_1',
      object: 'X.ZIP',
    });
  });

  test('a name ending in / is a prefix', () => {
    expect(parseSourceRef('gs://inbox/drops/Spring Shop/')).toEqual({
      kind: 'gcs',
      bucket: 'inbox',
      prefix: 'drops/Spring Shop/',
    });
  });

  test.each([
    ['gs://inbox', /object name is empty/],
    ['gs://inbox/', /object name is empty/],
    ['gs://Inbox/a.csv', /lower-case letters/],
    ['gs://ab/a.csv', /lower-case letters/],
    ['gs://a..b/a.csv', /dot-separated parts/],
    ['gs://goog-inbox/a.csv', /reserved/],
    ['gs://192.168.0.1/a.csv', /reserved/],
    ['gs://inbox/a.xls', /does not read it: Excel 97-2003 workbook/],
    ['gs://inbox/drops/logo.png', /does not read it: image, not a table/],
    ['gs://inbox//', /no empty segments/],
    ['gs://inbox//drops/', /no empty segments/],
    ['gs://inbox/drops//x/', /no empty segments/],
    ['gs://inbox/a\nb.csv', /control characters/],
    [`gs://inbox/${'x'.repeat(1025)}.csv`, /at most 1024 bytes/],
  ])('case %# is refused: %s', (source, reason) => {
    expect(() => parseSourceRef(source)).toThrow(reason);
    expect(() => parseSourceRef(source)).toThrow(
      /^invalid source .*: expected gs:\/\/BUCKET\/OBJECT naming a table file, a \.zip or a \.gz, or gs:\/\/BUCKET\/PREFIX\//,
    );
  });
});
