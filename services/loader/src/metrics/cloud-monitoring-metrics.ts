/**
 * Writes load metrics with the Monitoring API (projects.timeSeries.create) through the official client.
 * The client runs in its REST mode (`fallback: true`): the same JSON the test fake checks, and one HTTP
 * request per load is all it needs. With `apiEndpoint` (a fake) it sends a fixed token and reaches the
 * endpoint over plain HTTP; without, it uses Application Default Credentials against Google.
 */

import type { Logger } from '@etl/common/logging';
import { fixedTokenAuthClient } from '@etl/common/warehouse/bigquery';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { buildLoadTimeSeries, type LoadMetrics, type MetricsSink } from './load-metrics';

/** The API accepts at most 200 time series per request. */
const MAX_SERIES_PER_REQUEST = 200;

export interface CloudMonitoringMetricsOptions {
  projectId: string;
  /** e.g. http://127.0.0.1:9090 for a fake; unset = monitoring.googleapis.com. */
  apiEndpoint?: string;
  /** Timeout of one createTimeSeries call. Default 10 s. */
  timeoutMs?: number;
  client?: MetricServiceClient;
}

export class CloudMonitoringMetrics implements MetricsSink {
  readonly kind = 'cloud-monitoring';
  readonly #client: MetricServiceClient;
  readonly #projectId: string;
  readonly #timeoutMs: number;

  constructor(options: CloudMonitoringMetricsOptions) {
    this.#projectId = options.projectId;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#client = options.client ?? new MetricServiceClient(clientOptions(options));
  }

  async writeLoadMetrics(metrics: LoadMetrics, logger: Logger): Promise<void> {
    const series = buildLoadTimeSeries(metrics, this.#projectId);
    // Connect first, awaited here: the generated client's methods call `this.initialize().catch((e) => {
    // throw e })`, an unhandled rejection when credentials cannot be loaded, which killed the loader
    // process after a successful load (found by test/chaos/storage-and-upstreams.test.ts).
    await this.#client.initialize();
    for (let i = 0; i < series.length; i += MAX_SERIES_PER_REQUEST) {
      await this.#client.createTimeSeries(
        { name: `projects/${this.#projectId}`, timeSeries: series.slice(i, i + MAX_SERIES_PER_REQUEST) },
        { timeout: this.#timeoutMs },
      );
    }
    logger.info(
      { series: series.length, project: this.#projectId, runId: metrics.runId },
      'wrote load metrics to Cloud Monitoring',
    );
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

function clientOptions(
  options: CloudMonitoringMetricsOptions,
): ConstructorParameters<typeof MetricServiceClient>[0] {
  if (!options.apiEndpoint) return { projectId: options.projectId, fallback: true };
  const url = new URL(options.apiEndpoint);
  const protocol = url.protocol.replace(':', '');
  return {
    projectId: options.projectId,
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (protocol === 'https' ? 443 : 80)),
    protocol,
    authClient: fixedTokenAuthClient(),
  };
}
