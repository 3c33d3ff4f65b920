export * from './anomalies';
export * from './drivers';
export * from './forecast';
export * from './forecast-metrics';
export * from './holt-winters';
export * from './nelder-mead';
export * from './segmentation';
