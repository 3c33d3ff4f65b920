import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTRACT_MODES } from '@etl/common/contracts';
import { loadProfileFile } from '@etl/transformer/profile';
import { parseNumberFlag, resolveDataDir, resolveFromCaller, UsageError } from '../args';
import { errorReason, type RunSummary, runPipeline, type TableSummary } from '../run-pipeline';
import { createRunStore, isResumableStage, RESUMABLE_STAGES, readExtractedInput } from '../run-state';

export const runUsage = `etl run [--source sample|local:PATH|kaggle:OWNER/SLUG|gs://BUCKET/OBJECT|gs://BUCKET/PREFIX/] [--run-id ID] [--force]
        [--rows N] [--seed S] [--table NAME] [--tables GLOB=NAME,...] [--max-reject-rate R] [--profile NAME|FILE]
        [--contract discard_row|discard_value|evolve|freeze] [--allow-shrink]
        [--resume RUN_ID [--from extract|transform|load]] [--data-dir DIR] [--json]`;

/** `local:` paths are relative to where the user typed the command; the services run elsewhere. */
export function normalizeSource(source: string): string {
  if (source === 'sample' || source.startsWith('kaggle:') || source.startsWith('gs://')) return source;
  if (source.startsWith('local:')) return `local:${resolveFromCaller(source.slice('local:'.length))}`;
  throw new UsageError(
    `unknown source ${JSON.stringify(source)}: expected sample, local:PATH or kaggle:OWNER/SLUG`,
  );
}

/** The flags that describe one pipeline run; `etl schedule` and `etl watch` accept them too. */
export const RUN_FLAGS = {
  source: { type: 'string' },
  force: { type: 'boolean', default: false },
  rows: { type: 'string' },
  seed: { type: 'string' },
  table: { type: 'string' },
  tables: { type: 'string' },
  'max-reject-rate': { type: 'string' },
  contract: { type: 'string' },
  'allow-shrink': { type: 'boolean', default: false },
  profile: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

type RunFlagValues = {
  source?: string | undefined;
  force?: boolean | undefined;
  rows?: string | undefined;
  seed?: string | undefined;
  table?: string | undefined;
  tables?: string | undefined;
  'max-reject-rate'?: string | undefined;
  contract?: string | undefined;
  'allow-shrink'?: boolean | undefined;
  profile?: string | undefined;
};

/** The workflow's `options` from the stage flags (table, quality gate, sample size), for etl run and etl cloud run. */
export function stageOptions(
  values: Pick<
    RunFlagValues,
    'table' | 'tables' | 'max-reject-rate' | 'rows' | 'seed' | 'contract' | 'allow-shrink'
  >,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (values.contract !== undefined) {
    if (!(CONTRACT_MODES as readonly string[]).includes(values.contract))
      throw new UsageError(
        `--contract expects one of ${CONTRACT_MODES.join(', ')}, got ${JSON.stringify(values.contract)}`,
      );
    options.contract = values.contract;
  }
  if (values['allow-shrink']) options.allowShrink = true;
  if (values.table) options.table = values.table;
  if (values.tables) options.tables = parseTablesFlag(values.tables);
  if (values['max-reject-rate'] !== undefined)
    options.maxRejectRate = parseNumberFlag(values['max-reject-rate'], '--max-reject-rate');
  if (values.rows !== undefined || values.seed !== undefined) {
    options.sample = {
      ...(values.rows === undefined ? {} : { rows: parseNumberFlag(values.rows, '--rows') }),
      ...(values.seed === undefined ? {} : { seed: parseNumberFlag(values.seed, '--seed') }),
    };
  }
  return options;
}

/** `--tables "train*.csv=weekly_sales,stores.csv=stores"` -> the transformer's `tables` mapping. */
export function parseTablesFlag(value: string): Record<string, string> {
  const tables: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const at = pair.lastIndexOf('=');
    const glob = pair.slice(0, at).trim();
    const name = pair.slice(at + 1).trim();
    if (at <= 0 || !/^[a-z][a-z0-9_]{0,62}$/.test(name))
      throw new UsageError(
        `--tables expects GLOB=NAME pairs separated by commas, NAME a table name (lower-case letters, digits, _), got ${JSON.stringify(pair)}`,
      );
    tables[glob] = name;
  }
  return tables;
}

/** The stage options and service environment the run flags ask for. */
export async function runSettings(
  values: RunFlagValues,
): Promise<{ options: Record<string, unknown>; serviceEnv: Record<string, string> }> {
  const options = stageOptions(values);
  const serviceEnv: Record<string, string> = {};
  if (values.profile !== undefined) {
    const profile = await resolveProfile(values.profile);
    options.profile = profile.name;
    if (profile.dir) serviceEnv.PROFILES_DIR = profile.dir;
  }
  return { options, serviceEnv };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...RUN_FLAGS,
      'run-id': { type: 'string' },
      resume: { type: 'string' },
      from: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const { options, serviceEnv } = await runSettings(values);
  const dataDir = resolveDataDir(values['data-dir']);
  let source = values.source === undefined ? undefined : normalizeSource(values.source);
  let runId = values['run-id'];
  const resumeFrom = values.from;
  if (resumeFrom !== undefined && values.resume === undefined)
    throw new UsageError('--from needs --resume RUN_ID: it names the stage of that run to redo from');
  if (resumeFrom !== undefined && !isResumableStage(resumeFrom))
    throw new UsageError(`--from expects ${RESUMABLE_STAGES.join(', ')}, got ${JSON.stringify(resumeFrom)}`);
  if (values.resume !== undefined) {
    if (runId !== undefined) throw new UsageError('--resume RUN_ID already names the run: drop --run-id');
    runId = values.resume;
    // The run's own input, so that the extractor answers from its manifest instead of refusing a
    // different source for the same run id (409).
    const input = await readExtractedInput(
      await createRunStore(dataDir, { ...process.env, ...serviceEnv }),
      runId,
    );
    if (input) {
      if (source !== undefined && source !== input.source)
        throw new UsageError(
          `run ${runId} extracted ${input.source} (${input.manifestKey}), not ${source}: drop --source to resume it`,
        );
      source = input.source;
      if (input.sample && options.sample === undefined) options.sample = input.sample;
    } else if (source === undefined) {
      throw new UsageError(
        `run ${runId} has no extract manifest in ${dataDir}: pass --source with the run's source to resume it`,
      );
    }
  }
  const summary = await runPipeline({
    source: source ?? 'sample',
    dataDir,
    ...(Object.keys(serviceEnv).length > 0 ? { serviceEnv } : {}),
    runId,
    ...(resumeFrom !== undefined && isResumableStage(resumeFrom) ? { resumeFrom } : {}),
    force: values.force,
    options,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    printSummary(summary);
  }
  return summary.status === 'failed' ? 1 : 0;
}

export function printSummary(summary: RunSummary): void {
  const out = process.stdout;
  out.write(
    `run ${summary.runId}: ${summary.status} in ${summary.durationMs} ms (source ${summary.source})\n`,
  );
  if (summary.datasetVersion) out.write(`dataset version ${summary.datasetVersion}\n`);
  for (const t of summary.tables) out.write(tableLine(t));
  for (const f of summary.skippedFiles ?? []) out.write(`  skipped ${f.name}: ${f.reason}\n`);
  for (const t of summary.tablesNotInVersion ?? []) out.write(notInVersionLine(t));
  if (summary.analysis) out.write(analysisLine(summary.analysis));
  if (summary.error) out.write(`error: ${errorReason(summary.error)}\n`);
}

/** One table of a run summary, as `etl run` and `etl cloud status` print it. */
export function tableLine(t: TableSummary): string {
  const files = t.files ?? [];
  const from =
    files.length === 0
      ? ''
      : ` (from ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''})`;
  const replaced = t.rowsReplaced ? `, ${t.rowsReplaced} replaced` : '';
  const changes = (t.schemaChanges ?? []).map((c) => `    schema: ${c.message}\n`).join('');
  const notes = (t.notes ?? []).map((n) => `    note: ${n.message}\n`).join('');
  const guesses = (t.guesses ?? []).map((g) => `    guess: ${g.message}\n`).join('');
  return `  ${t.name}: ${t.rowsIn} in, ${t.rowsLoaded} loaded, ${t.rowsQuarantined} quarantined, ${t.rowsDuplicate} duplicates${replaced}${from}\n${changes}${notes}${guesses}`;
}

/** A table an earlier version loaded and this one has no file for, as `etl run` prints it. */
export function notInVersionLine(t: NonNullable<RunSummary['tablesNotInVersion']>[number]): string {
  const version = t.version === null ? 'an unknown version' : `version ${t.version.slice(0, 12)}`;
  return `  not in this version: ${t.name} keeps its ${t.rows} rows of ${version} (no file of this version loads into it)\n`;
}

/** The ML stage of a run summary, as `etl run` prints it. */
export function analysisLine(analysis: NonNullable<RunSummary['analysis']>): string {
  // Outputs skipped for one reason (no event time: every output) share one line.
  const byReason = new Map<string, string[]>();
  for (const s of analysis.skipped ?? [])
    byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.output]);
  const skipped = [...byReason].map(([reason, outputs]) => `${outputs.join(', ')} skipped: ${reason}`);
  const details = [analysis.reason, analysis.sales?.evidence, ...skipped].filter(Boolean).join('; ');
  return `analysis: ${analysis.status}${details ? ` (${details})` : ''}\n`;
}

/**
 * `--profile NAME` names a profile in the transformer's PROFILES_DIR (<repo>/profiles); `--profile FILE` (a
 * path, or a name ending in .yaml) is checked here, so a mistake shows with its line before any service
 * starts, and its folder becomes the transformer's PROFILES_DIR for this run.
 */
export async function resolveProfile(value: string): Promise<{ name: string; dir?: string }> {
  const isFile = /[\\/]/.test(value) || /\.ya?ml$/i.test(value);
  if (!isFile) return { name: value };
  const file = resolveFromCaller(value);
  if (!existsSync(file)) throw new UsageError(`--profile: ${file} does not exist`);
  const loaded = await loadProfileFile(file);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(loaded.name))
    throw new UsageError(
      `--profile: the transformer finds profiles by file name, and ${JSON.stringify(loaded.name)} is not a valid one: rename ${file} to letters, digits, _ . - (e.g. ${
        loaded.name
          .replace(/[^A-Za-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .toLowerCase() || 'profile'
      }.yaml)`,
    );
  return { name: loaded.name, dir: path.dirname(file) };
}
