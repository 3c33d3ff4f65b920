export * from './arrow-to-bigquery-schema';
export * from './create-warehouse';
export * from './dialect';
export * from './duckdb-threads';
export * from './duckdb-warehouse';
export * from './sql';
export * from './table-metadata';
export * from './warehouse';
