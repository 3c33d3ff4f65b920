/** The header record of a UTF-8 CSV file, parsed in JavaScript (one record only) so names are exact. */
import { open } from 'node:fs/promises';

const HEADER_LIMIT = 1 << 20;

/** How a CSV file is written: field delimiter and quote character (doubled inside quotes to escape it). */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  /**
   * What escapes a quote inside a quoted field: the quote itself (`""`, RFC 4180) when absent, or `\\`
   * (`\"`, as MySQL and many scrapers write).
   */
  escape?: string;
}

export const DEFAULT_DIALECT: CsvDialect = { delimiter: ',', quote: '"' };

/** Field names of the first record, or undefined for a file without any bytes. */
export async function readCsvHeader(
  file: string,
  dialect: CsvDialect = DEFAULT_DIALECT,
): Promise<string[] | undefined> {
  const text = await readCsvStart(file, HEADER_LIMIT);
  if (text === undefined) return undefined;
  return parseFirstRecord(text, dialect);
}

/** The first `bytes` bytes of a file as text (a UTF-8 sequence cut at the end is dropped), undefined if empty. */
export async function readCsvStart(file: string, bytes: number): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    if (bytesRead === 0) return undefined;
    return buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
  } finally {
    await handle.close();
  }
}

/** RFC 4180: `,` separates, `"` quotes, `""` inside quotes is a quote, CRLF, LF or CR ends the record. */
export function parseFirstRecord(text: string, dialect: CsvDialect = DEFAULT_DIALECT): string[] {
  return parseRecords(text, dialect, 1).records[0] ?? [''];
}

export interface ParsedRecords {
  records: string[][];
  /** Whether the text ended inside the last record (a sample cut mid-record, or an open quote). */
  truncated: boolean;
}

/**
 * Whether `char`, inside quotes, escapes the `next` one: a doubled quote, or the dialect's escape before a
 * quote or before itself (`\"`, `\\`).
 */
export function escapes(dialect: CsvDialect, char: string, next: string | undefined): boolean {
  const escapeChar = dialect.escape ?? dialect.quote;
  return (
    char === escapeChar && (next === dialect.quote || (escapeChar !== dialect.quote && next === escapeChar))
  );
}

/**
 * Up to `limit` records of `text`. Blank lines are skipped (as DuckDB does). The last record counts as
 * complete only when a line break follows it, unless `complete` says the text is the whole file.
 */
export function parseRecords(
  text: string,
  dialect: CsvDialect,
  limit = Number.POSITIVE_INFINITY,
  complete = false,
): ParsedRecords {
  const { delimiter, quote } = dialect;
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let started = false;
  let i = 0;
  for (; i < text.length && records.length < limit; i++) {
    const char = text[i]!;
    if (quoted) {
      if (escapes(dialect, char, text[i + 1])) {
        field += text[i + 1];
        i++;
      } else if (char === quote) quoted = false;
      else field += char;
      continue;
    }
    if (char === quote) {
      quoted = true;
      started = true;
    } else if (char === delimiter) {
      fields.push(field);
      field = '';
      started = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      if (started || field !== '') {
        fields.push(field);
        records.push(fields);
      }
      fields = [];
      field = '';
      started = false;
    } else {
      field += char;
      started = true;
    }
  }
  const open = started || field !== '';
  if (open && records.length < limit && (complete || (!quoted && i >= text.length && limit === 1))) {
    fields.push(field);
    records.push(fields);
    return { records, truncated: quoted };
  }
  return { records, truncated: open && records.length < limit };
}

/**
 * A header line ending in delimiters its records lack (`id,amount,` above `1,2.5`): its empty names past the
 * records' field count (`columns`, sniffed) are left out, and said. Kept, they made every record a field
 * short, and the file unparseable.
 */
export function withoutTrailingEmptyNames(
  header: string[],
  columns: number | undefined,
): { header: string[]; note?: string } {
  if (columns === undefined || header.length <= columns || header.slice(columns).some((name) => name !== ''))
    return { header };
  const extra = header.length - columns;
  return {
    header: header.slice(0, columns),
    note: `its header line ends with ${extra === 1 ? 'a delimiter' : `${extra} delimiters`} its records do not have: the empty ${extra === 1 ? 'name' : 'names'} left out`,
  };
}
