/**
 * The transform stage: the raw table files of a run -> one cleaned, typed Arrow IPC table per table of the
 * dataset, a quarantine of every rejected row with its reason, one report, and the manifest (written last:
 * its presence means done).
 *
 * Which files form which table, and the tables' names, come from the files (table-names.ts): one table per
 * distinct file, parts of one table (same header, a part or date suffix) together; the request's `table`
 * (or a profile's) makes the whole dataset one table, and `tables` names tables by file glob. Tables are
 * cleaned one after another (transform-table.ts), each in its own DuckDB, so memory is bounded by the
 * largest table, not the dataset. The quality gate holds per table: a table over its reject limit fails the
 * request (422) after every table has been reported.
 *
 * Without a profile everything is inferred (dialect, header, types). With one (`profile` in the request, a
 * YAML file in PROFILES_DIR), the profile's types, formats, text rules, missing-value strategies, keys and
 * checks apply on top (refine.ts), and `ml` adds feature tables (features.ts) to the response.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_CONTRACT_MODE,
  type ExtractResponse,
  extractResponseSchema,
  type SkippedFile,
  type TableCounts,
  type TransformRequest,
  type TransformResponse,
  transformRequestSchema,
  transformResponseSchema,
} from '@etl/common/contracts';
import { readDatasetState } from '@etl/common/dataset-state';
import {
  ConflictError,
  DataRejectedError,
  diskFullError,
  diskFullPath,
  InvalidRequestError,
  isDiskFullError,
  isPipelineError,
  NotFoundError,
  PayloadTooLargeError,
} from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';
import { type BlobStore, getJson, manifestKey, putJson, reportKey } from '@etl/common/storage';
import type { z } from 'zod';
import { defaultProfilesDir } from './config';
import type { DuckDbSettings } from './duckdb-session';
import { loadProfile } from './profile';
import { formatPercent, type TableReport, type TransformReport } from './report';
import { DEFAULT_SAMPLE_ROWS } from './sample-rows';
import { NOT_DATA_REASONS } from './summary-rows';
import { prepareTableInputs, type TableInput } from './table-inputs';
import { matchesGlob, type PlannedTable, planTables } from './table-names';
import { stopwatch, type TableJob, transformTable } from './transform-table';

export { MAX_COLUMNS } from './transform-table';

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
  /** Largest total size of a run's raw table files (413 above it); no limit when unset. */
  maxInputBytes?: number;
}

export type TransformInput = z.input<typeof transformRequestSchema>;

export async function transform(input: TransformInput, deps: TransformDeps): Promise<TransformResponse> {
  const request = parseRequest(input);
  const { runId } = request;
  const loaded = request.profile
    ? await loadProfile(request.profile, deps.profilesDir ?? defaultProfilesDir())
    : undefined;
  const profile = loaded?.profile;
  // An explicit request value wins over the profile's. Either makes the whole dataset one table.
  const oneTable = request.table ?? profile?.table;
  const maxRejectRate = input.maxRejectRate ?? profile?.quality.maxRejectRate ?? request.maxRejectRate;
  const keys = {
    manifest: manifestKey(runId, 'transform'),
    report: reportKey(runId, 'transform'),
    extract: manifestKey(runId, 'extract'),
  };
  const logger = deps.logger.child({ runId, stage: 'transform' });

  if (await deps.store.exists(keys.manifest)) {
    const done = transformResponseSchema.parse(await getJson(deps.store, keys.manifest));
    const names = done.tables.map((t) => t.name);
    if (oneTable !== undefined && !names.includes(oneTable)) {
      throw new ConflictError(
        `run ${runId} was already transformed into table ${names.join(', ')}, not ${oneTable}; see ${keys.manifest}`,
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
  const tableFiles = globs
    ? extract.files.filter((file) => globs.some((glob) => matchesGlob(file.name, glob)))
    : extract.files;
  if (tableFiles.length === 0) {
    const found = extract.files.map((f) => f.name).join(', ') || 'no files';
    const skipped = extract.skippedFiles.map((f) => `${f.name} (${f.reason})`).join(', ');
    throw new DataRejectedError(
      globs
        ? `run ${runId} has no file matching ${globs.join(', ')} of profile ${loaded!.file}: its extract manifest lists ${found}`
        : `run ${runId} has no table file to transform: its extract manifest lists ${found}${skipped ? `; skipped: ${skipped}` : ''}`,
      { runId, objectKey: keys.extract },
      'NO_TABLE_FILES',
    );
  }
  const inputBytes = tableFiles.reduce((sum, f) => sum + f.bytes, 0);
  if (deps.maxInputBytes !== undefined && inputBytes > deps.maxInputBytes) {
    throw new PayloadTooLargeError(
      `run ${runId} has ${inputBytes} bytes of table files to transform (${tableFiles.map((f) => `${f.name} ${f.bytes}`).join(', ')}), above the limit MAX_INPUT_BYTES = ${deps.maxInputBytes} bytes`,
      { runId, objectKey: keys.extract, details: { inputBytes, maxInputBytes: deps.maxInputBytes } },
      'INPUT_TOO_LARGE',
    );
  }

  logger.info({ files: tableFiles.map((f) => f.key) }, 'transforming');
  const startedAt = new Date();
  const clock = stopwatch();
  const scratch = await mkdtemp(path.join(deps.tempDir ?? tmpdir(), 'etl-transform-'));
  try {
    const duckdb = deps.duckdb ?? {};
    const prepared = await prepareTableInputs(tableFiles, {
      store: deps.store,
      scratch,
      duckdb,
      ...(profile ? { source: profile.source } : {}),
      ...(deps.maxInputBytes === undefined ? {} : { maxInputBytes: deps.maxInputBytes }),
    });
    const skippedFiles: SkippedFile[] = [...extract.skippedFiles, ...prepared.skipped];
    if (prepared.inputs.length === 0) {
      throw new DataRejectedError(
        `run ${runId} has no table with rows: ${skippedFiles.map((f) => `${f.name} (${f.reason})`).join(', ')}`,
        { runId, objectKey: keys.extract, details: { skippedFiles } },
        'NO_TABLE_FILES',
      );
    }
    const jobs = planJobs(prepared.inputs, request, oneTable, extract.dataset.id);
    logger.info(
      { tables: jobs.map((j) => ({ name: j.name, files: j.inputs.map((i) => i.name) })) },
      'tables planned',
    );

    const state = await readDatasetState(deps.store, extract.dataset.id, logger);
    const mode = request.contract ?? profile?.contract ?? DEFAULT_CONTRACT_MODE;
    const tables: TableCounts[] = [];
    const reports: TableReport[] = [];
    for (const [index, job] of jobs.entries()) {
      const previous = state?.tables?.[job.name];
      const tableScratch = path.join(scratch, `table-${index}`);
      await mkdir(tableScratch);
      const outcome = await transformTable(job, {
        runId,
        store: deps.store,
        logger,
        scratch: tableScratch,
        duckdb,
        sampleRows: deps.sampleRows ?? DEFAULT_SAMPLE_ROWS,
        maxRejectRate,
        ...(loaded ? { loaded } : {}),
        contract: previous ? { mode, previous, previousVersion: state!.version } : { mode },
      });
      // The table's local files are done with: free the scratch space before the next table.
      await rm(tableScratch, { recursive: true, force: true });
      for (const input of job.inputs) await rm(input.path, { force: true });
      tables.push(...outcome.tables);
      reports.push(outcome.report);
    }

    const cleaned = tables.filter((t) => t.kind !== 'features');
    const rowsIn = cleaned.reduce((sum, t) => sum + t.rowsIn, 0);
    const rowsQuarantined = cleaned.reduce((sum, t) => sum + t.rowsQuarantined, 0);
    // As each table's gate: footers of totals and repeated headers are quarantined, but are no bad data
    // (summary-rows.ts).
    const summaryRows = reports.reduce(
      (sum, r) => sum + NOT_DATA_REASONS.reduce((n, reason) => n + (r.reasons[reason] ?? 0), 0),
      0,
    );
    const quality = {
      passed: reports.every((r) => r.quality.passed),
      rejectRate: rowsIn === 0 ? 0 : (rowsQuarantined - summaryRows) / rowsIn,
      maxRejectRate,
      // One table's checks stay at the top too: the shape a one-table run always had.
      ...(reports.length === 1 && reports[0]!.quality.checks ? { checks: reports[0]!.quality.checks } : {}),
    };
    const report: TransformReport = {
      runId,
      stage: 'transform',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      tables: reports,
      skippedFiles,
    };
    await putJson(deps.store, keys.report, report);
    logger.info(
      {
        tables: cleaned.length,
        rowsIn,
        rowsQuarantined,
        skippedFiles: skippedFiles.length,
        ms: clock.total(),
      },
      'transformed',
    );

    const failed = reports.filter((r) => !r.quality.passed);
    if (failed.length > 0) throw qualityGateFailed(runId, failed, keys.report);
    const response: TransformResponse = {
      runId,
      tables,
      quality,
      skippedFiles,
      ...(loaded ? { profile: loaded.name } : {}),
      reportKey: keys.report,
      manifestKey: keys.manifest,
    };
    await putJson(deps.store, keys.manifest, response);
    return response;
  } catch (error) {
    // A write to the scratch folder (DuckDB's spill, a decoded or unzipped input) seldom names its file.
    // No free-space figure: the file that filled the disk is gone by now, so it would say the disk is empty.
    if (isPipelineError(error) || !isDiskFullError(error)) throw error;
    throw diskFullError(error, {
      what: `the scratch files of run ${runId} (TRANSFORM_TEMP_DIR)`,
      path: diskFullPath(error) ?? scratch,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Which inputs form which table: one named table (request `table` or the profile's), or by file. */
function planJobs(
  inputs: readonly TableInput[],
  request: TransformRequest,
  oneTable: string | undefined,
  datasetId: string,
): TableJob[] {
  if (oneTable !== undefined || request.profile !== undefined) {
    // A profile describes one table: without a name of its own it is named from its first file.
    const name = oneTable ?? planTables(inputs.slice(0, 1), datasetName(datasetId))[0]!.name;
    checkSameShape(
      inputs,
      `table ${name}`,
      'without a table name (request `table`) or a profile, each file is a table of its own',
    );
    return [{ name, inputs }];
  }
  const globs = Object.entries(request.tables ?? {});
  const explicit = (input: TableInput) => globs.find(([glob]) => matchesGlob(input.file.name, glob))?.[1];
  const planned: PlannedTable<TableInput>[] = planTables(inputs, datasetName(datasetId), explicit);
  for (const table of planned)
    checkSameShape(table.members, `table ${table.name}`, 'give the files different names in `tables`');
  return planned.map((t) => ({ name: t.name, inputs: t.members, ...(t.naming ? { naming: t.naming } : {}) }));
}

/** The slug of a dataset id `<kind>/<owner>/<slug>`: what its tables are prefixed with. */
const datasetName = (datasetId: string): string => datasetId.split('/').pop() ?? '';

/** Files that must form one table must share a header and dialect. */
function checkSameShape(inputs: readonly TableInput[], what: string, hint: string): void {
  const first = inputs[0]!;
  const other = inputs.find((input) => input.shape !== first.shape);
  if (!other) return;
  // A partition folder's column is part of a file's shape (table-inputs.ts `withPartitions`).
  const columns = (input: TableInput) => [
    ...input.header,
    ...(input.partitions ?? []).map((p) => `${p.key} (from its folder)`),
  ];
  throw new DataRejectedError(
    `files ${first.key} and ${other.key} have different headers, so they cannot form one ${what}: ${first.key} has [${columns(first).join(', ')}], ${other.key} has [${columns(other).join(', ')}]; ${hint}`,
    {
      objectKey: other.key,
      details: { files: { [first.key]: columns(first), [other.key]: columns(other) } },
    },
    'HEADER_MISMATCH',
  );
}

function qualityGateFailed(runId: string, failed: readonly TableReport[], report: string): DataRejectedError {
  const why = failed.map((r) => {
    const { rowsIn, rowsQuarantined } = r.counts;
    const q = r.quality;
    const reasons = [
      ...(q.rejectRate > q.maxRejectRate
        ? [
            `${formatPercent(q.rejectRate)} of ${rowsIn} rows quarantined, above the limit of ${formatPercent(q.maxRejectRate)}`,
          ]
        : []),
      ...(q.checks ?? [])
        .filter((c) => c.severity === 'error' && !c.passed && c.name !== 'reject_rate')
        .map((c) => `check ${c.name} measured ${c.value}, limit ${c.threshold}`),
    ];
    const columns = r.columns
      .filter((c) => c.invalid > 0)
      .sort((a, b) => b.invalid - a.invalid)
      .map(
        (c) =>
          `${c.name} (${c.invalid} values not ${c.type}${r.schemaChanges?.some((s) => s.change === 'type_changed' && s.column === c.name) ? ', the type it was loaded with' : ''})`,
      );
    if (columns.length > 0) reasons.push(`columns that failed: ${columns.join(', ')}`);
    return { table: r.table, text: `table ${r.table}: ${reasons.join('; ')}`, rowsQuarantined };
  });
  const first = failed[0]!;
  return new DataRejectedError(
    `quality gate failed for run ${runId}: ${why.map((w) => w.text).join('; ')}; see ${failed.map((r) => r.outputs.quarantineKey).join(', ')} and ${report}`,
    {
      runId,
      objectKey: first.outputs.quarantineKey,
      details: {
        ...first.quality,
        ...first.counts,
        reasons: first.reasons,
        tables: failed.map((r) => ({ table: r.table, ...r.quality, ...r.counts, reasons: r.reasons })),
      },
    },
    'QUALITY_GATE_FAILED',
  );
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
