import { createSilentLogger } from '@etl/common/logging';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { METRIC_TYPES } from '../../../services/loader/src/metrics';
import { CloudMonitoringMetrics } from '../../../services/loader/src/metrics/cloud-monitoring-metrics';
import { type FakeMonitoring, startFakeMonitoring } from './fake-monitoring-server';
import { readTerraformMetricDescriptors } from './terraform-descriptors';

let fake: FakeMonitoring;

beforeEach(async () => {
  fake = await startFakeMonitoring({ descriptors: await readTerraformMetricDescriptors() });
});
afterEach(async () => {
  await fake.close();
});

function post(body: unknown, project = 'demo') {
  return fetch(`${fake.url}/v3/projects/${project}/timeSeries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const gauge = (type: string, labels: Record<string, string>, value: object, endTime: string) => ({
  metric: { type, labels },
  resource: { type: 'global', labels: { project_id: 'demo' } },
  points: [{ interval: { endTime }, value }],
});

describe('fake Monitoring API', () => {
  test('reads the two descriptors Terraform declares', () => {
    expect(fake.descriptors.get(METRIC_TYPES.lastSuccessTimestamp)).toMatchObject({
      metricKind: 'GAUGE',
      valueType: 'DOUBLE',
      labels: ['source'],
    });
    expect(fake.descriptors.get(METRIC_TYPES.rowsQuarantined)).toMatchObject({
      metricKind: 'GAUGE',
      valueType: 'INT64',
      labels: ['table', 'source'],
    });
  });

  test('stores a valid write and answers {}', async () => {
    const res = await post({
      timeSeries: [
        gauge(
          METRIC_TYPES.rowsQuarantined,
          { table: 'sales', source: 's' },
          { int64Value: '3' },
          '2026-01-01T00:00:00Z',
        ),
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(fake.find(METRIC_TYPES.rowsQuarantined)[0]?.points).toEqual([
      { endTime: '2026-01-01T00:00:00Z', value: 3 },
    ]);
  });

  test.each([
    [
      'a label the descriptor lacks',
      gauge(
        METRIC_TYPES.lastSuccessTimestamp,
        { source: 's', table: 'x' },
        { doubleValue: 1 },
        '2026-01-01T00:00:00Z',
      ),
      /metric label table is not defined/,
    ],
    [
      'the wrong value type',
      gauge(METRIC_TYPES.lastSuccessTimestamp, { source: 's' }, { int64Value: '1' }, '2026-01-01T00:00:00Z'),
      /must be DOUBLE, but is INT64/,
    ],
    [
      'two values in a point',
      gauge(METRIC_TYPES.rowsQuarantined, {}, { int64Value: '1', doubleValue: 1 }, '2026-01-01T00:00:00Z'),
      /exactly one value/,
    ],
    [
      'no end time',
      {
        ...gauge(METRIC_TYPES.rowsQuarantined, {}, { int64Value: '1' }, ''),
        points: [{ value: { int64Value: '1' } }],
      },
      /endTime is required/,
    ],
  ])('refuses %s with 400 INVALID_ARGUMENT', async (_name, series, message) => {
    const res = await post({ timeSeries: [series] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(message);
    expect(fake.series).toHaveLength(0);
  });

  test('refuses points out of order, as the API does', async () => {
    const one = gauge(
      METRIC_TYPES.lastSuccessTimestamp,
      { source: 's' },
      { doubleValue: 2 },
      '2026-01-01T00:00:10Z',
    );
    expect((await post({ timeSeries: [one] })).status).toBe(200);
    const older = gauge(
      METRIC_TYPES.lastSuccessTimestamp,
      { source: 's' },
      { doubleValue: 1 },
      '2026-01-01T00:00:05Z',
    );
    const res = await post({ timeSeries: [older] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/written in order/);
  });

  test('creates the descriptor of an unknown custom metric from its first write', async () => {
    const first = gauge(
      'custom.googleapis.com/etl/new',
      { a: '1' },
      { doubleValue: 1 },
      '2026-01-01T00:00:00Z',
    );
    expect((await post({ timeSeries: [first] })).status).toBe(200);
    expect(fake.descriptors.get('custom.googleapis.com/etl/new')).toMatchObject({
      valueType: 'DOUBLE',
      labels: ['a'],
    });
  });

  test('answers injected faults in Google JSON error shape', async () => {
    fake.inject({ status: 503, times: 1 });
    const res = await post({ timeSeries: [] });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
  });
});

describe('the loader metrics against Terraform descriptors', () => {
  // CloudMonitoringMetrics drives the official MetricServiceClient in REST mode: this is its wire format.
  test('CloudMonitoringMetrics writes every metric with the types and labels Terraform declares', async () => {
    const sink = new CloudMonitoringMetrics({ projectId: 'demo', apiEndpoint: fake.url });
    await sink.writeLoadMetrics(
      {
        source: 'kaggle/owner/sales',
        runId: 'run-1',
        endedAt: new Date('2026-01-02T03:04:05.500Z'),
        durationSeconds: 12.5,
        tables: [{ table: 'sales', rowsLoaded: 980, rowsQuarantined: 20 }],
      },
      createSilentLogger(),
    );
    await sink.close();
    expect(fake.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v3/projects/demo/timeSeries',
        authorization: true,
        status: 200,
      }),
    ]);
    const source = 'kaggle/owner/sales';
    expect(fake.find(METRIC_TYPES.lastSuccessTimestamp)).toEqual([
      expect.objectContaining({
        metricLabels: { source },
        resourceType: 'global',
        resourceLabels: { project_id: 'demo' },
        points: [
          { endTime: '2026-01-02T03:04:05.500Z', value: Date.parse('2026-01-02T03:04:05.500Z') / 1000 },
        ],
      }),
    ]);
    expect(fake.find(METRIC_TYPES.rowsQuarantined)).toEqual([
      expect.objectContaining({
        metricLabels: { table: 'sales', source },
        points: [expect.objectContaining({ value: 20 })],
      }),
    ]);
    expect(fake.find(METRIC_TYPES.rowsLoaded)).toEqual([
      expect.objectContaining({
        metricLabels: { table: 'sales', source },
        points: [expect.objectContaining({ value: 980 })],
      }),
    ]);
    expect(fake.find(METRIC_TYPES.loadDuration)).toEqual([
      expect.objectContaining({
        metricLabels: { source },
        points: [expect.objectContaining({ value: 12.5 })],
      }),
    ]);
    // The two metrics without a Terraform descriptor are created by the first write, as the API does.
    expect(fake.descriptors.get(METRIC_TYPES.rowsLoaded)).toMatchObject({
      valueType: 'INT64',
      labels: ['table', 'source'],
    });
    expect(fake.descriptors.get(METRIC_TYPES.loadDuration)).toMatchObject({
      valueType: 'DOUBLE',
      labels: ['source'],
    });
  });
});
