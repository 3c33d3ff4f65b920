/**
 * Summary (footer) rows of report exports: `Total,,,120,1523.40`, `,,Grand Total,120,1523.40`. Loaded, such
 * a row doubles every sum in the warehouse; left in the type inference sample, its label fails a small
 * file's date column, which then stays text. So it is quarantined as `summary_row` and kept out of the sample.
 *
 * Kept conservative, as a false positive drops a real row: a row is a summary row when some cell (trimmed,
 * any case, optionally ending in `:`) is one of SUMMARY_LABELS, every other non-empty cell is a number (and
 * one at least is, or the label's own cell holds it after the colon: `Summe: 123.456,78`), and the row is
 * among the last SUMMARY_FOOTER_ROWS rows of its file (empty rows at its end not counted); or, anywhere,
 * one of its first cells names a subtotal (`North Subtotal`, SUBTOTAL_PATTERN) and the rest are so. Where a
 * file ends is only known once its rows are numbered, so the typing query marks every row of that shape
 * (`summaryMarkSql`) and `quarantineSummaryRows` quarantines the marked rows at the end of their file.
 *
 * A repeated header (`id,order_date,amount` again mid-file: exports joined one after another) is no data
 * either; in a small file it kept every column text. It is marked the same way (`HEADER_MARK`), anywhere in
 * its file, and quarantined as `repeated_header`. So is a row of blank cells (`,,,`, what a spreadsheet
 * writes below its data), as `empty_row` (`EMPTY_MARK`). None of these kinds counts against the quality gate.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CURRENCY_MARK_PATTERN } from '@etl/common/currency';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import { balancedSql, queryRows, toCount } from './duckdb-session';
import type { NumberedRows } from './parse-csv';

/** Lower case, without the optional trailing colon. */
export const SUMMARY_LABELS = [
  'total',
  'totals',
  'grand total',
  'sub total',
  'subtotal',
  'sub-total',
  'sum',
  'total general',
  'gesamt',
  'gesamtsumme',
  'summe',
  'totale',
  'totaal',
  'suma',
  'итого',
  '合计',
  '总计',
  '合計',
  '総計',
] as const;

/** Quarantine reasons of rows that are no data (not bad data): left out of the quality gate's reject rate. */
export const NOT_DATA_REASONS = ['summary_row', 'repeated_header', 'empty_row', 'comment_line'] as const;

/** The `__summary` mark of a repeated header row. */
const HEADER_MARK = 'repeated header';
/** The `__summary` mark of a row whose every cell is blank (`,,,`). */
const EMPTY_MARK = 'empty row';

/** How many rows at the end of a file may be a summary row: a footer, not a product named `Total`. */
export const SUMMARY_FOOTER_ROWS = 3;

/** A currency sign or symbol (`R$`, `$`). */
const MONEY_MARK = `(${CURRENCY_MARK_PATTERN})`;
/**
 * A number as totals are written: sign, thousands groups (`,` `.` or space), decimal `.` or `,`, a currency
 * symbol or `%`, accounting parentheses. Looser than the typing's patterns on purpose (a total of a
 * `1,234.50` column is written like its values), but a date (`03.01.2024`, `2024-01-03`) does not match.
 */
const SUMMARY_NUMBER_PATTERN = `[(]?[+-]?${MONEY_MARK}? ?[+-]?[0-9]+([., ][0-9]{3})*([.,][0-9]+)? ?(${MONEY_MARK}|%)?[)]?`;

/**
 * Case-insensitive RE2 over the labels (none has a character RE2 reads specially): it runs on every cell of
 * every row, and was ~5x cheaper there than `rtrim(lower(x), ':') IN (...)`, which copies each string.
 */
const LABELS = `(?i)(${SUMMARY_LABELS.join('|')})`;
/** A label with its total after a colon (`Total: 1,234.50`); without the colon, `Sum 41` is a name. */
const WITH_TOTAL = `: ?${SUMMARY_NUMBER_PATTERN}`;
/** A label alone, or with its total. */
const LABEL_PATTERN = `${LABELS}(${WITH_TOTAL}|:)?`;
const LABELLED_NUMBER_PATTERN = `${LABELS}${WITH_TOTAL}`;
const isLabel = (cell: string): string => `regexp_full_match(${cell}, ${quoteLiteral(LABEL_PATTERN)})`;
const isEmpty = (cell: string): string => `coalesce(${cell}, '') = ''`;

/**
 * A cell naming a subtotal anywhere in it: `Subtotal`, `North Subtotal`, `Sub-total (EU)`, `Zwischensumme Nord`.
 * Unlike a total, a subtotal sits between the rows it sums, so a row of one is quarantined wherever it is.
 * `Total North` or `North Total` is not one: `Colgate Total` may be a product.
 */
const SUBTOTAL_PATTERN = '(?i).*(sub ?-?total|zwischensumme).*';
/** Cells a subtotal's name is looked for in: a report writes it in its grouping column, one of the first. */
const SUBTOTAL_COLUMNS = 3;
/** `contains` first: it spares RE2 nearly every cell (no string is copied, as `lower` would). */
const isSubtotal = (cell: string): string =>
  `((contains(${cell}, 'otal') OR contains(${cell}, 'OTAL') OR contains(${cell}, 'umme')) AND regexp_full_match(${cell}, ${quoteLiteral(SUBTOTAL_PATTERN)}))`;
/** Ends the mark of a subtotal's row (`summaryMarkSql`). */
const SUBTOTAL_MARK = ', a subtotal';

/**
 * SQL of a row's mark over its trimmed cells `cells` (SQL text expressions, one a column, named `names`):
 * NULL unless the row has a summary label and no text but numbers, else what marks it, e.g.
 * `"Total" in column Date`. Only the label test runs on every row; the list work runs on the few rows
 * with a label.
 */
export function summaryMarkSql(cells: readonly string[], names: readonly string[]): string {
  const header = repeatedHeaderSql(cells, names);
  const list = `[${cells.join(', ')}]`;
  const leading = `[${cells.slice(0, SUBTOTAL_COLUMNS).join(', ')}]`;
  const isNumber = `regexp_full_match(x, ${quoteLiteral(SUMMARY_NUMBER_PATTERN)})`;
  const holdsNumber = `(${isNumber} OR regexp_full_match(x, ${quoteLiteral(LABELLED_NUMBER_PATTERN)}))`;
  const named = (x: string, i: string) =>
    `(${isLabel(x)} OR (${i} <= ${SUBTOTAL_COLUMNS} AND ${isSubtotal(x)}))`;
  const noOtherText = `list_bool_and(list_transform(${list}, lambda x, i: ${isEmpty('x')} OR ${named('x', 'i')} OR ${isNumber}))`;
  // A lone label with nothing to total (a one-column list of names ending in `Total`) stays data.
  const someNumber = `list_bool_or(list_transform(${list}, lambda x: coalesce(${holdsNumber}, false)))`;
  const first = `list_position(list_transform(${list}, lambda x, i: ${named('x', 'i')}), true)`;
  const subtotal = `coalesce(list_bool_or(list_transform(${leading}, lambda x: ${isSubtotal('x')})), false)`;
  const mark = `CAST(to_json(${list}[${first}]) AS VARCHAR) || ' in column ' || [${names.map(quoteLiteral).join(', ')}][${first}] || CASE WHEN ${subtotal} THEN ${quoteLiteral(SUBTOTAL_MARK)} ELSE '' END`;
  const labelled = `${anyLabel(cells)} OR ${balancedSql('OR', cells.slice(0, SUBTOTAL_COLUMNS).map(isSubtotal))}`;
  const summary = `CASE WHEN ${labelled} THEN CASE WHEN ${noOtherText} AND ${someNumber} THEN ${mark} END END`;
  const empty = emptyRowSql(cells);
  const marks = [
    ...(empty ? [`WHEN ${empty} THEN ${quoteLiteral(EMPTY_MARK)}`] : []),
    ...(header ? [`WHEN ${header} THEN ${quoteLiteral(HEADER_MARK)}`] : []),
  ];
  return marks.length > 0 ? `CASE ${marks.join(' ')} ELSE ${summary} END` : summary;
}

/**
 * Whether every cell is blank: the rows of commas a spreadsheet writes below its data (`,,,`), which would
 * load as rows of NULLs (and each after the first as a duplicate). None for one column, whose blank cell is
 * a missing value. The cells are tested in turn, so a row stops at its first value.
 */
function emptyRowSql(cells: readonly string[]): string | undefined {
  return cells.length < 2 ? undefined : balancedSql('AND', cells.map(isEmpty));
}

/** The byte order mark, as text. */
const BOM = '\uFEFF';

/**
 * Whether the cells repeat the header `names` (trimmed, any case; an empty name matches an empty cell). None
 * for fewer than two names: a one-column list may well hold its own name.
 */
function repeatedHeaderSql(cells: readonly string[], names: readonly string[]): string | undefined {
  if (names.filter((name) => name.trim() !== '').length < 2) return undefined;
  const matches = cells.map((cell, i) => {
    const name = names[i]!.trim();
    if (name === '') return isEmpty(cell);
    // The byte length first (DuckDB keeps it with the string): most rows stop there, before any lower().
    const same = (text: string) =>
      `(strlen(${cell}) = ${Buffer.byteLength(text)} AND lower(${cell}) = ${quoteLiteral(text.toLowerCase())})`;
    // Files joined whole (`cat a.csv b.csv`) repeat each one's byte order mark before its header.
    return i === 0 ? `(${same(name)} OR ${same(`${BOM}${name}`)})` : same(name);
  });
  return balancedSql('AND', matches);
}

/**
 * The first letters of the labels, lower case, as `ascii(cell) | 32` gives them for either case: tested before
 * the regular expression, it spares RE2 most cells (the label test cost 0.4-0.8 s of a 1M-row typing query,
 * 0.2-0.3 s with it). RE2's case folding beyond ASCII (`ſum`) is given up; a Cyrillic capital is its small
 * letter less 32, so `| 32` serves `Итого` too, and the initials are kept `| 32` for labels without case (`合计`).
 */
const LABEL_INITIALS = [...new Set(SUMMARY_LABELS.map((label) => label.charCodeAt(0) | 32))].join(', ');
const mayBeLabel = (cell: string): string =>
  `((ascii(${cell}) | 32) IN (${LABEL_INITIALS}) AND ${isLabel(cell)})`;

/** `isLabel` of any cell. */
function anyLabel(cells: readonly string[]): string {
  return balancedSql('OR', cells.map(mayBeLabel));
}

/**
 * Quarantines the marked rows (`__summary`): a summary row among the last rows of its file, a subtotal's row,
 * a repeated header or an empty row anywhere. They become rejected rows (`__bad`) with reason `summary_row`,
 * `repeated_header` or `empty_row`, so every later step (duplicates, profile rules, the staged rows, the
 * quarantine) leaves them out or lists them as it does any rejected row. `__failed` stays as it is: DuckDB
 * updates a list column by deleting the row and appending it again, which would move the row to the end of
 * `typed` and give it another `__rowid` (and line); `invalidCountsSql` leaves these rows out instead.
 * `lastRowids` is each file's last `__rowid`; files joins `__file` to its name. The quality gate counts these
 * rows by their reason (NOT_DATA_REASONS), with the rejected lines of the same kinds.
 */
export async function quarantineSummaryRows(
  connection: DuckDBConnection,
  rows: NumberedRows,
  view: string,
  lastRowids: readonly number[],
): Promise<void> {
  const ends = lastRowids.map((last, file) => `(${file}, ${last})`).join(', ');
  const header = `v.__summary = ${quoteLiteral(HEADER_MARK)}`;
  const empty = `v.__summary = ${quoteLiteral(EMPTY_MARK)}`;
  // A footer is among the last rows before the empty rows that may end its file (rows of commas below a
  // `Total`): `ending` counts those, the empty rows whose rowids run up to the file's last one.
  await connection.run(`CREATE TABLE summary_rows AS
WITH marked AS (SELECT __rowid, __file, __line, __summary FROM ${view} WHERE __summary IS NOT NULL),
ends(__file, __last) AS (VALUES ${ends}),
ending AS (
  SELECT __file, count(*) AS n FROM (
    SELECT __file, __rowid, row_number() OVER (PARTITION BY __file ORDER BY __rowid DESC) AS k
    FROM marked WHERE __summary = ${quoteLiteral(EMPTY_MARK)}
  ) JOIN ends USING (__file)
  WHERE __rowid = __last - k + 1 GROUP BY __file)
SELECT v.__rowid,
  CASE WHEN ${header} THEN 'repeated_header' WHEN ${empty} THEN 'empty_row' ELSE 'summary_row' END AS reason,
  'line ' || v.__line || ' of ' || f.name || CASE
    WHEN ${header} THEN ' repeats the header (files joined one after another?), not data'
    WHEN ${empty} THEN ' has no value in any cell, not data'
    ELSE ' is a summary row (' || v.__summary || '), not data' END AS message
FROM marked v JOIN files f ON f.__file = v.__file JOIN ends e ON e.__file = v.__file
  LEFT JOIN ending t ON t.__file = v.__file
WHERE ${header} OR ${empty} OR ends_with(v.__summary, ${quoteLiteral(SUBTOTAL_MARK)})
  OR v.__rowid > e.__last - coalesce(t.n, 0) - ${SUMMARY_FOOTER_ROWS}`);
  const [count] = await queryRows(connection, 'SELECT count(*) AS n FROM summary_rows');
  if (toCount(count?.['n']) > 0)
    await connection.run(`UPDATE ${rows.table} SET __bad = true, __reason = s.reason, __message = s.message
FROM summary_rows s WHERE ${rows.table}.${rows.rowid} = s.__rowid`);
}
