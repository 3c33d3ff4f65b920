import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { datasetStateKey, manifestKey, putJson } from '@etl/common/storage';
import { describe, expect, test } from 'vitest';
import { computeContentVersion, type ExtractDeps, extract } from './extractor';
import { craftZip } from './testing/craft-zip';
import { listRawKeys, listRunKeys, useTempStore } from './testing/temp-store';
import { buildZip } from './testing/yazl-zip';

const CSV = 'order_id,sales\n1,10.50\n2,20.00\n';
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const temp = useTempStore();

async function readRaw(key: string): Promise<string> {
  return (await temp.store.get(key)).toString('utf8');
}

/** Runs a failing extract and checks the rejection and that the run holds nothing at all. */
async function expectRejected(
  request: Parameters<typeof extract>[0],
  status: number,
  message: string | RegExp,
  extra: Partial<ExtractDeps> = {},
): Promise<void> {
  const failure = await extract(request, temp.deps(extra)).then(
    () => undefined,
    (error: unknown) => error as { status: number; message: string },
  );
  expect(failure, 'extract should have failed').toBeDefined();
  expect(failure!.status).toBe(status);
  expect(failure!.message).toMatch(message);
  expect(await listRawKeys(temp.store, request.runId)).toEqual([]);
  expect(await listRunKeys(temp.store, request.runId)).toEqual([]);
}

describe('sources', () => {
  test('sample: writes sales.csv, a content version that depends only on rows and seed, and the manifest', async () => {
    const first = await extract(
      { runId: 'r1', source: 'sample', sample: { rows: 200, seed: 5 } },
      temp.deps(),
    );
    const again = await extract(
      { runId: 'r2', source: 'sample', sample: { rows: 200, seed: 5 } },
      temp.deps(),
    );
    const other = await extract(
      { runId: 'r3', source: 'sample', sample: { rows: 200, seed: 6 } },
      temp.deps(),
    );

    expect(first.dataset).toEqual({
      id: 'sample/generated/sales',
      version: computeContentVersion(first.files),
      previousVersion: null,
      changed: true,
    });
    expect(first.files).toHaveLength(1);
    const [file] = first.files;
    expect(file).toMatchObject({ name: 'sales.csv', key: 'runs/r1/raw/sales.csv' });
    const stored = await temp.store.get(file!.key);
    expect(stored.length).toBe(file!.bytes);
    expect(sha256(stored)).toBe(file!.sha256);
    expect(stored.toString('utf8').split('\n')).toHaveLength(1 + 200 + 1);
    expect(again.dataset.version).toBe(first.dataset.version);
    expect(other.dataset.version).not.toBe(first.dataset.version);
    expect(first.manifestKey).toBe(manifestKey('r1', 'extract'));
    expect(JSON.parse(await readRaw(first.manifestKey))).toEqual(first);
  });

  test('local csv: one file named by its basename, dataset id from the slug of the name', async () => {
    const file = await temp.writeScratch('Orders 2024 (EU).csv', CSV);
    const result = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    expect(result.dataset.id).toBe('local/files/orders-2024-eu');
    expect(result.files).toEqual([
      {
        name: 'Orders 2024 (EU).csv',
        key: 'runs/r1/raw/Orders 2024 (EU).csv',
        bytes: CSV.length,
        sha256: sha256(CSV),
        format: 'delimited',
      },
    ]);
    expect(result.skippedFiles).toEqual([]);
    expect(await readRaw(result.files[0]!.key)).toBe(CSV);
  });

  test('a local file named without a table extension (export.dat, none) is read by its content; a binary one, or one in a folder, is skipped', async () => {
    const dat = await temp.writeScratch('export.dat', CSV);
    const result = await extract({ runId: 'r1', source: `local:${dat}` }, temp.deps());
    expect(result.files).toMatchObject([{ name: 'export.dat', format: 'delimited', bytes: CSV.length }]);
    const json = await temp.writeScratch('orders', '[{"id": 1, "total": 2.5}]\n');
    const read = await extract({ runId: 'r2', source: `local:${json}` }, temp.deps());
    expect(read.files).toMatchObject([{ name: 'orders', format: 'json' }]);
    const binary = await temp.writeScratch(
      'blob.dat',
      Buffer.from([0x50, 0x4b, 0x00, 0x01, 0x2c, 0x0a, 0x41]),
    );
    await expectRejected(
      { runId: 'r3', source: `local:${binary}` },
      422,
      /contains no table files .*; found blob\.dat: not a table format \(\.dat\)$/,
    );
    await temp.writeScratch('shop/a.csv', CSV);
    await temp.writeScratch('shop/export.dat', CSV);
    const folder = await extract(
      { runId: 'r4', source: `local:${path.join(temp.scratch, 'shop')}` },
      temp.deps(),
    );
    expect(folder.files.map((f) => f.name)).toEqual(['a.csv']);
    expect(folder.skippedFiles).toEqual([{ name: 'export.dat', reason: 'not a table format (.dat)' }]);
  });

  test('local zip: each CSV entry by its path inside the archive, sorted; other entries listed as skipped', async () => {
    const zip = await buildZip({
      'data/b.csv': 'x,y\n3,4\n',
      'a.csv': CSV,
      'README.md': '# not data',
      '__MACOSX/data/._b.csv': 'junk',
    });
    const file = await temp.writeScratch('bundle.zip', zip);
    const result = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    expect(result.dataset.id).toBe('local/files/bundle');
    expect(result.files.map((f) => [f.name, f.key])).toEqual([
      ['a.csv', 'runs/r1/raw/a.csv'],
      ['data/b.csv', 'runs/r1/raw/data/b.csv'],
    ]);
    expect(await readRaw('runs/r1/raw/data/b.csv')).toBe('x,y\n3,4\n');
    expect(result.files[0]!.sha256).toBe(sha256(CSV));
    expect(result.skippedFiles).toEqual([
      { name: 'README.md', reason: 'documentation, not a table' },
      { name: '__MACOSX/data/._b.csv', reason: 'macOS metadata' },
    ]);
  });

  test('zip entry names in UTF-8 without the flag that says so (Linux and macOS tools) read as UTF-8; other unflagged names as CP437', async () => {
    const zip = craftZip([
      { name: 'données.csv', data: CSV, utf8Flag: false },
      // 0x82 is é in CP437, and no UTF-8 on its own.
      {
        name: 'caf\u00e9.csv',
        nameBytes: Buffer.from([0x63, 0x61, 0x66, 0x82, 0x2e, 0x63, 0x73, 0x76]),
        data: CSV,
        utf8Flag: false,
      },
    ]);
    const file = await temp.writeScratch('accents.zip', zip);
    const result = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    expect(result.files.map((f) => f.name)).toEqual(['café.csv', 'données.csv']);
  });

  test('local folder: CSV files found recursively, sorted by path; other files listed as skipped', async () => {
    await temp.writeScratch('shop/b.csv', CSV);
    await temp.writeScratch('shop/2024/a.csv', 'x,y\n1,2\n');
    await temp.writeScratch('shop/notes.txt', 'hello');
    const result = await extract(
      { runId: 'r1', source: `local:${path.join(temp.scratch, 'shop')}` },
      temp.deps(),
    );
    expect(result.dataset.id).toBe('local/files/shop');
    expect(result.files.map((f) => f.name)).toEqual(['2024/a.csv', 'b.csv']);
    expect(result.skippedFiles).toEqual([{ name: 'notes.txt', reason: 'documentation, not a table' }]);
  });

  test('relative local paths resolve against LOCAL_SOURCE_ROOT', async () => {
    await temp.writeScratch('in/orders.csv', CSV);
    const result = await extract(
      { runId: 'r1', source: 'local:orders.csv' },
      temp.deps({ localRoot: path.join(temp.scratch, 'in') }),
    );
    expect(result.files.map((f) => f.name)).toEqual(['orders.csv']);
  });

  test('CRLF line endings and a BOM are fine', async () => {
    const file = await temp.writeScratch('crlf.csv', '\ufeffa,b\r\n1,2\r\n');
    const result = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    expect(result.files[0]!.bytes).toBe(Buffer.byteLength('\ufeffa,b\r\n1,2\r\n'));
  });
});

describe('change detection and idempotency', () => {
  test('unchanged content after a load reports changed: false; new content reports changed: true', async () => {
    const file = await temp.writeScratch('orders.csv', CSV);
    const first = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    // What the loader writes after a successful load.
    await putJson(temp.store, datasetStateKey('local', 'files', 'orders'), {
      version: first.dataset.version,
      runId: 'r1',
      loadedAt: '2025-01-01T00:00:00.000Z',
    });

    const second = await extract({ runId: 'r2', source: `local:${file}` }, temp.deps());
    expect(second.dataset).toEqual({
      ...first.dataset,
      previousVersion: first.dataset.version,
      changed: false,
    });

    await writeFile(file, `${CSV}3,30.00\n`);
    const third = await extract({ runId: 'r3', source: `local:${file}` }, temp.deps());
    expect(third.dataset.changed).toBe(true);
    expect(third.dataset.previousVersion).toBe(first.dataset.version);
    expect(third.dataset.version).not.toBe(first.dataset.version);
  });

  test('an unreadable state file counts as "never loaded"', async () => {
    const file = await temp.writeScratch('orders.csv', CSV);
    await temp.store.put(datasetStateKey('local', 'files', 'orders'), '{not json');
    const result = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    expect(result.dataset).toMatchObject({ previousVersion: null, changed: true });
  });

  test('the same runId and source returns the stored manifest without reading the source again', async () => {
    const file = await temp.writeScratch('orders.csv', CSV);
    const first = await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    await rm(file);
    expect(await extract({ runId: 'r1', source: `local:${file}` }, temp.deps())).toEqual(first);
  });

  test('the same runId with another source is a 409 naming the run and both sources', async () => {
    const file = await temp.writeScratch('orders.csv', CSV);
    await extract({ runId: 'r1', source: `local:${file}` }, temp.deps());
    const failure = extract({ runId: 'r1', source: 'sample' }, temp.deps());
    await expect(failure).rejects.toMatchObject({ status: 409, code: 'CONFLICT' });
    await expect(failure).rejects.toThrow(/run r1 already extracted "local:.*orders\.csv".*"sample"/);
  });

  test('the same runId with other sample rows is a 409 naming both sizes', async () => {
    await extract({ runId: 'r1', source: 'sample', sample: { rows: 50, seed: 1 } }, temp.deps());
    const failure = extract({ runId: 'r1', source: 'sample', sample: { rows: 60, seed: 1 } }, temp.deps());
    await expect(failure).rejects.toThrow(
      /already extracted "sample" \(50 rows, seed 1\).*"sample" \(60 rows, seed 1\)/,
    );
  });
});

describe('rejections leave nothing under the run', () => {
  test('unknown source scheme: 400', async () => {
    await expectRejected(
      { runId: 'r1', source: 'ftp://example.com/x.csv' },
      400,
      /unknown source scheme.*ftp:/,
    );
  });

  test('malformed kaggle references: 400', async () => {
    for (const source of [
      'kaggle:https://kaggle.com/x/y',
      'kaggle:owner',
      'kaggle:../etc/passwd',
      'kaggle:a/b/c/d',
      'kaggle:a/b/0',
    ]) {
      await expectRejected({ runId: 'r1', source }, 400, /invalid source/);
    }
  });

  test('sample options with another source: 400 naming the field', async () => {
    await expectRejected(
      { runId: 'r1', source: 'local:/x.csv', sample: { rows: 1, seed: 1 } },
      400,
      /^sample:/,
    );
  });

  test('missing local path: 404 naming the path', async () => {
    await expectRejected(
      { runId: 'r1', source: 'local:/no/such/orders.csv' },
      404,
      /\/no\/such\/orders\.csv.*not found/,
    );
  });

  test('local path outside LOCAL_SOURCE_ROOT: 400, also through a symlink', async () => {
    const root = path.join(temp.scratch, 'root');
    const outside = await temp.writeScratch('outside.csv', CSV);
    await mkdir(root, { recursive: true });
    await symlink(outside, path.join(root, 'link.csv'));
    await expectRejected({ runId: 'r1', source: `local:${outside}` }, 400, /outside LOCAL_SOURCE_ROOT/, {
      localRoot: root,
    });
    await expectRejected({ runId: 'r1', source: 'local:../outside.csv' }, 400, /outside LOCAL_SOURCE_ROOT/, {
      localRoot: root,
    });
    await expectRejected({ runId: 'r1', source: 'local:link.csv' }, 400, /"link\.csv" resolves outside/, {
      localRoot: root,
    });
  });

  test('a folder without table files: 422 NO_TABLE_FILES naming the folder and listing its files', async () => {
    await temp.writeScratch('docs/readme.txt', 'hi');
    await temp.writeScratch('docs/logo.png', 'x');
    await expectRejected(
      { runId: 'r1', source: `local:${path.join(temp.scratch, 'docs')}` },
      422,
      /folder .*docs contains no table files \(expected \.csv, .*\); found logo\.png: image, not a table; readme\.txt: documentation, not a table$/,
    );
  });

  test('a zip without table files: 422 naming the archive', async () => {
    const file = await temp.writeScratch('docs.zip', await buildZip({ 'readme.txt': 'hi' }));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /archive .*docs\.zip contains no table files .*; found readme\.txt: documentation, not a table$/,
    );
  });

  test('an empty file: 422 naming the file', async () => {
    const file = await temp.writeScratch('empty.csv', '');
    await expectRejected({ runId: 'r1', source: `local:${file}` }, 422, /empty\.csv is empty \(0 bytes\)/);
  });

  test.each([
    ['LF', 'a,b\n'],
    ['CRLF', 'a,b\r\n'],
    ['BOM + CRLF + blank lines', '\ufeffa,b\r\n\r\n  \r\n'],
    ['no final newline', 'a,b'],
  ])('a header-only file (%s): 422 naming the file', async (_case, content) => {
    const file = await temp.writeScratch('header.csv', content);
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /header\.csv has a header but no data rows/,
    );
  });

  test('a blank file: 422', async () => {
    const file = await temp.writeScratch('blank.csv', '\ufeff\r\n \n');
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /blank\.csv has no header and no data rows/,
    );
  });

  test('one binary file named .csv in a folder: 422 naming it, and the good files are not written either', async () => {
    await temp.writeScratch('mixed/a.csv', CSV);
    await temp.writeScratch(
      'mixed/b.csv',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]),
    );
    await expectRejected(
      { runId: 'r1', source: `local:${path.join(temp.scratch, 'mixed')}` },
      422,
      /b\.csv is not CSV text: it starts like a PNG image/,
    );
  });

  test.each([
    [
      'NUL bytes',
      Buffer.concat([Buffer.from('a,b\n1,'), Buffer.alloc(8), Buffer.from('\n')]),
      /found a NUL byte at offset 6 \(binary content, or UTF-16 without a byte-order mark: save it as UTF-8\)/,
    ],
    [
      'a PNG',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      /starts like a PNG image/,
    ],
    ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), /starts like a gzip file/],
  ])('a binary file named .csv (%s): 422', async (_case, content, message) => {
    const file = await temp.writeScratch('data.csv', content);
    await expectRejected({ runId: 'r1', source: `local:${file}` }, 422, message);
  });

  test('UTF-16 text with its byte-order mark (Excel "Unicode Text") is extracted as it is; header only is still refused', async () => {
    const utf16 = (text: string, order: 'le' | 'be') => {
      const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      return order === 'le' ? bytes : bytes.swap16();
    };
    for (const order of ['le', 'be'] as const) {
      // U+0A0D has a 0x0A byte: lines are counted in code units, not bytes.
      const content = utf16('Date\tItem\r\n03/01/2021\t\u0a0d\r\n', order);
      const file = await temp.writeScratch(`sales-${order}.txt`, content);
      const result = await extract({ runId: `r-${order}`, source: `local:${file}` }, temp.deps());
      expect(result.files[0]).toMatchObject({ bytes: content.length, format: 'delimited' });
      const header = await temp.writeScratch(`header-${order}.txt`, utf16('Date\t\u0a0d\r\n', order));
      await expectRejected({ runId: 'r1', source: `local:${header}` }, 422, /has a header but no data rows/);
    }
  });

  test('a zip where a CSV was expected: 422', async () => {
    const file = await temp.writeScratch('data.csv', await buildZip({ 'a.csv': CSV }));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /data\.csv is not CSV text: it starts like a zip archive/,
    );
  });

  test('a truncated zip: 422 naming the archive', async () => {
    const zip = await buildZip({ 'a.csv': CSV.repeat(50), 'b.csv': CSV });
    const file = await temp.writeScratch('cut.zip', zip.subarray(0, Math.floor(zip.length / 2)));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /archive .*cut\.zip is not a readable zip/,
    );
  });

  test('a corrupt entry (bad deflate data): 422 naming the entry', async () => {
    const zip = craftZip([{ name: 'a.csv', data: CSV.repeat(20) }]);
    zip.fill(0xff, 30 + 'a.csv'.length, 30 + 'a.csv'.length + 10);
    const file = await temp.writeScratch('corrupt.zip', zip);
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /could not read entry "a\.csv" in archive .*corrupt\.zip/,
    );
  });

  test.each([
    ['path traversal', '../evil.csv', /entry "\.\.\/evil\.csv" in archive .*evil\.zip escapes the archive/],
    ['nested traversal', 'data/../../evil.csv', /entry "data\/\.\.\/\.\.\/evil\.csv" .* escapes the archive/],
    ['backslash traversal', '..\\evil.csv', /entry "\.\.\/evil\.csv" .* escapes the archive/],
    ['an absolute path', '/etc/evil.csv', /entry "\/etc\/evil\.csv" .* is an absolute path/],
    ['a drive letter', 'C:/evil.csv', /entry "C:\/evil\.csv" .* is an absolute path/],
  ])('a zip entry with %s: 422 naming the entry', async (_case, name, message) => {
    const zip = craftZip([
      { name: 'good.csv', data: CSV },
      { name, data: CSV },
    ]);
    const file = await temp.writeScratch('evil.zip', zip);
    await expectRejected({ runId: 'r1', source: `local:${file}` }, 422, message);
  });

  test('a zip entry that is a symlink: 422 naming the entry', async () => {
    const zip = await buildZip(
      { 'good.csv': CSV, 'link.csv': '/etc/passwd' },
      { mode: { 'link.csv': 0o120777 } },
    );
    const file = await temp.writeScratch('links.zip', zip);
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /entry "link\.csv" in archive .*links\.zip is a symbolic link/,
    );
  });

  test('a zip entry larger than MAX_UNZIPPED_BYTES: 422 naming the entry', async () => {
    const file = await temp.writeScratch('big.zip', await buildZip({ 'big.csv': CSV.repeat(100) }));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /entry "big\.csv" .* declares 3100 bytes .*MAX_UNZIPPED_BYTES/,
      {
        zipLimits: { maxUnzippedBytes: 1000 },
      },
    );
  });

  test('entries that together exceed MAX_UNZIPPED_BYTES: 422 naming the archive', async () => {
    const file = await temp.writeScratch(
      'many.zip',
      await buildZip({ 'a.csv': CSV.repeat(10), 'b.csv': CSV.repeat(10) }),
    );
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /archive .*many\.zip declares more than 500 bytes/,
      {
        zipLimits: { maxUnzippedBytes: 500 },
      },
    );
  });

  test('a zip bomb (absurd compression ratio): 422 naming the entry', async () => {
    const bomb = Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(4 * 1024 * 1024, '0,0\n')]);
    const file = await temp.writeScratch('bomb.zip', craftZip([{ name: 'bomb.csv', data: bomb }]));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /entry "bomb\.csv" .* compression ratio of \d+:1, above the limit of 200:1/,
    );
  });

  test('too many entries: 422 naming the archive and the limit', async () => {
    const files = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}.csv`, CSV]));
    const file = await temp.writeScratch('crowd.zip', await buildZip(files));
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /archive .*crowd\.zip has 5 entries, more than the limit of 3/,
      {
        zipLimits: { maxEntries: 3 },
      },
    );
  });

  test('a header that understates the size: caught while streaming, and files already copied are removed', async () => {
    const big = `a,b\n${'1,2\n'.repeat(50_000)}`; // 200 KB: the head check (64 KiB) passes, the copy does not
    const zip = craftZip([
      { name: 'a.csv', data: CSV },
      { name: 'b.csv', data: big, declaredSize: 100_000 },
    ]);
    const file = await temp.writeScratch('liar.zip', zip);
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /entry "b\.csv" in archive .*liar\.zip/,
    );
  });

  test('a stored entry whose sizes disagree: 422 naming the archive', async () => {
    const zip = craftZip([{ name: 'a.csv', data: CSV, method: 'store', declaredSize: 5 }]);
    const file = await temp.writeScratch('stored.zip', zip);
    await expectRejected(
      { runId: 'r1', source: `local:${file}` },
      422,
      /archive .*stored\.zip is not a readable zip/,
    );
  });

  test('a kaggle source without credentials: 400 naming the variables', async () => {
    await expectRejected(
      { runId: 'r1', source: 'kaggle:acme/sales' },
      400,
      /KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY/,
    );
  });
});

const SUPERSTORE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../shared/data/superstore/Sample - Superstore.csv',
);

const hasSuperstore = existsSync(SUPERSTORE);

test.skipIf(!hasSuperstore)(
  hasSuperstore
    ? 'the real Superstore CSV via local:'
    : `the real Superstore CSV via local: SKIPPED, ${SUPERSTORE} not present`,
  async () => {
    const result = await extract({ runId: 'superstore', source: `local:${SUPERSTORE}` }, temp.deps());
    expect(result.dataset.id).toBe('local/files/sample-superstore');
    expect(result.files).toEqual([
      {
        name: 'Sample - Superstore.csv',
        key: 'runs/superstore/raw/Sample - Superstore.csv',
        bytes: 2_287_806,
        sha256: '58fb59c63089e564d835e4aabe19d371757de1137a5bf1888243ae386c4b7a97',
        format: 'delimited',
      },
    ]);
  },
);

describe('retention (RUN_DATA_RETENTION_DAYS, local store)', () => {
  /** Dates a run's folder and everything in it `days` back. */
  const aged = async (runId: string, days: number) => {
    const at = new Date(Date.now() - days * 86_400_000);
    const run = temp.store.filePath(`runs/${runId}`);
    const entries = await readdir(run, { recursive: true });
    for (const entry of entries) await utimes(path.join(run, entry), at, at);
    await utimes(run, at, at);
  };

  test('an extract removes the runs unchanged for the retention period, and keeps the others and the datasets', async () => {
    const sample = { rows: 20, seed: 1 };
    await temp.store.put('datasets/sample/generated/sales/state.json', '{}');
    await extract({ runId: 'old', source: 'sample', sample }, temp.deps());
    await extract({ runId: 'recent', source: 'sample', sample }, temp.deps());
    await aged('old', 31);
    await aged('recent', 29);
    await extract({ runId: 'kept', source: 'sample', sample }, temp.deps({ retentionDays: 0 }));
    expect(await listRunKeys(temp.store, 'old')).not.toEqual([]);

    await extract({ runId: 'new', source: 'sample', sample }, temp.deps({ retentionDays: 30 }));
    expect(await listRunKeys(temp.store, 'old')).toEqual([]);
    expect(await listRunKeys(temp.store, 'recent')).not.toEqual([]);
    expect(await listRunKeys(temp.store, 'new')).not.toEqual([]);
    expect(await temp.store.exists('datasets/sample/generated/sales/state.json')).toBe(true);
  });
});
