/**
 * Regression: a local file still being written when the run started was loaded as a snapshot: 1,000 of
 * 2,000 rows, the last row's `-103.56` stored as `-103`, and the run `succeeded`. Now the extractor refuses
 * it with a retryable 503 SOURCE_STILL_WRITING naming the file (its last line has no terminator and it was
 * modified seconds ago, or it changed while it was copied); the workflow retries, and once the writer has
 * finished the run loads all 2,000 rows, exactly.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localWarehouse, runEtl, type Stack, startStack, tableFacts, waitFor } from './harness';

const ROWS = 2000;

function row(i: number): string {
  const amount = i === 1001 ? '-103.56' : (i * 1.25).toFixed(2);
  return `${i},2026-01-${String((i % 28) + 1).padStart(2, '0')},item ${i % 17},${amount}\n`;
}

describe('a local source file still being written when the run starts', () => {
  let stack: Stack;
  let dataDir: string;
  let source: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-writing-'));
    source = path.join(dataDir, 'orders.csv');
    stack = await startStack(dataDir);
  });
  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('503 SOURCE_STILL_WRITING naming the file, retried by the workflow; then all rows, exactly', async () => {
    let written = 'order_id,order_date,product,amount\n';
    for (let i = 1; i <= 1000; i++) written += row(i);
    const rest = row(1001);
    // The writer has stopped mid-row: `-103` of `-103.56`, no line terminator.
    await writeFile(source, written + rest.slice(0, rest.indexOf('.56')));

    const run = runEtl({ urls: stack.urls, runId: 'still-writing', source: `local:${source}` });
    // The first extract attempt is refused; then the writer finishes.
    const refusal = await waitFor('the extractor to refuse the partial file', async () => {
      const log = await readFile(stack.services.extractor.logFile, 'utf8');
      return log.split('\n').find((line) => line.includes('SOURCE_STILL_WRITING'));
    });
    let tail = rest.slice(rest.indexOf('.56'));
    for (let i = 1002; i <= ROWS; i++) tail += row(i);
    await appendFile(source, tail);

    const result = await run;
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    const log = await readFile(stack.services.extractor.logFile, 'utf8');
    expect(log).toMatch(/"statusCode":503/);
    expect(refusal).toContain(`local file ${source} is still being written`);
    expect(refusal).toContain('its last line has no line terminator');
    const table = result.tables[0]!;
    expect(table.rowsIn).toBe(ROWS);
    expect(table.rowsLoaded).toBe(ROWS);

    const warehouse = localWarehouse(dataDir);
    const facts = await tableFacts(warehouse, table.name);
    expect(facts).toEqual({ rows: ROWS, distinct: ROWS, runIds: ['still-writing'] });
    const [last] = await warehouse.query(
      `SELECT CAST(amount AS VARCHAR) AS amount FROM ${table.name} WHERE order_id = 1001`,
    );
    expect(last?.amount).toBe('-103.56');
    // The dataset's state is the complete file's version.
    const manifest = JSON.parse(
      await readFile(path.join(dataDir, 'blobs/runs/still-writing/manifest/extract.json'), 'utf8'),
    );
    const state = JSON.parse(
      await readFile(path.join(dataDir, 'blobs/datasets/local/files/orders/state.json'), 'utf8'),
    );
    expect(state).toMatchObject({ runId: 'still-writing', version: manifest.dataset.version });
    expect(manifest.files).toEqual([
      expect.objectContaining({ name: 'orders.csv', bytes: (await readFile(source)).length }),
    ]);
  });
});
