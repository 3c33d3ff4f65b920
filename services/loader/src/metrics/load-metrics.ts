/**
 * The metrics the loader records after each successful load, as Cloud Monitoring time series. The
 * descriptors of the two that alert policies read (terraform/monitoring.tf) are matched exactly:
 *
 *   custom.googleapis.com/etl/last_success_timestamp  GAUGE DOUBLE s   labels source
 *   custom.googleapis.com/etl/rows_quarantined        GAUGE INT64      labels table, source
 *   custom.googleapis.com/etl/rows_loaded             GAUGE INT64      labels table, source
 *   custom.googleapis.com/etl/load_duration           GAUGE DOUBLE s   labels source
 *
 * all on the `global` monitored resource (labels: project_id). `table` is the cleaned table's name
 * (`sales`), whose rejects the warehouse holds as `<table>_rejects`; `source` is the dataset id.
 */
import { errorMessage } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';

export const METRIC_TYPES = {
  lastSuccessTimestamp: 'custom.googleapis.com/etl/last_success_timestamp',
  rowsQuarantined: 'custom.googleapis.com/etl/rows_quarantined',
  rowsLoaded: 'custom.googleapis.com/etl/rows_loaded',
  loadDuration: 'custom.googleapis.com/etl/load_duration',
} as const;

export const MONITORED_RESOURCE_TYPE = 'global';

export interface TableLoadMetrics {
  /** The cleaned table, e.g. sales (its rejects are `<table>_rejects`). */
  table: string;
  rowsLoaded: number;
  rowsQuarantined: number;
}

export interface LoadMetrics {
  /** Dataset id, e.g. kaggle/OWNER/SLUG or local/files/sales. */
  source: string;
  runId: string;
  /** When the load ended (manifest written). */
  endedAt: Date;
  durationSeconds: number;
  tables: TableLoadMetrics[];
}

/** One time series with one point, in the shape of the Monitoring API's TimeSeries. */
export interface MetricSeries {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: string; labels: Record<string, string> };
  metricKind: 'GAUGE';
  valueType: 'INT64' | 'DOUBLE';
  points: Array<{
    interval: { endTime: { seconds: number; nanos: number } };
    value: { int64Value: number } | { doubleValue: number };
  }>;
}

/** Where load metrics go: Cloud Monitoring, or a structured log line in local mode. */
export interface MetricsSink {
  readonly kind: 'cloud-monitoring' | 'log';
  writeLoadMetrics(metrics: LoadMetrics, logger: Logger): Promise<void>;
}

/** The time series of one load, for the given project's `global` resource. */
export function buildLoadTimeSeries(metrics: LoadMetrics, projectId: string): MetricSeries[] {
  const resource = { type: MONITORED_RESOURCE_TYPE, labels: { project_id: projectId } };
  const ms = metrics.endedAt.getTime();
  const endTime = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
  const series = (
    type: string,
    labels: Record<string, string>,
    value: { int64Value: number } | { doubleValue: number },
  ): MetricSeries => ({
    metric: { type, labels },
    resource,
    metricKind: 'GAUGE',
    valueType: 'int64Value' in value ? 'INT64' : 'DOUBLE',
    points: [{ interval: { endTime }, value }],
  });
  const source = metrics.source;
  return [
    ...metrics.tables.flatMap((t) => [
      series(METRIC_TYPES.rowsLoaded, { table: t.table, source }, { int64Value: t.rowsLoaded }),
      series(METRIC_TYPES.rowsQuarantined, { table: t.table, source }, { int64Value: t.rowsQuarantined }),
    ]),
    series(METRIC_TYPES.loadDuration, { source }, { doubleValue: metrics.durationSeconds }),
    series(METRIC_TYPES.lastSuccessTimestamp, { source }, { doubleValue: ms / 1000 }),
  ];
}

/**
 * Writes the metrics and never throws: the load has committed by now, and failing it (so the workflow
 * retries and alerts) over a monitoring outage would report a data failure that did not happen. The cost:
 * a lost write shows up only as this warning and, for last_success_timestamp, as a staleness alert later.
 */
export async function recordLoadMetrics(
  sink: MetricsSink | undefined,
  metrics: LoadMetrics,
  logger: Logger,
): Promise<void> {
  if (!sink) return;
  try {
    await sink.writeLoadMetrics(metrics, logger);
  } catch (error) {
    logger.warn(
      { err: error, sink: sink.kind },
      `could not write load metrics (the load itself succeeded): ${errorMessage(error)}`,
    );
  }
}
