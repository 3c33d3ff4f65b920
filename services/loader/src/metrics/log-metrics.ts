/** Local mode: the same series as Cloud Monitoring would get, as one structured log line per load. */
import type { Logger } from '@etl/common/logging';
import { buildLoadTimeSeries, type LoadMetrics, type MetricsSink } from './load-metrics';

export class LogMetrics implements MetricsSink {
  readonly kind = 'log';

  constructor(private readonly projectId = 'local') {}

  async writeLoadMetrics(metrics: LoadMetrics, logger: Logger): Promise<void> {
    const series = buildLoadTimeSeries(metrics, this.projectId).map((s) => ({
      type: s.metric.type,
      labels: s.metric.labels,
      value: Object.values(s.points[0]!.value)[0] as number,
    }));
    logger.info(
      { metrics: series, runId: metrics.runId },
      'load metrics (Cloud Monitoring off: logged only)',
    );
  }
}
