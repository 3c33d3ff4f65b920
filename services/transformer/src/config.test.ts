import path from 'node:path';
import { ConfigError, describeConfig, parseConfig } from '@etl/common/config';
import { describe, expect, test } from 'vitest';
import { defaultProfilesDir, transformerConfigSchema } from './config';

describe('transformer config', () => {
  test('defaults', () => {
    const config = parseConfig(transformerConfigSchema, {});
    expect(config).toMatchObject({ DUCKDB_MEMORY_LIMIT: '1GB', TRANSFORM_SAMPLE_ROWS: 30_000 });
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

describe('profiles folder', () => {
  test('<repo>/profiles, found from the module location', () => {
    expect(defaultProfilesDir()).toBe(path.resolve(import.meta.dirname, '../../../profiles'));
    expect(parseConfig(transformerConfigSchema, {}).PROFILES_DIR).toBeUndefined();
    expect(parseConfig(transformerConfigSchema, { PROFILES_DIR: '/srv/profiles' }).PROFILES_DIR).toBe(
      '/srv/profiles',
    );
  });

  test('MAX_INPUT_BYTES is coerced and must be positive', () => {
    expect(parseConfig(transformerConfigSchema, { MAX_INPUT_BYTES: '1000' }).MAX_INPUT_BYTES).toBe(1000);
    expect(() => parseConfig(transformerConfigSchema, { MAX_INPUT_BYTES: '0' })).toThrow(/MAX_INPUT_BYTES/);
  });
});
