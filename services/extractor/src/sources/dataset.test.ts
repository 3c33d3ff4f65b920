/**
 * Whole datasets as published, through the extract stage with `local:` sources: nested zips, .gz files,
 * every table format, files that are not tables, and the archive guards at every level.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createLogger } from '@etl/common/logging';
import { LocalBlobStore, type PutOptions } from '@etl/common/storage';
import { describe, expect, test } from 'vitest';
import { type ExtractDeps, extract } from '../extractor';
import { craftZip } from '../testing/craft-zip';
import { buildWalmartZip, WALMART_RAW_NAMES, WALMART_TABLES } from '../testing/datasets';
import { listRunKeys, useTempStore } from '../testing/temp-store';
import { buildZip } from '../testing/yazl-zip';

const CSV = 'order_id,sales\n1,10.50\n2,20.00\n';
const PARQUET = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(16, 7), Buffer.from('PAR1')]);
const CENTRAL_HEADER = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
/** 4 MiB of one repeated row: compresses about 1000:1, far above the 200:1 ratio limit. */
const BOMB = Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(4 * 1024 * 1024, '0,0\n')]);

const temp = useTempStore();

const extractLocal = (file: string, extra: Partial<ExtractDeps> = {}) =>
  extract({ runId: 'r1', source: `local:${file}` }, temp.deps(extra));

/** Runs a failing extract (run `failed`): the error, after checking that the run holds nothing at all. */
async function extractFailure(
  file: string,
  extra: Partial<ExtractDeps> = {},
): Promise<{ status: number; code: string; message: string }> {
  const failure = await extract({ runId: 'failed', source: `local:${file}` }, temp.deps(extra)).then(
    () => undefined,
    (error: unknown) => error as { status: number; code: string; message: string },
  );
  expect(failure, 'extract should have failed').toBeDefined();
  expect(await listRunKeys(temp.store, 'failed')).toEqual([]);
  return failure!;
}

/** A zip holding `inner` under the name `name`, `levels` times over: zip(name: zip(name: ... inner)). */
async function nest(levels: number, name: string, inner: Record<string, Buffer | string>): Promise<Buffer> {
  let zip = await buildZip(inner);
  for (let level = 1; level < levels; level++) zip = await buildZip({ [name]: zip });
  return zip;
}

describe('nested archives', () => {
  test('a Walmart-like competition zip: stores.csv plus four nested zips give five raw files', async () => {
    const file = await temp.writeScratch(
      'walmart-recruiting-store-sales-forecasting.zip',
      await buildWalmartZip(),
    );
    const result = await extractLocal(file);
    expect(result.dataset.id).toBe('local/files/walmart-recruiting-store-sales-forecasting');
    expect(result.files.map((f) => [f.name, f.key, f.format])).toEqual(
      WALMART_RAW_NAMES.map((name) => [name, `runs/r1/raw/${name}`, 'delimited']),
    );
    for (const rawFile of result.files) {
      const csv = WALMART_TABLES[rawFile.name]!;
      expect((await temp.store.get(rawFile.key)).toString()).toBe(csv);
      expect(rawFile).toMatchObject({ bytes: csv.length, sha256: sha256(csv) });
    }
    expect(result.skippedFiles).toEqual([]);
    const manifest = JSON.parse((await temp.store.get(result.manifestKey)).toString());
    expect(manifest.skippedFiles).toEqual([]);
    expect(manifest.files).toHaveLength(5);
  });

  test('three levels: members of each nested zip live under its name as a folder', async () => {
    const zip = await buildZip({
      'top.csv': CSV,
      'data/level2.zip': await buildZip({
        'b.csv': CSV,
        'level3.zip': await buildZip({ 'sub/c.csv': CSV, 'README.md': '# c' }),
      }),
    });
    const result = await extractLocal(await temp.writeScratch('three.zip', zip));
    expect(result.files.map((f) => f.name)).toEqual([
      'data/level2.zip/b.csv',
      'data/level2.zip/level3.zip/sub/c.csv',
      'top.csv',
    ]);
    expect(result.skippedFiles).toEqual([
      { name: 'data/level2.zip/level3.zip/README.md', reason: 'documentation, not a table' },
    ]);
  });

  test('four levels of archives are unpacked; a fifth is 422 UNSAFE_ARCHIVE naming it', async () => {
    const four = await nest(4, 'inner.zip', { 'deep.csv': CSV });
    const result = await extractLocal(await temp.writeScratch('four.zip', four));
    expect(result.files.map((f) => f.name)).toEqual(['inner.zip/inner.zip/inner.zip/deep.csv']);

    const five = await nest(5, 'inner.zip', { 'deep.csv': CSV });
    const failure = await extractFailure(await temp.writeScratch('five.zip', five));
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "inner\.zip" in entry "inner\.zip" in entry "inner\.zip" in entry "inner\.zip" in archive .*five\.zip is an archive inside 4 others; archives are unpacked at most 4 levels deep$/,
    );
  });

  test('a zip bomb inside a nested zip: 422 UNSAFE_ARCHIVE naming the nested entry', async () => {
    const zip = await buildZip({
      'good.csv': CSV,
      'inner.zip': craftZip([{ name: 'bomb.csv', data: BOMB }]),
    });
    const failure = await extractFailure(await temp.writeScratch('outer.zip', zip));
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "bomb\.csv" in entry "inner\.zip" in archive .*outer\.zip has a compression ratio of \d+:1, above the limit of 200:1/,
    );
  });

  test('path traversal inside a nested zip: 422 naming the nested entry', async () => {
    const zip = await buildZip({
      'good.csv': CSV,
      'inner.zip': craftZip([{ name: '../../evil.csv', data: CSV }]),
    });
    const failure = await extractFailure(await temp.writeScratch('outer.zip', zip));
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "\.\.\/\.\.\/evil\.csv" in entry "inner\.zip" in archive .*outer\.zip escapes the archive/,
    );
  });

  test('an encrypted table inside a nested zip: 422 naming it; an encrypted README is only skipped', async () => {
    /** Sets the "encrypted" flag of every entry in the central directory, where yauzl reads it. */
    const encrypted = (zip: Buffer) => {
      for (let at = zip.indexOf(CENTRAL_HEADER); at >= 0; at = zip.indexOf(CENTRAL_HEADER, at + 4)) {
        zip.writeUInt16LE(zip.readUInt16LE(at + 8) | 1, at + 8);
      }
      return zip;
    };
    const ok = await buildZip({
      'a.csv': CSV,
      'inner.zip': encrypted(craftZip([{ name: 'README.md', data: '#' }])),
    });
    expect((await extractLocal(await temp.writeScratch('ok.zip', ok))).skippedFiles).toEqual([
      { name: 'inner.zip/README.md', reason: 'documentation, not a table' },
    ]);

    const bad = await buildZip({
      'a.csv': CSV,
      'inner.zip': encrypted(craftZip([{ name: 'b.csv', data: CSV }])),
    });
    const failure = await extractFailure(await temp.writeScratch('bad.zip', bad));
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "b\.csv" in entry "inner\.zip" in archive .*bad\.zip is encrypted$/,
    );
  });

  test('a corrupt nested zip: 422 CORRUPT_ARCHIVE naming it', async () => {
    const zip = await buildZip({ 'good.csv': CSV, 'inner.zip': 'not a zip at all' });
    const failure = await extractFailure(await temp.writeScratch('outer.zip', zip));
    expect(failure).toMatchObject({ status: 422, code: 'CORRUPT_ARCHIVE' });
    expect(failure.message).toMatch(/^entry "inner\.zip" in archive .*outer\.zip is not a readable zip/);
  });

  test('MAX_UNZIPPED_BYTES counts the whole dataset: each level fits, all levels together do not', async () => {
    const zip = await buildZip({
      'a.csv': CSV.repeat(10), // 310 bytes
      'inner.zip': await buildZip({ 'b.csv': CSV.repeat(10) }),
    });
    const file = await temp.writeScratch('levels.zip', zip);
    const failure = await extractFailure(file, { zipLimits: { maxUnzippedBytes: 700 } });
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "inner\.zip" in archive .*levels\.zip declares more than 700 bytes uncompressed, with the rest of the dataset/,
    );
    // The same archive within a limit that holds everything.
    expect((await extractLocal(file, { zipLimits: { maxUnzippedBytes: 2000 } })).files).toHaveLength(2);
  });

  test('temporary copies of nested zips are removed, after success and after a failure', async () => {
    const tmp = path.join(temp.scratch, 'tmp');
    await mkdir(tmp);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await extractLocal(await temp.writeScratch('ok.zip', await buildWalmartZip()));
      expect(await readdir(tmp)).toEqual([]);
      const bad = await buildZip({ 'inner.zip': craftZip([{ name: 'bomb.csv', data: BOMB }]) });
      await extractFailure(await temp.writeScratch('bad.zip', bad));
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });
});

describe('.gz files', () => {
  test('a local sales.csv.gz is stored gunzipped as sales.csv; dataset slug without the extensions', async () => {
    const result = await extractLocal(await temp.writeScratch('Sales.csv.gz', gzipSync(CSV)));
    expect(result.dataset.id).toBe('local/files/sales');
    expect(result.files).toEqual([
      {
        name: 'Sales.csv',
        key: 'runs/r1/raw/Sales.csv',
        bytes: CSV.length,
        sha256: sha256(CSV),
        format: 'delimited',
      },
    ]);
    expect((await temp.store.get('runs/r1/raw/Sales.csv')).toString()).toBe(CSV);
  });

  test('a .csv.gz inside a zip drops .gz and keeps its folder; a .jsonl.gz keeps its format', async () => {
    const zip = await buildZip({
      'data/x.csv.gz': gzipSync(CSV),
      'events.jsonl.gz': gzipSync('{"a":1}\n'),
    });
    const result = await extractLocal(await temp.writeScratch('bundle.zip', zip));
    expect(result.files.map((f) => [f.name, f.format, f.bytes])).toEqual([
      ['data/x.csv', 'delimited', CSV.length],
      ['events.jsonl', 'json', 8],
    ]);
  });

  test('a corrupt gzip: 422 CORRUPT_ARCHIVE naming the file', async () => {
    const garbage = await extractFailure(await temp.writeScratch('bad.csv.gz', 'this is not gzip'));
    expect(garbage).toMatchObject({ status: 422, code: 'CORRUPT_ARCHIVE' });
    expect(garbage.message).toMatch(
      /^local file .*bad\.csv\.gz is not a readable gzip file: incorrect header check/,
    );

    const gz = gzipSync(CSV.repeat(100));
    const zip = await buildZip({ 'good.csv': CSV, 'cut.csv.gz': gz.subarray(0, gz.length - 20) });
    const truncated = await extractFailure(await temp.writeScratch('cut.zip', zip));
    expect(truncated).toMatchObject({ status: 422, code: 'CORRUPT_ARCHIVE' });
    expect(truncated.message).toMatch(
      /^entry "cut\.csv\.gz" in archive .*cut\.zip is not a readable gzip file: unexpected end of file/,
    );
  });

  test('a gzip bomb: 422 UNSAFE_ARCHIVE naming the file and MAX_ZIP_RATIO', async () => {
    const failure = await extractFailure(await temp.writeScratch('bomb.csv.gz', gzipSync(BOMB)));
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^local file .*bomb\.csv\.gz expands at a ratio of more than 200:1 .*MAX_ZIP_RATIO/,
    );
  });

  test('a .gz counts against the MAX_UNZIPPED_BYTES left by the rest of the dataset', async () => {
    // 9395 bytes gzipped to 3639: the archive declares less than the limit, the .gz expands to more.
    const rows = Array.from({ length: 1500 }, (_, i) => `${i},${i % 7}`).join('\n');
    const zip = await buildZip({ 'a.csv': CSV, 'big.csv.gz': gzipSync(`id,n\n${rows}\n`) });
    const failure = await extractFailure(await temp.writeScratch('mixed.zip', zip), {
      zipLimits: { maxUnzippedBytes: 5000 },
    });
    expect(failure).toMatchObject({ status: 422, code: 'UNSAFE_ARCHIVE' });
    expect(failure.message).toMatch(
      /^entry "big\.csv\.gz" in archive .*mixed\.zip expands to more than \d+ bytes, what is left of the dataset's 5000 \(MAX_UNZIPPED_BYTES\)/,
    );
  });

  test('an empty .csv.gz as the whole source keeps the one-file answer: 422 EMPTY_FILE', async () => {
    const failure = await extractFailure(await temp.writeScratch('empty.csv.gz', gzipSync('')));
    expect(failure).toMatchObject({ status: 422, code: 'EMPTY_FILE' });
    expect(failure.message).toMatch(/empty\.csv\.gz is empty \(0 bytes\)$/);
  });
});

describe('table formats', () => {
  test('parquet, xlsx, json and jsonl files are stored with their format and content type', async () => {
    const types = new Map<string, string | undefined>();
    const store = new (class extends LocalBlobStore {
      override put(key: string, body: Parameters<LocalBlobStore['put']>[1], options?: PutOptions) {
        types.set(key, options?.contentType);
        return super.put(key, body, options);
      }
    })(path.join(temp.scratch, 'blobs'));
    const xlsx = await buildZip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' });
    const zip = await buildZip({
      'orders.parquet': PARQUET,
      'book.xlsx': xlsx,
      'orders.json': '[{"id":1}]',
      'events.jsonl': '{"id":1}', // one line, no newline: valid JSON lines
      'items.tsv': 'a\tb\n1\t2\n',
    });
    const result = await extract(
      { runId: 'r1', source: `local:${await temp.writeScratch('formats.zip', zip)}` },
      temp.deps({ store }),
    );
    expect(result.files.map((f) => [f.name, f.format])).toEqual([
      ['book.xlsx', 'xlsx'],
      ['events.jsonl', 'json'],
      ['items.tsv', 'delimited'],
      ['orders.json', 'json'],
      ['orders.parquet', 'parquet'],
    ]);
    expect(Object.fromEntries(types)).toMatchObject({
      'runs/r1/raw/book.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'runs/r1/raw/events.jsonl': 'application/json',
      'runs/r1/raw/items.tsv': 'text/csv',
      'runs/r1/raw/orders.parquet': 'application/vnd.apache.parquet',
    });
    expect((await store.get('runs/r1/raw/orders.parquet')).equals(PARQUET)).toBe(true);
    expect((await store.get('runs/r1/raw/book.xlsx')).equals(xlsx)).toBe(true);
  });

  test.each([
    ['data.parquet', PARQUET, 'parquet'],
    ['data.xlsx', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(20)]), 'xlsx'],
    ['data.jsonl', '{"a":1}\n{"a":2}\n', 'json'],
  ])('a single local %s: one raw file, dataset slug without the extension', async (name, content, format) => {
    const result = await extractLocal(await temp.writeScratch(name, content));
    expect(result.dataset.id).toBe('local/files/data');
    expect(result.files.map((f) => [f.name, f.format])).toEqual([[name, format]]);
  });

  test.each([
    [
      'CSV text',
      'x.parquet',
      'NOT_PARQUET',
      CSV,
      /is not a Parquet file: expected it to start with "PAR1", found "orde"$/,
    ],
    ['file too short', 'x.parquet', 'NOT_PARQUET', 'PA', /is not a Parquet file: .*found "PA"$/],
    [
      'CSV text',
      'x.xlsx',
      'NOT_XLSX',
      CSV,
      /is not an \.xlsx workbook: expected it to start with the zip signature "PK\\x03\\x04", found "orde"$/,
    ],
    [
      'Excel 97-2003 file',
      'x.xlsx',
      'NOT_XLSX',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      /is not an \.xlsx workbook: .*found an Excel 97-2003 workbook$/,
    ],
    [
      'NUL byte',
      'x.json',
      'NOT_JSON',
      Buffer.from('[{"a":\u0000}]'),
      /is not JSON text: found a NUL byte at offset 6/,
    ],
    [
      'PNG',
      'x.jsonl',
      'NOT_JSON',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1]),
      /is not JSON text: it starts like a PNG image/,
    ],
  ])(
    'a %s named %s: 422 %s naming the file, even next to good files',
    async (_case, name, code, content, message) => {
      const zip = await buildZip({ 'good.csv': CSV, [name]: content });
      const failure = await extractFailure(await temp.writeScratch('bad.zip', zip));
      expect(failure).toMatchObject({ status: 422, code });
      expect(
        failure.message.startsWith(`entry "${name}" in archive ${path.join(temp.scratch, 'bad.zip')} `),
      ).toBe(true);
      expect(failure.message).toMatch(message);
    },
  );
});

describe('files that hold no table', () => {
  test('documentation, images, notebooks, macOS metadata and .xls are listed in skippedFiles with reasons', async () => {
    const zip = await buildZip({
      'sales.csv': CSV,
      'README.md': '# Sales',
      'img/chart.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      'analysis.ipynb': '{"cells":[]}',
      '__MACOSX/._sales.csv': 'junk',
      '.DS_Store': 'junk',
      'legacy.xls': Buffer.from([0xd0, 0xcf, 0x11, 0xe0]),
      'dataset-metadata.json': '{"title":"x"}',
      'backup.7z': 'x',
      'model.pkl': 'x',
    });
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ name: 'extractor', level: 'info', destination });
    const result = await extractLocal(await temp.writeScratch('sales.zip', zip), { logger });
    expect(result.files.map((f) => f.name)).toEqual(['sales.csv']);
    expect(result.skippedFiles).toEqual([
      { name: '.DS_Store', reason: 'macOS metadata' },
      { name: 'README.md', reason: 'documentation, not a table' },
      { name: '__MACOSX/._sales.csv', reason: 'macOS metadata' },
      { name: 'analysis.ipynb', reason: 'Jupyter notebook, not a table' },
      { name: 'backup.7z', reason: 'unsupported archive format .7z' },
      { name: 'dataset-metadata.json', reason: 'dataset metadata, not a table' },
      { name: 'img/chart.png', reason: 'image, not a table' },
      { name: 'legacy.xls', reason: 'Excel 97-2003 workbook: save it as .xlsx or CSV' },
      { name: 'model.pkl', reason: 'not a table format (.pkl)' },
    ]);
    const manifest = JSON.parse((await temp.store.get(result.manifestKey)).toString());
    expect(manifest.skippedFiles).toEqual(result.skippedFiles);
    // One log line per skipped file, naming it and the reason.
    const logged = lines
      .map((line) => JSON.parse(line))
      .filter((l) => l.message === 'skipped a file that holds no table');
    expect(logged.map((l) => [l.file, l.reason])).toEqual(result.skippedFiles.map((f) => [f.name, f.reason]));
  });

  test('the version covers the raw files only: a changed README does not change it', async () => {
    const first = await extractLocal(
      await temp.writeScratch('a.zip', await buildZip({ 'a.csv': CSV, 'README.md': 'v1' })),
    );
    const again = await extract(
      {
        runId: 'r2',
        source: `local:${await temp.writeScratch('a.zip', await buildZip({ 'a.csv': CSV, 'README.md': 'v2' }))}`,
      },
      temp.deps(),
    );
    expect(again.dataset.version).toBe(first.dataset.version);
  });

  test('a folder with an empty and a header-only CSV next to good files: those two are skipped with reasons', async () => {
    await temp.writeScratch('shop/orders.csv', CSV);
    await temp.writeScratch('shop/empty.csv', '');
    await temp.writeScratch('shop/header.csv', 'a,b\n');
    await temp.writeScratch('shop/blank.csv', '\n \n');
    await temp.writeScratch('shop/sub/items.csv', 'x,y\n1,2\n');
    const result = await extractLocal(path.join(temp.scratch, 'shop'));
    expect(result.files.map((f) => f.name)).toEqual(['orders.csv', 'sub/items.csv']);
    expect(result.skippedFiles).toEqual([
      { name: 'blank.csv', reason: 'blank: no header and no data rows' },
      { name: 'empty.csv', reason: 'empty (0 bytes)' },
      { name: 'header.csv', reason: 'header only, no data rows' },
    ]);
    expect(await listRunKeys(temp.store, 'r1')).toEqual([
      'runs/r1/manifest/extract.json',
      'runs/r1/raw/orders.csv',
      'runs/r1/raw/sub/items.csv',
    ]);
  });

  test('a symbolic link in a folder is not followed, and is listed as skipped', async () => {
    const outside = await temp.writeScratch('outside.csv', CSV);
    await temp.writeScratch('linked/a.csv', CSV);
    await symlink(outside, path.join(temp.scratch, 'linked/b.csv'));
    const result = await extractLocal(path.join(temp.scratch, 'linked'));
    expect(result.files.map((f) => f.name)).toEqual(['a.csv']);
    expect(result.skippedFiles).toEqual([{ name: 'b.csv', reason: 'symbolic link, not followed' }]);
  });

  test('a folder holding one empty CSV and nothing else keeps the one-file answer: 422 EMPTY_FILE', async () => {
    await temp.writeScratch('one/empty.csv', '');
    const failure = await extractFailure(path.join(temp.scratch, 'one'));
    expect(failure).toMatchObject({ status: 422, code: 'EMPTY_FILE' });
  });

  test('only a README: 422 NO_TABLE_FILES listing it; an empty CSV next to it is listed too', async () => {
    const readmeOnly = await extractFailure(
      await temp.writeScratch('docs.zip', await buildZip({ 'README.md': '# x' })),
    );
    expect(readmeOnly).toMatchObject({ status: 422, code: 'NO_TABLE_FILES' });
    expect(readmeOnly.message).toMatch(
      /^archive .*docs\.zip contains no table files \(expected \.csv, \.tsv, .*\.xlsm files, also inside \.zip and \.gz\); found README\.md: documentation, not a table$/,
    );

    await temp.writeScratch('folder/README.md', '# x');
    await temp.writeScratch('folder/empty.csv', '');
    const withEmpty = await extractFailure(path.join(temp.scratch, 'folder'));
    expect(withEmpty).toMatchObject({ status: 422, code: 'NO_TABLE_FILES' });
    expect(withEmpty.message).toMatch(
      /^folder .*folder contains no table files .*; found README\.md: documentation, not a table; empty\.csv: empty \(0 bytes\)$/,
    );
  });

  test('an empty folder: 422 NO_TABLE_FILES saying so', async () => {
    await mkdir(path.join(temp.scratch, 'nothing'));
    const failure = await extractFailure(path.join(temp.scratch, 'nothing'));
    expect(failure).toMatchObject({
      code: 'NO_TABLE_FILES',
      message: expect.stringMatching(/; it holds no files$/),
    });
  });

  test('a single local .xls: 422 NO_TABLE_FILES with the reason', async () => {
    const failure = await extractFailure(
      await temp.writeScratch('old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0])),
    );
    expect(failure).toMatchObject({ code: 'NO_TABLE_FILES' });
    expect(failure.message).toMatch(
      /^local file .*old\.xls contains no table files .*; found old\.xls: Excel 97-2003 workbook: save it as \.xlsx or CSV$/,
    );
  });
});

describe('raw names', () => {
  test('two files that become the same raw name: 422 naming both', async () => {
    await temp.writeScratch('dup/sales.csv', CSV);
    await temp.writeScratch('dup/sales.csv.gz', gzipSync(CSV));
    const folder = await extractFailure(path.join(temp.scratch, 'dup'));
    expect(folder).toMatchObject({ status: 422, code: 'DUPLICATE_FILE_NAME' });
    expect(folder.message).toMatch(
      /^local file .*dup\/sales\.csv and local file .*dup\/sales\.csv\.gz would both be stored as raw file "sales\.csv"/,
    );

    const zip = await buildZip({ 'data/x.csv.gz': gzipSync(CSV), 'data/x.csv': CSV });
    const archive = await extractFailure(await temp.writeScratch('dup.zip', zip));
    expect(archive).toMatchObject({ status: 422, code: 'DUPLICATE_FILE_NAME' });
    expect(archive.message).toMatch(
      /entry "data\/x\.csv" in .* and entry "data\/x\.csv\.gz" in .*"data\/x\.csv"/,
    );
  });

  test('a local file name that cannot be a raw name: 422 naming it', async () => {
    await temp.writeScratch('odd/a\\b.csv', CSV);
    const failure = await extractFailure(path.join(temp.scratch, 'odd'));
    expect(failure).toMatchObject({ status: 422, code: 'INVALID_FILE_NAME' });
    expect(failure.message).toMatch(/^local file .*a\\b\.csv cannot be stored as "a\\\\b\.csv"/);
  });
});
