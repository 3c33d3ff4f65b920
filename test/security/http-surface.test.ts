/**
 * The attack surface of the three services, in process: where they listen by default, what the `local`
 * and `kaggle` sources accept over REST, request body caps, and names from files reaching SQL.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import { parseConfig } from '@etl/common/config';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { createExtractorApp } from '@etl/extractor/app';
import { extractorConfigSchema } from '@etl/extractor/config';
import { extract } from '@etl/extractor/stage';
import { createLoaderApp } from '@etl/loader/app';
import { loaderConfigSchema } from '@etl/loader/config';
import { load } from '@etl/loader/stage';
import { createTransformerApp } from '@etl/transformer/app';
import { transformerConfigSchema } from '@etl/transformer/config';
import { transform } from '@etl/transformer/stage';
import { tableFromArrays } from 'apache-arrow';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KaggleClient } from '../../services/extractor/src/kaggle-client';
import { type FakeKaggle, startFakeKaggle } from '../fakes/kaggle';

let root: string;
let store: LocalBlobStore;
let warehouse: DuckDbWarehouse;
const logger = createSilentLogger();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'etl-security-'));
  store = new LocalBlobStore(path.join(root, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(root, 'warehouse.duckdb') });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('services bind to loopback unless configured otherwise', () => {
  test.each([
    ['extractor', extractorConfigSchema],
    ['transformer', transformerConfigSchema],
    ['loader', loaderConfigSchema],
  ] as const)('%s: HOST defaults to 127.0.0.1, and is only changed by the HOST variable', (_name, schema) => {
    expect(parseConfig(schema, {}).HOST).toBe('127.0.0.1');
    expect(parseConfig(schema, { HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });
});

describe('the local source over REST reads only below LOCAL_SOURCE_ROOT', () => {
  let allowed: string;
  let outside: string;

  beforeAll(async () => {
    allowed = path.join(root, 'allowed');
    outside = path.join(root, 'outside');
    await mkdir(allowed, { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(allowed, 'ok.csv'), 'a,b\n1,2\n');
    await writeFile(path.join(outside, 'secret.csv'), 'user,password\nroot,hunter2\n');
    // A symlink inside the root that points out of it.
    await symlink(path.join(outside, 'secret.csv'), path.join(allowed, 'link.csv'));
    await symlink(outside, path.join(allowed, 'linked-dir'));
  });

  const app = () => createExtractorApp({ store, logger, localRoot: allowed });

  test('a file inside the root is read', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'sec-ok', source: 'local:ok.csv' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  });

  test.each([
    ['a relative escape', '../outside/secret.csv'],
    ['an absolute path', '/etc/passwd'],
    ['an absolute path to the sibling folder', 'OUTSIDE'],
    ['a symlinked file pointing outside', 'link.csv'],
    ['a symlinked folder pointing outside', 'linked-dir'],
    ['a deep escape', 'a/../../outside/secret.csv'],
  ])('%s is refused with 400 PATH_OUTSIDE_ROOT and nothing is written', async (_what, requested) => {
    const source = `local:${requested === 'OUTSIDE' ? path.join(outside, 'secret.csv') : requested}`;
    const runId = `sec-${Math.random().toString(36).slice(2, 8)}`;
    const response = await request(app()).post('/v1/extract').send({ runId, source });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error.code).toBe('PATH_OUTSIDE_ROOT');
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
    expect(await store.list(`runs/${runId}/`)).toEqual([]);
  });
});

describe('Kaggle references accept only OWNER/SLUG[/VERSION]', () => {
  let kaggle: FakeKaggle;
  beforeAll(async () => {
    kaggle = await startFakeKaggle({ datasets: {}, token: 'tok' });
  });
  afterAll(async () => {
    await kaggle.close();
  });

  test.each([
    'kaggle:https://evil.example/owner/slug',
    'kaggle://evil.example/x',
    'kaggle:owner',
    'kaggle:../owner/slug',
    'kaggle:owner/../slug',
    'kaggle:owner/slug/../../x',
    'kaggle:owner/slug?x=1',
    'kaggle:owner/slug#frag',
    'kaggle:owner/slug/0',
    'kaggle:owner/slug/1/extra',
    'kaggle:owner/sl ug',
    'kaggle:owner%2F/slug',
    'kaggle:@evil.example/slug',
  ])('%s: 400, and no request leaves the extractor', async (source) => {
    const client = new KaggleClient({
      baseUrl: kaggle.url,
      credentials: { kind: 'token', token: 'tok' },
      maxDownloadBytes: 1024,
      logger,
    });
    const before = kaggle.requests.length;
    const response = await request(createExtractorApp({ store, logger, kaggle: client }))
      .post('/v1/extract')
      .send({ runId: 'sec-kaggle', source });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(kaggle.requests.length).toBe(before);
  });
});

describe('request bodies are capped: 413 in the one error shape', () => {
  const big = { runId: 'r1', source: 'sample', padding: 'x'.repeat(300 * 1024) };
  test.each([
    ['extractor', () => createExtractorApp({ store, logger }), '/v1/extract'],
    ['transformer', () => createTransformerApp({ store, logger }), '/v1/transform'],
    ['loader', () => createLoaderApp({ store, logger, warehouse, tableau: undefined }), '/v1/load'],
  ] as const)('%s answers 413 PAYLOAD_TOO_LARGE above 256kb', async (_name, app, route) => {
    const response = await request(app()).post(route).send(big);
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringMatching(/larger than the limit/),
        retryable: false,
      },
    });
  });
});

describe('names from files reach SQL validated or quoted', () => {
  const HOSTILE = 'a"; DROP TABLE sales; --';

  test('a CSV header with an injection attempt loads end to end: the warehouse is intact, the column renamed', async () => {
    // An existing dataset in `sales` first: the hostile load must not touch it.
    const folder = path.join(root, 'sql');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'clean.csv'), 'a,b\n1,x\n2,y\n3,z\n');
    await writeFile(
      path.join(folder, 'hostile.csv'),
      `"${HOSTILE.replaceAll('"', '""')}",b,"x'); DELETE FROM sales; --"\n1,p,q\n2,r,s\n`,
    );
    const deps = { store, logger, warehouse };
    for (const [runId, file] of [
      ['sql-clean', 'clean.csv'],
      ['sql-hostile', 'hostile.csv'],
    ] as const) {
      await extract({ runId, source: `local:${path.join(folder, file)}` }, { store, logger });
      // One table for both datasets: the hostile one must not touch the clean one's rows.
      await transform({ runId, table: 'sales' }, { store, logger, tempDir: root, duckdb: { threads: 1 } });
      await load({ runId }, deps);
    }
    const tables = (await warehouse.query('SELECT table_name FROM information_schema.tables ORDER BY 1')).map(
      (r) => r.table_name,
    );
    expect(tables).toEqual(['_etl_tables', 'sales', 'sales_rejects']);
    const columns = (
      await warehouse.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'sales' ORDER BY ordinal_position",
      )
    ).map((r) => String(r.column_name));
    // Column names are normalized to snake_case: the hostile header becomes a plain identifier.
    const hostileColumns = columns.filter(
      (c) => !['a', 'b', '_source', '_run_id', '_loaded_at', '_source_version'].includes(c),
    );
    expect(hostileColumns.length).toBeGreaterThanOrEqual(2);
    for (const c of hostileColumns) expect(c).toMatch(/^[a-z_][a-z0-9_]*$/);
    const counts = await warehouse.query('SELECT _run_id, count(*) AS n FROM sales GROUP BY 1 ORDER BY 1');
    expect(counts).toEqual([
      { _run_id: 'sql-clean', n: 3 },
      { _run_id: 'sql-hostile', n: 2 },
    ]);
  });

  test('an Arrow column named with SQL in it is quoted by the warehouse: the column keeps its odd name', async () => {
    const arrow = writeArrowTable(tableFromArrays({ [HOSTILE]: Int32Array.from([1, 2, 3]) }));
    const own = new DuckDbWarehouse({ file: path.join(root, 'quoted.duckdb') });
    await own.load({
      tables: [{ table: 'sales', arrow }],
      source: 'test/x/y',
      runId: 'q1',
      sourceVersion: 'v1',
      loadedAt: new Date(0),
    });
    const [row] = await own.query(`SELECT count("${HOSTILE.replaceAll('"', '""')}") AS n FROM sales`);
    expect(Number(row?.n)).toBe(3);
  });

  test('a table name with SQL in it is refused before any SQL runs', async () => {
    const response = await request(createTransformerApp({ store, logger }))
      .post('/v1/transform')
      .send({ runId: 'sql-hostile', table: 'sales; DROP TABLE sales' });
    expect(response.status).toBe(400);
    await expect(
      warehouse.load({
        tables: [{ table: 'x"; DROP TABLE sales; --', arrow: new Uint8Array() }],
        source: 's/o/n',
        runId: 'r',
        sourceVersion: 'v',
        loadedAt: new Date(),
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(Number((await warehouse.query('SELECT count(*) AS n FROM sales'))[0]?.n)).toBe(5);
  });
});
