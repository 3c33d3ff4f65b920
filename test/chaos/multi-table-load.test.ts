/**
 * A dataset of several tables, its next version's load SIGKILLed half-way: every table still holds the
 * previous version's rows, none holds a part of the new one. The loader replaces the dataset's slice of
 * every table in one transaction, so there is no state in between; the re-run then loads the new version
 * in every table, once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeSalesCsv } from '@etl/sample-data';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  findScratchFolder,
  killWhen,
  localWarehouse,
  runEtl,
  type Stack,
  startStack,
  tableFacts,
} from './harness';

const TABLES = ['shop_orders', 'shop_customers', 'shop_stores'] as const;

let dataDir: string;
let loaderTemp: string;
let shop: string;
let stack: Stack;

/** Version `seed` of the dataset: three differently-headed files, one of them large. */
async function writeShop(seed: number): Promise<void> {
  await writeSalesCsv(path.join(shop, 'orders.csv'), { rows: 100_000, seed });
  const customers = Array.from({ length: 30_000 }, (_, i) => `C-${seed}-${i},Customer ${i},${i % 50}`);
  await writeFile(path.join(shop, 'customers.csv'), `Customer ID,Name,Store\n${customers.join('\n')}\n`);
  const stores = Array.from({ length: 50 }, (_, i) => `${i},Store ${i},${seed}`);
  await writeFile(path.join(shop, 'stores.csv'), `Store,Name,Version\n${stores.join('\n')}\n`);
}

async function facts(): Promise<Record<string, { rows: number; runIds: string[] }>> {
  const warehouse = localWarehouse(dataDir);
  try {
    const out: Record<string, { rows: number; runIds: string[] }> = {};
    for (const table of TABLES) {
      const { rows, runIds } = await tableFacts(warehouse, table);
      out[table] = { rows, runIds };
    }
    return out;
  } finally {
    await warehouse.close();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-multi-'));
  loaderTemp = path.join(dataDir, 'loader-tmp');
  shop = path.join(dataDir, 'shop');
  await mkdir(loaderTemp, { recursive: true });
  await mkdir(shop);
  stack = await startStack(dataDir, { LOG_LEVEL: 'info' }, { loader: { TMPDIR: loaderTemp } });
});
afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('SIGKILL in the middle of a multi-table load', () => {
  test('every table keeps the previous version; the re-run loads the new one in every table, once', async () => {
    await writeShop(1);
    const first = await runEtl({ urls: stack.urls, runId: 'mt-1', source: `local:${shop}` });
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    expect(first.tables.map((t) => t.name).sort()).toEqual([...TABLES].sort());
    const before = await facts();
    for (const table of TABLES) {
      const summary = first.tables.find((t) => t.name === table)!;
      expect(before[table]).toEqual({ rows: summary.rowsLoaded, runIds: ['mt-1'] });
    }

    // The next version; the loader dies while it loads it and stays dead, so the run fails.
    await writeShop(2);
    const loader = stack.services.loader;
    const monkey = killWhen(loader, 'loader mid-load', () => findScratchFolder(loaderTemp, 'etl-load-'));
    const killed = await runEtl({
      urls: stack.urls,
      runId: 'mt-2',
      source: `local:${shop}`,
      fastRetries: 16,
    });
    await monkey;
    expect(killed.status).toBe('failed');
    expect(await facts()).toEqual(before);

    await loader.restart();
    const rerun = await runEtl({ urls: stack.urls, runId: 'mt-2', source: `local:${shop}`, force: true });
    expect(rerun.status, JSON.stringify(rerun.error)).toBe('succeeded');
    const after = await facts();
    for (const table of TABLES) {
      const summary = rerun.tables.find((t) => t.name === table)!;
      expect(summary.rowsIn).toBe(summary.rowsLoaded + summary.rowsQuarantined + summary.rowsDuplicate);
      expect(after[table]).toEqual({ rows: summary.rowsLoaded, runIds: ['mt-2'] });
    }
    expect(after.shop_customers!.rows).toBe(30_000);
  });
});
