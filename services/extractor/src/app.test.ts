import request from 'supertest';
import { describe, expect, test } from 'vitest';
import { createExtractorApp } from './app';
import { listRawKeys, listRunKeys, useTempStore } from './testing/temp-store';

const temp = useTempStore();

const app = () => createExtractorApp(temp.deps());

describe('POST /v1/extract', () => {
  test('sample: 200 with the manifest, and the objects written', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'run-1', source: 'sample', sample: { rows: 50, seed: 1 } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      runId: 'run-1',
      source: 'sample',
      dataset: { id: 'sample/generated/sales', previousVersion: null, changed: true },
      files: [{ name: 'sales.csv', key: 'runs/run-1/raw/sales.csv' }],
      manifestKey: 'runs/run-1/manifest/extract.json',
    });
    expect(await listRunKeys(temp.store, 'run-1')).toEqual([
      'runs/run-1/manifest/extract.json',
      'runs/run-1/raw/sales.csv',
    ]);
    expect(JSON.parse((await temp.store.get('runs/run-1/manifest/extract.json')).toString())).toEqual(
      response.body,
    );
  });

  test('sample without options uses 10,000 rows, seed 42', async () => {
    const response = await request(app()).post('/v1/extract').send({ runId: 'run-1', source: 'sample' });
    expect(response.status).toBe(200);
    const csv = (await temp.store.get('runs/run-1/raw/sales.csv')).toString('utf8');
    expect(csv.split('\n')).toHaveLength(10_002);
  });

  test('local csv over HTTP, then the same call again returns the same manifest', async () => {
    const file = await temp.writeScratch('orders.csv', 'a,b\n1,2\n');
    const first = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: `local:${file}` });
    const second = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: `local:${file}` });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
  });

  test('409 on the same runId with another source', async () => {
    await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: 'sample', sample: { rows: 5, seed: 1 } });
    const response = await request(app()).post('/v1/extract').send({ runId: 'r1', source: 'local:/x.csv' });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'CONFLICT', retryable: false });
    expect(response.body.error.message).toMatch(/run r1 .*"sample".*"local:\/x\.csv"/);
  });

  test('404 for a missing local path, in the one error shape, nothing written', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: 'local:/nope/orders.csv' });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: {
        code: 'SOURCE_NOT_FOUND',
        message: expect.stringContaining('/nope/orders.csv'),
        retryable: false,
      },
    });
    expect(await listRawKeys(temp.store, 'r1')).toEqual([]);
  });

  test('422 for a header-only file over HTTP', async () => {
    const file = await temp.writeScratch('header.csv', 'a,b\r\n');
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: `local:${file}` });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({
      code: 'NO_DATA_ROWS',
      message: expect.stringMatching(/header\.csv has a header but no data rows/),
    });
    expect(await listRunKeys(temp.store, 'r1')).toEqual([]);
  });

  test('400 INVALID_JSON for a malformed body', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .set('Content-Type', 'application/json')
      .send('{"runId": "r1", ');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_JSON');
  });

  test('400 naming an unknown field', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: 'sample', bogusField: 1 });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_REQUEST');
    expect(response.body.error.message).toContain('bogusField');
  });

  test('400 naming a bad runId and a bad source', async () => {
    const response = await request(app()).post('/v1/extract').send({ runId: '../etc', source: 'ftp://x' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/runId/);
    expect(response.body.error.message).toMatch(/source/);
  });

  test('400 for a kaggle source when no credentials are configured', async () => {
    const response = await request(app())
      .post('/v1/extract')
      .send({ runId: 'r1', source: 'kaggle:acme/sales' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('KAGGLE_CREDENTIALS_MISSING');
    expect(response.body.error.message).toMatch(/KAGGLE_API_TOKEN/);
  });
});

describe('service routes', () => {
  test('GET /healthz', async () => {
    const response = await request(app()).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', service: 'extractor' });
  });

  test('GET /openapi.json lists POST /v1/extract', async () => {
    const response = await request(app()).get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.paths['/v1/extract'].post.summary).toMatch(/dataset/i);
  });
});
