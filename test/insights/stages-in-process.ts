/**
 * A file through extract, transform, load and analyze in process, as `etl run` would take it, into a DuckDB
 * warehouse under a temporary folder: for tests that check what the analyze stage and the insights app make of
 * the roles the transform stage recorded.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { extract } from '@etl/extractor/stage';
import { createLoaderApp } from '@etl/loader/app';
import { load } from '@etl/loader/stage';
import { transform } from '@etl/transformer/stage';
import request from 'supertest';
import { expect } from 'vitest';

export interface StagesRun {
  dir: string;
  store: LocalBlobStore;
  warehouse: DuckDbWarehouse;
  /** The analyze response. */
  analyzed: Record<string, unknown>;
  cleanup(): Promise<void>;
}

/** `content` as `in/<fileName>` through every stage as run `r1`; `profile` is written to `profiles/<name>.yaml`. */
export async function runStages(
  fileName: string,
  content: string,
  profile?: { name: string; yaml: string },
): Promise<StagesRun> {
  const logger = createSilentLogger();
  const dir = await mkdtemp(path.join(tmpdir(), 'stages-'));
  const store = new LocalBlobStore(path.join(dir, 'blobs'));
  const warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
  const file = path.join(dir, 'in', fileName);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  const profilesDir = path.join(dir, 'profiles');
  await mkdir(profilesDir);
  if (profile) await writeFile(path.join(profilesDir, `${profile.name}.yaml`), profile.yaml);

  const runId = 'r1';
  await extract({ runId, source: `local:${file}` }, { store, logger });
  await transform(
    { runId, ...(profile ? { profile: profile.name } : {}) },
    { store, logger, tempDir: dir, duckdb: { threads: 1 }, profilesDir },
  );
  await load({ runId }, { store, warehouse, logger });
  const loader = createLoaderApp({ store, warehouse, logger, tableau: undefined });
  const response = await request(loader).post('/v1/analyze').send({ runId });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return {
    dir,
    store,
    warehouse,
    analyzed: response.body,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
