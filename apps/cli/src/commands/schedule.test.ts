/** `etl schedule` as a user runs it: the CLI in a child process, running the real pipeline. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cli } from '../test-support/cli-process';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'etl-schedule-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('etl schedule', () => {
  test('--run-now --max-runs 1 runs once at start and exits 0', async () => {
    const cli = new Cli([
      'schedule',
      '--cron',
      '* * * * *',
      '--run-now',
      '--max-runs',
      '1',
      '--rows',
      '60',
      '--json',
      '--data-dir',
      path.join(dir, 'schedule-data'),
    ]);
    const code = await new Promise<number | null>((resolve) => cli.child.once('exit', (c) => resolve(c)));
    expect(code, cli.stderr).toBe(0);
    expect(cli.summaries).toHaveLength(1);
    expect(cli.summaries[0]).toMatchObject({ status: 'succeeded', tables: [{ rowsIn: 60 }] });
    expect(cli.stderr).toMatch(/run 1: fired at /);
  }, 30_000);

  test('waits for the next fire time and stops on SIGTERM with exit 0; refuses a bad expression', async () => {
    const cli = new Cli(['schedule', '--cron', '0 0 1 1 *', '--utc', '--data-dir', path.join(dir, 'idle')]);
    await cli.until(() => /next run at \d{4}-01-01T00:00:00\.000Z/.test(cli.stderr), 'the first wait');
    expect(await cli.stop()).toBe(0);
    expect(cli.summaries).toEqual([]);

    const bad = new Cli(['schedule', '--cron', '61 * * * *']);
    const code = await new Promise<number | null>((resolve) => bad.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(bad.stderr).toMatch(/--cron: minute field "61"/);
  }, 30_000);
});
