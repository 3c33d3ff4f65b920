/**
 * `etl run` / `etl serve` and the services they start, with real signals: the services die with the CLI
 * however it was killed (they used to live on as orphans holding the warehouse), and a service that dies
 * stops the run at once with what happened to it (the CLI used to retry its dead port for minutes, then
 * say ECONNREFUSED).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '@etl/common/lifecycle';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Cli } from '../../apps/cli/src/test-support/cli-process';
import { waitFor } from './harness';

let dataDir: string;
let cli: Cli | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'etl-chaos-cli-'));
});
afterEach(async () => {
  await cli?.stop();
  cli = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

/** The service pids the CLI printed: `etl serve`'s `(pid N)`, `etl run`'s `NAME pid N`. */
function servicePids(text: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [, name, pid] of text.matchAll(/(extractor|transformer|loader)\s+(?:\S+ \(pid |pid )(\d+)/g))
    pids[name!] = Number(pid);
  return pids;
}

async function waitForServices(output: () => string): Promise<Record<string, number>> {
  return waitFor('three service pids', () => {
    const pids = servicePids(output());
    return Object.keys(pids).length === 3 ? pids : undefined;
  });
}

const summaryRunId = (stderr: string) => /run (\S+): starting services/.exec(stderr)?.[1];

const logOf = (service: string) => readFile(path.join(dataDir, 'logs', `${service}.log`), 'utf8');

describe('the services die with the CLI', () => {
  test('etl serve killed with SIGKILL: its three services stop at once, and say why in their logs', async () => {
    cli = new Cli(['serve', '--port', '0', '--data-dir', dataDir]);
    const pids = await waitForServices(() => cli!.stdout);
    cli.child.kill('SIGKILL');
    await cli.exited;
    await waitFor('the services to exit', () => Object.values(pids).every((pid) => !isProcessAlive(pid)), {
      timeoutMs: 20_000,
    });
    for (const service of Object.keys(pids))
      expect(await logOf(service)).toContain('the etl process that started this service is gone');
  });

  test('etl run terminated with SIGTERM mid-run: its three services stop too', async () => {
    cli = new Cli(['run', '--json', '--rows', '200000', '--data-dir', dataDir]);
    const pids = await waitForServices(() => cli!.stderr);
    await cli.until(() => cli!.stderr.includes('transform: started'), 'the transform');
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: null, signal: 'SIGTERM' });
    await waitFor('the services to exit', () => Object.values(pids).every((pid) => !isProcessAlive(pid)), {
      timeoutMs: 20_000,
    });
    expect(await logOf('transformer')).toContain('the etl process that started this service is gone');
  });
});

describe('a service that dies stops the run at once', () => {
  test('the loader SIGKILLed: the run fails within seconds naming the loader, the signal and its last log lines', async () => {
    cli = new Cli(['run', '--json', '--data-dir', dataDir]);
    const pids = await waitForServices(() => cli!.stderr);
    process.kill(pids.loader!, 'SIGKILL');
    const killedAt = Date.now();
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    // The workflow alone would retry the dead port for over a minute.
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    const message = `the loader service (pid ${pids.loader}) was killed by SIGKILL (kill -9, or the out-of-memory killer`;
    expect(cli.stderr).toMatch(/ALERT step (init|extract) failed: the loader service/);
    expect(cli.stderr).toContain(`run ${summaryRunId(cli.stderr)}: stopped: ${message}`);
    const [summary] = cli.summaries as unknown as Array<{ status: string; error: Record<string, unknown> }>;
    expect(summary).toMatchObject({
      status: 'failed',
      error: { code: 'SERVICE_DIED', service: 'loader', pid: pids.loader, signal: 'SIGKILL', exitCode: null },
    });
    expect(summary!.error.lastLogLines).toEqual(
      expect.arrayContaining([expect.stringMatching(/INFO listening$/)]),
    );
    const alerts = (await readFile(path.join(dataDir, 'alerts.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(alerts.at(-1)!)).toMatchObject({
      data: { error: { code: 'SERVICE_DIED', service: 'loader' } },
    });
    await waitFor(
      'the other services to stop',
      () => !isProcessAlive(pids.extractor!) && !isProcessAlive(pids.transformer!),
    );
  });

  test('the transformer stopped with SIGTERM: the run fails naming its exit code and its last log line', async () => {
    cli = new Cli(['run', '--json', '--data-dir', dataDir]);
    const pids = await waitForServices(() => cli!.stderr);
    process.kill(pids.transformer!, 'SIGTERM');
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr).toContain(
      `the transformer service (pid ${pids.transformer}) exited with code 0 during the run`,
    );
    expect(cli.stderr).toMatch(/last lines of .*transformer\.log:\n(.*\n)*.* INFO shutting down\n/);
  });
});

describe('the console ALERT line', () => {
  test('carries the stage`s reason, not only its status code; so does the summary`s error line', async () => {
    cli = new Cli(['run', '--rows', '2000', '--max-reject-rate', '0', '--data-dir', dataDir]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr).toMatch(
      /ALERT step transform failed: QUALITY_GATE_FAILED: quality gate failed for run \S+: table sales: .* above the limit of 0%.* \(code 422\)/,
    );
    // The workflow's HttpError (its headers, its body) is in `--json`, not in the console line.
    expect(cli.stdout).toMatch(
      /^error: QUALITY_GATE_FAILED: quality gate failed for run \S+: table sales: .*$/m,
    );
    expect(cli.stdout).not.toContain('headers');
  });
});
