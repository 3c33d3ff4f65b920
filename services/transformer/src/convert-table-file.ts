/**
 * Non-delimited raw files -> local UTF-8 CSV (comma, `"` quote, header row, `\n`), so that a Parquet, JSON
 * or Excel file goes through the one cleaning path of a CSV and has its types inferred again from text.
 *
 * xlsx (`convertXlsx`): exceljs's streaming reader, one CSV per worksheet, memory bounded by a row (plus
 * the workbook's shared-string table, which every xlsx reader must hold). Cell values become text:
 *   number           shortest round-trip text (`String(n)`: 12.5, 0.30000000000000004, 1e+21)
 *   date             `YYYY-MM-DD` when the number format shows no time and the time is midnight, else
 *                    `YYYY-MM-DD HH:MM:SS` (`.mmm` added when there are milliseconds); a time-only format
 *                    on a value without a day gives `HH:MM:SS`. exceljs gives dates as UTC Dates.
 *   string           as is, with Excel's `_xHHHH_` escapes decoded (`_x000D_` is a CR)
 *   rich text        its runs' text joined
 *   formula          its cached result by the same rules (a date format on the cell applies to it); no
 *                    cached result -> empty; an error result -> `#ERROR!` (exceljs drops the error's code)
 *   hyperlink        its text
 *   boolean          `true` / `false`
 *   error            its code: `#N/A`, `#DIV/0!`, ... (text the cleaning stage quarantines or nulls)
 *   empty            empty field
 * Leading empty rows are skipped and the first non-empty row is the header; later empty rows are skipped
 * and counted; trailing empty cells are dropped, then every row is padded to the widest row, and leading
 * columns that are empty in every row (a table drawn from B2) are dropped.
 *
 * parquet / json (`convertWithDuckDb`): one DuckDB `COPY ... TO csv`. Nested values (STRUCT, LIST, MAP,
 * UNION, JSON objects and arrays) become JSON text, BLOBs lowercase hex after `\x`, TIMESTAMP WITH TIME ZONE UTC text
 * with a `Z`, everything else DuckDB's text form (dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.f]`,
 * decimals with their scale); NULL is an empty field, an empty string `""`.
 */
import { EventEmitter } from 'node:events';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  DataRejectedError,
  errorMessage,
  isOutOfMemory,
  isPipelineError,
  PayloadTooLargeError,
} from '@etl/common/errors';
import { quoteLiteral } from '@etl/common/warehouse/sql';
import type ExcelJS from 'exceljs';
import { queryRows, toCount } from './duckdb-session';
import { looksLikeHeader } from './sniff-csv';

export interface XlsxSheetCsv {
  /** The worksheet's name in the workbook. */
  sheet: string;
  /** The CSV written: `<outDir>/<input file name>.sheet-<n>.csv`, n counting the worksheets read from 1. */
  path: string;
  /** Data rows written, the header not counted. */
  rows: number;
  columns: number;
  /** Fully empty rows between the header and the last data row, left out of the CSV. */
  emptyRows: number;
  /**
   * Formula cells without a saved result (a workbook written by a program that does not calculate, never
   * opened in Excel): their text is empty, so the run summary says how many.
   */
  uncachedFormulas: number;
  /**
   * The sheet's row numbers of the CSV's lines, as [CSV line, sheet row] where they stop following each
   * other (first line, and after empty rows left out): line L is sheet row `row + L - line` of the last
   * pair at or before it.
   */
  rowJumps: Array<[line: number, row: number]>;
}

export interface XlsxSkippedSheet {
  sheet: string;
  /** "empty sheet" or "header only, no data rows". */
  reason: string;
}

export interface XlsxConversion {
  sheets: XlsxSheetCsv[];
  skipped: XlsxSkippedSheet[];
}

export interface ConvertXlsxOptions {
  /** Most bytes of CSV for all the workbook's sheets together (the files returned); no limit when unset. */
  maxBytes?: number;
}

/** What a formula whose cached result is an error becomes: exceljs 4.4.0 drops the error's code. */
export const FORMULA_ERROR_TEXT = '#ERROR!';

/**
 * One CSV per worksheet of `file`, written to `outDir` (created when missing). `label` names the file in
 * messages, which start with it (e.g. "raw file runs/…/sales.xlsx"). An unreadable workbook -> 422
 * UNREADABLE_FILE; more than `maxBytes` of CSV -> 413 INPUT_TOO_LARGE.
 */
export async function convertXlsx(
  file: string,
  outDir: string,
  label: string,
  options: ConvertXlsxOptions = {},
): Promise<XlsxConversion> {
  const target: SheetTarget = {
    outDir,
    baseName: safeFileName(path.parse(file).name),
    label,
    budget: { maxBytes: options.maxBytes, used: 0 },
    written: [],
  };
  await mkdir(outDir, { recursive: true });
  try {
    try {
      return await readWorkbook(file, target);
    } catch (error) {
      if (!(error instanceof PartsOutOfOrder)) throw error;
      // Read again with the workbook parts the first reading met too late.
      await removeFiles(target.written);
      target.written = [];
      target.budget.used = 0;
      return await readWorkbook(file, target, await readWorkbookParts(file, label));
    }
  } catch (error) {
    await removeFiles(target.written);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// xlsx: reading

/**
 * exceljs, loaded on first use. Unbundled (tsx: the CLI, tests) `require('exceljs')` costs ~0.7 s of CPU
 * and ~28 MB here, paid by every process that imports this module; in the esbuild bundle the difference
 * is within noise.
 */
async function loadExcelJs(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}

const READER_OPTIONS = {
  worksheets: 'emit',
  sharedStrings: 'cache',
  styles: 'cache',
  hyperlinks: 'ignore',
  entries: 'emit',
} as const;

interface SheetTarget {
  outDir: string;
  baseName: string;
  label: string;
  budget: { maxBytes: number | undefined; used: number };
  /** Files written so far, removed when the conversion fails. */
  written: string[];
}

/**
 * exceljs 4.4.0 reads the zip's parts in stored order and streams a worksheet as soon as the shared strings
 * and the workbook relationships are known. A worksheet stored before `xl/styles.xml` then has its dates
 * read as plain numbers (its number formats are unknown yet), and one stored before `xl/workbook.xml` makes
 * exceljs throw ("Cannot read properties of undefined (reading 'sheets')"). Raised on either, to read
 * again with those parts taken from a first pass (`readWorkbookParts`).
 */
class PartsOutOfOrder extends Error {}

/** The WorkbookReader state a worksheet reads when it starts (exceljs internals, not in its types). */
interface WorkbookParts {
  /** exceljs's StyleManager: the cells' number formats. */
  styles: unknown;
  /** The parsed xl/workbook.xml: sheet names. */
  model: unknown;
  /** Its workbookPr: the 1904 date system flag. */
  properties: unknown;
}

async function readWorkbook(
  file: string,
  target: SheetTarget,
  parts?: WorkbookParts,
): Promise<XlsxConversion> {
  const { WorkbookReader } = (await loadExcelJs()).stream.xlsx;
  const source = zipSource(file);
  const reader = new WorkbookReader(source, {
    ...READER_OPTIONS,
    // Injected styles must not be replaced by an empty style table.
    styles: parts ? 'ignore' : 'cache',
  });
  if (parts) Object.assign(reader, parts);
  const seen = new Set<string>();
  let outOfOrder = false;
  // The reader is an EventEmitter at run time; its type declarations say otherwise.
  if (!(reader instanceof EventEmitter))
    throw new Error('expected exceljs WorkbookReader to be an EventEmitter');
  reader.on('entry', (entry: unknown) => {
    const type = typeof entry === 'object' && entry !== null ? String(Reflect.get(entry, 'type')) : '';
    if (type === 'worksheet' && !parts && !(seen.has('workbook') && seen.has('styles'))) outOfOrder = true;
    seen.add(type);
  });
  const result: XlsxConversion = { sheets: [], skipped: [] };
  const work = async (): Promise<void> => {
    let index = 0;
    const sheets = guarded(reader, (error) =>
      outOfOrder ? new PartsOutOfOrder() : unreadableFile(target.label, 'xlsx', errorMessage(error), error),
    );
    for await (const sheet of sheets) {
      if (outOfOrder) throw new PartsOutOfOrder();
      index += 1;
      const name = stringProperty(sheet, 'name') ?? `Sheet${index}`;
      const out = path.join(target.outDir, `${target.baseName}.sheet-${index}.csv`);
      const converted = await writeSheet(sheet, name, out, target, isDate1904(reader));
      if ('reason' in converted) result.skipped.push(converted);
      else result.sheets.push(converted);
    }
  };
  try {
    // exceljs pipes `source` into its unzipper without forwarding the stream's errors: a read error would
    // otherwise leave the iteration waiting forever.
    await Promise.race([settledLater(work()), failureOf(source)]);
  } finally {
    source.destroy();
  }
  if (result.sheets.length === 0 && result.skipped.length === 0) {
    throw unreadableFile(target.label, 'xlsx', 'no worksheets found in it');
  }
  return result;
}

/**
 * The xlsx file as the stream exceljs pipes into its zip parser, with the parser's early `end` taken out.
 * unzipper 0.10's parser emits `end` as soon as its input is consumed ('finish'), while entries it has
 * already parsed still wait in its readable buffer; exceljs stops at that `end`. When a worksheet is
 * streamed (shared strings and relationships stored before it) and converting it is slower than parsing
 * the small parts after it, the worksheets after it were lost without a word. Without that listener the
 * parser's own `push(null)` after the zip's end record ends the stream once every entry has been read.
 */
export function zipSource(file: string): ReadStream {
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  const pipe = source.pipe.bind(source);
  source.pipe = <T extends NodeJS.WritableStream>(parser: T, options?: { end?: boolean }): T => {
    if (parser instanceof EventEmitter) {
      for (const listener of parser.listeners('finish')) {
        if (/\.emit\(\s*['"]end['"]/.test(String(listener)))
          parser.removeListener('finish', listener as () => void);
      }
    }
    return pipe(parser, options);
  };
  return source;
}

/**
 * `items`, with the errors of reading them (exceljs's: a broken zip, malformed XML) replaced by `wrap`'s,
 * and only those: an error thrown by the loop consuming them passes as it is.
 */
async function* guarded<T>(items: AsyncIterable<T>, wrap: (error: unknown) => unknown): AsyncGenerator<T> {
  const iterator = items[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw wrap(error);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** `work`, marked handled: when a read error wins the race, its later failure must not go unhandled. */
function settledLater<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/** Rejects with the local file's read error (a missing scratch file is a bug here, not bad data). */
function failureOf(source: ReadStream): Promise<never> {
  return new Promise((_, reject) => {
    source.once('error', reject);
  });
}

/**
 * The workbook's styles, sheet list and date system, read in a pass that streams every worksheet past
 * unread. `model` is preset so that a worksheet stored before xl/workbook.xml does not make exceljs throw.
 */
async function readWorkbookParts(file: string, label: string): Promise<WorkbookParts> {
  const { WorkbookReader } = (await loadExcelJs()).stream.xlsx;
  const source = zipSource(file);
  const reader = new WorkbookReader(source, { ...READER_OPTIONS, entries: 'ignore' });
  Object.assign(reader, { model: { sheets: [] } });
  const work = async (): Promise<void> => {
    const unreadable = (error: unknown) => unreadableFile(label, 'xlsx', errorMessage(error), error);
    for await (const sheet of guarded(reader, unreadable)) {
      for await (const _row of guarded(sheet, unreadable)) {
        // drained: only the parts read around the worksheets are wanted
      }
    }
  };
  try {
    await Promise.race([settledLater(work()), failureOf(source)]);
  } finally {
    source.destroy();
  }
  return {
    styles: Reflect.get(reader, 'styles'),
    model: Reflect.get(reader, 'model'),
    properties: Reflect.get(reader, 'properties'),
  };
}

function stringProperty(value: object, key: string): string | undefined {
  const property: unknown = Reflect.get(value, key);
  return typeof property === 'string' ? property : undefined;
}

/** `<workbookPr date1904="1">`, as exceljs keeps it (`reader.properties.model.date1904`). */
function isDate1904(reader: object): boolean {
  const properties: unknown = Reflect.get(reader, 'properties');
  if (typeof properties !== 'object' || properties === null) return false;
  const model: unknown = Reflect.get(properties, 'model');
  return typeof model === 'object' && model !== null && Reflect.get(model, 'date1904') === true;
}

// ---------------------------------------------------------------------------------------------------------
// xlsx: one worksheet -> one CSV

/**
 * Pass 1 writes each non-empty row with its own width to `<out>.part`; pass 2 (`reshapeCsv`) pads rows to
 * the widest and drops the leading columns empty in every row, only when needed: the width of a row is
 * known row by row, the widest only at the end.
 */
async function writeSheet(
  sheet: ExcelJS.stream.xlsx.WorksheetReader,
  name: string,
  out: string,
  target: SheetTarget,
  date1904: boolean,
): Promise<XlsxSheetCsv | XlsxSkippedSheet> {
  const part = `${out}.part`;
  target.written.push(part);
  const writer = await BufferedFile.create(part);
  let headerSeen = false;
  let rows = 0;
  let emptyRows = 0;
  let uncachedFormulas = 0;
  let lastNonEmpty = 0;
  let lastRow = 0;
  let lines = 0;
  const rowJumps: Array<[number, number]> = [];
  let minWidth = Number.POSITIVE_INFINITY;
  let maxWidth = 0;
  let lead = Number.POSITIVE_INFINITY;
  try {
    const sheetRows = guarded(sheet, (error) =>
      unreadableFile(target.label, 'xlsx', `worksheet ${name}: ${errorMessage(error)}`, error),
    );
    for await (const row of sheetRows) {
      // `r` is optional in the XML: a row without it follows the one before.
      const number = Number.isInteger(row.number) && row.number > lastRow ? row.number : lastRow + 1;
      lastRow = number;
      const { fields, uncached } = rowFields(row, date1904);
      uncachedFormulas += uncached;
      if (fields.length === 0) continue;
      if (headerSeen) {
        emptyRows += number - lastNonEmpty - 1;
        rows += 1;
      }
      headerSeen = true;
      lines += 1;
      if (number !== lastNonEmpty + 1 || lines === 1) rowJumps.push([lines, number]);
      lastNonEmpty = number;
      minWidth = Math.min(minWidth, fields.length);
      maxWidth = Math.max(maxWidth, fields.length);
      lead = Math.min(
        lead,
        fields.findIndex((field) => field !== ''),
      );
      await writer.write(`${fields.map(csvField).join(',')}\n`);
      // The final CSV is at least this large: reshaping drops at most `lead` bytes a record. (Checked
      // from the first data row on: a sheet with a header only is not written.)
      const maxBytes = target.budget.maxBytes;
      if (
        maxBytes !== undefined &&
        rows > 0 &&
        target.budget.used + writer.bytes - (rows + 1) * lead > maxBytes
      ) {
        throw tooLarge(target.label, maxBytes);
      }
    }
  } finally {
    await writer.close();
  }
  if (!headerSeen || rows === 0) {
    await rm(part, { force: true });
    return { sheet: name, reason: headerSeen ? 'header only, no data rows' : 'empty sheet' };
  }
  target.written.push(out);
  let bytes = writer.bytes;
  if (lead > 0 || minWidth < maxWidth) {
    bytes = await reshapeCsv(part, out, lead, maxWidth, target);
    await rm(part, { force: true });
  } else {
    if (target.budget.maxBytes !== undefined && target.budget.used + bytes > target.budget.maxBytes) {
      throw tooLarge(target.label, target.budget.maxBytes);
    }
    await rename(part, out);
  }
  target.budget.used += bytes;
  return { sheet: name, path: out, rows, columns: maxWidth - lead, emptyRows, uncachedFormulas, rowJumps };
}

/**
 * The row's cells as text, trailing empty cells dropped ([] for a fully empty row), and how many are
 * formulas without a saved result.
 */
function rowFields(row: ExcelJS.Row, date1904: boolean): { fields: string[]; uncached: number } {
  const fields: string[] = [];
  let width = 0;
  let uncached = 0;
  for (let col = 1; col <= row.cellCount; col++) {
    const cell = row.getCell(col);
    const text = cellText(cell, date1904);
    fields.push(text);
    if (text !== '') width = col;
    else if (isUncachedFormula(cell)) uncached += 1;
  }
  fields.length = width;
  return { fields, uncached };
}

/**
 * Copies a CSV written by `writeSheet`, dropping the `lead` leading fields of each record (empty, so each
 * record starts with exactly `lead` commas) and padding it with empty fields to `width`. Scans bytes:
 * `,`, `"` and `\n` are ASCII, never part of a UTF-8 multi-byte character.
 */
async function reshapeCsv(
  from: string,
  to: string,
  lead: number,
  width: number,
  target: SheetTarget,
): Promise<number> {
  const COMMA = 0x2c;
  const QUOTE = 0x22;
  const NEWLINE = 0x0a;
  const fieldsWanted = width - lead;
  const endings = new Map<number, Buffer>();
  const ending = (pad: number): Buffer => {
    let bytes = endings.get(pad);
    if (!bytes) {
      bytes = Buffer.from(`${','.repeat(pad)}\n`);
      endings.set(pad, bytes);
    }
    return bytes;
  };
  let skip = lead;
  let fields = 1;
  let quoted = false;
  let bytes = 0;
  const maxBytes = target.budget.maxBytes;
  const reshape = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const parts: Buffer[] = [];
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        if (skip > 0) {
          skip -= 1;
          start = i + 1;
          continue;
        }
        const byte = chunk[i];
        if (byte === QUOTE) quoted = !quoted;
        else if (quoted) continue;
        else if (byte === COMMA) fields += 1;
        else if (byte === NEWLINE) {
          parts.push(chunk.subarray(start, i), ending(fieldsWanted - fields));
          start = i + 1;
          fields = 1;
          skip = lead;
        }
      }
      parts.push(chunk.subarray(start));
      const output = Buffer.concat(parts);
      bytes += output.length;
      if (maxBytes !== undefined && target.budget.used + bytes > maxBytes) {
        done(tooLarge(target.label, maxBytes));
        return;
      }
      done(null, output);
    },
  });
  await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), reshape, createWriteStream(to));
  return bytes;
}

/** Writes text in ~1 MiB batches; `bytes` counts what was written (UTF-8). */
class BufferedFile {
  static readonly BATCH_BYTES = 1 << 20;
  bytes = 0;
  private pending: string[] = [];
  private pendingBytes = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async create(file: string): Promise<BufferedFile> {
    return new BufferedFile(await open(file, 'w'));
  }

  async write(text: string): Promise<void> {
    const length = Buffer.byteLength(text);
    this.bytes += length;
    this.pending.push(text);
    this.pendingBytes += length;
    if (this.pendingBytes >= BufferedFile.BATCH_BYTES) await this.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    for (let offset = 0; offset < data.length; ) {
      offset += (await this.handle.write(data, offset)).bytesWritten;
    }
  }
}

/** RFC 4180: quoted when holding a comma, a quote, CR or LF; quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// ---------------------------------------------------------------------------------------------------------
// xlsx: cell values

/** One cell as text, by the rules in the header comment. */
export function cellText(cell: ExcelJS.Cell, date1904 = false): string {
  const formula = formulaOf(cell);
  if (formula) return resultText(formula.result, cell.numFmt, date1904);
  return valueText(cell.value, cell.numFmt, date1904);
}

/** A formula cell whose workbook saved no result for it (`result` absent, not a falsy one). */
function isUncachedFormula(cell: ExcelJS.Cell): boolean {
  const formula = formulaOf(cell);
  return formula !== undefined && formula.result === undefined;
}

/** A formula cell's saved result (`undefined` when the workbook saved none); undefined for other cells. */
function formulaOf(cell: ExcelJS.Cell): { result: unknown } | undefined {
  const value = cell.value;
  // A shared formula's dependent cell has an empty formula text: exceljs keeps it as a plain object.
  if (typeof value !== 'object' || value === null || !('formula' in value || 'sharedFormula' in value))
    return undefined;
  // A formula cell's `value` drops a falsy cached result (0, '', false); the cell's `result` keeps it.
  return { result: 'result' in value ? value.result : cell.result };
}

function valueText(value: unknown, numFmt: string | undefined, date1904: boolean): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return decodeExcelEscapes(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return dateText(value, numFmt, date1904);
  if (typeof value !== 'object') return String(value);
  const richText: unknown = Reflect.get(value, 'richText');
  if (Array.isArray(richText)) {
    return decodeExcelEscapes(richText.map((run: unknown) => runText(run)).join(''));
  }
  const error: unknown = Reflect.get(value, 'error');
  if (typeof error === 'string') return error;
  if ('hyperlink' in value) return valueText(Reflect.get(value, 'text'), numFmt, date1904);
  return JSON.stringify(value);
}

function runText(run: unknown): string {
  if (typeof run !== 'object' || run === null) return '';
  const text: unknown = Reflect.get(run, 'text');
  return typeof text === 'string' ? text : '';
}

function resultText(result: unknown, numFmt: string | undefined, date1904: boolean): string {
  if (typeof result === 'number') {
    // exceljs parses every cached result that is not `t="str"` as a number: an error code gives NaN.
    if (Number.isNaN(result)) return FORMULA_ERROR_TEXT;
    // Formula results never arrive as Dates, whatever the cell's format.
    if (isDateFormat(numFmt)) return dateText(excelSerialToDate(result, date1904), numFmt, date1904);
  }
  return valueText(result, numFmt, date1904);
}

/** Excel's `_xHHHH_` escapes in strings (exceljs's streaming reader leaves them); `_x005F_` is `_`. */
export function decodeExcelEscapes(text: string): string {
  if (!text.includes('_x')) return text;
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** exceljs's own rule (utils.isDateFmt): date/time letters outside quotes and brackets. */
export function isDateFormat(numFmt: string | undefined): boolean {
  return numFmt !== undefined && /[ymdhMsb]/.test(formatLetters(numFmt));
}

function formatLetters(numFmt: string): string {
  return numFmt
    .replace(/\[[^\]]*]/g, '')
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '');
}

/** exceljs's conversion (utils.excelToDate): days since 1899-12-30 (1904-01-01), rounded to milliseconds. */
export function excelSerialToDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

const MS_PER_DAY = 86_400_000;

/** A UTC Date from exceljs as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.mmm]` or `HH:MM:SS[.mmm]`. */
export function dateText(date: Date, numFmt: string | undefined, date1904 = false): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return String(date);
  const letters = numFmt === undefined ? '' : formatLetters(numFmt);
  const showsTime =
    /[hs]/i.test(letters) || /\[(h+|m+|s+)]/i.test(numFmt ?? '') || /AM\/PM|A\/P/i.test(letters);
  const showsDate = /[ydb]/i.test(letters) || (/m/i.test(letters) && !showsTime);
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ, or ±YYYYYY-... outside years 0-9999
  const at = iso.indexOf('T');
  const day = iso.slice(0, at);
  const millis = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  const time = iso.slice(at + 1, millis % 1000 === 0 ? at + 9 : at + 13);
  const epochDay = date1904 ? '1904-01-01' : '1899-12-30';
  if (showsTime && !showsDate && day === epochDay) return time;
  if (showsTime || millis !== 0) return `${day} ${time}`;
  return day;
}

// ---------------------------------------------------------------------------------------------------------
// parquet / json

/**
 * One Parquet or JSON file (`format='auto'`: a JSON array of objects, one object, or JSON lines) -> one
 * CSV at `out`. A JSON file that is one object holding one list of objects (an API's `{"meta": ...,
 * "data": [...]}`) gives the list's objects as its rows, and `note` says so. 0 rows still writes the
 * header; the caller decides what an empty table means. A file DuckDB cannot read -> 422 UNREADABLE_FILE,
 * the message starting with `label` and ending with the first line of DuckDB's.
 */
export async function convertWithDuckDb(
  connection: DuckDBConnection,
  file: string,
  format: 'parquet' | 'json',
  out: string,
  label: string,
): Promise<{ rows: number; columns: number; note?: string; malformed?: MalformedRecord[] }> {
  try {
    return await convertOnce(connection, file, format, out, label);
  } catch (error) {
    if (format !== 'json' || !errorMessage(error).includes('Malformed JSON')) throw error;
    // DuckDB refuses a JSON lines file whole for one broken line (a truncated write): its good lines are
    // read, and the others quarantined (`malformed`), as a CSV's unparseable lines are.
    const lines = `${out}.lines.json`;
    try {
      const malformed = await splitJsonLines(file, lines);
      if (!malformed) throw error;
      return { ...(await convertOnce(connection, lines, format, out, label)), malformed };
    } finally {
      await rm(lines, { force: true });
    }
  }
}

/** A line of a JSON lines file that is no JSON object, by its line number. */
export interface MalformedRecord {
  line: number;
  raw: string;
  message: string;
}

/**
 * The lines of `file` that are JSON objects, written to `out`, and those that are not. Undefined when most
 * lines are not (a pretty-printed document, not JSON lines): the file is then refused as it was.
 */
async function splitJsonLines(file: string, out: string): Promise<MalformedRecord[] | undefined> {
  const writer = await BufferedFile.create(out);
  const malformed: MalformedRecord[] = [];
  let objects = 0;
  let line = 0;
  try {
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() === '') continue;
      const problem = jsonObjectProblem(text);
      if (problem === undefined) {
        objects += 1;
        await writer.write(`${text}\n`);
      } else malformed.push({ line, raw: text, message: `line ${line} ${problem}` });
    }
  } finally {
    await writer.close();
  }
  return objects > malformed.length ? malformed : undefined;
}

function jsonObjectProblem(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? undefined
      : 'is JSON but no object';
  } catch (error) {
    return `is no JSON: ${errorMessage(error)}`;
  }
}

async function convertOnce(
  connection: DuckDBConnection,
  file: string,
  format: 'parquet' | 'json',
  out: string,
  label: string,
): Promise<{ rows: number; columns: number; note?: string }> {
  // sample_size = -1: the column set and types come from every record, not the first 20,480.
  let source =
    format === 'parquet'
      ? `read_parquet(${quoteLiteral(file)})`
      : `read_json(${quoteLiteral(file)}, format = 'auto', sample_size = -1)`;
  let columns: FlatColumn[];
  let note: string | undefined;
  try {
    // Described once: each DESCRIBE of a JSON file with sample_size = -1 parses all of it.
    const top = await describeColumns(connection, `SELECT * FROM ${source}`);
    const envelope = format === 'json' ? await recordsEnvelope(connection, source, top) : undefined;
    const byColumn =
      format === 'json' && !envelope ? await pandasColumns(connection, file, source, top) : undefined;
    const split =
      format === 'json' && !envelope && !byColumn
        ? await pandasSplit(connection, file, source, top)
        : undefined;
    const keyed =
      format === 'json' && !envelope && !byColumn && !split
        ? await keyedRecords(connection, file, top)
        : undefined;
    const lists =
      format === 'json' && !envelope && !byColumn && !split && !keyed
        ? await listRows(connection, source, top)
        : undefined;
    if (lists) {
      source = lists.source;
      note = `the file is a list of lists (pandas' to_json orient values, a spreadsheet API's values): each list read as a row, ${lists.header ? 'the first as the header' : 'in columns column_1, column_2, ... (the first list is data, not names)'}`;
    } else if (keyed) {
      source = keyed.source;
      note = `the file is one object of ${keyed.rows} objects keyed by ${keyed.key === 'index' ? 'an integer index' : 'an id'} (pandas' to_json orient index, a Firebase export): read as rows, each key as column "${keyed.key}"`;
    } else if (byColumn) {
      source = byColumn;
      note = `the file is one object of columns, each an object of the rows by their index (pandas' to_json default): read as rows, the index as column "index"`;
    } else if (split) {
      source = split.source;
      note = `the file is one object of "columns" and "data" (pandas' to_json orient split): its data lists read as rows${split.index ? ', the index as column "index"' : ''}`;
    } else if (envelope) {
      source = `(SELECT unnest(${duckDbIdentifier(envelope.list)}, max_depth := 2) FROM ${source})`;
      const others =
        envelope.others.length > 0
          ? `; its other keys (${envelope.others.join(', ')}) are not rows, and not loaded`
          : '';
      note = `the file is one object: its rows are the objects of its ${JSON.stringify(envelope.list)} list${others}`;
    }
    columns = await flatColumns(
      connection,
      source,
      [],
      0,
      envelope || byColumn || split || keyed || lists ? undefined : top,
    );
  } catch (error) {
    throw readFailure(error, label, format, file);
  }
  const select = columns
    .map((column) => `${textExpression(column.sql, column.type)} AS ${duckDbIdentifier(column.name)}`)
    .join(', ');
  try {
    const copied = await queryRows(
      connection,
      `COPY (SELECT ${select} FROM ${source}) TO ${quoteLiteral(out)} (FORMAT csv, HEADER, DELIMITER ',', QUOTE '"')`,
    );
    return { rows: toCount(copied[0]?.['Count']), columns: columns.length, ...(note ? { note } : {}) };
  } catch (error) {
    // A failure to write `out` (a full disk) is not the input's fault.
    if (errorMessage(error).includes(out)) throw error;
    throw readFailure(error, label, format, file);
  }
}

/**
 * The list of objects a JSON file wraps, when the file is one object with exactly one such list among its
 * keys (`{"meta": {...}, "data": [{...}, ...]}`): the list's key, and the other keys. The file is counted
 * only when its keys have that shape; an array of records with one list of objects each (orders with their
 * lines) has more than one row, and stays as it is.
 */
async function recordsEnvelope(
  connection: DuckDBConnection,
  source: string,
  keys: readonly SourceColumn[],
): Promise<{ list: string; others: string[] } | undefined> {
  const lists = keys.filter((key) => key.type.startsWith('STRUCT(') && key.type.endsWith(')[]'));
  if (lists.length !== 1) return undefined;
  const [count] = await queryRows(connection, `SELECT count(*) AS n FROM ${source}`);
  if (toCount(count?.['n']) !== 1) return undefined;
  const list = lists[0]!.name;
  return { list, others: keys.map((key) => key.name).filter((name) => name !== list) };
}

/**
 * The rows of a JSON file written by pandas' `DataFrame.to_json()` with its default orient, `columns`:
 * `{"order_id": {"0": "A1", "1": "A2"}, "total": {"0": 12.5, "1": 7.0}}`. As a table that is one row of
 * columns `order_id_0`, `order_id_1`... So when the file is one object whose keys are all objects keyed by
 * the same integers, it is read again with every key a MAP to JSON values, and the maps are unnested side
 * by side: one row an index entry, the index (a date index is written as epoch milliseconds) kept as column
 * `index`.
 */
async function pandasColumns(
  connection: DuckDBConnection,
  file: string,
  source: string,
  described: readonly SourceColumn[],
): Promise<string | undefined> {
  if (!described.every((column) => /^(STRUCT|MAP)\(/.test(column.type))) return undefined;
  const [count] = await queryRows(connection, `SELECT count(*) AS n FROM ${source}`);
  if (toCount(count?.['n']) !== 1) return undefined;
  // Stated, not inferred: DuckDB makes a STRUCT of an object of up to 200 keys, and a MAP of the whole
  // file when its columns hold values of one type.
  const names = described.map((column) => column.name);
  const maps = `read_json(${quoteLiteral(file)}, format = 'auto', records = 'true', columns = {${names
    .map((name) => `${quoteLiteral(name)}: 'MAP(VARCHAR, JSON)'`)
    .join(', ')}})`;
  const columns = names.map(duckDbIdentifier);
  const first = columns[0]!;
  const [shape] = await queryRows(
    connection,
    `SELECT list_bool_and(list_transform(map_keys(${first}), lambda k: regexp_full_match(k, '-?[0-9]+')))
      AND ${columns.map((c) => `map_keys(${c}) = map_keys(${first})`).join(' AND ')} AS ok FROM ${maps}`,
  );
  if (shape?.['ok'] !== true) return undefined;
  return `(SELECT unnest(map_keys(${first})) AS "index", ${columns.map((c) => `unnest(map_values(${c})) AS ${c}`).join(', ')} FROM ${maps})`;
}

/**
 * The rows of a JSON file that is one object of records keyed by their id: pandas' `to_json(orient='index')`,
 * `{"0": {"order_id": "A1", "total": 12.5}, "1": {...}}`, or a Firebase export, `{"-Nx1": {...}, ...}`. As a
 * table that is one row of columns `col_0_order_id`, ... (or one MAP cell past 200 keys). So when the file is
 * one object of at least two objects that share a key, each is a row, its key kept as column `index` (all
 * integers: pandas' index) or `key`.
 */
async function keyedRecords(
  connection: DuckDBConnection,
  file: string,
  described: readonly SourceColumn[],
): Promise<{ source: string; key: 'index' | 'key'; rows: number } | undefined> {
  if (!described.every((column) => /^(STRUCT|MAP)\(/.test(column.type))) return undefined;
  const objects = `read_json_objects(${quoteLiteral(file)}, format = 'auto')`;
  const [top] = await queryRows(
    connection,
    `SELECT count(*) AS n, bool_and(json_type(json) = 'OBJECT') AS object FROM ${objects}`,
  );
  if (toCount(top?.['n']) !== 1 || top?.['object'] !== true) return undefined;
  const entries = `(SELECT e.key, e.value FROM ${objects} AS j, json_each(j.json) AS e)`;
  const [shape] = await queryRows(
    connection,
    `SELECT count(*) AS n, bool_and(json_type(value) = 'OBJECT') AS objects,
       bool_and(regexp_full_match(key, '-?[0-9]+')) AS integers, json_group_structure(value) AS structure
     FROM ${entries}`,
  );
  const rows = toCount(shape?.['n']);
  if (rows < 2 || shape?.['objects'] !== true) return undefined;
  const [shared] = await queryRows(
    connection,
    `SELECT max(n) AS n FROM (SELECT count(*) AS n FROM ${entries}, unnest(json_keys(value)) AS k(name) GROUP BY name)`,
  );
  if (toCount(shared?.['n']) !== rows) return undefined;
  const key = shape['integers'] === true ? 'index' : 'key';
  return {
    source: `(SELECT key AS ${key}, unnest(json_transform(value, ${quoteLiteral(String(shape['structure']))})) FROM ${entries})`,
    key,
    rows,
  };
}

/**
 * The rows of a JSON file written by pandas' `DataFrame.to_json(orient='split')`: `{"columns": ["order_id",
 * "total"], "index": [0, 1], "data": [["A1", 12.5], ["A2", 7.0]]}`, as a table one row of three lists. So when
 * the file is one object of a list of names `columns`, a list of lists `data` as long as it, and at most an
 * `index` list, each list of `data` is a row, its values named by `columns`, the index kept as column `index`.
 */
async function pandasSplit(
  connection: DuckDBConnection,
  file: string,
  source: string,
  described: readonly SourceColumn[],
): Promise<{ source: string; index: boolean } | undefined> {
  const types = new Map(described.map((column) => [column.name, column.type]));
  const index = types.has('index');
  const known = types.size === (index ? 3 : 2) && types.get('columns') === 'VARCHAR[]';
  if (!known || !types.get('data')?.endsWith('[][]')) return undefined;
  const [row, ...more] = await queryRows(connection, `SELECT columns FROM ${source}`);
  const names = row?.['columns'];
  if (more.length > 0 || !Array.isArray(names) || names.length === 0) return undefined;
  const lists = `read_json(${quoteLiteral(file)}, format = 'auto', records = 'true', columns = {'columns': 'VARCHAR[]', 'data': 'JSON[][]'${index ? ", 'index': 'JSON[]'" : ''}})`;
  const [shape] = await queryRows(
    connection,
    `SELECT list_bool_and(list_transform(data, lambda r: len(r) = ${names.length})) AS ok FROM ${lists}`,
  );
  if (shape?.['ok'] !== true) return undefined;
  const values = names.map((name, i) => `r[${i + 1}] AS ${duckDbIdentifier(String(name))}`).join(', ');
  return {
    source: `(SELECT ${index ? '"index", ' : ''}${values} FROM (SELECT ${index ? 'unnest("index") AS "index", ' : ''}unnest(data) AS r FROM ${lists}))`,
    index,
  };
}

/**
 * The rows of a JSON file that is a list of lists of one length: `[["date", "amount"], ["2023-01-01", 5.5]]`,
 * as pandas' `to_json(orient='values')` and spreadsheet APIs write a sheet, read by DuckDB as one column of
 * lists. Each list is a row; the first is the header when it is all strings and reads as names over the
 * lists below it (`looksLikeHeader`), else the columns are `column_1`, `column_2`, ... Values become text, to
 * be typed as any CSV's.
 */
async function listRows(
  connection: DuckDBConnection,
  source: string,
  described: readonly SourceColumn[],
): Promise<{ source: string; header: boolean } | undefined> {
  const [only] = described;
  if (described.length !== 1 || only?.name !== 'json' || only.type !== 'JSON[]') return undefined;
  const numbered = `(SELECT json, row_number() OVER () AS __n FROM ${source})`;
  const [shape] = await queryRows(
    connection,
    `SELECT min(len(json)) AS lo, max(len(json)) AS hi, count(*) FILTER (WHERE json IS NULL) AS nulls FROM ${source}`,
  );
  const width = toCount(shape?.['hi']);
  if (width === 0 || toCount(shape?.['lo']) !== width || toCount(shape?.['nulls']) > 0) return undefined;
  const first = await queryRows(
    connection,
    `SELECT list_transform(json, lambda v: v ->> '$') AS r, list_bool_and(list_transform(json, lambda v: json_type(v) = 'VARCHAR')) AS strings
     FROM ${numbered} WHERE __n <= 50 ORDER BY __n`,
  );
  const records = first.map((row) => (row['r'] as unknown[]).map((v) => (v === null ? '' : String(v))));
  const header = first[0]?.['strings'] === true && looksLikeHeader(records);
  const names = header ? records[0]! : records[0]!.map((_, i) => `column_${i + 1}`);
  const values = names.map((name, i) => `json[${i + 1}] ->> '$' AS ${duckDbIdentifier(name)}`);
  return {
    source: `(SELECT ${values.join(', ')} FROM ${numbered} WHERE __n > ${header ? 1 : 0} ORDER BY __n)`,
    header,
  };
}

/** A column of a query as DuckDB describes it. */
interface SourceColumn {
  name: string;
  type: string;
}

async function describeColumns(connection: DuckDBConnection, select: string): Promise<SourceColumn[]> {
  return (await queryRows(connection, `DESCRIBE ${select}`)).map((row) => ({
    name: String(row['column_name']),
    type: String(row['column_type']),
  }));
}

/** A column of the converted CSV: its header, the SQL reading it, its DuckDB type. */
interface FlatColumn {
  name: string;
  sql: string;
  type: string;
}

/** Levels of nested objects spread into columns; deeper ones stay JSON text. */
const MAX_NESTING = 3;

/**
 * The columns of `source`, a nested object (a STRUCT: `{"customer": {"id": "C1"}}`) spread into one column
 * per field, named `customer.id` (snake-cased later: `customer_id`, which the roles know); lists and maps
 * stay JSON text. A value MongoDB's extended JSON wraps in an object of one `$` key (`mongoexport`:
 * `{"_id": {"$oid": "5f1d..."}}`, `{"$date": ...}`, `{"$numberDecimal": "12.50"}`) keeps its field's name.
 */
async function flatColumns(
  connection: DuckDBConnection,
  source: string,
  path: readonly string[],
  depth: number,
  described?: readonly SourceColumn[],
  names: readonly string[] = path,
): Promise<FlatColumn[]> {
  // unnest() of a STRUCT lists its fields (a nested `a.b.*` does not parse).
  const fields = path.length === 0 ? '*' : `unnest(${path.map(duckDbIdentifier).join('.')})`;
  const columns = described ?? (await describeColumns(connection, `SELECT ${fields} FROM ${source}`));
  const wrapper = path.length > 0 && columns.length === 1 && columns[0]!.name.startsWith('$');
  const out: FlatColumn[] = [];
  for (const { name, type } of columns) {
    const at = [...path, name];
    const named = wrapper ? names : [...names, name];
    // `STRUCT(...)[]` is a list of objects (an order's lines), kept as JSON text like any list.
    if (type.startsWith('STRUCT(') && type.endsWith(')') && depth < MAX_NESTING)
      out.push(...(await flatColumns(connection, source, at, depth + 1, undefined, named)));
    else out.push({ name: named.join('.'), sql: at.map(duckDbIdentifier).join('.'), type });
  }
  return out;
}

/** The SQL giving column `column` of DuckDB type `type` as text. */
export function textExpression(column: string, type: string): string {
  if (/^(STRUCT|MAP|UNION)\(/.test(type) || type.endsWith(']')) return `CAST(to_json(${column}) AS VARCHAR)`;
  // A JSON column holds keys whose values mix types: a string value as its text, not a quoted JSON string.
  if (type === 'JSON') {
    return `CASE WHEN json_type(${column}) = 'VARCHAR' THEN ${column} ->> '$' ELSE CAST(${column} AS VARCHAR) END`;
  }
  // `\x` first, as PostgreSQL writes bytea: bare hex of digits only (`78` for `x`) was typed as a number.
  if (type === 'BLOB') return `'\\x' || lower(hex(${column}))`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return `CAST(${column} AT TIME ZONE 'UTC' AS VARCHAR) || 'Z'`;
  return `CAST(${column} AS VARCHAR)`;
}

/**
 * A column name as DuckDB read it, quoted. Not `quoteIdentifier`: that one rejects control characters,
 * which JSON keys may hold (DuckDB accepts them quoted, and names an empty key C0, a repeated one A_1).
 */
function duckDbIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function readFailure(error: unknown, label: string, format: string, file: string): unknown {
  if (isPipelineError(error) || isOutOfMemory(error)) return error;
  // DuckDB names the scratch copy (`Malformed JSON in file "/tmp/.../raw-0.json", at byte 41 in line 4`);
  // the message names the file already.
  const firstLine = errorMessage(error)
    .split('\n')[0]!
    .trim()
    .replace(` in file "${file}",`, '')
    .replaceAll(file, 'the file');
  return unreadableFile(label, format, firstLine, error);
}

// ---------------------------------------------------------------------------------------------------------
// shared

function unreadableFile(label: string, format: string, reason: string, cause?: unknown): DataRejectedError {
  return new DataRejectedError(
    `${label} is not a readable ${format} file: ${reason}`,
    { cause, details: { file: label, format } },
    'UNREADABLE_FILE',
  );
}

function tooLarge(label: string, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `${label} converts to more CSV than allowed: expected at most ${maxBytes} bytes for all its sheets, wrote more than that`,
    { details: { file: label, limitBytes: maxBytes } },
    'INPUT_TOO_LARGE',
  );
}

/** A file name made of `[A-Za-z0-9._-]` only, never empty. */
function safeFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe === '' ? 'xlsx' : safe;
}

async function removeFiles(files: string[]): Promise<void> {
  await Promise.all(files.map((file) => rm(file, { force: true })));
}
