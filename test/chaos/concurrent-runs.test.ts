/**
 * Concurrency through the real services: two runs of the same dataset started together, and runs of
 * different datasets in parallel. The loader's dataset lease (services/loader/src/lease.ts) lets one
 * load of a dataset proceed and refuses a concurrent one with 409 DATASET_BUSY naming the running run;
 * loads that do not overlap simply follow each other. Either way the warehouse holds one copy of the
 * dataset, from one run, and datasets loaded in parallel stay independent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeSalesCsv } from '@etl/sample-data';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localWarehouse, type RunResult, runEtl, type Stack, startStack } from './harness';

let dataDir: string;
let stack: Stack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-concurrent-'));
  stack = await startStack(dataDir);
});
afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function sliceFacts(source: string, table = 'sales') {
  const warehouse = localWarehouse(dataDir);
  const [row] = await warehouse.query(
    `SELECT count(*) AS n, count(DISTINCT _run_id) AS runs, min(_run_id) AS run FROM ${table} WHERE _source = '${source}'`,
  );
  const [distinct] = await warehouse.query(
    `SELECT count(*) AS n FROM (SELECT DISTINCT * EXCLUDE (_loaded_at) FROM ${table} WHERE _source = '${source}')`,
  );
  return {
    rows: Number(row?.n),
    runs: Number(row?.runs),
    run: String(row?.run),
    distinct: Number(distinct?.n),
  };
}

describe('concurrent runs', () => {
  test('two runs of the same dataset started together: one copy in the warehouse, the loser refused with 409 naming the winner', async () => {
    const runs = ['same-a', 'same-b'];
    const results = await Promise.all(
      runs.map((runId, i) =>
        runEtl({
          urls: stack.urls,
          runId,
          source: 'sample',
          force: true,
          options: { sample: { rows: 60_000, seed: 10 + i } },
        }),
      ),
    );
    const outcome = results.map((r, i) => ({ runId: runs[i]!, r }));
    const succeeded = outcome.filter((o) => o.r.status === 'succeeded');
    const refused = outcome.filter((o) => o.r.status === 'failed');
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    for (const { runId, r } of refused) {
      // The only acceptable failure: the lease, naming the other run.
      const other = runs.find((id) => id !== runId)!;
      expect(r.error?.code, JSON.stringify(r.error)).toBe(409);
      expect(JSON.stringify(r.error)).toContain('DATASET_BUSY');
      expect(JSON.stringify(r.error)).toContain(`being loaded by run ${other}`);
      expect(r.alerts[0]?.data).toMatchObject({ step: 'load', runId });
    }
    const facts = await sliceFacts('sample/generated/sales');
    expect(facts.runs).toBe(1);
    const winner = outcome.find((o) => o.runId === facts.run)!.r as RunResult;
    expect(winner.status).toBe('succeeded');
    expect(facts.rows).toBe(winner.tables[0]!.rowsLoaded);
    expect(facts.distinct).toBe(facts.rows);
    console.info(
      `same-dataset race: ${outcome.map((o) => `${o.runId} ${o.r.status}`).join(', ')}; warehouse holds ${facts.run}`,
    );
  });

  test('runs of different datasets in parallel stay independent: each slice complete, from its own run', async () => {
    const files = ['north', 'south', 'east'];
    await Promise.all(
      files.map((name, i) =>
        writeSalesCsv(path.join(dataDir, `${name}.csv`), { rows: 40_000, seed: 100 + i }),
      ),
    );
    const results = await Promise.all(
      files.map((name) =>
        runEtl({
          urls: stack.urls,
          runId: `par-${name}`,
          source: `local:${path.join(dataDir, `${name}.csv`)}`,
        }),
      ),
    );
    for (const [i, name] of files.entries()) {
      const result = results[i]!;
      expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
      // Each file is its own dataset, and its table is named from it.
      const sales = result.tables[0]!;
      expect(sales.name).toBe(name);
      expect(sales.rowsIn).toBe(40_000);
      expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(40_000);
      expect(await sliceFacts(`local/files/${name}`, name)).toEqual({
        rows: sales.rowsLoaded,
        runs: 1,
        run: `par-${name}`,
        distinct: sales.rowsLoaded,
      });
    }
  });
});
