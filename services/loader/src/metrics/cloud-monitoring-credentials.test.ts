import { createSilentLogger } from '@etl/common/logging';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { expect, test } from 'vitest';
import { CloudMonitoringMetrics } from './cloud-monitoring-metrics';
import { recordLoadMetrics } from './load-metrics';

// Regression: with credentials that cannot be loaded, the client's own `initialize().catch(throw)` left an
// unhandled rejection that crashed the loader right after a successful load (vitest fails the run on one).
test('credentials that cannot be loaded: the failure is logged, and nothing is left unhandled', async () => {
  const client = new MetricServiceClient({
    projectId: 'p',
    fallback: true,
    keyFilename: '/nonexistent/credentials.json',
  });
  const sink = new CloudMonitoringMetrics({ projectId: 'p', client });
  const metrics = { source: 's/o/n', runId: 'r1', endedAt: new Date(), durationSeconds: 1, tables: [] };
  await expect(sink.writeLoadMetrics(metrics, createSilentLogger())).rejects.toThrow();
  // Twice, as two loads would: the second call must not leave a rejection behind either.
  await recordLoadMetrics(sink, metrics, createSilentLogger());
  await new Promise((resolve) => setTimeout(resolve, 200));
});
