/**
 * The transform stage: the raw CSV files of a run -> one cleaned, typed Arrow IPC table, a quarantine
 * table of every rejected row with its reason, a report, and the manifest (written last: its presence
 * means done). All row work happens in one in-memory DuckDB per request; JavaScript only moves bytes.
 *
 * Row accounting is exact and checked: rowsIn = rowsOut + rowsQuarantined + rowsDuplicate.
 *
 * Without a profile everything is inferred (dialect, header, types). With one (`profile` in the request, a
 * YAML file in PROFILES_DIR), the profile's types, formats, text rules, missing-value strategies, keys and
 * checks apply on top (refine.ts), and `ml` adds feature tables (features.ts) to the response.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeArrowBatchesStream, writeArrowTable, writeArrowTableStream } from '@etl/common/arrow';
import {
  type ExtractResponse,
  extractResponseSchema,
  type TransformRequest,
  type TransformResponse,
  transformRequestSchema,
  transformResponseSchema,
} from '@etl/common/contracts';
import {
  ConflictError,
  DataRejectedError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PipelineError,
} from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import {
  type BlobStore,
  getJson,
  manifestKey,
  putJson,
  quarantineKey,
  reportKey,
  stagedKey,
} from '@etl/common/storage';
import { quoteLiteral } from '@etl/common/warehouse';
import type { z } from 'zod';
import { applyProfile, type ProfiledColumns } from './apply-profile';
import { BatchCounts } from './batch-counts';
import {
  createDuplicatesTableSql,
  createQuarantineTableSql,
  invalidCountsSql,
  markDuplicatesSql,
  stagedQuerySql,
  typedRowsSql,
} from './clean-sql';
import { normalizeColumnNames } from './column-names';
import { defaultProfilesDir } from './config';
import { type DuckDbSettings, queryRows, toCount, withDuckDb } from './duckdb-session';
import { queryToArrow, queryToArrowStream } from './duckdb-to-arrow';
import { checkFeatureTables, featureTables } from './features';
import {
  type ColumnPlan,
  DEFAULT_SAMPLE_ROWS,
  INFER_SAMPLE,
  inferColumnPlans,
  TYPE_THRESHOLD,
} from './infer-types';
import {
  csvError,
  csvRelation,
  numberRows,
  type ParseDialect,
  type ParsedCsvFile,
  rawColumn,
  readCsvRows,
} from './parse-csv';
import { type PreparedFile, prepareCsvFile } from './prepare-file';
import { type LoadedProfile, loadProfile, mlOptions } from './profile';
import { candidateKeys as findCandidateKeys } from './profiler';
import { readCsvHeader, readCsvStart } from './read-header';
import { createNfkcMaps, qualityChecks, type RefineResult, refineRows, stagedRowsSql } from './refine';
import {
  type ColumnReport,
  type DialectReport,
  type DuplicateExample,
  type FeatureReport,
  type FileReport,
  formatPercent,
  LINE_NUMBERING,
  type TransformReport,
  type TransformTimings,
} from './report';
import { SNIFF_BYTES, sniffDialect } from './sniff-csv';

export interface TransformDeps {
  store: BlobStore;
  logger: Logger;
  /** Parent folder of the per-request scratch folder; the OS temp folder by default. */
  tempDir?: string;
  duckdb?: DuckDbSettings;
  /** Rows read for type inference; 100,000 by default. */
  sampleRows?: number;
  /** Folder of the profiles a request can name; `<repo>/profiles` by default. */
  profilesDir?: string;
  /** Largest total size of a run's raw CSV files (413 above it); no limit when unset. */
  maxInputBytes?: number;
}

export type TransformInput = z.input<typeof transformRequestSchema>;

const DUPLICATE_EXAMPLES = 20;

/**
 * Widest table accepted: BigQuery's 10,000 columns per table minus the 4 lineage columns. Found by the
 * CSV fuzz test: a 100,000-column line used to run DuckDB out of memory before answering.
 */
export const MAX_COLUMNS = 10_000 - 4;

/** Files of the extract manifest the transformer reads. */
const isCsvFile = (name: string): boolean => name.toLowerCase().endsWith('.csv');

/** A profile's `source.files` glob (`*`, `?`) against a raw file name (its base name, or the full path). */
function matchesGlob(name: string, glob: string): boolean {
  const pattern = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '[^/]*')
      .replaceAll('?', '[^/]')}$`,
    'i',
  );
  return pattern.test(name) || pattern.test(name.split('/').pop() ?? name);
}

export async function transform(input: TransformInput, deps: TransformDeps): Promise<TransformResponse> {
  const request = parseRequest(input);
  const { runId } = request;
  const loaded = request.profile
    ? await loadProfile(request.profile, deps.profilesDir ?? defaultProfilesDir())
    : undefined;
  const profile = loaded?.profile;
  // An explicit request value wins over the profile's, which wins over the default.
  const table = input.table ?? profile?.table ?? request.table;
  const maxRejectRate = input.maxRejectRate ?? profile?.quality.maxRejectRate ?? request.maxRejectRate;
  const keys = {
    manifest: manifestKey(runId, 'transform'),
    report: reportKey(runId, 'transform'),
    staged: stagedKey(runId, table),
    quarantine: quarantineKey(runId, table),
    extract: manifestKey(runId, 'extract'),
  };
  const logger = deps.logger.child({ runId, stage: 'transform', table });

  if (await deps.store.exists(keys.manifest)) {
    const done = transformResponseSchema.parse(await getJson(deps.store, keys.manifest));
    const names = done.tables.map((t) => t.name);
    if (!names.includes(table)) {
      throw new ConflictError(
        `run ${runId} was already transformed into table ${names.join(', ')}, not ${table}; see ${keys.manifest}`,
        { runId, objectKey: keys.manifest },
      );
    }
    if ((done.profile ?? null) !== (request.profile ?? null)) {
      throw new ConflictError(
        `run ${runId} was already transformed with ${done.profile ? `profile ${done.profile}` : 'no profile'}, not ${request.profile ? `profile ${request.profile}` : 'without one'}; see ${keys.manifest}`,
        { runId, objectKey: keys.manifest },
      );
    }
    logger.info({ manifestKey: keys.manifest }, 'already transformed: returning the stored manifest');
    return done;
  }

  const extract = await readExtractManifest(deps.store, runId, keys.extract);
  const globs = profile?.source.files;
  const csvFiles = extract.files.filter((file) =>
    globs ? globs.some((glob) => matchesGlob(file.name, glob)) : isCsvFile(file.name),
  );
  if (csvFiles.length === 0) {
    const found = extract.files.map((f) => f.name).join(', ') || 'no files';
    throw new DataRejectedError(
      globs
        ? `run ${runId} has no file matching ${globs.join(', ')} of profile ${loaded!.file}: its extract manifest lists ${found}`
        : `run ${runId} has no CSV file to transform: its extract manifest lists ${found}`,
      {
        runId,
        objectKey: keys.extract,
      },
    );
  }
  const inputBytes = csvFiles.reduce((sum, f) => sum + f.bytes, 0);
  if (deps.maxInputBytes !== undefined && inputBytes > deps.maxInputBytes) {
    throw new PayloadTooLargeError(
      `run ${runId} has ${inputBytes} bytes of CSV to transform (${csvFiles.map((f) => `${f.name} ${f.bytes}`).join(', ')}), above the limit MAX_INPUT_BYTES = ${deps.maxInputBytes} bytes`,
      { runId, objectKey: keys.extract, details: { inputBytes, maxInputBytes: deps.maxInputBytes } },
      'INPUT_TOO_LARGE',
    );
  }

  logger.info({ files: csvFiles.map((f) => f.key) }, 'transforming');
  const startedAt = new Date();
  const clock = stopwatch();
  const scratch = await mkdtemp(path.join(deps.tempDir ?? tmpdir(), 'etl-transform-'));
  try {
    // 1. Bytes -> local UTF-8 files, and one shared header.
    const prepared: PreparedFile[] = [];
    let budget = deps.maxInputBytes;
    for (const [index, file] of csvFiles.entries()) {
      const options = {
        encoding: profile?.source.encoding ?? 'auto',
        ...(budget === undefined
          ? {}
          : { maxBytes: budget, limitName: 'MAX_INPUT_BYTES', limitBytes: deps.maxInputBytes }),
      } as const;
      const file_ = await prepareCsvFile(deps.store, file.key, scratch, index, options);
      if (budget !== undefined) budget -= file_.bytes;
      prepared.push(file_);
    }
    const dialect = await chooseDialect(prepared, csvFiles, loaded);
    const fileHeader = await readSharedHeader(prepared, csvFiles, dialect);
    if (fileHeader.length > MAX_COLUMNS) {
      throw new DataRejectedError(
        `raw file ${csvFiles[0]!.key} has ${fileHeader.length} columns, more than the limit of ${MAX_COLUMNS} (a BigQuery table holds at most 10,000 columns, 4 of them lineage)`,
        {
          runId,
          objectKey: csvFiles[0]!.key,
          details: { columns: fileHeader.length, maxColumns: MAX_COLUMNS },
        },
        'TOO_MANY_COLUMNS',
      );
    }
    const header = dialect.header ? fileHeader : fileHeader.map((_, i) => `column_${i + 1}`);
    const names = normalizeColumnNames(header);
    const timings: Partial<TransformTimings> = { prepare: clock.lap() };

    return await withDuckDb(deps.duckdb ?? {}, scratch, async (connection) => {
      // 2. Types, from the first rows of the files.
      const inputs = prepared.map((p, i) => ({ path: p.path, key: csvFiles[i]!.key }));
      const allText = csvRelation(
        inputs.map((f) => f.path),
        header.length,
        dialect,
        false,
      );
      const rawColumns = header.map((_, i) => rawColumn(i));
      const sampleRows = deps.sampleRows ?? DEFAULT_SAMPLE_ROWS;
      const inferred = await inferColumnPlans(
        connection,
        allText,
        rawColumns,
        header,
        names,
        sampleRows,
      ).catch((error: unknown) => {
        throw csvError(error, inputs);
      });
      const profiled: ProfiledColumns | undefined =
        loaded &&
        applyProfile(
          inferred.plans,
          inferred.stats,
          loaded.profile,
          loaded.file,
          csvFiles.map((f) => f.key),
        );
      const plans = profiled?.plans ?? inferred.plans;
      const ml = profile && mlOptions(profile);
      if (ml && profiled) checkFeatureTables(table, ml, profiled.roles, plans, loaded!.file);
      // Without a profile: candidate keys for the report (a profile states its own).
      const candidateKeys = profile ? undefined : await findCandidateKeys(connection, plans);
      timings.infer = clock.lap();

      // 3. Parse and type in one pass: the rows are typed as DuckDB reads them, malformed records kept aside.
      await createNfkcMaps(connection, profiled?.nfkc ?? [], allText);
      const read = await readCsvRows(
        connection,
        inputs,
        header.length,
        dialect,
        'typed_rows',
        (relation, i) =>
          typedRowsSql(plans, relation, i, {
            rawTextOfAll: profiled !== undefined,
            nfkc: profiled?.nfkc ?? [],
          }),
      );
      const parsed = read.files;
      const typed = await numberRows(connection, 'typed_rows', 'typed', read, dialect.header ? 1 : 0);
      await connection.run('CREATE TABLE files (__file INTEGER, name VARCHAR)');
      await connection.run(
        `INSERT INTO files VALUES ${csvFiles.map((f, i) => `(${i}, ${quoteLiteral(f.name)})`).join(', ')}`,
      );
      const rowsIn = parsed.reduce((sum, p) => sum + p.rows + p.unparseable, 0);
      if (rowsIn === 0) {
        throw new DataRejectedError(
          `run ${runId} has no data rows for table ${table}: ${csvFiles.map((f) => f.key).join(', ')} hold a header and nothing else`,
          { runId, details: { files: csvFiles.map((f) => f.key) } },
          'EMPTY_TABLE',
        );
      }
      timings.parse = clock.lap();

      // 4. Clean, quarantine, dedupe.
      let refined: RefineResult | undefined;
      let rowsDuplicate: number;
      if (profiled && loaded) {
        refined = await refineRows(connection, {
          plans,
          columns: profiled.columns,
          profile: loaded.profile,
          profileFile: loaded.file,
        });
        await connection.run(createQuarantineTableSql('rejected'));
        rowsDuplicate = refined.exactDropped ? refined.exactDuplicates : 0;
        await connection.run(
          `CREATE TABLE staged_rows AS ${stagedRowsSql({ plans, columns: profiled.columns, profile: loaded.profile, profileFile: loaded.file })}`,
        );
      } else {
        await connection.run(createDuplicatesTableSql(plans));
        await connection.run(createQuarantineTableSql());
        const [dupCount] = await queryRows(connection, 'SELECT count(*) AS n FROM duplicates');
        rowsDuplicate = toCount(dupCount?.['n']);
        if (rowsDuplicate > 0) await connection.run(markDuplicatesSql(typed));
      }
      timings.clean = clock.lap();

      // 5. Outputs.
      await connection.run(`DROP TABLE IF EXISTS ${INFER_SAMPLE}`);
      const stagedSql = refined ? 'SELECT * FROM staged_rows' : stagedQuerySql(plans);
      const quarantine = await queryToArrow(
        connection,
        'SELECT line, raw, reason, message, file FROM quarantine',
        path.join(scratch, 'quarantine.parquet'),
      );
      const [out] = await queryRows(connection, `SELECT count(*) AS n FROM (${stagedSql})`);
      const rowsOut = toCount(out?.['n']);
      const rowsQuarantined = quarantine.numRows;
      const counts = { rowsIn, rowsOut, rowsQuarantined, rowsDuplicate };
      const accountingFailed = (written: number) =>
        new PipelineError(
          'ROW_ACCOUNTING_FAILED',
          500,
          false,
          `row accounting failed for run ${runId}, table ${table}: ${rowsIn} rows in, but ${written} out + ${rowsQuarantined} quarantined + ${rowsDuplicate} duplicates = ${written + rowsQuarantined + rowsDuplicate}`,
          { runId, details: { ...counts, rowsOut: written } },
        );
      if (rowsIn !== rowsOut + rowsQuarantined + rowsDuplicate) throw accountingFailed(rowsOut);
      const staged = await queryToArrowStream(connection, stagedSql, path.join(scratch, 'staged.parquet'), {
        scanOnly: true,
      });
      const stagedCounts = new BatchCounts(staged.schema);
      await deps.store.put(
        keys.staged,
        writeArrowBatchesStream(staged.schema, stagedCounts.count(staged.batches)),
        { contentType: 'application/vnd.apache.arrow.file' },
      );
      // No report or manifest names the file until this holds: a mismatch leaves nothing a loader reads.
      if (stagedCounts.rows !== rowsOut) throw accountingFailed(stagedCounts.rows);
      await deps.store.put(keys.quarantine, writeArrowTableStream(quarantine), {
        contentType: 'application/vnd.apache.arrow.file',
      });
      timings.write = clock.lap();

      // 6. Feature tables (profile `ml`), each with an empty quarantine so that every table the response
      // lists has both objects.
      const features: FeatureReport[] = [];
      const featureNotes =
        ml && profiled
          ? await featureTables(connection, table, ml, profiled.roles, plans, profiled.columns)
          : undefined;
      if (featureNotes) {
        const emptyQuarantine = writeArrowTable(
          await queryToArrow(
            connection,
            'SELECT line, raw, reason, message, file FROM quarantine WHERE false',
            path.join(scratch, 'empty.parquet'),
          ),
        );
        for (const feature of featureNotes.tables) {
          const arrow = await queryToArrow(
            connection,
            feature.sql,
            path.join(scratch, `${feature.name}.parquet`),
          );
          const featureKeys = {
            staged: stagedKey(runId, feature.name),
            quarantine: quarantineKey(runId, feature.name),
          };
          await deps.store.put(featureKeys.staged, writeArrowTableStream(arrow), {
            contentType: 'application/vnd.apache.arrow.file',
          });
          await deps.store.put(featureKeys.quarantine, emptyQuarantine, {
            contentType: 'application/vnd.apache.arrow.file',
          });
          features.push({
            name: feature.name,
            kind: feature.kind,
            rows: arrow.numRows,
            columns: arrow.schema.fields.map((f) => f.name),
            stagedKey: featureKeys.staged,
            quarantineKey: featureKeys.quarantine,
          });
        }
        timings.features = clock.lap();
      }

      const rejectRate = rowsQuarantined / rowsIn;
      const checks =
        profile && refined
          ? qualityChecks({ profile, rowsIn, rowsOut, rejectRate, maxRejectRate, refined })
          : undefined;
      const quality = {
        passed:
          rejectRate <= maxRejectRate && !(checks ?? []).some((c) => c.severity === 'error' && !c.passed),
        rejectRate,
        maxRejectRate,
        ...(checks ? { checks } : {}),
      };
      const report: TransformReport = {
        runId,
        stage: 'transform',
        table,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        counts,
        quality,
        outputs: { stagedKey: keys.staged, quarantineKey: keys.quarantine },
        profile: loaded
          ? { name: loaded.name, file: loaded.file, absentColumns: profiled?.absent ?? [] }
          : null,
        dialect: dialectReport(dialect),
        files: fileReports(csvFiles, prepared, parsed),
        columns: await columnReports(connection, plans, stagedCounts, profiled),
        reasons: await reasonCounts(connection),
        duplicates: {
          count: refined ? refined.exactDuplicates : rowsDuplicate,
          dropped: refined ? refined.exactDropped : true,
          examples: await duplicateExamples(connection),
          ...(refined ? { keys: refined.keyDuplicates } : {}),
        },
        ...(candidateKeys ? { candidateKeys } : {}),
        ...(featureNotes ? { features, featureNotes: featureNotes.notes } : {}),
        inference: { sampleRows, threshold: TYPE_THRESHOLD },
        lineNumbering: LINE_NUMBERING,
        timingsMs: { ...(timings as TransformTimings), total: clock.total() },
      };
      await putJson(deps.store, keys.report, report);
      logger.info({ ...counts, rejectRate, timingsMs: report.timingsMs }, 'transformed');

      if (!quality.passed) {
        const failed = (checks ?? []).filter(
          (c) => c.severity === 'error' && !c.passed && c.name !== 'reject_rate',
        );
        const why = [
          ...(rejectRate > maxRejectRate
            ? [
                `${formatPercent(rejectRate)} of ${rowsIn} rows quarantined, above the limit of ${formatPercent(maxRejectRate)}`,
              ]
            : []),
          ...failed.map((c) => `check ${c.name} measured ${c.value}, limit ${c.threshold}`),
        ];
        throw new DataRejectedError(
          `quality gate failed for run ${runId}: ${why.join('; ')}; see ${keys.quarantine} and ${keys.report}`,
          { runId, objectKey: keys.quarantine, details: { ...quality, ...counts, reasons: report.reasons } },
          'QUALITY_GATE_FAILED',
        );
      }
      const layout = {
        ...(profile?.warehouse?.partitionBy ? { partitionBy: profile.warehouse.partitionBy } : {}),
        ...(profile?.warehouse?.clusterBy ? { clusterBy: profile.warehouse.clusterBy } : {}),
      };
      const response: TransformResponse = {
        runId,
        tables: [
          {
            name: table,
            ...counts,
            stagedKey: keys.staged,
            quarantineKey: keys.quarantine,
            ...(profile ? { kind: 'cleaned' as const } : {}),
            ...layout,
          },
          ...features.map((f) => ({
            name: f.name,
            rowsIn: f.rows,
            rowsOut: f.rows,
            rowsQuarantined: 0,
            rowsDuplicate: 0,
            stagedKey: f.stagedKey,
            quarantineKey: f.quarantineKey,
            kind: 'features' as const,
          })),
        ],
        quality,
        ...(loaded ? { profile: loaded.name } : {}),
        reportKey: keys.report,
        manifestKey: keys.manifest,
      };
      await putJson(deps.store, keys.manifest, response);
      return response;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function parseRequest(input: TransformInput): TransformRequest {
  const result = transformRequestSchema.safeParse(input);
  if (result.success) return result.data;
  const summary = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new InvalidRequestError(`invalid transform request: ${summary}`);
}

async function readExtractManifest(store: BlobStore, runId: string, key: string): Promise<ExtractResponse> {
  if (!(await store.exists(key))) {
    throw new NotFoundError(`run ${runId} has no extract manifest at ${key}`, { runId, objectKey: key });
  }
  const result = extractResponseSchema.safeParse(await getJson(store, key));
  if (!result.success) {
    const summary = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new DataRejectedError(`extract manifest ${key} does not match the contract: ${summary}`, {
      runId,
      objectKey: key,
    });
  }
  return result.data;
}

/**
 * The dialect of the files: the profile's `source`, else sniffed from the start of the first file (the
 * files form one table, so they share it).
 */
async function chooseDialect(
  prepared: readonly PreparedFile[],
  files: ExtractResponse['files'],
  loaded: LoadedProfile | undefined,
): Promise<ParseDialect & { sniffed: boolean; lineEnding?: string }> {
  const source = loaded?.profile.source;
  if (source?.delimiter !== undefined)
    return { delimiter: source.delimiter, quote: source.quote, header: source.header, sniffed: false };
  const start = await readCsvStart(prepared[0]!.path, SNIFF_BYTES);
  if (start === undefined) {
    throw new DataRejectedError(
      `raw file ${files[0]!.key} is empty: expected a CSV header line`,
      { objectKey: files[0]!.key },
      'EMPTY_FILE',
    );
  }
  const sniffed = sniffDialect(start, prepared[0]!.bytes <= SNIFF_BYTES);
  return {
    delimiter: sniffed.delimiter,
    quote: source?.quote ?? sniffed.quote,
    header: source ? source.header : sniffed.header,
    sniffed: true,
    lineEnding: sniffed.lineEnding,
  };
}

function dialectReport(dialect: ParseDialect & { sniffed: boolean; lineEnding?: string }): DialectReport {
  return {
    delimiter: dialect.delimiter,
    quote: dialect.quote,
    header: dialect.header,
    sniffed: dialect.sniffed,
    ...(dialect.lineEnding ? { lineEnding: dialect.lineEnding } : {}),
  };
}

/** The header of the first file; every other file must have the same one (names compared trimmed). */
async function readSharedHeader(
  prepared: readonly PreparedFile[],
  files: ExtractResponse['files'],
  dialect: ParseDialect,
): Promise<string[]> {
  let first: { header: string[]; key: string } | undefined;
  for (const [i, p] of prepared.entries()) {
    const key = files[i]!.key;
    const header = await readCsvHeader(p.path, dialect);
    if (header === undefined) {
      throw new DataRejectedError(
        `raw file ${key} is empty: expected a CSV header line`,
        { objectKey: key },
        'EMPTY_FILE',
      );
    }
    const trimmedHeader = header.map((name) => name.trim());
    if (!first) first = { header: trimmedHeader, key };
    else if (trimmedHeader.join('\u0000') !== first.header.join('\u0000')) {
      throw new DataRejectedError(
        `files ${first.key} and ${key} have different headers, so they cannot form one table: ${first.key} has [${first.header.join(', ')}], ${key} has [${trimmedHeader.join(', ')}]`,
        { objectKey: key, details: { files: { [first.key]: first.header, [key]: trimmedHeader } } },
        'HEADER_MISMATCH',
      );
    }
  }
  return first!.header;
}

function fileReports(
  files: ExtractResponse['files'],
  prepared: readonly PreparedFile[],
  parsed: readonly ParsedCsvFile[],
): FileReport[] {
  return files.map((file, i) => ({
    name: file.name,
    key: file.key,
    bytes: prepared[i]!.bytes,
    encoding: prepared[i]!.encoding,
    rowsParsed: parsed[i]!.rows,
    rowsUnparseable: parsed[i]!.unparseable,
  }));
}

async function columnReports(
  connection: DuckDBConnection,
  plans: readonly ColumnPlan[],
  staged: BatchCounts,
  profiled: ProfiledColumns | undefined,
): Promise<ColumnReport[]> {
  const [invalid = {}] = await queryRows(connection, invalidCountsSql(plans));
  return plans.map((plan, i) => {
    const column = profiled?.columns[i];
    return {
      name: plan.name,
      source: plan.source,
      type: plan.type,
      format: plan.format ?? null,
      ambiguous: plan.ambiguous,
      ...(plan.candidates ? { candidates: plan.candidates } : {}),
      missingTokens: plan.missingTokens,
      ...(plan.thousands ? { thousands: plan.thousands } : {}),
      nulls: staged.nulls[i] ?? 0,
      invalid: toCount(invalid[`n${i}`]),
      ...(typeof column?.missing === 'object' ? { imputed: staged.trueCount(`${plan.name}_imputed`) } : {}),
      ...(column?.outliers ? { outliers: staged.trueCount(`${plan.name}_outlier`) } : {}),
    };
  });
}

async function reasonCounts(connection: DuckDBConnection): Promise<Record<string, number>> {
  const rows = await queryRows(
    connection,
    'SELECT reason, count(*) AS n FROM quarantine GROUP BY reason ORDER BY reason',
  );
  return Object.fromEntries(rows.map((row) => [String(row['reason']), toCount(row['n'])]));
}

async function duplicateExamples(connection: DuckDBConnection): Promise<DuplicateExample[]> {
  const rows = await queryRows(
    connection,
    `SELECT f.name AS file, d.__line AS line, k.name AS kept_file, d.__kept_line AS kept_line
     FROM duplicates d JOIN files f ON f.__file = d.__file JOIN files k ON k.__file = d.__kept_file
     ORDER BY d.__rowid LIMIT ${DUPLICATE_EXAMPLES}`,
  );
  return rows.map((row) => ({
    file: String(row['file']),
    line: toCount(row['line']),
    keptFile: String(row['kept_file']),
    keptLine: toCount(row['kept_line']),
  }));
}

function stopwatch(): { lap(): number; total(): number } {
  const start = performance.now();
  let last = start;
  return {
    lap() {
      const now = performance.now();
      const ms = Math.round(now - last);
      last = now;
      return ms;
    },
    total: () => Math.round(performance.now() - start),
  };
}
