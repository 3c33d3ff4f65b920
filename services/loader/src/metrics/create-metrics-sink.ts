/** Chooses where load metrics go, once, from validated config. */
import type { LoaderConfig } from '../config';
import type { MetricsSink } from './load-metrics';
import { LogMetrics } from './log-metrics';

/** METRICS_ENABLED if set, else on in gcp mode. */
export function isMetricsEnabled(config: LoaderConfig): boolean {
  return config.METRICS_ENABLED === undefined ? config.ETL_MODE === 'gcp' : config.METRICS_ENABLED === 'true';
}

/** Cloud Monitoring's client (google-gax, protobufs) is imported only when metrics go there. */
export async function createMetricsSink(config: LoaderConfig): Promise<MetricsSink> {
  if (!isMetricsEnabled(config) || !config.GCP_PROJECT) return new LogMetrics(config.GCP_PROJECT);
  const { CloudMonitoringMetrics } = await import('./cloud-monitoring-metrics');
  return new CloudMonitoringMetrics({
    projectId: config.GCP_PROJECT,
    apiEndpoint: config.MONITORING_API_ENDPOINT,
  });
}
