/**
 * `etl schedule --cron "EXPR" [run flags]`: runs the pipeline on a cron schedule, the local counterpart
 * of Cloud Scheduler. Runs never overlap (a fire time that passes during a run is skipped and logged);
 * each outcome is a line on stderr, and with --json one summary per run on stdout. SIGINT/SIGTERM stop
 * it: while waiting at once, during a run after the run ends.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '@etl/common/errors';
import { resolveDataDir, UsageError } from '../args';
import { runPipeline } from '../run-pipeline';
import { CronSyntaxError, type CronTimeZone, parseCron } from '../triggers/cron';
import { runSchedule, type ScheduleEvent } from '../triggers/scheduler';
import { normalizeSource, printSummary, RUN_FLAGS, runSettings } from './run';

export const scheduleUsage = `etl schedule --cron "MIN HOUR DAY MONTH WEEKDAY" [--utc] [--run-now] [--max-runs N]
        [run flags: --source S --force --rows N --seed S --table NAME --max-reject-rate R --profile P
        --contract MODE --allow-shrink
        --data-dir DIR --json]`;

export async function scheduleCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...RUN_FLAGS,
      cron: { type: 'string' },
      utc: { type: 'boolean', default: false },
      'run-now': { type: 'boolean', default: false },
      'max-runs': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.cron === undefined) throw new UsageError(`--cron is required\nusage: ${scheduleUsage}`);
  let schedule: ReturnType<typeof parseCron>;
  try {
    schedule = parseCron(values.cron);
  } catch (error) {
    if (error instanceof CronSyntaxError) throw new UsageError(`--cron: ${error.message}`);
    throw error;
  }
  const maxRuns = values['max-runs'] === undefined ? undefined : Number(values['max-runs']);
  if (maxRuns !== undefined && !(Number.isInteger(maxRuns) && maxRuns > 0))
    throw new UsageError(
      `--max-runs expects a whole number above 0, got ${JSON.stringify(values['max-runs'])}`,
    );
  const zone: CronTimeZone = values.utc ? 'utc' : 'local';
  const { options, serviceEnv } = await runSettings(values);
  const source = normalizeSource(values.source ?? 'sample');
  const dataDir = resolveDataDir(values['data-dir']);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping${running ? ' after the current run' : ''}`);
    controller.abort();
  };
  let running = false;
  let failures = 0;
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  log(
    `schedule ${JSON.stringify(values.cron)} (${zone === 'utc' ? 'UTC' : 'local time'}), source ${source}, data in ${dataDir}`,
  );
  try {
    await runSchedule({
      schedule,
      zone,
      signal: controller.signal,
      runNow: values['run-now'],
      ...(maxRuns === undefined ? {} : { maxRuns }),
      job: async () => {
        running = true;
        try {
          return await runPipeline({
            source,
            dataDir,
            force: values.force,
            options,
            ...(Object.keys(serviceEnv).length > 0 ? { serviceEnv } : {}),
            onProgress: (line) => log(line),
          });
        } finally {
          running = false;
        }
      },
      onEvent: (event: ScheduleEvent) => {
        switch (event.type) {
          case 'waiting':
            log(`next run at ${event.next.toISOString()}`);
            break;
          case 'run-start':
            log(`run ${event.run}: fired at ${event.firedAt.toISOString()}`);
            break;
          case 'run-end': {
            const summary = event.outcome as Awaited<ReturnType<typeof runPipeline>>;
            if (summary.status === 'failed') failures++;
            log(`run ${event.run}: ${summary.runId} ${summary.status} in ${event.durationMs} ms`);
            if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
            else printSummary(summary);
            break;
          }
          case 'run-error':
            failures++;
            log(`run ${event.run}: could not run: ${errorMessage(event.error)}`);
            break;
          case 'missed':
            log(
              `skipped ${event.count} fire time(s) while the run was in progress; next at ${event.until.toISOString()}`,
            );
            break;
        }
      },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  // Stopped by a signal: a normal end. With --max-runs (scripts, tests): whether every run succeeded.
  return controller.signal.aborted || failures === 0 ? 0 : 1;
}
