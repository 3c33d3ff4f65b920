import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import type { ExtractResponse, TransformResponse } from '@etl/common/contracts';
import type { DatasetState, RecordedTable } from '@etl/common/dataset-state';
import { createSilentLogger } from '@etl/common/logging';
import {
  datasetStateKey,
  getJson,
  LocalBlobStore,
  manifestKey,
  putJson,
  quarantineKey,
  stagedKey,
  stagedSchemaKey,
} from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLoaderApp } from './app';
import { type LoaderDeps, load } from './loader';

let dir: string;
let deps: LoaderDeps;
let store: LocalBlobStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'loader-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  deps = {
    store,
    warehouse: new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') }),
    logger: createSilentLogger(),
    now: () => new Date('2026-01-01T00:00:00Z'),
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SALES_SCHEMA: RecordedTable = { columns: [{ name: 'amount', type: 'DOUBLE', nullable: false }] };

/** Writes what the extract and transform stages leave behind for a run. */
async function stageRun(
  runId: string,
  amounts: number[],
  rejects: string[] = [],
  version = 'v1',
): Promise<void> {
  const extract: ExtractResponse = {
    runId,
    source: 'local:/data/sales.csv',
    dataset: { id: 'local/files/sales', version, previousVersion: null, changed: true },
    files: [],
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  const staged = new Table({ amount: vectorFromArray(amounts, new Float64()) });
  const quarantine = new Table({
    line: vectorFromArray(
      rejects.map((_, i) => BigInt(i + 2)),
      new Int64(),
    ),
    reason: vectorFromArray(rejects, new Utf8()),
  });
  await store.put(stagedKey(runId, 'sales'), writeArrowTable(staged));
  await putJson(store, stagedSchemaKey(runId, 'sales'), SALES_SCHEMA);
  await store.put(quarantineKey(runId, 'sales'), writeArrowTable(quarantine));
  const transform: TransformResponse = {
    runId,
    tables: [
      {
        name: 'sales',
        rowsIn: amounts.length + rejects.length,
        rowsOut: amounts.length,
        rowsQuarantined: rejects.length,
        rowsDuplicate: 0,
        stagedKey: stagedKey(runId, 'sales'),
        quarantineKey: quarantineKey(runId, 'sales'),
      },
    ],
    quality: { passed: true, rejectRate: 0, maxRejectRate: 0.1 },
    skippedFiles: [],
    reportKey: `runs/${runId}/reports/transform.json`,
    manifestKey: manifestKey(runId, 'transform'),
  };
  await putJson(store, manifestKey(runId, 'extract'), extract);
  await putJson(store, manifestKey(runId, 'transform'), transform);
}

describe('load stage', () => {
  test('loads the staged table and its rejects, then records the dataset state and the manifest', async () => {
    await stageRun('r1', [1, 2, 3], ['invalid_double']);
    const response = await load({ runId: 'r1' }, deps);
    expect(response.tables).toEqual([
      { name: 'sales', rowsLoaded: 3, rowsReplaced: 0 },
      { name: 'sales_rejects', rowsLoaded: 1, rowsReplaced: 0 },
    ]);
    expect(await deps.warehouse.query('SELECT sum(amount) AS total, min(_run_id) AS run FROM sales')).toEqual(
      [{ total: 6, run: 'r1' }],
    );
    expect(await deps.warehouse.query('SELECT reason, _source FROM sales_rejects')).toEqual([
      { reason: 'invalid_double', _source: 'local/files/sales' },
    ]);
    const state = await getJson<DatasetState>(store, datasetStateKey('local', 'files', 'sales'));
    expect(state).toEqual({
      version: 'v1',
      runId: 'r1',
      loadedAt: '2026-01-01T00:00:00.000Z',
      tables: { sales: SALES_SCHEMA },
    });
    expect(await getJson(store, manifestKey('r1', 'load'))).toEqual(response);
  });

  test('calling again with the same runId returns the stored manifest and loads nothing twice', async () => {
    await stageRun('r1', [1, 2, 3]);
    const first = await load({ runId: 'r1' }, deps);
    const second = await load({ runId: 'r1' }, { ...deps, now: () => new Date('2030-01-01T00:00:00Z') });
    expect(second).toEqual(first);
    expect(await deps.warehouse.query('SELECT count(*)::INT AS n FROM sales')).toEqual([{ n: 3 }]);
  });

  test('a later run of the same dataset replaces its rows', async () => {
    await stageRun('r1', [1, 2, 3]);
    await load({ runId: 'r1' }, deps);
    await stageRun('r2', [10, 20], [], 'v2');
    const response = await load({ runId: 'r2' }, deps);
    expect(response.tables[0]).toEqual({ name: 'sales', rowsLoaded: 2, rowsReplaced: 3 });
    expect(await deps.warehouse.query('SELECT count(*)::INT AS n, sum(amount) AS total FROM sales')).toEqual([
      { n: 2, total: 30 },
    ]);
  });

  test('a staged file that disagrees with its manifest is rejected and nothing is loaded', async () => {
    await stageRun('r1', [1, 2, 3]);
    await store.put(
      stagedKey('r1', 'sales'),
      writeArrowTable(new Table({ amount: vectorFromArray([1], new Float64()) })),
    );
    await expect(load({ runId: 'r1' }, deps)).rejects.toThrow(
      'expected 3 rows in runs/r1/staged/sales.arrow as its manifest says, found 1',
    );
    expect(await store.exists(manifestKey('r1', 'load'))).toBe(false);
    await expect(deps.warehouse.query('SELECT count(*) FROM sales')).rejects.toThrow(/sales/);
  });
});

describe('volume check', () => {
  test('a version with fewer than half the loaded rows is 422 VOLUME_DROP and nothing is replaced', async () => {
    await stageRun('r1', [1, 2, 3, 4, 5]);
    await load({ runId: 'r1' }, deps);
    await stageRun('r2', [9, 9], [], 'v2');
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: 'r2' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VOLUME_DROP');
    expect(res.body.error.message).toContain(
      'table sales would replace 5 loaded rows of local/files/sales with 2, fewer than 50% of them',
    );
    expect(await deps.warehouse.query('SELECT count(*)::INT AS n, max(_run_id) AS run FROM sales')).toEqual([
      { n: 5, run: 'r1' },
    ]);
    const state = await getJson<DatasetState>(store, datasetStateKey('local', 'files', 'sales'));
    expect(state).toMatchObject({ version: 'v1', runId: 'r1' });
    expect(state.pending).toBeUndefined();
  });

  test('allowShrink replaces them, and the response says how many rows were replaced', async () => {
    await stageRun('r1', [1, 2, 3, 4, 5]);
    await load({ runId: 'r1' }, deps);
    await stageRun('r2', [9, 9], [], 'v2');
    const response = await load({ runId: 'r2', allowShrink: true }, deps);
    expect(response.tables[0]).toEqual({ name: 'sales', rowsLoaded: 2, rowsReplaced: 5 });
  });

  test('the ratio is configurable and 0 turns the check off', async () => {
    await stageRun('r1', [1, 2, 3, 4, 5]);
    await load({ runId: 'r1' }, deps);
    await stageRun('r2', [9], [], 'v2');
    await expect(load({ runId: 'r2' }, { ...deps, minVolumeRatio: 0.1 })).resolves.toBeDefined();
    await stageRun('r3', [1], [], 'v3');
    await expect(load({ runId: 'r3' }, { ...deps, minVolumeRatio: 0 })).resolves.toBeDefined();
  });
});

describe('dataset state', () => {
  test('a loader that dies between its commit and the state write leaves the load pending', async () => {
    await stageRun('r1', [1, 2, 3]);
    await load({ runId: 'r1' }, deps);
    await stageRun('r2', [4, 5, 6], [], 'v2');
    // The state write after the commit fails, as a kill at that moment would leave it.
    const failing = Object.create(store) as LocalBlobStore;
    let puts = 0;
    failing.put = (key, body, options) => {
      if (key === datasetStateKey('local', 'files', 'sales') && ++puts === 2)
        return Promise.reject(new Error('killed'));
      return store.put(key, body, options);
    };
    await expect(load({ runId: 'r2' }, { ...deps, store: failing })).rejects.toThrow('killed');
    expect(await deps.warehouse.query('SELECT max(_run_id) AS run FROM sales')).toEqual([{ run: 'r2' }]);
    const state = await getJson<DatasetState>(store, datasetStateKey('local', 'files', 'sales'));
    expect(state).toMatchObject({ version: 'v1', pending: { version: 'v2', runId: 'r2' } });
  });

  test('the state records the schema each table was loaded with', async () => {
    await stageRun('r1', [1, 2, 3]);
    await load({ runId: 'r1' }, deps);
    const state = await getJson<DatasetState>(store, datasetStateKey('local', 'files', 'sales'));
    expect(state.tables).toEqual({ sales: SALES_SCHEMA });
    expect(state.pending).toBeUndefined();
  });
});

describe('a table the new version has no file for', () => {
  /** Adds table `name` (its rows, rejects and schema) to what the transform stage left for `runId`. */
  async function stageAnotherTable(runId: string, name: string, amounts: number[]): Promise<void> {
    const transform = await getJson<TransformResponse>(store, manifestKey(runId, 'transform'));
    await store.put(
      stagedKey(runId, name),
      writeArrowTable(new Table({ amount: vectorFromArray(amounts, new Float64()) })),
    );
    const noRejects = new Table({
      line: vectorFromArray([], new Int64()),
      reason: vectorFromArray([], new Utf8()),
    });
    await store.put(quarantineKey(runId, name), writeArrowTable(noRejects));
    await putJson(store, stagedSchemaKey(runId, name), SALES_SCHEMA);
    transform.tables.push({
      name,
      rowsIn: amounts.length,
      rowsOut: amounts.length,
      rowsQuarantined: 0,
      rowsDuplicate: 0,
      stagedKey: stagedKey(runId, name),
      quarantineKey: quarantineKey(runId, name),
    });
    await putJson(store, manifestKey(runId, 'transform'), transform);
  }

  test('keeps its rows, and the load names it with their count and version', async () => {
    await stageRun('r1', [1, 2, 3]);
    await stageAnotherTable('r1', 'returns', [4, 5]);
    expect((await load({ runId: 'r1' }, deps)).tablesNotInVersion).toBeUndefined();

    await stageRun('r2', [6, 7, 8], [], 'v2');
    const response = await load({ runId: 'r2' }, deps);

    expect(response.tablesNotInVersion).toEqual([{ name: 'returns', rows: 2, version: 'v1' }]);
    expect(await deps.warehouse.query('SELECT count(*)::INT AS n FROM returns')).toEqual([{ n: 2 }]);
    // Removed by hand: no longer named.
    await deps.warehouse.query("DELETE FROM returns WHERE _source = 'local/files/sales'");
    await stageRun('r3', [9, 10, 11], [], 'v3');
    expect((await load({ runId: 'r3' }, deps)).tablesNotInVersion).toBeUndefined();
  });
});

describe('feature tables', () => {
  test('a feature table is loaded without a rejects table of its own', async () => {
    await stageRun('r1', [1, 2, 3]);
    const transform = await getJson<TransformResponse>(store, manifestKey('r1', 'transform'));
    const features = new Table({ day_sales: vectorFromArray([6], new Float64()) });
    await store.put(stagedKey('r1', 'sales_features_daily'), writeArrowTable(features));
    transform.tables.push({
      name: 'sales_features_daily',
      kind: 'features',
      rowsIn: 1,
      rowsOut: 1,
      rowsQuarantined: 0,
      rowsDuplicate: 0,
      stagedKey: stagedKey('r1', 'sales_features_daily'),
      quarantineKey: quarantineKey('r1', 'sales_features_daily'),
    });
    await putJson(store, manifestKey('r1', 'transform'), transform);

    const response = await load({ runId: 'r1' }, deps);

    expect(response.tables.map((t) => t.name)).toEqual(['sales', 'sales_rejects', 'sales_features_daily']);
    expect(await deps.warehouse.query('SELECT day_sales FROM sales_features_daily')).toEqual([
      { day_sales: 6 },
    ]);
  });
});

describe('POST /v1/load', () => {
  test('answers 200 with the load response', async () => {
    await stageRun('r1', [1, 2]);
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: 'r1' });
    expect(res.status).toBe(200);
    expect(res.body.tables[0]).toEqual({ name: 'sales', rowsLoaded: 2, rowsReplaced: 0 });
  });

  test('a run without a transform manifest is 404 naming the key', async () => {
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: 'nope' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(res.body.error.message).toContain('runs/nope/manifest/extract.json');
  });

  test('a staged object that is not Arrow is 422 naming the object', async () => {
    await stageRun('r1', [1]);
    await store.put(stagedKey('r1', 'sales'), 'not arrow at all');
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: 'r1' });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('runs/r1/staged/sales.arrow');
  });

  test('unknown fields are 400 naming the field', async () => {
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: 'r1', table: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('table');
  });

  test('invalid JSON is 400 INVALID_JSON', async () => {
    const res = await request(createLoaderApp(deps))
      .post('/v1/load')
      .set('content-type', 'application/json')
      .send('{"runId": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  test('a bad runId is 400', async () => {
    const res = await request(createLoaderApp(deps)).post('/v1/load').send({ runId: '../etc' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('runId');
  });

  test('/healthz and /openapi.json', async () => {
    const app = createLoaderApp(deps);
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok', service: 'loader' });
    const openapi = (await request(app).get('/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toContain('/v1/load');
    expect(
      openapi.paths['/v1/load'].post.requestBody.content['application/json'].schema.properties.runId,
    ).toBeDefined();
  });

  test('an unknown route is 404 in the error shape', async () => {
    const res = await request(createLoaderApp(deps)).get('/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route GET /v2/nothing', retryable: false },
    });
  });
});
