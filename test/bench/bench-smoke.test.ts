/**
 * The bench cannot rot: `bench/run.ts --smoke` (2k generated rows, one run, every measure and baseline,
 * no zip, no Superstore) runs end to end and every baseline agrees with our row counts. pandas is skipped,
 * with a message, when Debian's python3-pandas is absent (the smoke run never installs it).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

interface SmokeResult {
  workloads: {
    workload: string;
    rowsIn: number;
    measures: {
      name: string;
      medianMs: number;
      detail?: Record<string, Record<string, number>>;
      counts: { rowsOut: number; rowsQuarantined: number; rowsDuplicate: number };
      peakRssMb: Record<string, number>;
    }[];
  }[];
  skipped: string[];
  failures: string[];
}

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'bench-smoke-'));
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('pnpm bench --smoke measures every stage and baseline, and the counts agree', async () => {
  const { code, stdout, stderr } = await runBench(['--smoke', '--json', '--cache-dir', cacheDir]);
  expect(code, stderr).toBe(0);
  const result = JSON.parse(stdout) as SmokeResult;
  expect(result.failures).toEqual([]);
  const [workload] = result.workloads;
  expect(workload?.workload).toBe('sales-2k');
  expect(workload?.rowsIn).toBe(2000);
  const names = workload!.measures.map((m) => m.name);
  const pandasSkipped = result.skipped.some((s) => s.startsWith('pandas baseline skipped'));
  if (pandasSkipped) console.warn(result.skipped.join('\n'));
  expect(names).toEqual([
    'transform',
    'load',
    'duckdb-floor',
    'load-floor',
    ...(pandasSkipped ? [] : ['pandas']),
    'node-naive',
    'etl-run csv',
    'etl-run warm',
  ]);
  for (const m of workload!.measures) expect(m.medianMs).toBeGreaterThan(0);
  // The breakdowns that locate a regression: the load's steps and the parts of an `etl run`.
  const detail = (name: string) => workload!.measures.find((m) => m.name === name)?.detail ?? {};
  expect(Object.keys(detail('load')['timingsMs'] ?? {})).toEqual(expect.arrayContaining(['read', 'commit']));
  for (const name of ['etl-run csv', 'etl-run warm'])
    expect(Object.keys(detail(name)['breakdownMs'] ?? {})).toEqual(
      expect.arrayContaining([
        'cli start',
        'services start',
        'extract',
        'transform',
        'load',
        'workflow',
        'exit',
      ]),
    );
  // The CPU each process of `etl run` spent, which bounds its wall time on this machine's cores.
  const cpu = detail('etl-run csv')['cpuMs'] ?? {};
  for (const service of ['transformer', 'loader']) expect(cpu[service]).toBeGreaterThan(0);
  // The dataset workload: two 2k-row files, one table each, every row accounted for, every service's peak.
  const dataset = result.workloads[1];
  expect(dataset?.workload).toBe('sales-2x2k');
  expect(dataset?.measures.map((m) => m.name)).toEqual(['etl-run dataset']);
  const run = dataset!.measures[0]!;
  expect(run.counts.rowsOut + run.counts.rowsQuarantined + run.counts.rowsDuplicate).toBe(4000);
  expect(Object.keys(run.peakRssMb)).toEqual(expect.arrayContaining(['extractor', 'transformer', 'loader']));
}, 120_000);
