/**
 * The transform stage: the raw CSV files of a run -> one cleaned, typed Arrow IPC table, a quarantine
 * table of every rejected row with its reason, a report, and the manifest (written last: its presence
 * means done). All row work happens in one in-memory DuckDB per request; JavaScript only moves bytes.
 *
 * Row accounting is exact and checked: rowsIn = rowsOut + rowsQuarantined + rowsDuplicate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeArrowTable } from '@etl/common/arrow';
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
import type { Table } from 'apache-arrow';
import type { z } from 'zod';
import {
  createDuplicatesTableSql,
  createQuarantineTableSql,
  createTypedTableSql,
  invalidCountsSql,
  stagedQuerySql,
} from './clean-sql';
import { normalizeColumnNames } from './column-names';
import { type DuckDbSettings, queryRows, toCount, withDuckDb } from './duckdb-session';
import { queryToArrow } from './duckdb-to-arrow';
import { type ColumnPlan, DEFAULT_SAMPLE_ROWS, inferColumnPlans, TYPE_THRESHOLD } from './infer-types';
import { type ParsedCsvFile, parseCsvFiles, rawColumn } from './parse-csv';
import { type PreparedFile, prepareCsvFile } from './prepare-file';
import { readCsvHeader } from './read-header';
import {
  type ColumnReport,
  type DuplicateExample,
  type FileReport,
  formatPercent,
  LINE_NUMBERING,
  type TransformReport,
  type TransformTimings,
} from './report';

export interface TransformDeps {
  store: BlobStore;
  logger: Logger;
  /** Parent folder of the per-request scratch folder; the OS temp folder by default. */
  tempDir?: string;
  duckdb?: DuckDbSettings;
  /** Rows read for type inference; 100,000 by default. */
  sampleRows?: number;
}

export type TransformInput = z.input<typeof transformRequestSchema>;

const DUPLICATE_EXAMPLES = 20;

/** Files of the extract manifest the transformer reads. */
const isCsvFile = (name: string): boolean => name.toLowerCase().endsWith('.csv');

export async function transform(input: TransformInput, deps: TransformDeps): Promise<TransformResponse> {
  const request = parseRequest(input);
  const { runId, table } = request;
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
    logger.info({ manifestKey: keys.manifest }, 'already transformed: returning the stored manifest');
    return done;
  }

  const extract = await readExtractManifest(deps.store, runId, keys.extract);
  const csvFiles = extract.files.filter((file) => isCsvFile(file.name));
  if (csvFiles.length === 0) {
    const found = extract.files.map((f) => f.name).join(', ') || 'no files';
    throw new DataRejectedError(
      `run ${runId} has no CSV file to transform: its extract manifest lists ${found}`,
      {
        runId,
        objectKey: keys.extract,
      },
    );
  }

  logger.info({ files: csvFiles.map((f) => f.key) }, 'transforming');
  const startedAt = new Date();
  const clock = stopwatch();
  const scratch = await mkdtemp(path.join(deps.tempDir ?? tmpdir(), 'etl-transform-'));
  try {
    // 1. Bytes -> local UTF-8 files, and one shared header.
    const prepared: PreparedFile[] = [];
    for (const [index, file] of csvFiles.entries())
      prepared.push(await prepareCsvFile(deps.store, file.key, scratch, index));
    const header = await readSharedHeader(prepared, csvFiles);
    const names = normalizeColumnNames(header);
    const timings: Partial<TransformTimings> = { prepare: clock.lap() };

    return await withDuckDb(deps.duckdb ?? {}, scratch, async (connection) => {
      // 2. Parse: every field as text, malformed records kept aside.
      const inputs = prepared.map((p, i) => ({ path: p.path, key: csvFiles[i]!.key }));
      const parsed = await parseCsvFiles(connection, inputs, header.length);
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

      // 3. Types.
      const rawColumns = header.map((_, i) => rawColumn(i));
      const sampleRows = deps.sampleRows ?? DEFAULT_SAMPLE_ROWS;
      const { plans } = await inferColumnPlans(connection, 'raw', rawColumns, header, names, sampleRows);
      timings.infer = clock.lap();

      // 4. Clean, quarantine, dedupe.
      await connection.run(
        createTypedTableSql(
          plans,
          parsed.every((p) => p.unparseable === 0),
        ),
      );
      await connection.run(createDuplicatesTableSql(plans));
      await connection.run(createQuarantineTableSql(plans));
      const [dupCount] = await queryRows(connection, 'SELECT count(*) AS n FROM duplicates');
      const rowsDuplicate = toCount(dupCount?.['n']);
      timings.clean = clock.lap();

      // 5. Outputs.
      const staged = await queryToArrow(
        connection,
        stagedQuerySql(plans, rowsDuplicate > 0),
        path.join(scratch, 'staged.parquet'),
      );
      const quarantine = await queryToArrow(
        connection,
        'SELECT line, raw, reason, message, file FROM quarantine',
        path.join(scratch, 'quarantine.parquet'),
      );
      const rowsOut = staged.numRows;
      const rowsQuarantined = quarantine.numRows;
      const counts = { rowsIn, rowsOut, rowsQuarantined, rowsDuplicate };
      if (rowsIn !== rowsOut + rowsQuarantined + rowsDuplicate) {
        throw new PipelineError(
          'ROW_ACCOUNTING_FAILED',
          500,
          false,
          `row accounting failed for run ${runId}, table ${table}: ${rowsIn} rows in, but ${rowsOut} out + ${rowsQuarantined} quarantined + ${rowsDuplicate} duplicates = ${rowsOut + rowsQuarantined + rowsDuplicate}`,
          { runId, details: counts },
        );
      }
      await deps.store.put(keys.staged, writeArrowTable(staged), {
        contentType: 'application/vnd.apache.arrow.file',
      });
      await deps.store.put(keys.quarantine, writeArrowTable(quarantine), {
        contentType: 'application/vnd.apache.arrow.file',
      });
      timings.write = clock.lap();

      const rejectRate = rowsQuarantined / rowsIn;
      const quality = {
        passed: rejectRate <= request.maxRejectRate,
        rejectRate,
        maxRejectRate: request.maxRejectRate,
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
        files: fileReports(csvFiles, prepared, parsed),
        columns: await columnReports(connection, plans, staged),
        reasons: await reasonCounts(connection),
        duplicates: { count: rowsDuplicate, examples: await duplicateExamples(connection) },
        inference: { sampleRows, threshold: TYPE_THRESHOLD },
        lineNumbering: LINE_NUMBERING,
        timingsMs: { ...(timings as TransformTimings), total: clock.total() },
      };
      await putJson(deps.store, keys.report, report);
      logger.info({ ...counts, rejectRate, timingsMs: report.timingsMs }, 'transformed');

      if (!quality.passed) {
        throw new DataRejectedError(
          `quality gate failed for run ${runId}: ${formatPercent(rejectRate)} of ${rowsIn} rows quarantined, above the limit of ${formatPercent(request.maxRejectRate)}; see ${keys.quarantine} and ${keys.report}`,
          { runId, objectKey: keys.quarantine, details: { ...quality, ...counts, reasons: report.reasons } },
          'QUALITY_GATE_FAILED',
        );
      }
      const response: TransformResponse = {
        runId,
        tables: [{ name: table, ...counts, stagedKey: keys.staged, quarantineKey: keys.quarantine }],
        quality,
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

/** The header of the first file; every other file must have the same one (names compared trimmed). */
async function readSharedHeader(
  prepared: readonly PreparedFile[],
  files: ExtractResponse['files'],
): Promise<string[]> {
  let first: { header: string[]; key: string } | undefined;
  for (const [i, p] of prepared.entries()) {
    const key = files[i]!.key;
    const header = await readCsvHeader(p.path);
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
  staged: Table,
): Promise<ColumnReport[]> {
  const [invalid = {}] = await queryRows(connection, invalidCountsSql(plans));
  return plans.map((plan, i) => ({
    name: plan.name,
    source: plan.source,
    type: plan.type,
    format: plan.format ?? null,
    ambiguous: plan.ambiguous,
    missingTokens: plan.missingTokens,
    nulls: staged.getChildAt(i)?.nullCount ?? 0,
    invalid: toCount(invalid[`n${i}`]),
  }));
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
