import { ConfigError, describeConfig, parseConfig } from '@etl/common/config';
import { describe, expect, test } from 'vitest';
import { transformerConfigSchema } from './config';

describe('transformer config', () => {
  test('defaults', () => {
    const config = parseConfig(transformerConfigSchema, {});
    expect(config).toMatchObject({ DUCKDB_MEMORY_LIMIT: '2GB', TRANSFORM_SAMPLE_ROWS: 100_000 });
    expect(config.DUCKDB_THREADS).toBeUndefined();
    expect(config.TRANSFORM_TEMP_DIR.length).toBeGreaterThan(0);
  });

  test('values are coerced and checked', () => {
    expect(parseConfig(transformerConfigSchema, { DUCKDB_THREADS: '4' }).DUCKDB_THREADS).toBe(4);
    expect(() => parseConfig(transformerConfigSchema, { DUCKDB_THREADS: 'many' })).toThrow(ConfigError);
    expect(() => parseConfig(transformerConfigSchema, { DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(
      /DUCKDB_MEMORY_LIMIT/,
    );
  });

  test('every field is described', () => {
    for (const row of describeConfig(transformerConfigSchema)) expect(row.description, row.name).not.toBe('');
  });
});
