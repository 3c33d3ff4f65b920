/**
 * Dialect sniffing over the start of a UTF-8 file: the delimiter (among , ; tab |), the quote
 * character, whether the first record is a header, and the line ending. The delimiter is the one that
 * splits the sampled records into the same number (> 1) of fields most consistently; quotes are
 * respected, so a `1,234.50` inside quotes does not count for the comma.
 */
import { MISSING_TOKENS } from './infer-types';
import { type CsvDialect, escapes, parseFirstRecord, parseRecords } from './read-header';

export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export type LineEnding = 'CRLF' | 'LF' | 'CR' | 'none';

export interface SniffedDialect extends CsvDialect {
  delimiter: Delimiter;
  header: boolean;
  lineEnding: LineEnding;
  /** Fields per record under the chosen delimiter. */
  columns: number;
  /** Share of sampled records with that many fields (1 = perfectly regular). */
  consistency: number;
}

/** Bytes read from the start of a file for sniffing. */
export const SNIFF_BYTES = 256 * 1024;
const SNIFF_RECORDS = 200;

/** `text` is the start of the file; `complete` when it is the whole file. */
export function sniffDialect(text: string, complete = false): SniffedDialect {
  const quote = sniffQuote(text);
  const quoted = sniffDelimiter(text, { quote }, complete);
  // `\"` (MySQL's and many scrapers' escape of a quote) where RFC 4180 writes `""`: the file is read with `\`
  // as the escape when that leaves fewer quotes closing a field mid-text (`"He said \"hi\""` read the RFC
  // way closes at `\"`; a field ending in a backslash, `"C:\temp\"`, or `\` before a doubled quote, `"\"""`,
  // read the other way does).
  const escapeChar =
    text.includes(`\\${quote}`) &&
    strayQuotes(text, { delimiter: quoted.delimiter, quote, escape: '\\' }) <
      strayQuotes(text, { delimiter: quoted.delimiter, quote })
      ? '\\'
      : undefined;
  const chosen = escapeChar ? sniffDelimiter(text, { quote, escape: escapeChar }, complete) : quoted;
  return {
    delimiter: chosen.delimiter,
    quote,
    ...(escapeChar ? { escape: escapeChar } : {}),
    header: looksLikeHeader(chosen.records),
    lineEnding: sniffLineEnding(text),
    columns: chosen.columns,
    consistency: chosen.consistency,
  };
}

/**
 * Quotes that close a quoted field and are followed by anything but a delimiter, a line break or the end (a
 * quote after spaces reopens, as DuckDB reads it): the mark of reading the file with the wrong escape.
 */
function strayQuotes(text: string, dialect: CsvDialect): number {
  const { delimiter, quote } = dialect;
  let stray = 0;
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      const next = text[i + 1];
      if (escapes(dialect, char, next)) i++;
      else if (char === quote) {
        quoted = false;
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r' && next !== ' ')
          stray++;
      }
      continue;
    }
    if (char === quote && fieldStart) quoted = true;
    fieldStart = char === delimiter || char === '\n' || char === '\r' || (fieldStart && char === ' ');
  }
  return stray;
}

/** The delimiter that splits the sampled records into the same number (> 1) of fields most consistently. */
function sniffDelimiter(
  text: string,
  quoting: { quote: string; escape?: string },
  complete: boolean,
): { delimiter: Delimiter; columns: number; consistency: number; records: string[][] } {
  let best: { delimiter: Delimiter; columns: number; consistency: number; records: string[][] } | undefined;
  for (const delimiter of DELIMITERS) {
    const fields = recordFields(text, { delimiter, ...quoting }, complete);
    if (!fields) continue;
    const { columns, consistency, records } = fields;
    if (columns < 2) continue;
    if (
      !best ||
      consistency > best.consistency + 1e-9 ||
      (Math.abs(consistency - best.consistency) <= 1e-9 && columns > best.columns)
    )
      best = { delimiter, columns, consistency, records };
  }
  return (
    best ?? {
      delimiter: ',' as const,
      columns: 1,
      consistency: 1,
      records: parseRecords(text, { delimiter: ',', ...quoting }, SNIFF_RECORDS, complete).records,
    }
  );
}

/**
 * The number of fields most of the sampled records of `text` have under `dialect`, and their share; the
 * header's count decides when it is also the most common one, other ties go to more fields.
 */
export function recordFields(
  text: string,
  dialect: CsvDialect,
  complete: boolean,
): { columns: number; consistency: number; records: string[][] } | undefined {
  const { records } = parseRecords(text, dialect, SNIFF_RECORDS, complete);
  if (records.length === 0) return undefined;
  const counts = new Map<number, number>();
  for (const r of records) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
  let columns = records[0]!.length;
  let hits = counts.get(columns) ?? 0;
  for (const [n, c] of counts) if (c > hits || (c === hits && n > columns)) [columns, hits] = [n, c];
  return { columns, consistency: hits / records.length, records };
}

/** `"` unless the text quotes with `'` and never with `"`. */
function sniffQuote(text: string): string {
  const double = /(^|[,;\t|\r\n])"/.test(text);
  const single = /(^|[,;\t|\r\n])'[^'\r\n]*'(?=[,;\t|\r\n]|$)/m.test(text);
  return !double && single ? "'" : '"';
}

function sniffLineEnding(text: string): LineEnding {
  const crlf = text.indexOf('\r\n');
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr < 0 && lf < 0) return 'none';
  if (crlf >= 0 && crlf === cr && crlf + 1 === lf) return 'CRLF';
  if (cr < 0) return 'LF';
  if (lf < 0) return 'CR';
  return cr < lf ? 'CR' : 'LF';
}

const NUMBERISH = /^[+-]?(\d+|\d{1,3}(,\d{3})+)?([.]\d+)?([eE][+-]?\d+)?$/;
const DATEISH = /^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T].*)?$/;
const YEAR = /^(19|20)\d\d$/;

type Kind = 'empty' | 'number' | 'date' | 'text';

function kindOf(value: string): Kind {
  const v = value.trim();
  if (v === '') return 'empty';
  if (/\d/.test(v) && NUMBERISH.test(v)) return 'number';
  if (DATEISH.test(v)) return 'date';
  return 'text';
}

/**
 * Whether the first record is a header, by comparing it with the records after it, column by column:
 * a text value above numbers or dates is a header; a number or date above values of the same kind is
 * data, unless it looks like a year heading a column of other numbers ("Country,2019,2020"). Without
 * evidence either way (text above text), the first record is a header. A profile with `header: false`
 * settles what sniffing cannot.
 */
export function looksLikeHeader(records: readonly string[][]): boolean {
  const first = records[0];
  if (!first) return true;
  const rest = records.slice(1);
  let header = 0;
  let data = 0;
  first.forEach((value, j) => {
    const kinds = rest.map((r) => kindOf(r[j] ?? '')).filter((k) => k !== 'empty');
    if (kinds.length === 0) return;
    const dominant = (['number', 'date', 'text'] as const).find(
      (k) => kinds.filter((x) => x === k).length >= 0.8 * kinds.length,
    );
    const own = kindOf(value);
    if (dominant === undefined || dominant === 'text') return;
    if (own === 'text') header++;
    else if (own === dominant) {
      const yearHeading = YEAR.test(value.trim()) && rest.some((r) => !YEAR.test((r[j] ?? '').trim()));
      if (yearHeading) header++;
      else data++;
    }
  });
  return header > 0 || data === 0;
}

/** Lines above a table's header that are a title, not the table (`Monthly Sales Report`, a blank line). */
export interface Preamble {
  /** Physical lines, line breaks included. */
  lines: number;
  /** UTF-8 bytes of those lines, and their length as text. */
  bytes: number;
  chars: number;
  /** Their text, for the report: each line's filled fields. */
  text: string[];
}

const MAX_PREAMBLE_LINES = 20;
/** Lines after the header that must have its field count too, for the header to be believed. */
const PREAMBLE_CONFIRM_LINES = 5;

/**
 * The title lines above a table (a report export: `Monthly Sales Report`, `Generated 2024-05-01`, a blank
 * line, then the header), or undefined. A line is a title when it has at most half the table's fields
 * filled, all first (`Report,,,`), no quoted field running on to the next line, and no other delimiter splits it into the table's field count
 * (`a,b,c` above `1;2;3`); the table starts at the first line with the table's field count, which most of
 * the next lines (3 of 4, up to 5 lines) have too. Without such lines the file starts with its header, as before.
 */
export function sniffPreamble(text: string, dialect: CsvDialect, columns: number): Preamble | undefined {
  if (columns < 2) return undefined;
  const lines = leadingLines(text, MAX_PREAMBLE_LINES + PREAMBLE_CONFIRM_LINES + 1);
  const fields = (line: string) => parseFirstRecord(line, dialect);
  const filled = (line: string, delimiter: string) =>
    parseFirstRecord(line, { delimiter, quote: dialect.quote }).filter((f) => f.trim() !== '').length;
  // A line another delimiter splits into as many filled fields is a header in another dialect, not a title.
  // Its text comes first, then only empty fields (`Report,,,` as a spreadsheet writes it): `id,,,,amount` is
  // a sparse header.
  const leftAligned = (line: string) => {
    const values = fields(line).map((f) => f.trim());
    const gap = values.indexOf('');
    return gap < 0 || values.slice(gap).every((v) => v === '');
  };
  // Quotes balanced within the line: a quoted field never spans lines here (`"Sales, FY2024",,`).
  const isTitle = (line: string) =>
    line.split(dialect.quote).length % 2 === 1 &&
    leftAligned(line) &&
    filled(line, dialect.delimiter) <= Math.max(1, columns / 2) &&
    !DELIMITERS.some((delimiter) => filled(line, delimiter) >= columns);
  let k = 0;
  while (k < lines.length && k <= MAX_PREAMBLE_LINES && isTitle(lines[k]!.text)) k++;
  if (k === 0 || k > MAX_PREAMBLE_LINES || k >= lines.length) return undefined;
  if (fields(lines[k]!.text).length !== columns) return undefined;
  // Most of the lines after the header have its field count (one may be a malformed record).
  const after = lines.slice(k + 1, k + 1 + PREAMBLE_CONFIRM_LINES).filter((l) => l.text.trim() !== '');
  const matching = after.filter((l) => fields(l.text).length === columns).length;
  if (matching < 0.75 * after.length) return undefined;
  const end = lines[k - 1]!.end;
  return {
    lines: k,
    bytes: Buffer.byteLength(text.slice(0, end)),
    chars: end,
    text: lines.slice(0, k).map((l) =>
      fields(l.text)
        .map((f) => f.trim())
        .filter(Boolean)
        .join(' '),
    ),
  };
}

/** A header of two rows: group names over the names of their columns (a report's merged cells, exported). */
export interface GroupRow {
  /** The upper row's fields, as written (`['', '', 'Q1', '', 'Q2', '']`). */
  groups: string[];
  /** UTF-8 bytes of its line, line break included. */
  bytes: number;
  /** The upper row holds the names and the lower one their units (`isUnitRow`), not the other way. */
  units?: true;
}

/**
 * The upper row of a two-row header at the start of `text` (below any title lines), or undefined. A
 * spreadsheet exports a cell merged over several columns (`Q1` over `Sales` and `Units`) as its text and then
 * empty fields, and the names of the columns come on the next line: `,,Q1,,Q2,` over
 * `Region,Product,Sales,Units,Sales,Units`. Read as the header, the upper row left most columns unnamed and
 * loaded the names below it as a row of data. Taken only when the upper row's filled fields are text (or
 * years), one at least followed by an empty one, and the next line fills every field with text that heads a
 * column of numbers or dates below it, and is data-like nowhere. Or the header's names over a line of their
 * units (`isUnitRow`): the names' line is then the one skipped, and its names lead the units. `groupedHeader`
 * joins the two.
 */
export function sniffGroupRow(text: string, dialect: CsvDialect, columns: number): GroupRow | undefined {
  if (columns < 2) return undefined;
  const lines = leadingLines(text, 2 + PREAMBLE_CONFIRM_LINES);
  if (lines.length < 3 || lines.slice(0, 2).some((l) => l.text.split(dialect.quote).length % 2 === 0))
    return undefined;
  const records = lines.map((l) => parseFirstRecord(l.text, dialect));
  const [groups, names] = [records[0]!, records[1]!];
  if (groups.length !== columns || names.length !== columns) return undefined;
  const bytes = Buffer.byteLength(text.slice(0, lines[0]!.end));
  if (isUnitRow(groups, names, records.slice(2))) return { groups, bytes, units: true };
  if (columns < 3) return undefined;
  const filled = groups.map((g) => g.trim() !== '');
  const spans = filled.some((f, j) => f && j + 1 < columns && !filled[j + 1]);
  const labels = groups.every((g) => {
    const kind = kindOf(g);
    return kind === 'empty' || kind === 'text' || YEAR.test(g.trim());
  });
  if (!spans || !labels || names.some((n) => kindOf(n) !== 'text')) return undefined;
  const data = records.slice(2).filter((r) => r.length === columns);
  if (data.length < 0.75 * (records.length - 2) || !headsTypedColumn(names, data)) return undefined;
  return { groups, bytes };
}

/** A unit as a report writes it under a column's name: `USD`, `€`, `%`, `kg`, `(pcs)`, `[EUR/kg]`. */
const UNIT = /^[([]?[\p{L}\p{Sc}%°/. ]{1,12}[)\]]?$/u;
/** What says a value is missing, not a unit: the missing tokens, and words for it. */
const NOT_UNITS = new Set([...MISSING_TOKENS, 'n.a.', 'nil', 'unknown', 'missing', 'tbd']);

/**
 * Whether `units`, the line under the header `names`, gives the columns' units (`,USD,pcs,EUR` under
 * `Date,Revenue,Units,Price`): some field filled, and each filled one unit-like and over a column whose
 * `data` (two rows at least) is mostly numbers or dates. Read as data, it kept a small file's columns text.
 */
function isUnitRow(names: readonly string[], units: readonly string[], data: readonly string[][]): boolean {
  const rows = data.filter((r) => r.length === names.length);
  if (rows.length < 2 || rows.length < 0.75 * data.length || names.some((n) => kindOf(n) !== 'text'))
    return false;
  const filled = units.flatMap((u, j) => (u.trim() === '' ? [] : [j]));
  return (
    filled.length > 0 &&
    filled.every((j) => {
      const unit = units[j]!.trim();
      return (
        UNIT.test(unit) &&
        !NOT_UNITS.has(unit.toLowerCase()) &&
        headsTypedColumn(
          [unit],
          rows.map((r) => [r[j]!]),
        )
      );
    })
  );
}

/** Whether some field of `names` is text over a column of `data` mostly numbers or dates. */
function headsTypedColumn(names: readonly string[], data: readonly string[][]): boolean {
  return names.some((_, j) => {
    const kinds = data.map((r) => kindOf(r[j] ?? '')).filter((k) => k !== 'empty');
    const typed = kinds.filter((k) => k === 'number' || k === 'date').length;
    return kinds.length > 0 && typed >= 0.8 * kinds.length;
  });
}

/**
 * The names of a two-row header: each group's name before the names below it, up to the next group
 * (`Q1 Sales`, `Q1 Units`, `Q2 Sales`); the columns left of the first group keep their own (`Region`).
 */
export function groupedHeader(groups: readonly string[], names: readonly string[], units = false): string[] {
  if (units) {
    // The upper row names the columns, the lower one gives their units: `Revenue USD`.
    return groups.map((name, j) => {
      const unit = (names[j] ?? '').trim();
      return unit === '' ? name.trim() : `${name.trim()} ${unit}`;
    });
  }
  let group = '';
  return names.map((name, j) => {
    const upper = (groups[j] ?? '').trim();
    if (upper !== '') group = upper;
    return group === '' ? name : `${group} ${name}`;
  });
}

/** The first `max` complete lines of `text`, each with the offset just past its line break. */
export function leadingLines(text: string, max: number): Array<{ text: string; end: number }> {
  const lines: Array<{ text: string; end: number }> = [];
  const breaks = /\r\n|\n|\r/g;
  let start = 0;
  for (let m = breaks.exec(text); m && lines.length < max; m = breaks.exec(text)) {
    lines.push({ text: text.slice(start, m.index), end: m.index + m[0].length });
    start = m.index + m[0].length;
  }
  return lines;
}

/**
 * The dialect of a table file from its start, read below any title lines (`sniffPreamble`, with `quote`
 * when a profile sets it), and those lines.
 */
export function sniffTable(
  text: string,
  complete: boolean,
  quote?: string,
): { dialect: SniffedDialect; preamble?: Preamble } {
  const first = sniffDialect(text, complete);
  const preamble = sniffPreamble(
    text,
    { delimiter: first.delimiter, quote: quote ?? first.quote },
    first.columns,
  );
  return preamble
    ? { dialect: sniffDialect(text.slice(preamble.chars), complete), preamble }
    : { dialect: first };
}
