export * from './create-warehouse';
export * from './duckdb-warehouse';
export * from './sql';
export * from './warehouse';
