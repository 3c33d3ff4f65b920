/**
 * UTF-8 CSV files -> DuckDB: every field read as text (columns c0..cN, in file order), and the table
 * `rejects` for records DuckDB could not parse (wrong field count, bad quoting). The transformer types the
 * rows while they are read (`readCsvRows` with its typing query: the text is never stored whole); the
 * profiler keeps them as text in `raw` (`parseCsvFiles`).
 *
 * Parsing is explicit (by default `,` delimiter, `"` quote and escape, header on; the transformer passes
 * the sniffed or profiled dialect), and
 * `store_rejects` keeps malformed records instead of dropping them silently.
 *
 * What "line" means: the 1-based number of the record in its file, the header being line 1. It equals the
 * physical line number unless an earlier record holds a line break inside quotes (a record counts once)
 * or the file has blank lines (DuckDB counts them in its reject positions but yields no row for them, so
 * the lines of valid records after a blank line come out one too low per blank line before them).
 * Good records are numbered by their position in the file (DuckDB keeps insertion order, so `rowid` is
 * file order); the lines DuckDB rejected are interleaved with an ASOF join (`numberRows`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataRejectedError, errorMessage, isOutOfMemory } from '@etl/common/errors';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import { queryRows, toCount } from './duckdb-session';

export interface CsvInput {
  /** Local UTF-8 file. */
  path: string;
  /** Object key, for messages. */
  key: string;
  /** How its records number in the raw file; its lines are the raw file's when unset. */
  lines?: SourceLines;
  /** Values of columns its path holds, not the file (`partitionValues`): columns after the file's own. */
  partitions?: ReadonlyArray<string | null>;
}

/**
 * How the records of a local CSV number in their source: record k (1-based, the header not counted) is
 * source line `k + headerLines + offset`, plus the `extra` of the last step whose record is at most k.
 */
export interface SourceLines {
  /** Lines of the source above the CSV's first line (title lines cut off; -1 when the header was added). */
  offset: number;
  /** [record, extra]: from that record on, `extra` more lines (a sheet's empty rows left out). */
  steps?: Array<[record: number, extra: number]>;
}

/** How to read the files; the default is RFC 4180 with a header (`,` and `"`). */
export interface ParseDialect {
  delimiter: string;
  quote: string;
  /** What escapes a quote inside quotes: the quote itself (`""`) when absent, or `\\` (read-header.ts). */
  escape?: string;
  /** Whether the first record is a header (then data lines start at 2). */
  header: boolean;
}

export const DEFAULT_PARSE_DIALECT: ParseDialect = { delimiter: ',', quote: '"', header: true };

export interface ParsedCsvFile {
  /** Rows DuckDB parsed. */
  rows: number;
  /** Records DuckDB rejected (each one a quarantined row). */
  unparseable: number;
}

/** DuckDB's error for a file whose lines end in both CRLF and LF (prepare-file.ts `evenLineEndings`). */
export const MIXED_LINE_ENDINGS_ERROR = 'state machine reached an invalid state';

/** The longest record read (a larger one is quarantined as unparseable). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Raw column names: positional, so a header can never collide with `rowid` or our own columns. */
export const rawColumn = (index: number): string => `c${index}`;

/**
 * `read_csv` of `files` (one, or several read in order) with every field as text in columns c0..cN. With
 * `storeRejects`, malformed records land in DuckDB's reject tables; without it they are skipped (for a
 * sample). A file's partition values (`CsvInput.partitions`) follow as columns c(N+1).., the same for each
 * of its rows.
 */
export function csvRelation(
  files: CsvInput | readonly CsvInput[],
  columnCount: number,
  dialect: ParseDialect,
  storeRejects: boolean,
): string {
  const list = 'path' in files ? [files] : files;
  const partitions = list[0]?.partitions?.length ?? 0;
  const relation = readCsvSql(
    list.map((f) => f.path),
    columnCount,
    dialect,
    storeRejects,
    partitions > 0,
  );
  if (partitions === 0) return relation;
  // Each row's file (`filename`, its local path) says its values.
  const literal = (value: string | null | undefined) =>
    value == null ? 'NULL::VARCHAR' : quoteLiteral(value);
  const byFile = Array.from({ length: partitions }, (_, k) => {
    const cases = list.map((f) => `WHEN ${quoteLiteral(f.path)} THEN ${literal(f.partitions?.[k])}`);
    return `CASE filename ${cases.join(' ')} END AS ${rawColumn(columnCount + k)}`;
  });
  return `(SELECT * EXCLUDE (filename), ${byFile.join(', ')} FROM ${relation})`;
}

function readCsvSql(
  paths: readonly string[],
  columnCount: number,
  dialect: ParseDialect,
  storeRejects: boolean,
  filename: boolean,
): string {
  const columns = Array.from({ length: columnCount }, (_, i) => rawColumn(i));
  const columnsStruct = `{${columns.map((c) => `${quoteLiteral(c)}: 'VARCHAR'`).join(', ')}}`;
  const files = paths.length === 1 ? quoteLiteral(paths[0]!) : `[${paths.map(quoteLiteral).join(', ')}]`;
  const errors = storeRejects ? 'store_rejects = true' : 'ignore_errors = true';
  // Records up to 16 MiB; the read buffer is set to twice that instead of DuckDB's 16x default (256 MiB),
  // which made a 100k-row sample parse 1.8x longer and the whole 1M-row file 1.4x (bench/RESULTS.md).
  return `read_csv(${files}, auto_detect = false, header = ${dialect.header}, delim = ${quoteLiteral(dialect.delimiter)}, quote = ${quoteLiteral(dialect.quote)}, escape = ${quoteLiteral(dialect.escape ?? dialect.quote)}, columns = ${columnsStruct}, ${errors}, max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${2 * MAX_LINE_BYTES}${filename ? ', filename = true' : ''})`;
}

/** What `readCsvRows` read: per file, and where the rows are stored. */
export interface ReadCsvResult {
  files: ParsedCsvFile[];
  /** The rowid of each file's first row in the table. */
  firstRowids: number[];
  /** How each file's records number in its source. */
  lines: SourceLines[];
}

/**
 * Reads every file into `table`, in file order, through `select` (given the file's `read_csv` relation and
 * its index; it must yield a `__file` column), and creates `rejects` (`__file`, `line`, `raw`, `message`)
 * from what DuckDB could not parse.
 */
export async function readCsvRows(
  connection: DuckDBConnection,
  files: readonly CsvInput[],
  columnCount: number,
  dialect: ParseDialect,
  table: string,
  select: (relation: string, fileIndex: number) => string,
): Promise<ReadCsvResult> {
  await connection.run('CREATE TABLE rejects (__file INTEGER, line BIGINT, raw VARCHAR, message VARCHAR)');
  const parsed: ParsedCsvFile[] = [];
  const firstRowids: number[] = [];
  let total = 0;
  for (const [index, file] of files.entries()) {
    const rows = select(csvRelation(file, columnCount, dialect, true), index);
    try {
      await connection.run(index === 0 ? `CREATE TABLE ${table} AS ${rows}` : `INSERT INTO ${table} ${rows}`);
      // A record can carry several errors: keep one row per rejected line.
      await connection.run(`
        INSERT INTO rejects
        SELECT ${index}, e.line + ${file.lines?.offset ?? 0}, regexp_replace(first(e.csv_line ORDER BY e.column_idx), '^[\\r\\n]+|[\\r\\n]+$', '', 'g'),
               string_agg(e.error_type || ': ' || e.error_message, '; ' ORDER BY e.column_idx)
        FROM reject_errors e JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
        WHERE s.file_path = ${quoteLiteral(file.path)}
        GROUP BY e.line`);
    } catch (error) {
      throw csvError(error, [file]);
    }
    const [counts] = await queryRows(
      connection,
      `SELECT (SELECT count(*) FROM ${table} WHERE __file = ${index}) AS rows, (SELECT count(*) FROM rejects WHERE __file = ${index}) AS unparseable`,
    );
    const result = { rows: toCount(counts?.['rows']), unparseable: toCount(counts?.['unparseable']) };
    if (result.rows === 0 && result.unparseable > 0) {
      throw new DataRejectedError(
        `could not parse ${file.key} as CSV: none of its ${result.unparseable} records has the ${columnCount} fields of its header`,
        { objectKey: file.key, details: { file: file.key, unparseableRecords: result.unparseable } },
        'UNPARSEABLE_FILE',
      );
    }
    firstRowids.push(total);
    total += result.rows;
    parsed.push(result);
  }
  return { files: parsed, firstRowids, lines: files.map((f) => f.lines ?? { offset: 0 }) };
}

/** `raw` (every field as text, and `__file`), `rejects` and the view `numbered` (raw + `__rowid`, `__line`). */
export async function parseCsvFiles(
  connection: DuckDBConnection,
  files: readonly CsvInput[],
  columnCount: number,
  dialect: ParseDialect = DEFAULT_PARSE_DIALECT,
): Promise<ParsedCsvFile[]> {
  const read = await readCsvRows(
    connection,
    files,
    columnCount,
    dialect,
    'raw',
    (relation, index) => `SELECT *, ${index}::INTEGER AS __file FROM ${relation}`,
  );
  await numberRows(connection, 'raw', 'numbered', read, dialect.header ? 1 : 0);
  return read.files;
}

/** Where the numbered rows are stored, and the column that addresses a row there (for an UPDATE). */
export interface NumberedRows {
  table: string;
  rowid: string;
}

/**
 * `name`: every row of `table` with `__rowid` (file order across files) and `__line` (see the header
 * comment). Without rejected lines a view over the table (its rowid is the order); with them, line
 * numbers come from an ASOF join, which does not keep the order, so the rows are stored again, sorted.
 */
export async function numberRows(
  connection: DuckDBConnection,
  table: string,
  name: string,
  read: ReadCsvResult,
  headerLines = 1,
): Promise<NumberedRows> {
  const ordinal = `(rowid - CASE __file ${read.firstRowids.map((first, i) => `WHEN ${i} THEN ${first}`).join(' ')} END + 1)`;
  // Lines above each file's first record: its header, and the title lines skipped above that.
  const lead = (file = '__file') =>
    `(${headerLines} + CASE ${file} ${read.lines.map(({ offset }, i) => `WHEN ${i} THEN ${offset}`).join(' ')} END)`;
  const sourceSteps = read.lines.flatMap(({ steps }, i) =>
    (steps ?? []).map(([record, extra]) => `(${i}, ${record - 1}, ${extra})`),
  );
  if (read.files.every((p) => p.unparseable === 0) && sourceSteps.length === 0) {
    await connection.run(
      `CREATE VIEW ${name} AS SELECT *, rowid AS __rowid, ${ordinal} + ${lead()} AS __line FROM ${table}`,
    );
    return { table, rowid: 'rowid' };
  }
  // Rejected line R_j (j-th in its file, 1-based) has R_j - h - j good records before it (h header lines), so
  // good record k sits after every rejected line with R_j - h - j < k: line = k + h + (the largest such j).
  await connection.run(`
    CREATE TABLE reject_steps AS
    SELECT __file, threshold, max(j) AS j FROM (
      SELECT __file, line - ${lead()} - row_number() OVER (PARTITION BY __file ORDER BY line) AS threshold,
             row_number() OVER (PARTITION BY __file ORDER BY line) AS j
      FROM rejects)
    GROUP BY __file, threshold`);
  // A sheet's empty rows left out of its CSV (a converted file has no unparseable lines): the same steps.
  if (sourceSteps.length > 0)
    await connection.run(`INSERT INTO reject_steps VALUES ${sourceSteps.join(', ')}`);
  await connection.run(`
    CREATE TABLE ${name} AS
    SELECT r.* EXCLUDE (__ordinal), r.__ordinal + ${lead('r.__file')} + coalesce(s.j, 0) AS __line
    FROM (SELECT *, rowid AS __rowid, ${ordinal} AS __ordinal FROM ${table}) r
    ASOF LEFT JOIN reject_steps s ON r.__file = s.__file AND r.__ordinal > s.threshold
    ORDER BY r.__rowid`);
  await connection.run(`DROP TABLE ${table}`);
  return { table: name, rowid: '__rowid' };
}

/**
 * DuckDB's error reading `files` as the 422 naming the file (the one its message names, else the first)
 * by its object key. Running out of memory is a resource limit, not a bad file, and stays as it is
 * (withDuckDb names it); so does a fault of ours, a JavaScript error or SQL DuckDB cannot bind or parse
 * (`OUR_FAULTS`): blamed on the file, it would read as bad data and hide the bug behind a 422.
 */
export function csvError(error: unknown, files: readonly CsvInput[]): unknown {
  if (isOutOfMemory(error) || isOurFault(error)) return error;
  const message = errorMessage(error);
  const file = files.find((f) => message.includes(f.path)) ?? files[0]!;
  const text = files.reduce((m, f) => m.replaceAll(f.path, f.key), message);
  return new DataRejectedError(
    `could not parse ${file.key} as CSV: ${firstLine(text)}`,
    { cause: error, objectKey: file.key },
    'UNPARSEABLE_FILE',
  );
}

/** DuckDB's error classes of a statement that is wrong whatever the file holds. */
const OUR_FAULTS = /^(Binder|Parser|Catalog|INTERNAL) Error/;

function isOurFault(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    OUR_FAULTS.test(errorMessage(error))
  );
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
