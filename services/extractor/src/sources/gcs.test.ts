/**
 * The gs://BUCKET/OBJECT source through the extract stage, against the fake GCS server: the official
 * client with an apiEndpoint, as the extractor runs with GCS_API_ENDPOINT.
 */
import { gzipSync } from 'node:zlib';
import { createSilentLogger } from '@etl/common/logging';
import { GcsBlobStore } from '@etl/common/storage';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FakeGcs, startFakeGcs } from '../../../../test/fakes/gcs';
import { type ExtractDeps, extract } from '../extractor';
import { parseSourceRef } from '../source-ref';
import { createTempStore, listRunKeys, type TempStore } from '../testing/temp-store';
import { buildWalmartZip, WALMART_RAW_NAMES, WALMART_TABLES } from '../testing/datasets';
import { buildZip } from '../testing/yazl-zip';

const CSV = 'order_id,sales\n1,10.50\n2,20.00\n';

let gcs: FakeGcs;
let inbox: GcsBlobStore;
let temp: TempStore;

beforeAll(async () => {
  gcs = await startFakeGcs({ buckets: ['inbox'] });
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
    ['gs://inbox/drops/', /names a folder/],
    ['gs://inbox/a\nb.csv', /control characters/],
    [`gs://inbox/${'x'.repeat(1025)}.csv`, /at most 1024 bytes/],
  ])('case %# is refused: %s', (source, reason) => {
    expect(() => parseSourceRef(source)).toThrow(reason);
    expect(() => parseSourceRef(source)).toThrow(
      /^invalid source .*: expected gs:\/\/BUCKET\/OBJECT naming a table file, a \.zip or a \.gz/,
    );
  });
});
