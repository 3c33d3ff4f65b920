export * from './duckdb-warehouse';
export * from './sql';
export * from './warehouse';
export * from './create-warehouse';
