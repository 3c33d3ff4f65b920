/**
 * `etl profile local:PATH [--out FILE]`: profiles a table file (CSV or TSV; JSON, JSON lines, Parquet or a
 * workbook sheet, converted as the transformer converts them) or a folder of CSV files forming one table,
 * and writes a dataset profile (YAML) to edit and run with: `etl run --source local:PATH --profile FILE`.
 * Encoding, delimiter, quoting, header, column types and date formats are inferred; ambiguous date columns
 * are marked, not guessed; candidate keys, missing-value tokens and text issues are reported, and the column
 * roles (event time, amount, ...) are printed and written as a commented `roles:` block to edit.
 */
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TableFormat } from '@etl/common/contracts';
import { ROLE_NAMES, type Roles } from '@etl/common/roles';
import { classifyFile } from '@etl/extractor/files';
import { profileCsvFiles, profileTableFile } from '@etl/transformer/profiling';
import { resolveFromCaller, UsageError } from '../args';

export const profileUsage =
  'etl profile local:PATH [--out FILE] [--name NAME] [--table NAME] [--sheet NAME] [--sample-rows N]';

/**
 * What `local:PATH` is to profile: a folder's *.csv files in name order, or one table file with its format
 * (named by its extension, as the extractor names it); anything else is a UsageError saying why.
 */
export function profileSource(source: string): { files: string[]; format: TableFormat } {
  const files = listFiles(source);
  if (files.length > 1) return { files, format: 'delimited' };
  const kind = classifyFile(files[0]!);
  if (kind.kind === 'table') return { files, format: kind.format };
  if (kind.kind === 'zip')
    throw new UsageError(`${files[0]} is a zip archive: unzip it and profile the files inside`);
  if (kind.kind === 'gzip')
    throw new UsageError(`${files[0]} is gzip-compressed: decompress it and profile the file inside`);
  throw new UsageError(`${files[0]} is no table file to profile: ${kind.reason}`);
}

/**
 * The files of `local:PATH`: the file itself, or a folder's *.csv files in path order, in its subfolders too (a
 * Hive-partitioned table, `year=2023/month=01/part-0.csv`, as `etl run` reads it; the partition columns are
 * left to the run, which adds them).
 */
function listFiles(source: string): string[] {
  const raw = source.startsWith('local:') ? source.slice('local:'.length) : source;
  if (raw === '') throw new UsageError(`expected local:PATH\nusage: ${profileUsage}`);
  const target = resolveFromCaller(raw);
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(target);
  } catch {
    throw new UsageError(`${target} does not exist`);
  }
  if (stats.isDirectory()) {
    const files = readdirSync(target, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.toLowerCase().endsWith('.csv') && statSync(path.join(target, name)).isFile())
      .sort()
      .map((name) => path.join(target, name));
    if (files.length === 0) throw new UsageError(`${target} holds no .csv file, nor do its subfolders`);
    return files;
  }
  return [target];
}

/** The inferred roles, one a line: role, column, confidence, evidence (the profile's `roles:` overrides them). */
export function rolesReport(roles: Roles): string {
  const rows = ROLE_NAMES.flatMap((role) => {
    const match = roles[role];
    return match ? [[role, match.column ?? match.derived, match.confidence, match.evidence] as const] : [];
  });
  const dimensions = roles.dimensions.map((d) => ['dimension', d.column, d.confidence, d.evidence] as const);
  const lines = [...rows, ...dimensions].map(
    ([role, column, confidence, evidence]) =>
      `  ${role.padEnd(13)} ${column.padEnd(24)} ${confidence.toFixed(2)}  ${evidence}`,
  );
  const notes = roles.notes.map((note) => `  note: ${note}`);
  return `roles (set them in the profile's roles: to override):\n${[...lines, ...notes].join('\n') || '  none inferred'}\n`;
}

const shellQuote = (s: string): string =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;

export async function profileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      table: { type: 'string' },
      sheet: { type: 'string' },
      'sample-rows': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`expected one source\nusage: ${profileUsage}`);
  const { files, format } = profileSource(positionals[0]!);
  if (values.sheet !== undefined && format !== 'xlsx')
    throw new UsageError(`--sheet names a workbook sheet, and ${files[0]} is no workbook`);
  const sampleRows = values['sample-rows'] === undefined ? undefined : Number(values['sample-rows']);
  if (sampleRows !== undefined && (!Number.isInteger(sampleRows) || sampleRows < 1))
    throw new UsageError(
      `--sample-rows expects a positive integer, got ${JSON.stringify(values['sample-rows'])}`,
    );
  const options = {
    ...(values.name ? { name: values.name } : {}),
    ...(values.table ? { table: values.table } : {}),
    ...(sampleRows ? { sampleRows } : {}),
  };
  const result: Awaited<ReturnType<typeof profileTableFile>> =
    format === 'delimited'
      ? await profileCsvFiles(files, options)
      : await profileTableFile(files[0]!, format, {
          ...options,
          ...(values.sheet === undefined ? {} : { sheet: values.sheet }),
        });
  const err = process.stderr;
  const what =
    result.sheet !== undefined
      ? `sheet ${JSON.stringify(result.sheet)} of ${files[0]} (sheets with data: ${result.sheets?.join(', ')}; --sheet NAME picks one)`
      : files.length === 1
        ? files[0]
        : `${files.length} files`;
  const read =
    format === 'delimited'
      ? `encoding ${[...new Set(result.encodings)].join('/')}, delimiter ${JSON.stringify(result.dialect.delimiter)}, header ${result.dialect.header}`
      : `read as ${format === 'xlsx' ? 'a workbook' : format === 'json' ? 'JSON' : 'Parquet'}`;
  err.write(
    `profiled ${result.findings.rows} rows of ${what}: ${result.profile.columns?.length ?? 0} columns, ${read}\n`,
  );
  err.write(
    `candidate keys: ${result.findings.candidateKeys.map((k) => `(${k.join(', ')})`).join(' ') || 'none'}\n`,
  );
  err.write(rolesReport(result.roles));
  if (result.ambiguous.length > 0)
    err.write(
      `AMBIGUOUS date format in ${result.ambiguous.join(', ')}: set format in the profile before running with it\n`,
    );
  if (values.out) {
    const out = resolveFromCaller(values.out);
    await writeFile(out, result.yaml);
    const source = `local:${files.length === 1 ? files[0] : path.dirname(files[0]!)}`;
    err.write(
      `wrote ${out}; run with: etl run --source ${shellQuote(source)} --profile ${shellQuote(out)}\n`,
    );
  } else {
    process.stdout.write(result.yaml);
  }
  return 0;
}
