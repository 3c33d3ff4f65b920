/**
 * Run by warehouse-disk-full.test.ts inside its own mount namespace, with `dir` on a small tmpfs: loads a
 * first version, fills the disk, loads a second version, frees the disk, loads it again. Prints one JSON
 * line per step: what the warehouse answered and the rows it then holds.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeArrowTable } from '@etl/common/arrow';
import { isPipelineError } from '@etl/common/errors';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';

const dir = process.argv[2]!;
const warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });

function version(rows: number, run: string): Uint8Array {
  const ids = Float64Array.from({ length: rows }, (_, i) => i);
  const notes = vectorFromArray(
    Array.from({ length: rows }, (_, i) => `${run} row ${i} ${'x'.repeat(i % 40)}`),
    new Utf8(),
  );
  const numbers = tableFromArrays({ id: ids, amount: ids.map((i) => i * 1.25) });
  return writeArrowTable(
    new Table({ id: numbers.getChild('id')!, amount: numbers.getChild('amount')!, note: notes }),
  );
}

async function step(name: string, rows: number, run: string): Promise<void> {
  let answer: unknown;
  try {
    answer = await warehouse.load({
      tables: [{ table: 'sales', arrow: version(rows, run) }],
      source: 'local/files/sales',
      runId: run,
      sourceVersion: run,
      loadedAt: new Date('2026-12-03T00:00:00Z'),
    });
  } catch (error) {
    answer = isPipelineError(error)
      ? { status: error.status, code: error.code, message: error.message }
      : { status: 500, message: String(error) };
  }
  const held = await warehouse
    .query('SELECT count(*)::INT AS n, min(_run_id) AS run FROM sales')
    .catch((error: unknown) => String(error));
  process.stdout.write(`${JSON.stringify({ step: name, answer, held })}\n`);
}

/** Writes zeros to `file` until the disk is full. */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch {
    // ENOSPC: full.
  } finally {
    await handle.close().catch(() => {});
  }
}

await step('first', 2_000, 'run-1');
const filler = path.join(dir, 'filler');
await fillDisk(filler);
await step('disk full', 200_000, 'run-2');
await step('disk full, small load', 3_000, 'run-3');
await rm(filler);
await step('space freed', 200_000, 'run-2');
