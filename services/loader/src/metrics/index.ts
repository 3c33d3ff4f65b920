export * from './create-metrics-sink';
export * from './load-metrics';
export * from './log-metrics';
