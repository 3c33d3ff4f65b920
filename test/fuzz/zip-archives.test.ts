/**
 * Hostile zip archives through the extractor's HTTP face (`local:` source, LOCAL_SOURCE_ROOT set):
 * corrupt bytes, truncation, nested zips, path traversal and absolute names, symlinks, lying sizes and
 * decompression bombs. Every answer is 200 or a 4xx in the one error shape (never 500), and nothing is
 * ever written outside the run's prefix: not outside the blob root, not under another run, and on a
 * refusal not even under the run's own raw/ prefix.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { createExtractorApp } from '@etl/extractor/app';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CraftedEntry, craftZip } from '../../services/extractor/src/testing/craft-zip';

let root: string;
let sources: string;
let store: LocalBlobStore;
let app: ReturnType<typeof createExtractorApp>;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'etl-fuzz-zip-'));
  sources = path.join(root, 'sources');
  await mkdir(sources, { recursive: true });
  store = new LocalBlobStore(path.join(root, 'blobs'));
  app = createExtractorApp({
    store,
    logger: createSilentLogger(),
    localRoot: sources,
    zipLimits: { maxUnzippedBytes: 8 * 1024 * 1024, maxRatio: 200, maxEntries: 50 },
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under the temp root, relative to it. */
async function allFiles(): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

async function extractArchive(bytes: Buffer): Promise<{ status: number; runId: string; body: unknown }> {
  const runId = `zip-${++counter}`;
  const name = `a${counter}.zip`;
  await writeFile(path.join(sources, name), bytes);
  const before = new Set(await allFiles());
  const response = await request(app)
    .post('/v1/extract')
    .send({ runId, source: `local:${name}` });
  const created = (await allFiles()).filter((f) => !before.has(f));
  const runPrefix = path.join('blobs', 'runs', runId) + path.sep;
  // Nothing outside the run's prefix, whatever the answer.
  expect(
    created.filter((f) => !f.startsWith(runPrefix)),
    JSON.stringify(response.body),
  ).toEqual([]);
  expect(response.status, JSON.stringify(response.body)).not.toBe(500);
  if (response.status === 200) {
    const keys = (await store.list(`runs/${runId}/`)).map((b) => b.key);
    for (const key of keys) expect(key.startsWith(`runs/${runId}/`)).toBe(true);
  } else {
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    // A refused archive leaves nothing of the run behind.
    expect(await store.list(`runs/${runId}/`)).toEqual([]);
  }
  return { status: response.status, runId, body: response.body };
}

const CSV = 'id,amount\n1,2.5\n2,3\n';

const entryName = fc.oneof(
  fc.constantFrom(
    'a.csv',
    'dir/b.csv',
    'deep/er/c.CSV',
    '../evil.csv',
    '../../etc/cron.d/x.csv',
    '/abs.csv',
    'a/../../x.csv',
    'a/./b.csv',
    'a//b.csv',
    'C:\\win.csv',
    'a\\..\\..\\b.csv',
    '__MACOSX/._a.csv',
    '._a.csv',
    'nested.zip',
    'readme.txt',
    'dir/',
    'x\u0000y.csv',
    'x\ny.csv',
    `${'d/'.repeat(300)}long.csv`,
    'ünïcödé.csv',
    'a.csv',
  ),
  fc
    .string({ unit: fc.constantFrom('a', '/', '.', '\\', ':', '\u0001', 'é'), minLength: 1, maxLength: 12 })
    .map((s) => `${s}.csv`),
);

const entry: fc.Arbitrary<CraftedEntry> = fc.record(
  {
    name: entryName,
    data: fc.oneof(
      fc.constant(CSV),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.constant(craftZip([{ name: 'inner.csv', data: CSV }])), // a zip inside the zip
      fc.constant(Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(3 * 1024 * 1024, '0,0\n')])), // a bomb
    ),
    method: fc.constantFrom<'store' | 'deflate'>('store', 'deflate'),
    mode: fc.constantFrom(0o100644, 0o120777, 0o040755),
    declaredSize: fc.option(fc.nat({ max: 64 * 1024 * 1024 }), { nil: undefined }),
  },
  { requiredKeys: ['name', 'data'] },
);

const corruption = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
);

function corrupt(bytes: Buffer, how: { kind: string; at?: number; byte?: number }): Buffer {
  if (how.kind === 'truncate') return bytes.subarray(0, Math.floor(bytes.length * how.at!));
  if (how.kind === 'flip') {
    const copy = Buffer.from(bytes);
    if (copy.length > 0) copy[Math.min(copy.length - 1, Math.floor(copy.length * how.at!))] = how.byte!;
    return copy;
  }
  return bytes;
}

describe('hostile zip archives: a 4xx or a clean extract, never a write outside the run', () => {
  test('random archives: names, contents, modes, lying sizes, nested zips, bombs, corruption', async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 4 }), corruption, async (entries, how) => {
        const { status } = await extractArchive(corrupt(craftZip(entries), how));
        statuses.push(status);
      }),
      { seed: 777, numRuns: 200 },
    );
    expect(statuses).toContain(200);
    expect(statuses.some((s) => s >= 400)).toBe(true);
  }, 120_000);

  test('random bytes named .zip: 422 CORRUPT_ARCHIVE (or another 4xx)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        const { status } = await extractArchive(Buffer.from(bytes));
        expect(status).toBeGreaterThanOrEqual(400);
      }),
      { seed: 778, numRuns: 100 },
    );
  }, 60_000);

  test('the classics, each answered 422 naming the entry', async () => {
    const cases: Array<[string, CraftedEntry[], RegExp]> = [
      ['traversal', [{ name: '../../evil.csv', data: CSV }], /path traversal/],
      ['absolute', [{ name: '/etc/evil.csv', data: CSV }], /absolute path/],
      ['symlink', [{ name: 'link.csv', data: '/etc/passwd', mode: 0o120777 }], /symbolic link/],
      [
        'bomb',
        [
          {
            name: 'bomb.csv',
            data: Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(3 * 1024 * 1024, '0,0\n')]),
          },
        ],
        /compression ratio/,
      ],
      [
        'a nested zip holding no table file',
        [{ name: 'inner.zip', data: craftZip([{ name: 'README.md', data: Buffer.from('# notes\n') }]) }],
        /contains no table files/,
      ],
      ['a size that lies', [{ name: 'a.csv', data: CSV, declaredSize: 5 }], /./],
    ];
    for (const [what, entries, message] of cases) {
      const { status, body } = await extractArchive(craftZip(entries));
      expect(status, what).toBe(422);
      expect((body as { error: { message: string } }).error.message, what).toMatch(message);
    }
  }, 60_000);
});
