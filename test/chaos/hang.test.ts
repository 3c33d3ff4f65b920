/**
 * A service that hangs past the call timeout, and a response lost after the work was done. The real
 * workflow's call timeout is 1800 s; these tests run a COPY of workflows/etl.workflows.yaml whose
 * `timeout: 1800` is replaced by `timeout: 4` (nothing else changes), so that a hang costs 4 s. A TCP
 * proxy in front of one service either swallows the request (accepts, never forwards, never answers:
 * a hung process) or forwards it and drops the answer (the work is done, the response is lost).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  localWarehouse,
  type ProxyMode,
  runEtl,
  type ServiceName,
  type Stack,
  startStack,
  TcpProxy,
  tableFacts,
  WORKFLOW_FILE,
} from './harness';

/**
 * The copy's call timeout. A fresh transformer answers the small sample here in about 1.5 s on a 2-core
 * machine (type inference alone is ~1 s): 2 s left too little room when the machine is busy.
 */
const CALL_TIMEOUT_S = 4;

let dataDir: string;
let stack: Stack;
let shortTimeoutWorkflow: string;
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-hang-'));
  const yaml = await readFile(WORKFLOW_FILE, 'utf8');
  const occurrences = yaml.match(/timeout: 1800\b/g) ?? [];
  expect(occurrences, 'the workflow has one call timeout of 1800 s').toHaveLength(1);
  shortTimeoutWorkflow = path.join(dataDir, 'etl-timeout-2s.workflows.yaml');
  await writeFile(shortTimeoutWorkflow, yaml.replace(/timeout: 1800\b/, `timeout: ${CALL_TIMEOUT_S}`));
  stack = await startStack(dataDir);
});
afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The stack's URLs, with `service` reached through a proxy playing `modes`. */
async function through(service: ServiceName, modes: ProxyMode[]) {
  const target = stack.services[service];
  const proxy = await TcpProxy.start(() => target.port, modes);
  proxies.push(proxy);
  return { proxy, urls: { ...stack.urls, [service]: proxy.url } };
}

async function expectLoadedOnce(runId: string, table: { rowsLoaded: number }, source: string) {
  const warehouse = localWarehouse(dataDir);
  const facts = await tableFacts(warehouse, 'sales');
  const mine = await warehouse.query(`SELECT count(*) AS n FROM sales WHERE _source = '${source}'`);
  expect(Number(mine[0]?.n)).toBe(table.rowsLoaded);
  expect(facts.rows).toBe(facts.distinct);
  expect(facts.runIds).toContain(runId);
}

describe('a hung service and a lost response (workflow copy with a 4 s call timeout)', () => {
  test('the transformer hangs on the first call: TimeoutError after the call timeout, retried, the run completes', async () => {
    const { proxy, urls } = await through('transformer', ['blackhole']);
    const started = Date.now();
    const result = await runEtl({
      urls,
      runId: 'hang-1',
      source: 'sample',
      options: { sample: { rows: 5000, seed: 1 } },
      workflowFile: shortTimeoutWorkflow,
    });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(proxy.connections).toEqual(['blackhole', 'forward']);
    expect(Date.now() - started).toBeGreaterThan(CALL_TIMEOUT_S * 1000);
    const sales = result.tables[0]!;
    expect(sales.rowsIn).toBe(5000);
    expect(sales.rowsLoaded + sales.rowsQuarantined + sales.rowsDuplicate).toBe(5000);
    await expectLoadedOnce('hang-1', sales, 'sample/generated/sales');
  });

  test('the load is done but its response is lost: the retry answers from the manifest, nothing loads twice', async () => {
    const { proxy, urls } = await through('loader', ['swallow-response']);
    const result = await runEtl({
      urls,
      runId: 'lost-1',
      source: 'sample',
      force: true,
      options: { sample: { rows: 5000, seed: 2 } },
      workflowFile: shortTimeoutWorkflow,
    });
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(proxy.connections).toEqual(['swallow-response', 'forward']);
    const log = await readFile(stack.services.loader.logFile, 'utf8');
    expect(log).toMatch(/"runId":"lost-1".*already loaded; returning the stored manifest/);
    const sales = result.tables[0]!;
    const warehouse = localWarehouse(dataDir);
    expect(await tableFacts(warehouse, 'sales')).toEqual({
      rows: sales.rowsLoaded,
      distinct: sales.rowsLoaded,
      runIds: ['lost-1'],
    });
  });

  test('a service that never answers: the run fails after its retries with TimeoutError, and alerts', async () => {
    const { proxy, urls } = await through(
      'extractor',
      Array.from({ length: 10 }, () => 'blackhole' as const),
    );
    const result = await runEtl({
      urls,
      runId: 'hang-forever',
      source: 'sample',
      options: { sample: { rows: 100, seed: 3 } },
      workflowFile: shortTimeoutWorkflow,
      fastRetries: 16,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.tags).toContain('TimeoutError');
    expect(proxy.connections).toHaveLength(6); // the first try and max_retries: 5
    expect(result.alerts).toHaveLength(1);
    expect(result.alerts[0]!.data).toMatchObject({ step: 'extract', runId: 'hang-forever' });
  });
});
