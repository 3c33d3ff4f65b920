/**
 * The records of a local UTF-8 CSV file (no BOM: see prepare-file.ts), counted without DuckDB, so that what
 * DuckDB read can be checked against the file itself: a record DuckDB cannot read at all (a field past its
 * read buffer) is otherwise lost without a word, since its own counts cover only what it saw.
 *
 * Records are counted as the transformer's `read_csv` (parse-csv.ts `csvRelation`: DuckDB 1.5, escape =
 * quote, no comment character) splits them, every rule checked against DuckDB by count-records.test.ts:
 * - A record ends at LF, CRLF or a lone CR outside quotes.
 * - A quote opens a quoted field only where a field starts (start of the record, after a delimiter) or one
 *   space after that; elsewhere it is text (`5" screen`, `,  "a`). Inside quotes, line breaks and delimiters
 *   are text; the next quote closes, and a quote right after it, or after nothing but spaces, reopens (`""`,
 *   `"a" "b"`). After a closing quote any other byte leaves the rest of the field unquoted (`"a"b"c`).
 * - A blank line (nothing but its line ending; spaces or a tab make a record) is not a record, except in a
 *   one-column file, where DuckDB reads it as a row of NULL.
 * - With a header, the first line is the header, even a blank one.
 * - The last record counts without a line break after it, and so does one left open by a quote.
 *
 * Where DuckDB strays from these, the counts disagree and the transform refuses the file. DuckDB takes the
 * line ending from the first line break of the file, even a quoted one. A line break of another kind outside
 * quotes then mostly fails the read, but right after a closing quote DuckDB reads it as text; and a header
 * with a quoted line break unlike the file's line endings makes DuckDB read no record at all, silently.
 */
import { createReadStream } from 'node:fs';
import type { ParseDialect } from './parse-csv';

export interface CountCsvOptions {
  /** Fields per record (the header's): one column makes a blank line a record. */
  columns: number;
  /** Bytes read at a time; 1 MiB by default. */
  highWaterMark?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

export async function countCsvRecords(
  file: string,
  dialect: ParseDialect,
  options: CountCsvOptions,
): Promise<{ records: number }> {
  const counter = new CsvRecordCounter(dialect, options.columns);
  // 1 MiB chunks counted a 200 MB file fastest (70-160 ms); 8 MiB took twice as long (the chunk no longer
  // stays in the CPU cache between the searches for LF, CR and the quote).
  for await (const chunk of createReadStream(file, { highWaterMark: options.highWaterMark ?? 1 << 20 })) {
    counter.update(chunk as Buffer);
  }
  return { records: counter.finish() };
}

/**
 * The counter over chunks of any size. Between quotes and line breaks it jumps with `Buffer.indexOf`, so the
 * work in JavaScript is per record and per quote, not per byte.
 */
export class CsvRecordCounter {
  private readonly delimiter: number;
  private readonly quote: number;
  /** The escape of a quote inside quotes when it is not the quote itself (`\\"`), else undefined. */
  private readonly escape: number | undefined;
  /** The last chunk ended in an escape inside quotes: the first byte of this one is escaped. */
  private escapePending = false;
  private readonly oneColumn: boolean;
  private headerPending: boolean;
  private records = 0;
  /** Offset of the current chunk in the file. */
  private offset = 0;
  /** Where the current record starts (offset in the file). */
  private recordStart = 0;
  /** Where the last CR outside quotes was, so that the LF of a CRLF ends nothing more. */
  private lastCr = -2;
  private inQuotes = false;
  /** The last chunk ended in a closing quote and spaces: a quote now reopens. */
  private afterClose = false;
  /** The last two bytes of the chunks so far; LF before the file (a field starts there). */
  private previous = LF;
  private previous2 = LF;

  constructor(dialect: ParseDialect, columns: number) {
    this.delimiter = singleByte(dialect.delimiter, 'delimiter');
    this.quote = singleByte(dialect.quote, 'quote');
    const escapeByte = dialect.escape === undefined ? undefined : singleByte(dialect.escape, 'escape');
    this.escape = escapeByte === this.quote ? undefined : escapeByte;
    this.oneColumn = columns === 1;
    this.headerPending = dialect.header;
  }

  update(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    const quote = this.quote;
    let p = this.afterClose ? this.afterClosingQuote(chunk, 0) : 0;
    // The next LF, CR and quote at or after p, searched again only once p has passed them.
    let lf = -1;
    let cr = -1;
    let q = -1;
    while (p < n) {
      if (this.inQuotes) {
        const close = this.escape === undefined ? chunk.indexOf(quote, p) : this.closingQuote(chunk, p);
        if (close === -1) break;
        this.inQuotes = false;
        p = this.afterClosingQuote(chunk, close + 1);
        continue;
      }
      if (lf < p) lf = nextIndex(chunk, LF, p);
      if (cr < p) cr = nextIndex(chunk, CR, p);
      if (q < p) q = nextIndex(chunk, quote, p);
      if (q < lf && q < cr) {
        this.inQuotes = this.opensQuotes(chunk, q);
        p = q + 1;
        continue;
      }
      const end = Math.min(lf, cr);
      if (end === n) break;
      this.lineBreak(chunk[end] === CR, this.offset + end);
      p = end + 1;
    }
    this.previous2 = n > 1 ? chunk[n - 2]! : this.previous;
    this.previous = chunk[n - 1]!;
    this.offset += n;
  }

  /** Records counted, the last one included; the counter is done. */
  finish(): number {
    if (this.recordStart < this.offset) this.endRecord(false);
    return this.records;
  }

  /** The next quote at or after `from` inside quotes that no escape precedes (`\\"` does not close), or -1. */
  private closingQuote(chunk: Buffer, from: number): number {
    let p = from;
    if (this.escapePending) {
      this.escapePending = false;
      p += 1;
    }
    for (;;) {
      const quote = chunk.indexOf(this.quote, p);
      const escaped = chunk.indexOf(this.escape!, p);
      if (escaped === -1 || (quote !== -1 && quote < escaped)) return quote;
      if (escaped + 1 >= chunk.length) {
        this.escapePending = true;
        return -1;
      }
      p = escaped + 2;
    }
  }

  /** After a closing quote at `from - 1`, a quote after nothing but spaces reopens. Where to go on from. */
  private afterClosingQuote(chunk: Buffer, from: number): number {
    let p = from;
    while (p < chunk.length && chunk[p] === SPACE) p++;
    this.afterClose = p === chunk.length;
    if (p < chunk.length && chunk[p] === this.quote) {
      this.inQuotes = true;
      return p + 1;
    }
    return p;
  }

  /**
   * Whether the quote at `q`, outside quotes, opens a quoted field: it does where a field starts and after
   * one space there. The bytes before it are outside quotes too (a line break among them ended a record).
   */
  private opensQuotes(chunk: Buffer, q: number): boolean {
    const before = this.byteBefore(chunk, q, 1);
    return this.startsField(before) || (before === SPACE && this.startsField(this.byteBefore(chunk, q, 2)));
  }

  private byteBefore(chunk: Buffer, index: number, distance: 1 | 2): number {
    const at = index - distance;
    if (at >= 0) return chunk[at]!;
    return at === -1 ? this.previous : this.previous2;
  }

  /** Whether a field starts after this byte (outside quotes). */
  private startsField(byte: number): boolean {
    return byte === this.delimiter || byte === LF || byte === CR;
  }

  private lineBreak(isCr: boolean, at: number): void {
    if (isCr) this.lastCr = at;
    else if (this.lastCr === at - 1) {
      // The LF of a CRLF.
      this.recordStart = at + 1;
      return;
    }
    this.endRecord(this.recordStart === at);
    this.recordStart = at + 1;
  }

  private endRecord(blank: boolean): void {
    if (this.headerPending) this.headerPending = false;
    else if (!blank || this.oneColumn) this.records++;
  }
}

function nextIndex(chunk: Buffer, byte: number, from: number): number {
  const index = chunk.indexOf(byte, from);
  return index === -1 ? chunk.length : index;
}

function singleByte(char: string, name: string): number {
  const bytes = Buffer.from(char, 'utf8');
  if (bytes.length !== 1) {
    throw new Error(`expected a one-byte CSV ${name}, got ${JSON.stringify(char)} (${bytes.length} bytes)`);
  }
  return bytes[0]!;
}
