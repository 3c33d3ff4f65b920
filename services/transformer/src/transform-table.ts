/**
 * One table of a dataset: its local CSV files -> a cleaned, typed Arrow IPC file, a quarantine of every
 * rejected row with its reason, feature tables (profile `ml`) and the table's report. All row work happens
 * in one in-memory DuckDB, opened for this table only, so a dataset's tables are never in memory together.
 *
 * Row accounting is exact and checked: rowsIn = rowsOut + rowsQuarantined + rowsDuplicate, and rowsIn is the
 * number of records in the files, counted apart from DuckDB.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeArrowBatchesStream, writeArrowTable, writeArrowTableStream } from '@etl/common/arrow';
import type { ContractMode, QualityCheck, SchemaChange, TableCounts } from '@etl/common/contracts';
import type { RecordedColumn, RecordedTable } from '@etl/common/dataset-state';
import { DataRejectedError, PayloadTooLargeError, PipelineError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, putJson, quarantineKey, stagedKey, stagedSchemaKey } from '@etl/common/storage';
import { quoteLiteral, withThreads } from '@etl/common/warehouse';
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
import { isUnnamed, normalizeColumnNames, toSnakeCase } from './column-names';
import { countCsvRecords } from './count-records';
import {
  type DuckDbSettings,
  memoryLimitBytes,
  planForColumns,
  queryRows,
  toCount,
  typingMemoryBytes,
  typingThreads,
  withDuckDb,
} from './duckdb-session';
import { queryToArrow, queryToArrowStream } from './duckdb-to-arrow';
import { checkFeatureTables, featureTables } from './features';
import {
  type ColumnPlan,
  INFER_SAMPLE,
  inferColumnPlans,
  inferenceSampleRows,
  isReadingGuess,
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
import { withEvenLineEndings } from './prepare-file';
import { type LoadedProfile, mlOptions } from './profile';
import { candidateKeys as findCandidateKeys } from './profiler';
import { createNfkcMaps, qualityChecks, type RefineResult, refineRows, stagedRowsSql } from './refine';
import {
  type ColumnReport,
  type DialectReport,
  type DuplicateExample,
  type FeatureReport,
  type FileReport,
  LINE_NUMBERING,
  type TableReport,
  type TransformTimings,
} from './report';
import { columnsToRetype, inferFromEveryRow, type RetypedColumn, retypedNote } from './retype-columns';
import { applyContract } from './schema-contract';
import { NOT_DATA_REASONS, quarantineSummaryRows } from './summary-rows';
import { type InputDialect, partitionNote, type TableInput } from './table-inputs';
import { decideTableRoles, resolveRoleOverrides } from './table-roles';
import { valueSketches } from './value-sketch';

const DUPLICATE_EXAMPLES = 20;

/**
 * Widest table accepted: BigQuery's 10,000 columns per table minus the 4 lineage columns. Found by the
 * CSV fuzz test: a 100,000-column line used to run DuckDB out of memory before answering.
 */
export const MAX_COLUMNS = 10_000 - 4;

export interface TableJob {
  name: string;
  /** Its files (or sheets), in order; they share one dialect and header. */
  inputs: readonly TableInput[];
  naming?: string;
}

export interface TableContext {
  runId: string;
  store: BlobStore;
  logger: Logger;
  /** Scratch folder of the request. */
  scratch: string;
  duckdb: DuckDbSettings;
  sampleRows: number;
  maxRejectRate: number;
  loaded?: LoadedProfile;
  /** The schema contract, and the table as the dataset last loaded it (none on a first load). */
  contract: { mode: ContractMode; previous?: RecordedTable; previousVersion?: string };
}

export interface TableOutcome {
  /** The cleaned table, then its feature tables. */
  tables: TableCounts[];
  report: TableReport;
  quality: { passed: boolean; rejectRate: number; maxRejectRate: number; checks?: QualityCheck[] };
}

/**
 * Files whose lines end unevenly (in both CRLF and LF, or in CR CR LF), which DuckDB refuses, are evened to
 * LF (`withEvenLineEndings`), said, and the table is made again from the start: nothing is written before the
 * files are read.
 */
export async function transformTable(job: TableJob, context: TableContext): Promise<TableOutcome> {
  return withEvenLineEndings(
    job.inputs.map((input) => input.path),
    async (evened) => {
      const inputs = job.inputs.map((input, i) => {
        const note = evened[i];
        return note ? { ...input, notes: [...(input.notes ?? []), note] } : input;
      });
      // Columns the later rows break are typed on every row, and the table made again (retype-columns.ts);
      // a table made so is never retyped, so this runs at most twice.
      let retype: RetypedColumn[] | undefined;
      for (;;) {
        const outcome = await transformTableOnce({ ...job, inputs }, context, retype);
        if (!('retype' in outcome)) return outcome;
        retype = outcome.retype;
      }
    },
  );
}

async function transformTableOnce(
  job: TableJob,
  context: TableContext,
  retyped?: readonly RetypedColumn[],
): Promise<TableOutcome | { retype: RetypedColumn[] }> {
  const { runId, store, loaded, maxRejectRate } = context;
  const table = job.name;
  const profile = loaded?.profile;
  const first = job.inputs[0]!;
  const dialect = first.dialect;
  const keys = { staged: stagedKey(runId, table), quarantine: quarantineKey(runId, table) };
  const fileKeys = job.inputs.map((input) => input.key);
  const logger = context.logger.child({ table });
  const clock = stopwatch();

  const fileHeader = first.header;
  if (fileHeader.length > MAX_COLUMNS) {
    throw new DataRejectedError(
      `raw file ${first.key} has ${fileHeader.length} columns, more than the limit of ${MAX_COLUMNS} (a BigQuery table holds at most 10,000 columns, 4 of them lineage)`,
      { runId, objectKey: first.key, details: { columns: fileHeader.length, maxColumns: MAX_COLUMNS } },
      'TOO_MANY_COLUMNS',
    );
  }
  // A wide table is typed on fewer threads, so that it fits in DuckDB's memory limit; too wide for even one is
  // refused here, before any work, rather than after minutes of it.
  const threads = typingThreads(context.duckdb, fileHeader.length);
  if (threads === 0) throw tooWideForMemory(first.key, fileHeader.length, context.duckdb, runId);
  // Partition folders' columns follow the file's own (every file of a table has the same keys: its shape).
  const partitionKeys = (first.partitions ?? []).map((p) => p.key);
  const header = [
    ...(dialect.header ? fileHeader : fileHeader.map((_, i) => `column_${i + 1}`)),
    ...partitionKeys,
  ];
  const names = normalizeColumnNames(header);
  const sampleRows = inferenceSampleRows(context.sampleRows, header.length);
  const timings: Partial<TransformTimings> = { prepare: job.inputs.reduce((sum, i) => sum + i.ms, 0) };

  return withDuckDb(context.duckdb, context.scratch, async (connection) => {
    await planForColumns(connection, header.length);
    // 1. Types, from the first rows of the files.
    const inputs = job.inputs.map((input) => ({
      path: input.path,
      key: input.key,
      lines: input.lines,
      ...(input.partitions ? { partitions: input.partitions.map((p) => p.value) } : {}),
    }));
    const allText = csvRelation(inputs, fileHeader.length, dialect, false);
    const rawColumns = header.map((_, i) => rawColumn(i));
    const textColumns = { rawColumns, headers: header, names };
    const sampling = { sampleRows, delimiter: dialect.delimiter };
    const asCsvError = (error: unknown) => {
      throw csvError(error, inputs);
    };
    // Before the sample's, whose table the sketches and candidate keys read after it.
    const retypedColumns = retyped?.map((r) => r.index) ?? [];
    const everyRow =
      retypedColumns.length > 0
        ? await inferFromEveryRow(connection, allText, retypedColumns, textColumns, sampling).catch(
            asCsvError,
          )
        : undefined;
    const inferred = await inferColumnPlans(connection, allText, rawColumns, header, names, sampling).catch(
      asCsvError,
    );
    everyRow?.(inferred);
    const profiled: ProfiledColumns | undefined =
      loaded && applyProfile(inferred.plans, inferred.stats, loaded.profile, loaded.file, fileKeys);
    const sketches = await valueSketches(connection, INFER_SAMPLE, header.length);
    const { plans, changes } = applyContract({
      table,
      plans: profiled?.plans ?? inferred.plans,
      sketches,
      ...context.contract,
    });
    for (const change of changes) logger.warn({ schemaChange: change }, change.message);
    const ml = profile && mlOptions(profile);
    if (ml && profiled) checkFeatureTables(table, ml, profiled.roles, plans, loaded!.file);
    const roleOverrides = profile?.roles
      ? resolveRoleOverrides(profile.roles, plans, loaded!.file, table)
      : undefined;
    // Without a profile: candidate keys for the report (a profile states its own).
    const candidateKeys = profile ? undefined : await findCandidateKeys(connection, plans);
    // Nothing reads the sample after this: its memory (a block per column) is the parse's.
    await connection.run(`DROP TABLE ${INFER_SAMPLE}`);
    timings.infer = clock.lap();

    // 2. Parse and type in one pass: the rows are typed as DuckDB reads them, malformed records kept aside.
    await createNfkcMaps(connection, profiled?.nfkc ?? [], allText);
    const read = await withThreads(connection, threads, () =>
      readCsvRows(connection, inputs, fileHeader.length, dialect, 'typed_rows', (relation, i) =>
        typedRowsSql(plans, relation, i, {
          rawTextOfAll: profiled !== undefined,
          nfkc: profiled?.nfkc ?? [],
          fileColumns: fileHeader.length,
        }),
      ),
    );
    await checkRecordCounts(job.inputs, read.files, dialect, fileHeader.length, runId);
    const parsed = await addMalformedRecords(connection, job.inputs, read.files);
    const typed = await numberRows(
      connection,
      'typed_rows',
      'typed',
      { ...read, files: parsed },
      dialect.header ? 1 : 0,
    );
    await connection.run('CREATE TABLE files (__file INTEGER, name VARCHAR)');
    await connection.run(
      `INSERT INTO files VALUES ${job.inputs.map((f, i) => `(${i}, ${quoteLiteral(f.name)})`).join(', ')}`,
    );
    await quarantineSummaryRows(
      connection,
      typed,
      'typed',
      parsed.map((p, i) => read.firstRowids[i]! + p.rows - 1),
    );
    const rowsIn = parsed.reduce((sum, p) => sum + p.rows + p.unparseable, 0);
    if (!retyped && rowsIn > sampleRows) {
      const retype = await columnsToRetype(connection, inferred, plans);
      if (retype.length > 0) {
        logger.info({ retype }, 'columns typed again on every row');
        return { retype };
      }
    }
    if (rowsIn === 0) {
      throw new DataRejectedError(
        `run ${runId} has no data rows for table ${table}: ${fileKeys.join(', ')} hold a header and nothing else`,
        { runId, details: { files: fileKeys } },
        'EMPTY_TABLE',
      );
    }
    timings.parse = clock.lap();

    // 3. Clean, quarantine, dedupe.
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

    // 4. Outputs.
    const stagedSql = refined ? 'SELECT * FROM staged_rows' : stagedQuerySql(plans);
    const quarantine = await queryToArrow(
      connection,
      'SELECT line, raw, reason, message, file FROM quarantine',
      path.join(context.scratch, 'quarantine.parquet'),
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
    const staged = await queryToArrowStream(
      connection,
      stagedSql,
      path.join(context.scratch, 'staged.parquet'),
      { scanOnly: true },
    );
    const stagedCounts = new BatchCounts(staged.schema);
    await store.put(keys.staged, writeArrowBatchesStream(staged.schema, stagedCounts.count(staged.batches)), {
      contentType: 'application/vnd.apache.arrow.file',
    });
    // No report or manifest names the file until this holds: a mismatch leaves nothing a loader reads.
    if (stagedCounts.rows !== rowsOut) throw accountingFailed(stagedCounts.rows);
    await store.put(keys.quarantine, writeArrowTableStream(quarantine), {
      contentType: 'application/vnd.apache.arrow.file',
    });
    const columns = await columnReports(connection, plans, stagedCounts, profiled);
    const schemaChanges = changes.map((change) => withRowCount(change, columns));
    await putJson(store, stagedSchemaKey(runId, table), {
      columns: recordedColumns(plans, columns, sketches, context.contract.previous),
    } satisfies RecordedTable);
    const roles = await decideTableRoles(connection, stagedSql, roleOverrides);
    const guesses = [
      ...job.inputs.flatMap((input) =>
        input.dialect.preamble && !preambleNote(input.name, input.dialect.preamble, input.dialect.delimiter)
          ? [preambleGuess(input.name, input.dialect.preamble)]
          : [],
      ),
      ...job.inputs.flatMap((input) =>
        (input.guesses ?? []).map((guess) => ({ message: `file ${input.name}: ${guess}` })),
      ),
      ...plans.filter((p) => p.ambiguous && p.candidates).map(formatGuess),
      ...plans
        .filter(isReadingGuess)
        .map((p) => ({ column: p.name, message: `column ${p.name}: ${p.reason}` })),
      ...(dialect.header ? headerNameGuesses(fileHeader, names, columns, stagedCounts.rows) : []),
    ];
    const notes = [
      ...job.inputs.flatMap(({ name, dialect: { preamble, delimiter } }) => {
        const message = preamble && preambleNote(name, preamble, delimiter);
        return message ? [{ message }] : [];
      }),
      ...job.inputs.flatMap((input) =>
        (input.notes ?? []).map((note) => ({ message: `file ${input.name}: ${note}` })),
      ),
      ...[partitionNote(job.inputs)].flatMap((message) => (message ? [{ message }] : [])),
      ...(retyped ?? []).flatMap((column) => {
        const message = retypedNote(column, plans[column.index]!, sampleRows);
        return message ? [{ message }] : [];
      }),
    ];
    timings.write = clock.lap();

    // 5. Feature tables (profile `ml`), each with an empty quarantine so that every table the response
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
          path.join(context.scratch, 'empty.parquet'),
        ),
      );
      for (const feature of featureNotes.tables) {
        const arrow = await queryToArrow(
          connection,
          feature.sql,
          path.join(context.scratch, `${feature.name}.parquet`),
        );
        const featureKeys = {
          staged: stagedKey(runId, feature.name),
          quarantine: quarantineKey(runId, feature.name),
        };
        await store.put(featureKeys.staged, writeArrowTableStream(arrow), {
          contentType: 'application/vnd.apache.arrow.file',
        });
        await store.put(featureKeys.quarantine, emptyQuarantine, {
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

    // A footer of totals (or a repeated header, an empty row) is quarantined so that it is not loaded, but it
    // is no bad data: one would otherwise fail the gate of a file under ten rows on its own.
    const reasons = await reasonCounts(connection);
    const notData = NOT_DATA_REASONS.reduce((n, reason) => n + (reasons[reason] ?? 0), 0);
    const rejectRate = (rowsQuarantined - notData) / rowsIn;
    const checks =
      profile && refined
        ? qualityChecks({ profile, rowsIn, rowsOut, rejectRate, maxRejectRate, refined })
        : undefined;
    const quality = {
      passed: rejectRate <= maxRejectRate && !(checks ?? []).some((c) => c.severity === 'error' && !c.passed),
      rejectRate,
      maxRejectRate,
      ...(checks ? { checks } : {}),
    };
    const report: TableReport = {
      table,
      ...(job.naming ? { naming: job.naming } : {}),
      counts,
      quality,
      outputs: { stagedKey: keys.staged, quarantineKey: keys.quarantine },
      profile: loaded
        ? { name: loaded.name, file: loaded.file, absentColumns: profiled?.absent ?? [] }
        : null,
      dialect: dialectReport(dialect),
      files: fileReports(job.inputs, parsed),
      columns,
      ...(context.contract.previous ? { schemaChanges } : {}),
      reasons,
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
    logger.info({ ...counts, rejectRate, timingsMs: report.timingsMs }, 'transformed table');

    const layout = {
      ...(profile?.warehouse?.partitionBy ? { partitionBy: profile.warehouse.partitionBy } : {}),
      ...(profile?.warehouse?.clusterBy ? { clusterBy: profile.warehouse.clusterBy } : {}),
    };
    const tables: TableCounts[] = [
      {
        name: table,
        files: job.inputs.map((input) => input.name),
        ...(job.naming ? { naming: job.naming } : {}),
        ...counts,
        stagedKey: keys.staged,
        quarantineKey: keys.quarantine,
        ...(profile ? { kind: 'cleaned' as const } : {}),
        ...layout,
        quality,
        ...(context.contract.previous ? { schemaChanges } : {}),
        ...(guesses.length > 0 ? { guesses } : {}),
        ...(notes.length > 0 ? { notes } : {}),
        roles,
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
    ];
    return { tables, report, quality };
  });
}

/** 413 for a table too wide to type within DuckDB's memory limit, naming the file, its width and the limit it needs. */
function tooWideForMemory(
  key: string,
  columns: number,
  duckdb: DuckDbSettings,
  runId: string,
): PayloadTooLargeError {
  const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;
  const needed = typingMemoryBytes(columns);
  return new PayloadTooLargeError(
    `raw file ${key} has ${columns} columns, too many for DuckDB's memory limit: typing them takes about ${mib(needed)}, and DUCKDB_MEMORY_LIMIT = ${duckdb.memoryLimit ?? 'default'} is ${mib(memoryLimitBytes(duckdb))}; raise it to at least ${mib(needed)} or split the file's columns`,
    {
      runId,
      objectKey: key,
      details: { columns, memoryLimitBytes: memoryLimitBytes(duckdb), neededBytes: needed },
    },
    'TOO_WIDE_FOR_MEMORY',
  );
}

/**
 * Each file's records, counted without DuckDB (count-records.ts), against what DuckDB read of it (rows +
 * unparseable). DuckDB's counts cover only the records it saw: one it could not read at all (a field past its
 * read buffer) would otherwise vanish without a word. Parsing is deterministic, so a mismatch is terminal.
 */
async function checkRecordCounts(
  inputs: readonly TableInput[],
  parsed: readonly ParsedCsvFile[],
  dialect: ParseDialect,
  columns: number,
  runId: string,
): Promise<void> {
  const counted = await Promise.all(inputs.map((input) => countCsvRecords(input.path, dialect, { columns })));
  for (const [i, input] of inputs.entries()) {
    const { records } = counted[i]!;
    const { rows, unparseable } = parsed[i]!;
    const read = rows + unparseable;
    if (read === records) continue;
    const cause =
      read < records
        ? `${countOf(records - read, 'record')} DuckDB could not read at all would be lost, likely a field larger than its limits or a header it misread (a quoted line break unlike the file's line endings)`
        : `DuckDB made ${countOf(read - records, 'row')} more than the file holds, likely recovering from broken quoting or mixed line endings`;
    throw new DataRejectedError(
      `raw file ${input.key} has ${countOf(records, 'record')}, but DuckDB read ${read} (${rows} parsed + ${unparseable} unparseable): ${cause}`,
      { runId, objectKey: input.key, details: { file: input.key, records, read } },
      'RECORD_COUNT_MISMATCH',
    );
  }
}

/**
 * The records a conversion left out (a JSON lines file's broken lines: `TableInput.malformed`), added to
 * DuckDB's rejected ones by their line, so that they are quarantined and counted as unparseable and the
 * rows around them keep their line numbers (`numberRows`).
 */
async function addMalformedRecords(
  connection: DuckDBConnection,
  inputs: readonly TableInput[],
  parsed: readonly ParsedCsvFile[],
): Promise<ParsedCsvFile[]> {
  const rows = inputs.flatMap((input, i) =>
    (input.malformed ?? []).map(
      (m) => `(${i}, ${m.line}, ${quoteLiteral(m.raw)}, ${quoteLiteral(m.message)})`,
    ),
  );
  if (rows.length > 0) await connection.run(`INSERT INTO rejects VALUES ${rows.join(', ')}`);
  return parsed.map((p, i) => ({ ...p, unparseable: p.unparseable + (inputs[i]!.malformed?.length ?? 0) }));
}

/** A type_changed change with the rows it rejected (or values it set to NULL), counted by the cleaning. */
function withRowCount(change: SchemaChange, columns: readonly ColumnReport[]): SchemaChange {
  if (change.change !== 'type_changed') return change;
  return { ...change, rows: columns.find((c) => c.name === change.column)?.invalid ?? 0 };
}

/**
 * The table's schema for the dataset state: this version's columns, then the loaded columns it lacks
 * (the warehouse table keeps them, so the next version is held to them too).
 */
function recordedColumns(
  plans: readonly ColumnPlan[],
  columns: readonly ColumnReport[],
  sketches: ReadonlyArray<readonly string[]>,
  previous: RecordedTable | undefined,
): RecordedColumn[] {
  const current = plans.map(
    (plan, i): RecordedColumn => ({
      name: plan.name,
      type: plan.type,
      ...(plan.format === undefined ? {} : { format: plan.format }),
      ...(plan.thousands === undefined ? {} : { thousands: plan.thousands }),
      ...(plan.decimal === undefined ? {} : { decimal: plan.decimal }),
      ...(plan.currency === undefined ? {} : { currency: plan.currency }),
      ...(plan.percent ? { percent: true } : {}),
      ...(plan.excelText ? { excelText: true } : {}),
      nullable: (columns[i]?.nulls ?? 0) > 0,
      sketch: [...(sketches[i] ?? [])],
    }),
  );
  const names = new Set(current.map((c) => c.name));
  return [...current, ...(previous?.columns ?? []).filter((c) => !names.has(c.name))];
}

const countOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function dialectReport(dialect: InputDialect): DialectReport {
  return {
    delimiter: dialect.delimiter,
    quote: dialect.quote,
    header: dialect.header,
    sniffed: dialect.sniffed,
    ...(dialect.lineEnding ? { lineEnding: dialect.lineEnding } : {}),
  };
}

function fileReports(inputs: readonly TableInput[], parsed: readonly ParsedCsvFile[]): FileReport[] {
  return inputs.map((input, i) => ({
    name: input.name,
    key: input.key,
    format: input.file.format,
    bytes: input.bytes,
    encoding: input.encoding,
    rowsParsed: parsed[i]!.rows,
    rowsUnparseable: parsed[i]!.unparseable,
    ...(input.dialect.preamble ? { preamble: input.dialect.preamble } : {}),
  }));
}

async function columnReports(
  connection: DuckDBConnection,
  plans: readonly ColumnPlan[],
  staged: BatchCounts,
  profiled: ProfiledColumns | undefined,
): Promise<ColumnReport[]> {
  const invalid = new Map(
    (await queryRows(connection, invalidCountsSql())).map((row) => [toCount(row['i']), toCount(row['n'])]),
  );
  return plans.map((plan, i) => {
    const column = profiled?.columns[i];
    return {
      name: plan.name,
      source: plan.source,
      type: plan.type,
      format: plan.format ?? null,
      ambiguous: plan.ambiguous,
      ...(plan.candidates ? { candidates: plan.candidates } : {}),
      ...(plan.reason ? { reason: plan.reason } : {}),
      missingTokens: plan.missingTokens,
      ...(plan.thousands ? { thousands: plan.thousands } : {}),
      ...(plan.decimal ? { decimal: plan.decimal } : {}),
      ...(plan.currency ? { currency: plan.currency } : {}),
      ...(plan.percent ? { percent: true } : {}),
      ...(plan.excelText ? { excelText: true } : {}),
      nulls: staged.nulls[i] ?? 0,
      invalid: invalid.get(i) ?? 0,
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

export function stopwatch(): { lap(): number; total(): number } {
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

/** What the run summary says of a column whose values read in more than one date format. */
function formatGuess(plan: ColumnPlan): { column: string; message: string } {
  const others = (plan.candidates ?? []).filter((c) => c !== plan.format).join(', ');
  const why = plan.reason ? `, ${plan.reason}` : '';
  return {
    column: plan.name,
    message: `column ${plan.name} read as ${plan.format}${why}; every sampled value also reads as ${others}: set its format in a profile to choose`,
  };
}

/**
 * What the run summary says of columns not loaded under their header's name: one whose header names
 * nothing is `column_N` (and one with no value at all most likely comes from a delimiter at the end of
 * every line); one whose name an earlier column has (`Amount` twice, or `Order Date` and `order_date`) gets
 * `_2`, `_3`.
 */
function headerNameGuesses(
  header: readonly string[],
  normalized: readonly string[],
  columns: readonly ColumnReport[],
  rows: number,
): { column: string; message: string }[] {
  return header.flatMap((source, i) => {
    const column = columns[i]!;
    if (!isUnnamed(source)) {
      // A profile's own name for the column is no guess.
      const named = toSnakeCase(source.trim());
      if (column.name === named || column.name !== normalized[i]) return [];
      return [
        {
          column: column.name,
          message: `column ${i + 1} (${JSON.stringify(source)}) would be ${named}, the name of an earlier column: loaded as ${column.name}`,
        },
      ];
    }
    const empty =
      rows > 0 && column.nulls === rows
        ? ', and has no value in any row (a delimiter at the end of every line?)'
        : '';
    return [
      {
        column: column.name,
        message: `column ${i + 1} has no name in the header (${JSON.stringify(source)}): loaded as ${column.name}${empty}`,
      },
    ];
  });
}

/**
 * What the run summary notes of sniffed lines above a file's header whose skipping is no guess: lines all
 * blank, or Excel's line naming the delimiter (`sep=;`, which exports meant for Excel write; its text is
 * `sep=` once the delimiter has split it). Undefined for title lines, which `preambleGuess` says.
 */
function preambleNote(
  file: string,
  preamble: { lines: number; text: string[]; sniffed: boolean },
  delimiter: string,
): string | undefined {
  if (!preamble.sniffed) return undefined;
  if (preamble.text.every((line) => line.trim() === ''))
    return `file ${file}: ${countOf(preamble.lines, 'blank line')} above the header skipped`;
  if (preamble.lines === 1 && /^sep=$/i.test(preamble.text[0]?.trim() ?? ''))
    return `file ${file}: its first line (sep=${delimiter}) is Excel's delimiter line, no record: skipped`;
  return undefined;
}

/** What the run summary says of title lines skipped above a file's header. */
function preambleGuess(
  file: string,
  preamble: { lines: number; text: string[]; sniffed: boolean },
): { message: string } {
  const shown = preamble.text.map((line) =>
    JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line),
  );
  return {
    message: `file ${file}: ${preamble.lines} line${preamble.lines === 1 ? '' : 's'} above the header skipped ${preamble.sniffed ? 'as a title' : "as the profile's source.skipLines says"} (${shown.join(', ')})${preamble.sniffed ? "; a profile's source.skipLines says otherwise" : ''}`,
  };
}
