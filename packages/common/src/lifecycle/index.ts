export * from './parent-link';
export * from './process-alive';
export * from './scratch-folder';
