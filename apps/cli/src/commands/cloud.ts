/**
 * `etl cloud`: drive the workflow deployed on Google Cloud (Cloud Workflows) from the command line: start
 * an execution with the same argument `etl run` gives the local runner, follow it, read its outcome, and
 * find its logs. Configuration: GCP_PROJECT, GCP_REGION (or WORKFLOW_REGION), WORKFLOW_NAME (default etl),
 * WORKFLOWS_API_ENDPOINT (emulator/test fake only).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../args';
import { parseCloudConfig } from '../cloud/cloud-config';
import { Executions, type ExecutionView, type RunArgument } from '../cloud/executions';

export const cloudUsage = `etl cloud run [--source sample|kaggle:OWNER/SLUG|gs://BUCKET/OBJECT] [--run-id ID] [--force]
        [--rows N] [--seed S] [--table NAME] [--max-reject-rate R] [--wait [--timeout SECONDS]] [--json]
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
      'max-reject-rate': { type: 'string' },
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
  const options: Record<string, unknown> = {};
  if (values.table) options.table = values.table;
  if (values['max-reject-rate'] !== undefined)
    options.maxRejectRate = toNumber(values['max-reject-rate'], '--max-reject-rate');
  if (values.rows !== undefined || values.seed !== undefined) {
    options.sample = {
      ...(values.rows === undefined ? {} : { rows: toNumber(values.rows, '--rows') }),
      ...(values.seed === undefined ? {} : { seed: toNumber(values.seed, '--seed') }),
    };
  }
  // The shape `etl run` passes to the local runner; unset keys take the workflow's defaults
  // (source "sample", run_id = the execution id).
  const argument: RunArgument = {
    ...(values.source === undefined ? {} : { source: cloudSource(values.source) }),
    ...(values['run-id'] === undefined ? {} : { run_id: values['run-id'] }),
    force: values.force,
    options,
  };
  const started = await executions.start(argument);
  process.stderr.write(`execution ${started.id} started (${started.state})\n  ${started.links.console}\n`);
  if (!values.wait) {
    if (values.json) process.stdout.write(`${JSON.stringify(started)}\n`);
    else process.stdout.write(`${started.id}\n`);
    return 0;
  }
  const timeout = values.timeout === undefined ? undefined : toNumber(values.timeout, '--timeout') * 1000;
  const ended = await executions.wait(started.name, {
    ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    onChange: (view) => process.stderr.write(`${progressLine(view)}\n`),
  });
  return report(ended, values.json);
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
  const result = view.result as {
    runId?: string;
    status?: string;
    source?: string;
    datasetVersion?: string | null;
    tables?: Array<{
      name: string;
      rowsIn: number;
      rowsLoaded: number;
      rowsQuarantined: number;
      rowsDuplicate: number;
    }>;
  } | null;
  if (result && typeof result === 'object') {
    out.write(`run ${result.runId}: ${result.status} (source ${result.source})\n`);
    if (result.datasetVersion) out.write(`dataset version ${result.datasetVersion}\n`);
    for (const t of result.tables ?? []) {
      out.write(
        `  ${t.name}: ${t.rowsIn} in, ${t.rowsLoaded} loaded, ${t.rowsQuarantined} quarantined, ${t.rowsDuplicate} duplicates\n`,
      );
    }
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

function toNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got ${JSON.stringify(value)}`);
  return n;
}
