/**
 * UTF-8 CSV files -> the DuckDB table `raw` (every field VARCHAR, columns c0..cN, in file order) and
 * the table `rejects` (records DuckDB could not parse: wrong field count, bad quoting).
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
 * file order); the lines DuckDB rejected are interleaved with an ASOF join.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataRejectedError, errorMessage } from '@etl/common/errors';
import { quoteIdentifier, quoteLiteral } from '@etl/common/warehouse';
import { isOutOfMemory, queryRows, toCount } from './duckdb-session';

export interface CsvInput {
  /** Local UTF-8 file. */
  path: string;
  /** Object key, for messages. */
  key: string;
}

/** How to read the files; the default is RFC 4180 with a header (`,` and `"`). */
export interface ParseDialect {
  delimiter: string;
  quote: string;
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

/** Column names in `raw`: positional, so a header can never collide with `rowid` or our own columns. */
export const rawColumn = (index: number): string => `c${index}`;

/** Creates `raw`, `rejects` and the view `numbered` (raw + `__rowid`, `__line`). */
export async function parseCsvFiles(
  connection: DuckDBConnection,
  files: readonly CsvInput[],
  columnCount: number,
  dialect: ParseDialect = DEFAULT_PARSE_DIALECT,
): Promise<ParsedCsvFile[]> {
  const columns = Array.from({ length: columnCount }, (_, i) => rawColumn(i));
  await connection.run(
    `CREATE TABLE raw (${columns.map((c) => `${quoteIdentifier(c)} VARCHAR`).join(', ')}, __file INTEGER)`,
  );
  await connection.run('CREATE TABLE rejects (__file INTEGER, line BIGINT, raw VARCHAR, message VARCHAR)');
  const columnsStruct = `{${columns.map((c) => `${quoteLiteral(c)}: 'VARCHAR'`).join(', ')}}`;
  const parsed: ParsedCsvFile[] = [];
  const firstRowids: number[] = [];
  let total = 0;
  for (const [index, file] of files.entries()) {
    const source = `read_csv(${quoteLiteral(file.path)}, auto_detect = false, header = ${dialect.header}, delim = ${quoteLiteral(dialect.delimiter)}, quote = ${quoteLiteral(dialect.quote)}, escape = ${quoteLiteral(dialect.quote)}, columns = ${columnsStruct}, store_rejects = true, max_line_size = 16777216)`;
    try {
      await connection.run(`INSERT INTO raw SELECT *, ${index}::INTEGER FROM ${source}`);
      // A record can carry several errors: keep one row per rejected line.
      await connection.run(`
        INSERT INTO rejects
        SELECT ${index}, e.line, regexp_replace(first(e.csv_line ORDER BY e.column_idx), '^[\\r\\n]+|[\\r\\n]+$', '', 'g'),
               string_agg(e.error_type || ': ' || e.error_message, '; ' ORDER BY e.column_idx)
        FROM reject_errors e JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
        WHERE s.file_path = ${quoteLiteral(file.path)}
        GROUP BY e.line`);
    } catch (error) {
      if (isOutOfMemory(error)) throw error; // a resource limit, not a bad file: withDuckDb names it
      throw new DataRejectedError(
        `could not parse ${file.key} as CSV: ${firstLine(errorMessage(error).replaceAll(file.path, file.key))}`,
        { cause: error, objectKey: file.key },
        'UNPARSEABLE_FILE',
      );
    }
    const [counts] = await queryRows(
      connection,
      `SELECT (SELECT count(*) FROM raw WHERE __file = ${index}) AS rows, (SELECT count(*) FROM rejects WHERE __file = ${index}) AS unparseable`,
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
  await createNumberedView(connection, firstRowids, parsed, dialect.header ? 1 : 0);
  return parsed;
}

/** `numbered`: every raw row with `__rowid` (file order across files) and `__line` (see the header comment). */
async function createNumberedView(
  connection: DuckDBConnection,
  firstRowids: readonly number[],
  parsed: readonly ParsedCsvFile[],
  headerLines = 1,
): Promise<void> {
  const ordinal = `(rowid - CASE __file ${firstRowids.map((first, i) => `WHEN ${i} THEN ${first}`).join(' ')} END + 1)`;
  if (parsed.every((p) => p.unparseable === 0)) {
    await connection.run(
      `CREATE VIEW numbered AS SELECT *, rowid AS __rowid, ${ordinal} + ${headerLines} AS __line FROM raw`,
    );
    return;
  }
  // Rejected line R_j (j-th in its file, 1-based) has R_j - h - j good records before it (h header lines), so
  // good record k sits after every rejected line with R_j - h - j < k: line = k + h + (the largest such j).
  await connection.run(`
    CREATE TABLE reject_steps AS
    SELECT __file, threshold, max(j) AS j FROM (
      SELECT __file, line - ${headerLines} - row_number() OVER (PARTITION BY __file ORDER BY line) AS threshold,
             row_number() OVER (PARTITION BY __file ORDER BY line) AS j
      FROM rejects)
    GROUP BY __file, threshold`);
  await connection.run(`
    CREATE VIEW numbered AS
    SELECT r.* EXCLUDE (__ordinal), r.__ordinal + ${headerLines} + coalesce(s.j, 0) AS __line
    FROM (SELECT *, rowid AS __rowid, ${ordinal} AS __ordinal FROM raw) r
    ASOF LEFT JOIN reject_steps s ON r.__file = s.__file AND r.__ordinal > s.threshold`);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
