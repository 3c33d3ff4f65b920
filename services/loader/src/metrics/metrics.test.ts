import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { writeArrowTable } from '@etl/common/arrow';
import { parseConfig } from '@etl/common/config';
import type { ExtractResponse, TransformResponse } from '@etl/common/contracts';
import { createLogger, type Logger } from '@etl/common/logging';
import { LocalBlobStore, manifestKey, putJson, quarantineKey, stagedKey } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  type FakeMonitoring,
  startFakeMonitoring,
} from '../../../../test/fakes/monitoring/fake-monitoring-server';
import { readTerraformMetricDescriptors } from '../../../../test/fakes/monitoring/terraform-descriptors';
import { loaderConfigSchema } from '../config';
import { load } from '../loader';
import { buildLoadTimeSeries, createMetricsSink, isMetricsEnabled, LogMetrics, METRIC_TYPES } from '.';
import { CloudMonitoringMetrics } from './cloud-monitoring-metrics';

const SOURCE = 'kaggle/owner/superstore';

let dir: string;
let store: LocalBlobStore;
let warehouse: DuckDbWarehouse;
let monitoring: FakeMonitoring;
let lines: string[];
let logger: Logger;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'metrics-'));
  store = new LocalBlobStore(path.join(dir, 'blobs'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  monitoring = await startFakeMonitoring({ descriptors: await readTerraformMetricDescriptors() });
  lines = [];
  logger = createLogger({
    name: 'loader',
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
});
afterEach(async () => {
  await monitoring.close();
  await warehouse.close();
  await rm(dir, { recursive: true, force: true });
});

/** What extract and transform leave behind: `amounts` cleaned rows of `sales`, `rejects` quarantined. */
async function stageRun(runId: string, amounts: number[], rejects: string[]): Promise<void> {
  const extract: ExtractResponse = {
    runId,
    source: 'kaggle:owner/superstore',
    dataset: { id: SOURCE, version: '3', previousVersion: null, changed: true },
    files: [],
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  await store.put(
    stagedKey(runId, 'sales'),
    writeArrowTable(new Table({ amount: vectorFromArray(amounts, new Float64()) })),
  );
  await store.put(
    quarantineKey(runId, 'sales'),
    writeArrowTable(new Table({ reason: vectorFromArray(rejects, new Utf8()) })),
  );
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
    quality: { passed: true, rejectRate: 0, maxRejectRate: 0.5 },
    skippedFiles: [],
    reportKey: `runs/${runId}/reports/transform.json`,
    manifestKey: manifestKey(runId, 'transform'),
  };
  await putJson(store, manifestKey(runId, 'extract'), extract);
  await putJson(store, manifestKey(runId, 'transform'), transform);
}

const endedAt = new Date('2026-03-04T05:06:07.250Z');

describe('buildLoadTimeSeries', () => {
  test('one gauge per metric on the global resource, per table where Terraform says so', () => {
    const series = buildLoadTimeSeries(
      {
        source: SOURCE,
        runId: 'r',
        endedAt,
        durationSeconds: 4.5,
        tables: [{ table: 'sales', rowsLoaded: 7, rowsQuarantined: 2 }],
      },
      'demo',
    );
    const endTime = { seconds: Math.floor(endedAt.getTime() / 1000), nanos: 250_000_000 };
    expect(series.map((s) => [s.metric.type, s.metric.labels, s.valueType, s.points[0]?.value])).toEqual([
      [METRIC_TYPES.rowsLoaded, { table: 'sales', source: SOURCE }, 'INT64', { int64Value: 7 }],
      [METRIC_TYPES.rowsQuarantined, { table: 'sales', source: SOURCE }, 'INT64', { int64Value: 2 }],
      [METRIC_TYPES.loadDuration, { source: SOURCE }, 'DOUBLE', { doubleValue: 4.5 }],
      [
        METRIC_TYPES.lastSuccessTimestamp,
        { source: SOURCE },
        'DOUBLE',
        { doubleValue: endedAt.getTime() / 1000 },
      ],
    ]);
    for (const s of series) {
      expect(s.resource).toEqual({ type: 'global', labels: { project_id: 'demo' } });
      expect(s.metricKind).toBe('GAUGE');
      expect(s.points[0]?.interval.endTime).toEqual(endTime);
    }
  });
});

describe('load writes metrics', () => {
  test('after a successful load, per table, to Cloud Monitoring', async () => {
    await stageRun('r1', [1, 2, 3], ['invalid_double', 'missing_date']);
    const metrics = new CloudMonitoringMetrics({ projectId: 'demo', apiEndpoint: monitoring.url });
    await load({ runId: 'r1' }, { store, warehouse, logger, metrics, now: () => endedAt });
    await metrics.close();
    expect(monitoring.requests.map((r) => [r.path, r.status])).toEqual([
      ['/v3/projects/demo/timeSeries', 200],
    ]);
    const value = (type: string, labels: Record<string, string>) =>
      monitoring.find(type, labels).map((s) => s.points.map((p) => p.value));
    expect(value(METRIC_TYPES.rowsLoaded, { table: 'sales', source: SOURCE })).toEqual([[3]]);
    expect(value(METRIC_TYPES.rowsQuarantined, { table: 'sales', source: SOURCE })).toEqual([[2]]);
    expect(value(METRIC_TYPES.lastSuccessTimestamp, { source: SOURCE })).toEqual([
      [endedAt.getTime() / 1000],
    ]);
    expect(monitoring.find(METRIC_TYPES.loadDuration, { source: SOURCE })).toHaveLength(1);
    // sales_rejects is the quarantine of sales, not a table of its own in the metrics.
    expect(monitoring.series.every((s) => s.metricLabels.table !== 'sales_rejects')).toBe(true);
  });

  test('a Monitoring failure is a warning: the load still succeeds', async () => {
    await stageRun('r2', [1], []);
    monitoring.inject({ status: 503 });
    const metrics = new CloudMonitoringMetrics({ projectId: 'demo', apiEndpoint: monitoring.url });
    const response = await load({ runId: 'r2' }, { store, warehouse, logger, metrics, now: () => endedAt });
    await metrics.close();
    expect(response.tables[0]).toMatchObject({ name: 'sales', rowsLoaded: 1 });
    expect(await store.exists(manifestKey('r2', 'load'))).toBe(true);
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.severity === 'WARNING');
    expect(warning?.message).toMatch(/could not write load metrics \(the load itself succeeded\)/);
    expect(warning?.sink).toBe('cloud-monitoring');
  });

  test('in local mode the metrics are one structured log line', async () => {
    await stageRun('r3', [1, 2], ['bad']);
    await load({ runId: 'r3' }, { store, warehouse, logger, metrics: new LogMetrics(), now: () => endedAt });
    const line = lines.map((l) => JSON.parse(l)).find((l) => Array.isArray(l.metrics));
    expect(line.message).toMatch(/load metrics/);
    expect(line.metrics).toContainEqual({
      type: METRIC_TYPES.rowsQuarantined,
      labels: { table: 'sales', source: SOURCE },
      value: 1,
    });
    expect(monitoring.requests).toHaveLength(0);
  });
});

describe('metrics config', () => {
  test('on in gcp mode, off in local mode, METRICS_ENABLED overrides', async () => {
    const gcp = { ETL_MODE: 'gcp', GCP_PROJECT: 'p', ETL_BUCKET: 'bucket-1', BIGQUERY_DATASET: 'd' };
    expect(isMetricsEnabled(parseConfig(loaderConfigSchema, {}))).toBe(false);
    expect(isMetricsEnabled(parseConfig(loaderConfigSchema, gcp))).toBe(true);
    expect(isMetricsEnabled(parseConfig(loaderConfigSchema, { ...gcp, METRICS_ENABLED: 'false' }))).toBe(
      false,
    );
    expect((await createMetricsSink(parseConfig(loaderConfigSchema, {}))).kind).toBe('log');
    const on = parseConfig(loaderConfigSchema, { METRICS_ENABLED: 'true', GCP_PROJECT: 'p' });
    expect((await createMetricsSink(on)).kind).toBe('cloud-monitoring');
    expect(() => parseConfig(loaderConfigSchema, { METRICS_ENABLED: 'true' })).toThrow(
      /GCP_PROJECT: required when METRICS_ENABLED=true/,
    );
  });
});
