import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createTransformerApp } from './app';
import { createTestStore, readTable, type TestStore, writeExtractedRun, writeProfile } from './test-support';

let t: TestStore;
beforeEach(async () => {
  t = await createTestStore();
});
afterEach(async () => {
  await t.cleanup();
});

describe('POST /v1/transform', () => {
  test('200 with the manifest; the objects are written', async () => {
    await writeExtractedRun(t.store, 'run-1', { 'orders.csv': 'Order ID,Amount\r\nA-1,10.5\r\nA-2,3\r\n' });
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'run-1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      runId: 'run-1',
      tables: [
        {
          name: 'sales_orders',
          files: ['orders.csv'],
          rowsIn: 2,
          rowsOut: 2,
          rowsQuarantined: 0,
          rowsDuplicate: 0,
          stagedKey: 'runs/run-1/staged/sales_orders.arrow',
          quarantineKey: 'runs/run-1/quarantine/sales_orders.arrow',
          quality: { passed: true, rejectRate: 0, maxRejectRate: 0.1 },
          roles: {
            amount: {
              column: 'amount',
              confidence: 0.9,
              evidence:
                'name amount is a sales, revenue or total amount; a number; negative values (returns, cancellations) are kept, so sums are net of them',
            },
            order_id: {
              column: 'order_id',
              confidence: 0.95,
              evidence: 'name order_id is an order, invoice or transaction id; text',
            },
            dimensions: [],
            notes: [],
            returns: {
              net: false,
              negativeAmounts: 0,
              negativeQuantities: 0,
              cancelledOrders: 0,
              evidence:
                'no negative amount or quantity and no cancelled (C) order id: the amount is sales only',
            },
          },
        },
      ],
      quality: { passed: true, rejectRate: 0, maxRejectRate: 0.1 },
      skippedFiles: [],
      reportKey: 'runs/run-1/reports/transform.json',
      manifestKey: 'runs/run-1/manifest/transform.json',
    });
    const staged = await readTable(t.store, 'runs/run-1/staged/sales_orders.arrow');
    expect(staged.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'order_id:Utf8',
      'amount:Float64',
    ]);
    const again = await request(createTransformerApp(t.deps)).post('/v1/transform').send({ runId: 'run-1' });
    expect(again.body).toEqual(response.body);
  });

  test('a table name in the request names the outputs', async () => {
    await writeExtractedRun(t.store, 'run-1', { 'orders.csv': 'a\n1\n' });
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'run-1', table: 'orders' });
    expect(response.body.tables[0]).toMatchObject({
      name: 'orders',
      stagedKey: 'runs/run-1/staged/orders.arrow',
    });
  });

  test('404 when the run has no extract manifest', async () => {
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'missing' });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: 'run missing has no extract manifest at runs/missing/manifest/extract.json',
        retryable: false,
      },
    });
  });

  test('422 from the quality gate, with the figures in details', async () => {
    await writeExtractedRun(t.store, 'run-1', { 'a.csv': `n\n${'1\n'.repeat(100)}x\ny\n` });
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'run-1', maxRejectRate: 0 });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({
      code: 'QUALITY_GATE_FAILED',
      retryable: false,
      message: expect.stringContaining('1.96% of 102 rows quarantined, above the limit of 0%'),
      details: {
        passed: false,
        maxRejectRate: 0,
        rowsIn: 102,
        rowsQuarantined: 2,
        rowsDuplicate: 99,
        rowsOut: 1,
        rejectRate: 2 / 102,
      },
    });
  });

  test('422 for files with different headers asked to form one table', async () => {
    await writeExtractedRun(t.store, 'run-1', { 'a.csv': 'a,b\n1,2\n', 'b.csv': 'a,c\n1,2\n' });
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'run-1', table: 'sales' });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('HEADER_MISMATCH');
  });

  test('a profile named in the request: its checks in the answer; an unknown one: 404', async () => {
    await writeProfile(t, 'orders', 'table: orders\nprimaryKey: [order_id]\n');
    await writeExtractedRun(t.store, 'run-1', { 'orders.csv': 'Order ID,Amount\r\nA-1,10.5\r\nA-1,3\r\n' });
    const app = createTransformerApp(t.deps);
    const response = await request(app)
      .post('/v1/transform')
      .send({ runId: 'run-1', profile: 'orders', maxRejectRate: 0.5 });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      profile: 'orders',
      tables: [{ name: 'orders', kind: 'cleaned', rowsIn: 2, rowsOut: 1, rowsQuarantined: 1 }],
      quality: {
        passed: true,
        checks: [{ name: 'reject_rate', passed: true, value: 0.5, threshold: 0.5, severity: 'error' }],
      },
    });
    const missing = await request(app).post('/v1/transform').send({ runId: 'run-2', profile: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('PROFILE_NOT_FOUND');
    const bad = await request(app).post('/v1/transform').send({ runId: 'run-2', profile: '../x' });
    expect(bad.status).toBe(400);
  });

  test('400 for unknown fields', async () => {
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: 'run-1', tabel: 'sales' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', retryable: false });
    expect(response.body.error.message).toContain('tabel');
  });

  test('400 for invalid JSON', async () => {
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .set('Content-Type', 'application/json')
      .send('{"runId": ');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_JSON');
  });

  test('400 for a bad runId', async () => {
    const response = await request(createTransformerApp(t.deps))
      .post('/v1/transform')
      .send({ runId: '../etc' });
    expect(response.status).toBe(400);
  });

  test('/healthz and /openapi.json', async () => {
    const app = createTransformerApp(t.deps);
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok', service: 'transformer' });
    const openapi = await request(app).get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toContain('/v1/transform');
  });
});
