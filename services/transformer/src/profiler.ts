/**
 * Automatic profiling: what `etl profile local:PATH` writes, and what the transformer reports when no
 * profile is given. Over the parsed raw text (`numbered`, columns c0..cN, parse-csv.ts) it measures, per
 * column, the empty values, the missing tokens found, no-break spaces and doubled spaces, distinct values and the shape of
 * all-digit codes, and finds candidate keys (single columns, then pairs, unique and never empty over the
 * first rows). `profileCsvFiles` turns that, with the sniffed dialect and the inferred types, into a
 * profile the user can edit and re-run with.
 *
 * An ambiguous date column (both M/D/Y and D/M/Y read every value) is written `ambiguous: true` with its
 * candidate formats and no format: the profile does not load until the user picks one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataRejectedError } from '@etl/common/errors';
import { inferRoles, type Roles } from '@etl/common/roles';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse/sql';
import { normalizeColumnNames, toSnakeCase } from './column-names';
import { convertWithDuckDb, convertXlsx } from './convert-table-file';
import { isLegacyEncoding, type LegacyEncoding, type TextEncoding } from './detect-encoding';
import {
  aggregateRow,
  countWhere,
  type DuckDbSettings,
  planForColumns,
  queryRows,
  toCount,
  unpivotedAggregates,
  withDuckDb,
} from './duckdb-session';
import {
  type ColumnPlan,
  INFER_SAMPLE,
  inferColumnPlans,
  inferenceSampleRows,
  MISSING_TOKENS,
  trimmed,
} from './infer-types';
import { parseCsvFiles, rawColumn } from './parse-csv';
import {
  type PreparedFile,
  prepareLocalCsvFile,
  skipLeadingBytes,
  withEvenLineEndings,
} from './prepare-file';
import {
  type ColumnProfile,
  DEFAULT_MISSING_TOKENS,
  type ProfileInput,
  profileTypeOf,
  stringifyProfile,
} from './profile';
import { rolesComment } from './profile-roles';
import { readCsvHeader, readCsvStart, withoutTrailingEmptyNames } from './read-header';
import { columnsBrokenInText, inferFromEveryRow } from './retype-columns';
import { PROFILE_SAMPLE_ROWS } from './sample-rows';
import {
  type GroupRow,
  groupedHeader,
  SNIFF_BYTES,
  type SniffedDialect,
  sniffGroupRow,
  sniffPreamble,
  sniffTable,
} from './sniff-csv';

/** Most candidate keys reported. */
const MAX_KEYS = 10;
/** Columns considered for two-column keys (the most distinct ones). */
const PAIR_COLUMNS = 12;
/** Rows over which pairs are checked first. */
const PAIR_PREFIX_ROWS = 10_000;
/** A text column with at most this many values (and few relative to the rows) is categorical. */
const CATEGORICAL_MAX = 50;

export interface ColumnFindings {
  name: string;
  source: string;
  /** Non-empty values in the sample. */
  values: number;
  /** Empty values (after trimming). */
  empty: number;
  distinct: number;
  /** Missing tokens found, as written, with counts. */
  tokens: Record<string, number>;
  /** Values holding a no-break space (U+00A0 or U+202F). */
  nbsp: number;
  /** Values with two blanks in a row inside. */
  doubleSpaces: number;
  /** Values with blanks at either end. */
  edgeBlanks: number;
  /** All-digit values: how many, their shortest and longest length, and how many start with 0. */
  digits: { count: number; minLength: number; maxLength: number; leadingZeros: number };
}

export interface Findings {
  rows: number;
  sampleRows: number;
  columns: ColumnFindings[];
  /** Unique and never empty over the sample: single columns first, then pairs. */
  candidateKeys: string[][];
}

/** Per-column measurements over the first `sampleRows` rows of `numbered`. */
export async function measureColumns(
  connection: DuckDBConnection,
  plans: readonly ColumnPlan[],
  sampleRows: number,
): Promise<Findings> {
  const sample = `(SELECT * FROM numbered WHERE __rowid < ${sampleRows})`;
  const digits = (t: string) => `regexp_full_match(${t}, '[0-9]+')`;
  const row = await aggregateRow(
    connection,
    plans.map((_, i) => {
      const raw = quoteIdentifier(rawColumn(i));
      const t = trimmed(raw);
      return [
        `${countWhere(`${t} <> ''`)} AS v${i}`,
        `${countWhere(`${raw} IS NULL OR ${t} = ''`)} AS e${i}`,
        `count(DISTINCT ${t}) AS d${i}`,
        `${countWhere(`${raw} LIKE '%' || chr(160) || '%' OR ${raw} LIKE '%' || chr(8239) || '%'`)} AS nb${i}`,
        `${countWhere(`regexp_matches(${t}, '[ \\t]{2}')`)} AS ds${i}`,
        `${countWhere(`${raw} <> ${t}`)} AS eb${i}`,
        `${countWhere(digits(t))} AS dg${i}`,
        `min(CASE WHEN ${digits(t)} THEN length(${t}) END) AS dmin${i}`,
        `max(CASE WHEN ${digits(t)} THEN length(${t}) END) AS dmax${i}`,
        `${countWhere(`regexp_full_match(${t}, '0[0-9]+')`)} AS dz${i}`,
      ];
    }),
    (aggregates) => `SELECT count(*) AS n, ${aggregates.join(', ')} FROM ${sample}`,
  );
  const [total] = await queryRows(connection, 'SELECT count(*) AS n FROM numbered');
  const tokenRows = await queryRows(
    connection,
    plans
      .map(
        (_, i) =>
          `SELECT ${i} AS i, ${trimmed(quoteIdentifier(rawColumn(i)))} AS token, count(*) AS n FROM ${sample} WHERE lower(${trimmed(quoteIdentifier(rawColumn(i)))}) IN (${MISSING_TOKENS.map(quoteLiteral).join(', ')}) GROUP BY ALL`,
      )
      .join(' UNION ALL '),
  );
  const columns = plans.map((plan, i): ColumnFindings => {
    const tokens: Record<string, number> = {};
    for (const r of tokenRows.filter((r) => toCount(r['i']) === i))
      tokens[String(r['token'])] = toCount(r['n']);
    return {
      name: plan.name,
      source: plan.source,
      values: toCount(row[`v${i}`]),
      empty: toCount(row[`e${i}`]),
      distinct: toCount(row[`d${i}`]),
      tokens,
      nbsp: toCount(row[`nb${i}`]),
      doubleSpaces: toCount(row[`ds${i}`]),
      edgeBlanks: toCount(row[`eb${i}`]),
      digits: {
        count: toCount(row[`dg${i}`]),
        minLength: toCount(row[`dmin${i}`]),
        maxLength: toCount(row[`dmax${i}`]),
        leadingZeros: toCount(row[`dz${i}`]),
      },
    };
  });
  const n = toCount(row['n']);
  return {
    rows: toCount(total?.['n']),
    sampleRows: n,
    columns,
    candidateKeys: await findCandidateKeys(connection, plans, columns, n),
  };
}

/**
 * Candidate keys alone (the transformer's report without a profile), over the trimmed sample that
 * inference leaves (`INFER_SAMPLE`): distinct and empty counts, then pairs only when no single column
 * is a key.
 */
export async function candidateKeys(
  connection: DuckDBConnection,
  plans: readonly ColumnPlan[],
): Promise<string[][]> {
  const counts = await unpivotedAggregates(
    connection,
    plans.map((_, i) => `v${i}`),
    `count(*) AS n, ${countWhere(`value IS NULL OR value = ''`)} AS e, count(DISTINCT value) AS d`,
    INFER_SAMPLE,
  );
  const columns = counts.map((row) => ({ empty: toCount(row?.['e']), distinct: toCount(row?.['d']) }));
  const rows = toCount(counts[0]?.['n']);
  const singles = plans.flatMap((p, i) =>
    rows > 1 && columns[i]!.empty === 0 && columns[i]!.distinct === rows ? [[p.name]] : [],
  );
  if (singles.length > 0) return singles.slice(0, MAX_KEYS);
  return findCandidateKeys(connection, plans, columns, rows);
}

/**
 * Columns, then pairs of columns, whose trimmed values are unique and never empty over the inference
 * sample. A pair's distinct count is taken over a 64-bit hash of the two values (3x cheaper than over
 * the pair): a collision could only hide a key, with odds of about 1 in 10^9 at 100k rows.
 */
async function findCandidateKeys(
  connection: DuckDBConnection,
  plans: readonly ColumnPlan[],
  columns: ReadonlyArray<Pick<ColumnFindings, 'empty' | 'distinct'>>,
  rows: number,
): Promise<string[][]> {
  if (rows < 2) return [];
  const complete = (i: number): boolean => columns[i]!.empty === 0;
  const singles = plans.flatMap((p, i) => (complete(i) && columns[i]!.distinct === rows ? [[p.name]] : []));
  const others = plans
    .map((_, i) => i)
    .filter((i) => complete(i) && columns[i]!.distinct < rows && columns[i]!.distinct > 1)
    .sort((a, b) => columns[b]!.distinct - columns[a]!.distinct)
    .slice(0, PAIR_COLUMNS);
  const pairs: Array<[number, number]> = [];
  for (const [x, a] of others.entries())
    for (const b of others.slice(x + 1))
      if (columns[a]!.distinct * columns[b]!.distinct >= rows) pairs.push([a, b]);
  if (pairs.length === 0 || singles.length >= MAX_KEYS) return singles.slice(0, MAX_KEYS);
  // A pair repeated in the first rows is no key: most pairs are ruled out there, cheaply.
  const uniquePairs = async (candidates: Array<[number, number]>, limit: number) => {
    const counts = await unpivotedAggregates(
      connection,
      candidates.map(([a, b]) => `hash(v${a}, v${b})`),
      'count(*) AS n, count(DISTINCT value) AS d',
      `${INFER_SAMPLE} WHERE rowid < ${limit}`,
    );
    return candidates.filter((_, j) => toCount(counts[j]?.['d']) === toCount(counts[j]?.['n']));
  };
  const survivors = rows > PAIR_PREFIX_ROWS ? await uniquePairs(pairs, PAIR_PREFIX_ROWS) : pairs;
  const unique = (survivors.length > 0 ? await uniquePairs(survivors, rows) : []).map(([a, b]) => [
    plans[a]!.name,
    plans[b]!.name,
  ]);
  return [...singles, ...unique].slice(0, MAX_KEYS);
}

export interface ProfileCsvOptions {
  /** Scratch folder parent (OS temp folder by default). */
  tempDir?: string;
  duckdb?: DuckDbSettings;
  sampleRows?: number;
  /** Profile name (default: the first file's name in snake_case). */
  name?: string;
  /** Target table (default `sales`). */
  table?: string;
  /** The files as the user named them, for the profile's name and text (default: `files`). */
  sourceFiles?: readonly string[];
}

export interface ProfileCsvResult {
  profile: ProfileInput;
  /** The profile, with the inferred roles as a commented `roles:` block at the end. */
  yaml: string;
  /** Column roles inferred from the names and types (@etl/common/roles). */
  roles: Roles;
  findings: Findings;
  dialect: SniffedDialect;
  encodings: TextEncoding[];
  /** Columns whose date format could not be decided. */
  ambiguous: string[];
}

/** Local CSV files (one table) -> a profile and its YAML text. */
export async function profileCsvFiles(
  files: readonly string[],
  options: ProfileCsvOptions = {},
): Promise<ProfileCsvResult> {
  if (files.length === 0) throw new DataRejectedError('no CSV file to profile', {}, 'NO_FILES');
  const named = options.sourceFiles ?? files;
  const scratch = await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'etl-profile-'));
  try {
    const prepared: PreparedFile[] = [];
    for (const [i, file] of files.entries()) prepared.push(await prepareLocalCsvFile(file, scratch, i));
    const start = (await readCsvStart(prepared[0]!.path, SNIFF_BYTES)) ?? '';
    if (start === '')
      throw new DataRejectedError(`${named[0]} is empty: expected a CSV header line`, {}, 'EMPTY_FILE');
    const { dialect, preamble } = sniffTable(start, prepared[0]!.bytes <= SNIFF_BYTES);
    // Title lines above the header (a report export): skipped in each file; the first file's are the
    // profile's skipLines.
    // So is the upper row of a two-row header, whose names lead those below it, as `etl run` reads it.
    let groups: GroupRow | undefined;
    for (const [i, p] of prepared.entries()) {
      const own =
        i === 0
          ? preamble
          : sniffPreamble((await readCsvStart(p.path, SNIFF_BYTES)) ?? '', dialect, dialect.columns);
      if (own) p.path = await skipLeadingBytes(p.path, own.bytes);
      const group = dialect.header
        ? sniffGroupRow((await readCsvStart(p.path, SNIFF_BYTES)) ?? '', dialect, dialect.columns)
        : undefined;
      if (group) p.path = await skipLeadingBytes(p.path, group.bytes);
      if (i === 0) groups = group;
    }
    const written = (await readCsvHeader(prepared[0]!.path, dialect))!.map((h) => h.trim());
    const read = groups ? groupedHeader(groups.groups, written, groups.units) : written;
    const first = dialect.header ? withoutTrailingEmptyNames(read, dialect.columns).header : read;
    const header = dialect.header ? first : first.map((_, i) => `column_${i + 1}`);
    const names = normalizeColumnNames(header);
    const sampleRows = inferenceSampleRows(options.sampleRows ?? PROFILE_SAMPLE_ROWS, header.length);
    const profileOnce = () =>
      withDuckDb(options.duckdb ?? {}, scratch, async (connection) => {
        await planForColumns(connection, header.length);
        const inputs = prepared.map((p, i) => ({ path: p.path, key: files[i]! }));
        const parsed = await parseCsvFiles(connection, inputs, header.length, {
          delimiter: dialect.delimiter,
          quote: dialect.quote,
          ...(dialect.escape === undefined ? {} : { escape: dialect.escape }),
          header: dialect.header,
        });
        const rawColumns = header.map((_, i) => rawColumn(i));
        const sampling = { sampleRows, delimiter: dialect.delimiter };
        const sample = () => inferColumnPlans(connection, 'numbered', rawColumns, header, names, sampling);
        const inferred = await sample();
        // Columns the later rows break are typed from every row, as the transform does (retype-columns.ts);
        // then the sample is taken again, for the measures below. A file the sample holds whole has none.
        const rows = parsed.reduce((sum, p) => sum + p.rows, 0);
        const broken =
          rows > sampleRows ? await columnsBrokenInText(connection, 'numbered', rawColumns, inferred) : [];
        if (broken.length > 0) {
          const columns = { rawColumns, headers: header, names };
          const everyRow = await inferFromEveryRow(connection, 'numbered', broken, columns, sampling);
          await sample();
          everyRow(inferred);
        }
        const { plans } = inferred;
        const findings = await measureColumns(connection, plans, sampleRows);
        const encodings = prepared.map((p) => p.encoding);
        const profile = buildProfile(plans, findings, dialect, encodings, named, options, preamble?.lines);
        const ambiguous = plans.filter((p) => p.ambiguous).map((p) => p.name);
        const roles = inferRoles(plans.map((p) => ({ name: p.name, type: p.type })));
        const yaml = `${stringifyProfile(profile, summary(findings, encodings, dialect, ambiguous, named))}${rolesComment(roles)}\n`;
        return { profile, yaml, roles, findings, dialect, encodings, ambiguous };
      });
    // Lines ending unevenly (in both CRLF and LF, or in CR CR LF): evened to LF, and profiled again.
    return await withEvenLineEndings(
      prepared.map((p) => p.path),
      profileOnce,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface ProfileTableFileOptions extends ProfileCsvOptions {
  /** The workbook sheet to profile (default: the first with data rows). */
  sheet?: string;
}

/**
 * A JSON, JSON lines, Parquet or workbook file -> its profile: converted to CSV first, as the transformer
 * reads it (convert-table-file.ts), then profiled as that CSV. A workbook's sheet is `options.sheet`, else
 * its first with data rows; `sheets` names every sheet with data.
 */
export async function profileTableFile(
  file: string,
  format: 'json' | 'parquet' | 'xlsx',
  options: ProfileTableFileOptions = {},
): Promise<ProfileCsvResult & { sheet?: string; sheets?: string[] }> {
  const scratch = await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'etl-profile-'));
  try {
    const profiled = (csv: string) => profileCsvFiles([csv], { ...options, sourceFiles: [file] });
    if (format === 'xlsx') {
      const book = await convertXlsx(file, path.join(scratch, 'sheets'), file);
      const sheets = book.sheets.map((s) => s.sheet);
      const chosen =
        options.sheet === undefined ? book.sheets[0] : book.sheets.find((s) => s.sheet === options.sheet);
      if (!chosen)
        throw new DataRejectedError(
          `${file} has ${options.sheet === undefined ? 'no sheet' : `no sheet ${JSON.stringify(options.sheet)}`} with data rows (sheets with data: ${sheets.join(', ') || 'none'})`,
          {},
          'NO_SHEET',
        );
      return { ...(await profiled(chosen.path)), sheet: chosen.sheet, sheets };
    }
    const csv = path.join(scratch, 'converted.csv');
    const { rows } = await withDuckDb(options.duckdb ?? {}, scratch, (connection) =>
      convertWithDuckDb(connection, file, format, csv, file),
    );
    if (rows === 0) throw new DataRejectedError(`${file} holds no records`, {}, 'EMPTY_FILE');
    return await profiled(csv);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function buildProfile(
  plans: readonly ColumnPlan[],
  findings: Findings,
  dialect: SniffedDialect,
  encodings: readonly TextEncoding[],
  files: readonly string[],
  options: ProfileCsvOptions,
  skipLines: number | undefined,
): ProfileInput {
  const base = path.basename(files[0]!).replace(/\.[^.]+$/, '');
  const [first = 'utf-8'] = encodings;
  const legacy = (e: TextEncoding): e is 'windows-1252' | LegacyEncoding =>
    e === 'windows-1252' || isLegacyEncoding(e);
  const encoding =
    legacy(first) && encodings.every((e) => e === first)
      ? first
      : encodings.every((e) => e === 'utf-8' || e === 'utf-8-bom')
        ? 'utf-8'
        : 'auto';
  const columns = plans.map((plan, i): ColumnProfile => {
    const f = findings.columns[i]!;
    const column: ColumnProfile = { name: plan.name, source: plan.source, type: profileTypeOf(plan.type) };
    if (plan.type === 'DATE' || (plan.type === 'TIMESTAMP' && plan.format !== undefined)) {
      if (plan.ambiguous) {
        column.ambiguous = true;
        column.candidates = plan.candidates ?? [plan.format ?? '%m/%d/%Y'];
      } else column.format = plan.format!;
    }
    if (plan.thousands !== undefined) column.thousands = plan.thousands as ColumnProfile['thousands'];
    if (plan.decimal !== undefined) column.decimal = plan.decimal as ColumnProfile['decimal'];
    if (plan.currency !== undefined) column.currency = plan.currency;
    if (plan.percent) column.percent = true;
    // All-digit codes with a leading zero somewhere and one digit missing elsewhere: ZIP-like, pad them.
    const d = f.digits;
    if (
      plan.type === 'VARCHAR' &&
      d.count >= 0.98 * f.values &&
      d.leadingZeros > 0 &&
      d.maxLength - d.minLength === 1
    )
      column.pad = d.maxLength;
    // A text column holding NA-like tokens keeps them as values; say so explicitly.
    if (plan.type === 'VARCHAR' && Object.keys(f.tokens).length > 0) column.missingTokens = [];
    const text: NonNullable<ColumnProfile['text']> = {};
    if (plan.type === 'VARCHAR' && f.nbsp > 0) text.nbsp = true;
    if (plan.type === 'VARCHAR' && f.doubleSpaces > 0) text.collapseSpaces = true;
    if (Object.keys(text).length > 0) column.text = text;
    if (
      plan.type === 'VARCHAR' &&
      f.distinct > 1 &&
      f.distinct <= CATEGORICAL_MAX &&
      f.distinct <= 0.05 * Math.max(f.values, 1)
    )
      column.categorical = true;
    return column;
  });
  const key = findings.candidateKeys[0];
  const foundTokens = new Set(
    findings.columns.flatMap((f, i) => (plans[i]!.type === 'VARCHAR' ? [] : Object.keys(f.tokens))),
  );
  const tokens = [...new Set([...DEFAULT_MISSING_TOKENS, ...foundTokens])];
  return {
    name: options.name ?? (toSnakeCase(base) || 'dataset'),
    source: {
      files: files.length === 1 ? [path.basename(files[0]!)] : ['*.csv'],
      encoding,
      delimiter: dialect.delimiter,
      quote: dialect.quote,
      ...(dialect.escape === '\\' ? { escape: '\\' as const } : {}),
      header: dialect.header,
      ...(skipLines ? { skipLines } : {}),
    },
    ...(options.table ? { table: options.table } : {}),
    ...(key ? { primaryKey: key } : {}),
    missingTokens: tokens,
    columns,
    duplicates: { exact: 'drop', ignoreColumns: [], keys: [] },
    quality: { maxRejectRate: 0.1, checks: [] },
  };
}

function summary(
  findings: Findings,
  encodings: readonly TextEncoding[],
  dialect: SniffedDialect,
  ambiguous: readonly string[],
  files: readonly string[],
): string {
  const name = (d: string): string => (d === '\t' ? 'tab' : d);
  const lines = [
    `Profile written by \`etl profile\` from ${files.map((f) => path.basename(f)).join(', ')}: edit it, then`,
    '`etl run --source local:<file> --profile <this file>`.',
    `${findings.rows} rows (${findings.sampleRows} sampled); encoding ${[...new Set(encodings)].join(', ')}; delimiter ${name(dialect.delimiter)}; quote ${dialect.quote}; header ${dialect.header}; line endings ${dialect.lineEnding}.`,
    `Candidate keys (unique, never empty in the sample): ${findings.candidateKeys.map((k) => `[${k.join(', ')}]`).join(' ') || 'none'}.`,
  ];
  if (ambiguous.length > 0)
    lines.push(
      `AMBIGUOUS date columns (every value reads in more than one format): ${ambiguous.join(', ')}. Set their format and remove ambiguous; until then this profile does not load.`,
    );
  const issues = findings.columns.flatMap((f) => {
    const out: string[] = [];
    if (f.empty) out.push(`${f.name}: ${f.empty} empty`);
    for (const [t, n] of Object.entries(f.tokens)) out.push(`${f.name}: ${n} × ${JSON.stringify(t)}`);
    if (f.nbsp) out.push(`${f.name}: ${f.nbsp} with no-break spaces`);
    if (f.doubleSpaces) out.push(`${f.name}: ${f.doubleSpaces} with double spaces`);
    if (f.edgeBlanks) out.push(`${f.name}: ${f.edgeBlanks} with leading/trailing blanks`);
    return out;
  });
  if (issues.length > 0) lines.push(`Found: ${issues.join('; ')}.`);
  return lines.join('\n');
}
