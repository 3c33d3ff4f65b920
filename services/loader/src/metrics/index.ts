export * from './cloud-monitoring-metrics';
export * from './create-metrics-sink';
export * from './load-metrics';
export * from './log-metrics';
