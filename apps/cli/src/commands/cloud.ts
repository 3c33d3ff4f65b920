/**
 * `etl cloud`: drive the workflow deployed on Google Cloud (Cloud Workflows) from the command line: start
 * an execution with the same argument `etl run` gives the local runner, follow it, read its outcome, and
 * find its logs. Configuration: GCP_PROJECT, GCP_REGION (or WORKFLOW_REGION), WORKFLOW_NAME (default etl),
 * WORKFLOWS_API_ENDPOINT (emulator/test fake only).
 */
import { parseArgs } from 'node:util';
import { createBlobStore } from '@etl/common/storage';
import { parseNumberFlag, UsageError } from '../args';
import { parseCloudConfig } from '../cloud/cloud-config';
import { Executions, type ExecutionView, type RunArgument } from '../cloud/executions';
import { rerunArgument } from '../cloud/rerun';
import type { RunSummary } from '../run-pipeline';
import { isResumableStage, RESUMABLE_STAGES, removeManifestsFrom, stagesFrom } from '../run-state';
import { stageOptions, tableLine } from './run';

export const cloudUsage = `etl cloud run [--source sample|kaggle:OWNER/SLUG|gs://BUCKET/OBJECT] [--run-id ID] [--force]
        [--rows N] [--seed S] [--table NAME] [--tables GLOB=NAME,...] [--max-reject-rate R]
        [--contract MODE] [--allow-shrink] [--wait [--timeout SECONDS]] [--json]
  etl cloud rerun EXECUTION [--from extract|transform|load] [--wait [--timeout SECONDS]] [--json]
  etl cloud status [EXECUTION] [--json]     (the latest execution when omitted)
  etl cloud logs EXECUTION [--json]`;

export async function cloudCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const handler = sub ? SUBCOMMANDS[sub] : undefined;
  if (!handler)
    throw new UsageError(`unknown cloud command ${JSON.stringify(sub ?? '')}\nusage: ${cloudUsage}`);
  const executions = new Executions(parseCloudConfig(process.env));
  try {
    return await handler(executions, rest);
  } finally {
    await executions.close();
  }
}

const SUBCOMMANDS: Record<string, (executions: Executions, argv: string[]) => Promise<number>> = {
  run: runInCloud,
  rerun,
  status,
  logs,
};

/** Sources the cloud services can reach: no `local:` paths (they are on the caller's disk). */
export function cloudSource(source: string): string {
  if (source === 'sample' || source.startsWith('kaggle:') || source.startsWith('gs://')) return source;
  if (source.startsWith('local:')) {
    throw new UsageError(
      `${source}: the services on Cloud Run cannot read this machine's files; upload it and pass gs://BUCKET/OBJECT`,
    );
  }
  throw new UsageError(
    `unknown source ${JSON.stringify(source)}: expected sample, kaggle:OWNER/SLUG or gs://BUCKET/OBJECT`,
  );
}

async function runInCloud(executions: Executions, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      'run-id': { type: 'string' },
      force: { type: 'boolean', default: false },
      rows: { type: 'string' },
      seed: { type: 'string' },
      table: { type: 'string' },
      tables: { type: 'string' },
      'max-reject-rate': { type: 'string' },
      contract: { type: 'string' },
      'allow-shrink': { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`unexpected ${positionals.join(' ')}\nusage: ${cloudUsage}`);
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout needs --wait');
  const options = stageOptions(values);
  // The shape `etl run` passes to the local runner; unset keys take the workflow's defaults
  // (source "sample", run_id = the execution id).
  const argument: RunArgument = {
    ...(values.source === undefined ? {} : { source: cloudSource(values.source) }),
    ...(values['run-id'] === undefined ? {} : { run_id: values['run-id'] }),
    force: values.force,
    options,
  };
  return startAndFollow(executions, argument, values);
}

/** Starts an execution; with `wait`, follows it to its end and reports it (the exit code says how it ended). */
async function startAndFollow(
  executions: Executions,
  argument: RunArgument,
  values: { wait: boolean; timeout?: string | undefined; json: boolean },
): Promise<number> {
  const started = await executions.start(argument);
  process.stderr.write(`execution ${started.id} started (${started.state})\n  ${started.links.console}\n`);
  if (!values.wait) {
    if (values.json) process.stdout.write(`${JSON.stringify(started)}\n`);
    else process.stdout.write(`${started.id}\n`);
    return 0;
  }
  const timeout =
    values.timeout === undefined ? undefined : parseNumberFlag(values.timeout, '--timeout') * 1000;
  const ended = await executions.wait(started.name, {
    ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    onChange: (view) => process.stderr.write(`${progressLine(view)}\n`),
  });
  return report(ended, values.json);
}

/**
 * Re-runs an execution: a new one with the same run id (and source and options), so the stages that
 * finished answer from their manifests and only the failed stage and the later ones work. `--from STAGE`
 * redoes that stage and the later ones even if they finished: their manifests in the run-data bucket
 * (ETL_BUCKET) are removed first, and the workflow gets `resume_from`.
 */
async function rerun(executions: Executions, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${cloudUsage}`);
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout needs --wait');
  const from = values.from;
  if (from !== undefined && !isResumableStage(from))
    throw new UsageError(`--from expects ${RESUMABLE_STAGES.join(', ')}, got ${JSON.stringify(from)}`);
  const bucket = process.env.ETL_BUCKET;
  if (from !== undefined && !bucket) {
    throw new UsageError(
      `--from ${from} removes the run's manifests from ${stagesFrom(from).join(', ')} in the run-data bucket: ` +
        'set ETL_BUCKET to its name (terraform output run_data_bucket)',
    );
  }

  const earlier = await executions.get(positionals[0]!);
  if (earlier.state === 'ACTIVE' || earlier.state === 'QUEUED') {
    throw new UsageError(
      `execution ${earlier.id} is still ${earlier.state}: wait for it to end (etl cloud status ${earlier.id}) before re-running it`,
    );
  }
  if (earlier.state === 'SUCCEEDED' && from === undefined) {
    throw new UsageError(
      `execution ${earlier.id} succeeded: nothing to re-run; --from STAGE redoes that stage and the later ones`,
    );
  }
  const argument = rerunArgument(earlier.argument, earlier.id, from);
  if (from !== undefined) {
    const store = await createBlobStore({
      ETL_MODE: 'gcp',
      ETL_DATA_DIR: '.etl',
      ETL_BUCKET: bucket,
      ...(process.env.GCP_PROJECT ? { GCP_PROJECT: process.env.GCP_PROJECT } : {}),
      ...(process.env.GCS_API_ENDPOINT ? { GCS_API_ENDPOINT: process.env.GCS_API_ENDPOINT } : {}),
    });
    const removed = await removeManifestsFrom(store, argument.run_id, from);
    process.stderr.write(
      `run ${argument.run_id}: redoing from ${from}` +
        (removed.length > 0
          ? ` (removed gs://${bucket}/${removed.join(`, gs://${bucket}/`)})`
          : ' (no manifest to remove)') +
        '\n',
    );
  }
  process.stderr.write(`re-running execution ${earlier.id} (${earlier.state}) as run ${argument.run_id}\n`);
  return startAndFollow(executions, argument, values);
}

async function status(executions: Executions, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`usage: ${cloudUsage}`);
  let view: ExecutionView | undefined;
  if (positionals[0]) view = await executions.get(positionals[0]);
  else {
    [view] = await executions.latest(1);
    if (!view) {
      process.stderr.write(`no executions of ${executions.parent} yet\n`);
      return 1;
    }
  }
  return report(view, values.json);
}

async function logs(executions: Executions, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${cloudUsage}`);
  // Read the execution: a typo in the id fails here (404) rather than giving links to nothing.
  const view = await executions.get(positionals[0]!);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ name: view.name, state: view.state, links: view.links })}\n`);
    return 0;
  }
  const out = process.stdout;
  out.write(`execution ${view.id} (${view.state})\n`);
  out.write(`workflow console: ${view.links.console}\n`);
  out.write(`execution logs:   ${view.links.logs}\n`);
  if (view.links.serviceLogs) out.write(`service logs:     ${view.links.serviceLogs}\n`);
  out.write(
    `gcloud logging read '${view.links.logsQuery.replaceAll('\n', ' ')}' --project ${executions.config.project}\n`,
  );
  return 0;
}

function progressLine(view: ExecutionView): string {
  const steps = view.currentSteps.length > 0 ? ` at ${view.currentSteps.join(', ')}` : '';
  return `execution ${view.id}: ${view.state}${steps}`;
}

/** Prints an execution (human or --json); the exit code says whether it failed. */
function report(view: ExecutionView, json: boolean): number {
  const failed = view.state === 'FAILED' || view.state === 'CANCELLED' || view.state === 'UNAVAILABLE';
  if (json) {
    process.stdout.write(`${JSON.stringify(view)}\n`);
    return failed ? 1 : 0;
  }
  const out = process.stdout;
  const took =
    view.startTime && view.endTime
      ? ` in ${Math.round((Date.parse(view.endTime) - Date.parse(view.startTime)) / 1000)} s`
      : '';
  out.write(`execution ${view.id}: ${view.state}${took} (started ${view.startTime ?? '?'})\n`);
  if (view.currentSteps.length > 0) out.write(`  running ${view.currentSteps.join(', ')}\n`);
  // The workflow's result: the summary `etl run` prints, without the CLI's own timing.
  const result = view.result as Partial<RunSummary> | null;
  if (result && typeof result === 'object') {
    out.write(`run ${result.runId}: ${result.status} (source ${result.source})\n`);
    if (result.datasetVersion) out.write(`dataset version ${result.datasetVersion}\n`);
    for (const t of result.tables ?? []) out.write(tableLine(t));
  }
  if (view.error) {
    const payload = view.error.payload as { message?: unknown; code?: unknown; tags?: unknown } | null;
    const message = payload && typeof payload === 'object' ? payload.message : payload;
    const code =
      payload && typeof payload === 'object' && payload.code != null ? ` (code ${payload.code})` : '';
    out.write(
      `error: ${String(message)}${code}${view.error.step ? ` (raised at step ${view.error.step})` : ''}\n`,
    );
  }
  out.write(`console: ${view.links.console}\nlogs:    ${view.links.logs}\n`);
  return failed ? 1 : 0;
}
