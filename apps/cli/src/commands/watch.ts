/**
 * `etl watch DIR [run flags]`: starts a pipeline run for each new .csv or .zip file dropped in DIR, the
 * local counterpart of the Eventarc trigger on the inbox bucket. Each content runs once: the sha256 of
 * every file handled is kept in <data-dir>/watch-state.json, so a copy or a renamed file does not run
 * again. A file is read only once it is stable (size and mtime unchanged across two checks). Runs are
 * one at a time; each outcome is a line on stderr, and with --json one summary per run on stdout.
 * SIGINT/SIGTERM stop it (after the run in progress).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '@etl/common/errors';
import { resolveDataDir, resolveFromCaller, UsageError } from '../args';
import { type RunSummary, runPipeline } from '../run-pipeline';
import { watchFolder } from '../triggers/folder-watcher';
import { printSummary, RUN_FLAGS, runSettings } from './run';

export const watchUsage = `etl watch DIR [--interval MS] [run flags: --force --table NAME --max-reject-rate R
        --contract MODE --allow-shrink
        --profile P --data-dir DIR --json]`;

export async function watchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...RUN_FLAGS, interval: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`expected one folder to watch\nusage: ${watchUsage}`);
  if (values.source !== undefined || values.rows !== undefined || values.seed !== undefined)
    throw new UsageError(
      '--source, --rows and --seed do not apply: each run reads the file dropped in the folder',
    );
  const dir = resolveFromCaller(positionals[0]!);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isInteger(intervalMs) || intervalMs < 50)
    throw new UsageError(
      `--interval expects milliseconds (50 or more), got ${JSON.stringify(values.interval)}`,
    );
  const { options, serviceEnv } = await runSettings(values);
  const dataDir = resolveDataDir(values['data-dir']);
  const statePath = path.join(dataDir, 'watch-state.json');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const controller = new AbortController();
  let running = false;
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping${running ? ' after the current run' : ''}`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await watchFolder({
      dir,
      statePath,
      intervalMs,
      signal: controller.signal,
      job: async (file): Promise<RunSummary> => {
        running = true;
        try {
          const summary = await runPipeline({
            source: `local:${file.path}`,
            dataDir,
            force: values.force,
            options,
            ...(Object.keys(serviceEnv).length > 0 ? { serviceEnv } : {}),
            onProgress: (line) => log(line),
          });
          if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          else printSummary(summary);
          return summary;
        } finally {
          running = false;
        }
      },
      onEvent: (event) => {
        switch (event.type) {
          case 'watching':
            log(
              `watching ${event.dir} for .csv and .zip files (${event.known} contents already handled, ${statePath})`,
            );
            break;
          case 'new-file':
            log(
              `${event.file.name}: new (${event.file.bytes} bytes, sha256 ${event.file.sha256.slice(0, 12)}): starting a run`,
            );
            break;
          case 'duplicate':
            log(
              `${event.file.name}: same content as ${event.first.name}, already run as ${event.first.runId} (${event.first.status}): not run again`,
            );
            break;
          case 'handled':
            log(
              `${event.file.name}: run ${event.handled.runId} ${event.handled.status}` +
                (event.handled.status === 'failed'
                  ? `; to finish it: etl run --resume ${event.handled.runId}`
                  : ''),
            );
            break;
          case 'job-error':
            log(`${event.file.name}: could not run: ${errorMessage(event.error)}`);
            break;
          case 'scan-error':
            log(`could not scan ${dir}: ${errorMessage(event.error)}`);
            break;
        }
      },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
