export * from './openapi';
export * from './server';
export * from './service-app';
