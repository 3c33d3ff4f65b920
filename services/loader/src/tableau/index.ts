export * from './create-tableau-refresh';
export * from './tableau-client';
