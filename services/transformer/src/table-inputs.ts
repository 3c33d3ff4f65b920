/**
 * A run's raw table files -> local UTF-8 CSV files, each with its dialect and header: what the cleaning
 * reads. Delimited text is transcoded as it streams from the store; Parquet and JSON are written out as
 * CSV by DuckDB and every sheet of a workbook as its own CSV (convert-table-file.ts), so one cleaning path
 * serves every format and every type is inferred the same way.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { RawFile, SkippedFile } from '@etl/common/contracts';
import { DataRejectedError } from '@etl/common/errors';
import { type BlobStore, downloadToFile } from '@etl/common/storage';
import { toSnakeCase } from './column-names';
import {
  convertWithDuckDb,
  convertXlsx,
  type MalformedRecord,
  type XlsxSheetCsv,
} from './convert-table-file';
import { encodingGuess, type TextEncoding } from './detect-encoding';
import { type DuckDbSettings, withDuckDb } from './duckdb-session';
import type { ParseDialect, SourceLines } from './parse-csv';
import { prepareTextFile, skipLeadingBytes } from './prepare-file';
import type { Profile } from './profile';
import { readCsvHeader, readCsvStart, withoutTrailingEmptyNames } from './read-header';
import {
  groupedHeader,
  leadingLines,
  type Preamble,
  recordFields,
  SNIFF_BYTES,
  sniffDialect,
  sniffGroupRow,
  sniffPreamble,
  sniffTable,
} from './sniff-csv';
import { fileStem, partitionValues, sheetStem, type TableMember } from './table-names';

export type InputDialect = ParseDialect & {
  sniffed: boolean;
  lineEnding?: string;
  /** Title lines above the header, skipped (the local CSV starts at the header); `sniffed` unless the profile's. */
  preamble?: { lines: number; text: string[]; sniffed: boolean };
  /** The upper row of a two-row header, skipped too: its group names lead the header's (`groupedHeader`). */
  groups?: string[];
  /** The upper row holds the names, and the header DuckDB reads their units (`,USD,pcs`). */
  units?: true;
};

export interface TableInput extends TableMember {
  file: RawFile;
  /** Object key of the raw file, for messages; `KEY#sheet` for a sheet. */
  key: string;
  /** The local UTF-8 CSV. */
  path: string;
  encoding: TextEncoding;
  /** Bytes read from the store. */
  bytes: number;
  dialect: InputDialect;
  /** Header names, trimmed (the column names when the dialect has no header). */
  header: string[];
  /**
   * Columns its path holds (Hive partition folders, `year=2019/`), after the file's own: those the file has
   * no column of.
   */
  partitions?: Array<{ key: string; value: string | null }>;
  /** Time spent making the local CSV, ms (a workbook's on its first sheet, 0 on the others). */
  ms: number;
  /** How the local CSV's lines number in the source (`sourceLines`). */
  lines: SourceLines;
  /**
   * What reading or converting the file decided that the run summary says as a guess (a JSON object's list
   * read as the rows, the legacy encoding its bytes chose, a first line read as data).
   */
  guesses?: string[];
  /** What was done to the file that the run summary states (an end-of-file mark left out). */
  notes?: string[];
  /**
   * Records the conversion could not read and left out of the local CSV (a JSON lines file's broken lines),
   * quarantined as unparseable by their line in the file.
   */
  malformed?: MalformedRecord[];
}

export interface PrepareTableInputsOptions {
  store: BlobStore;
  scratch: string;
  duckdb: DuckDbSettings;
  /** The profile's `source` section, when the request named a profile. */
  source?: Profile['source'];
  /** MAX_INPUT_BYTES: the most bytes of CSV all files may make; no limit when unset. */
  maxInputBytes?: number;
}

/** CSV written by our converters: RFC 4180 with a header. */
const CONVERTED: InputDialect = { delimiter: ',', quote: '"', header: true, sniffed: false };

export async function prepareTableInputs(
  files: readonly RawFile[],
  options: PrepareTableInputsOptions,
): Promise<{ inputs: TableInput[]; skipped: SkippedFile[] }> {
  const inputs: TableInput[] = [];
  const skipped: SkippedFile[] = [];
  let budget = options.maxInputBytes;
  const limit = () =>
    budget === undefined
      ? {}
      : { maxBytes: budget, limitName: 'MAX_INPUT_BYTES', limitBytes: options.maxInputBytes };
  for (const [index, file] of files.entries()) {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (file.format === 'delimited') {
      const encoding = options.source?.encoding ?? 'auto';
      const prepared = await prepareTextFile(options.store, file.key, options.scratch, index, {
        encoding,
        ...limit(),
      });
      if (budget !== undefined) budget -= prepared.bytes;
      const { dialect, skipBytes, columns } = await chooseDialect(
        prepared.path,
        prepared.bytes,
        file.key,
        options.source,
      );
      const local = skipBytes > 0 ? await skipLeadingBytes(prepared.path, skipBytes) : prepared.path;
      const read = await readHeader(local, dialect, file.key);
      const { header, note: trailing } = dialect.header
        ? withoutTrailingEmptyNames(read, columns)
        : { header: read };
      const guesses = [
        ...(encoding === 'auto' ? [encodingGuess(prepared.encoding, prepared.strayBytes)] : []),
        ...(options.source ? [] : [headerGuess(dialect, header)]),
        groupGuess(dialect, header),
      ].filter((guess) => guess !== undefined);
      const notes = [
        trailing,
        ...(prepared.eofMark
          ? [`ends with DOS's end-of-file mark (Ctrl-Z, byte 0x1A), which is no record: left out`]
          : []),
      ].filter((note) => note !== undefined);
      inputs.push({
        file,
        key: file.key,
        name: file.name,
        stem: fileStem(file.name),
        shape: shapeOf(header, dialect),
        path: local,
        encoding: prepared.encoding,
        bytes: prepared.bytes,
        dialect,
        header,
        ms: elapsed(),
        lines: { offset: linesAbove(dialect) },
        ...(guesses.length > 0 ? { guesses } : {}),
        ...(notes.length > 0 ? { notes } : {}),
      });
      continue;
    }
    // JSON is text, read in its encoding as a CSV file is (a Windows-1252 é from a Windows export, a UTF-16
    // file); DuckDB then reads it as the UTF-8 its format requires.
    const json =
      file.format === 'json'
        ? await prepareTextFile(options.store, file.key, options.scratch, index, {
            encoding: options.source?.encoding ?? 'auto',
            ...limit(),
          })
        : undefined;
    const downloaded = json?.path ?? path.join(options.scratch, `raw-${index}.${file.format}`);
    if (!json) await downloadToFile(options.store, file.key, downloaded);
    if (budget !== undefined) budget -= json?.bytes ?? file.bytes;
    const converted = async (
      name: string,
      key: string,
      stem: string,
      csv: string,
      ms: number,
      rowJumps?: XlsxSheetCsv['rowJumps'],
    ): Promise<TableInput> => {
      const { dialect, path: local } = rowJumps
        ? await withoutTitles(csv)
        : { dialect: CONVERTED, path: csv };
      const header = await readHeader(local, dialect, key);
      const group = groupGuess(dialect, header);
      return {
        file,
        key,
        name,
        stem,
        shape: shapeOf(header, dialect),
        path: local,
        encoding: 'utf-8',
        bytes: file.bytes,
        dialect,
        header,
        ms,
        lines: rowJumps ? sheetLines(rowJumps, linesAbove(dialect)) : RECORD_NUMBERS,
        ...(group ? { guesses: [group] } : {}),
      };
    };
    if (file.format === 'xlsx') {
      const workbook = await convertXlsx(
        downloaded,
        path.join(options.scratch, `sheets-${index}`),
        `raw file ${file.key}`,
        budget === undefined ? {} : { maxBytes: budget },
      );
      await rm(downloaded, { force: true });
      const ms = elapsed();
      for (const { sheet, reason } of workbook.skipped)
        skipped.push({ name: `${file.name}#${sheet}`, reason });
      const sheets: Array<{ input: TableInput; documentation: boolean }> = [];
      for (const [i, sheet] of workbook.sheets.entries()) {
        const stem = sheetStem(file.name, sheet.sheet, workbook.sheets.length);
        const name = `${file.name}#${sheet.sheet}`;
        // The workbook's time is counted once, on its first sheet.
        const input = await converted(
          name,
          `${file.key}#${sheet.sheet}`,
          stem,
          sheet.path,
          i === 0 ? ms : 0,
          sheet.rowJumps,
        );
        const uncached = sheet.uncachedFormulas;
        const noted: TableInput =
          uncached > 0
            ? {
                ...input,
                notes: [
                  `${uncached} formula ${uncached === 1 ? 'cell has' : 'cells have'} no saved result (the workbook was written by a program that does not calculate, and not opened in Excel since): loaded empty`,
                ],
              }
            : input;
        sheets.push({ input: noted, documentation: isDocumentationSheet(sheet.sheet, input) });
      }
      // Prose is skipped beside a table; a workbook of nothing else is read as it is.
      const tables = sheets.some((s) => !s.documentation);
      for (const { input, documentation } of sheets) {
        if (documentation && tables)
          skipped.push({ name: input.name, reason: 'documentation sheet, not a table' });
        else inputs.push(input);
      }
      continue;
    }
    const csv = path.join(options.scratch, `converted-${index}.csv`);
    const format = file.format;
    const { rows, note, malformed } = await withDuckDb(options.duckdb, options.scratch, (connection) =>
      convertWithDuckDb(connection, downloaded, format, csv, `raw file ${file.key}`),
    );
    await rm(downloaded, { force: true });
    if (rows === 0) skipped.push({ name: file.name, reason: `no rows (an empty ${format} file)` });
    else {
      const input = await converted(file.name, file.key, fileStem(file.name), csv, elapsed());
      const guesses = [json && encodingGuess(json.encoding, json.strayBytes), note].filter(
        (guess) => guess !== undefined,
      );
      inputs.push({
        ...input,
        ...(json ? { encoding: json.encoding } : {}),
        ...(guesses.length > 0 ? { guesses } : {}),
        ...(malformed?.length
          ? {
              malformed,
              notes: [
                `${malformed.length} of its lines ${malformed.length === 1 ? 'is' : 'are'} no JSON object (line ${malformed[0]!.line}${malformed.length > 1 ? ', …' : ''}): quarantined as unparseable, its other lines read`,
              ],
            }
          : {}),
      });
    }
  }
  return { inputs: inputs.map(withPartitions), skipped };
}

/**
 * A file in Hive partition folders (`year=2019/`) has its partition's value in its path only, as Spark's
 * `partitionBy` drops the column from the file: each becomes a column after the file's own (the run summary
 * says so, `partitionNote`). A key the file has a column of (by its snake_case name) is left to the file.
 */
function withPartitions(input: TableInput): TableInput {
  const own = new Set((input.dialect.header ? input.header : []).map((name) => toSnakeCase(name.trim())));
  const partitions = partitionValues(input.name).filter((p) => !own.has(toSnakeCase(p.key)));
  if (partitions.length === 0) return input;
  return { ...input, partitions, shape: [input.shape, ...partitions.map((p) => p.key)].join('\u0000') };
}

/** What the run summary says of a table's partition columns: one line for all its files. */
export function partitionNote(inputs: readonly TableInput[]): string | undefined {
  const keys = (inputs[0]?.partitions ?? []).map((p) => p.key);
  if (keys.length === 0) return undefined;
  const columns = keys.map((key, k) => {
    const values = [...new Set(inputs.map((input) => input.partitions?.[k]?.value ?? 'NULL'))];
    const shown = values.slice(0, 3).join(', ') + (values.length > 3 ? `, … (${values.length} values)` : '');
    return `${key} (${shown})`;
  });
  const files = inputs.length === 1 ? 'its file sits' : `its ${inputs.length} files sit`;
  const own = inputs.length === 1 ? "the file's" : "the files'";
  return `${files} in partition folders (${keys.map((key) => `${key}=…`).join('/')}): loaded as column${keys.length > 1 ? 's' : ''} ${columns.join(', ')} after ${own} own`;
}

/** JSON, JSON lines and Parquet, converted with a header line they did not have: a record's number. */
const RECORD_NUMBERS: SourceLines = { offset: -1 };

/**
 * A worksheet's row numbers, from the converter's [CSV line, sheet row] jumps, once `cut` title lines are
 * cut off the CSV: its header is sheet row H (offset H - 1), and each later jump adds the rows left out.
 */
function sheetLines(jumps: XlsxSheetCsv['rowJumps'], cut: number): SourceLines {
  const rowOf = (line: number): number => {
    let at: [number, number] = jumps[0]!;
    for (const jump of jumps) if (jump[0] <= line) at = jump;
    return at[1] + line - at[0];
  };
  const headerLine = cut + 1;
  const headerRow = rowOf(headerLine);
  const steps = jumps
    .filter(([line]) => line > headerLine)
    .map(([line, row]): [number, number] => {
      const record = line - headerLine;
      return [record, row - headerRow - record];
    });
  return { offset: headerRow - 1, ...(steps.length > 0 ? { steps } : {}) };
}

/** Parts of one table must agree on the header (names compared trimmed), or its width, and the way it is read. */
function shapeOf(header: readonly string[], dialect: ParseDialect): string {
  const columns = dialect.header ? header : [`${header.length} columns`];
  return [dialect.delimiter, dialect.quote, dialect.escape ?? '', String(dialect.header), ...columns].join(
    '\u0000',
  );
}

/**
 * The profile's dialect, else the one sniffed from the start of the file, and the bytes of title lines
 * above the header to skip (the profile's `skipLines`, else sniffed: sniff-csv.ts `sniffPreamble`).
 */
async function chooseDialect(
  file: string,
  bytes: number,
  key: string,
  source: Profile['source'] | undefined,
): Promise<{ dialect: InputDialect; skipBytes: number; columns?: number }> {
  const start = await readCsvStart(file, SNIFF_BYTES);
  if (start === undefined) throw emptyFile(key);
  const complete = bytes <= SNIFF_BYTES;
  if (source?.delimiter !== undefined) {
    const dialect = {
      delimiter: source.delimiter,
      quote: source.quote,
      ...(source.escape === undefined ? {} : { escape: source.escape }),
      header: source.header,
    };
    const preamble = source.skipLines ? linesAt(start, source.skipLines) : undefined;
    const fields = recordFields(start.slice(preamble?.chars ?? 0), dialect, complete);
    return withGroupRow(
      start,
      { ...dialect, sniffed: false, ...(preamble ? { preamble: preambleOf(preamble, false) } : {}) },
      preamble,
      fields?.columns,
    );
  }
  const skipped = source?.skipLines ? linesAt(start, source.skipLines) : undefined;
  const { dialect: sniffed, preamble } = skipped
    ? { dialect: sniffDialect(start.slice(skipped.chars), complete), preamble: skipped }
    : sniffTable(start, complete, source?.quote);
  const escapeChar = source?.escape ?? sniffed.escape;
  const dialect: InputDialect = {
    delimiter: sniffed.delimiter,
    quote: source?.quote ?? sniffed.quote,
    ...(escapeChar === undefined ? {} : { escape: escapeChar }),
    header: source ? source.header : sniffed.header,
    sniffed: true,
    lineEnding: sniffed.lineEnding,
    ...(preamble ? { preamble: preambleOf(preamble, !source?.skipLines) } : {}),
  };
  return withGroupRow(start, dialect, preamble, sniffed.columns);
}

/**
 * The dialect and the bytes to skip, with the upper row of a two-row header below the title lines
 * (`sniffGroupRow`) skipped too and kept as the dialect's `groups`.
 */
function withGroupRow(
  start: string,
  dialect: InputDialect,
  preamble: Preamble | undefined,
  columns: number | undefined,
): { dialect: InputDialect; skipBytes: number; columns?: number } {
  const skipBytes = preamble?.bytes ?? 0;
  const group =
    dialect.header && columns !== undefined
      ? sniffGroupRow(start.slice(preamble?.chars ?? 0), dialect, columns)
      : undefined;
  return {
    dialect: group ? { ...dialect, groups: group.groups, ...(group.units ? { units: true } : {}) } : dialect,
    skipBytes: skipBytes + (group?.bytes ?? 0),
    ...(columns === undefined ? {} : { columns }),
  };
}

/**
 * A workbook sheet's CSV without the title rows above its header (sniff-csv.ts `sniffPreamble`), nor the
 * upper row of a two-row header (merged cells over the names: `sniffGroupRow`).
 */
async function withoutTitles(csv: string): Promise<{ dialect: InputDialect; path: string }> {
  const start = (await readCsvStart(csv, SNIFF_BYTES)) ?? '';
  const columns = sniffDialect(start).columns;
  const preamble = sniffPreamble(start, CONVERTED, columns);
  const { dialect, skipBytes } = withGroupRow(
    start,
    { ...CONVERTED, ...(preamble ? { preamble: preambleOf(preamble, true) } : {}) },
    preamble,
    columns,
  );
  return { dialect, path: skipBytes > 0 ? await skipLeadingBytes(csv, skipBytes) : csv };
}

const preambleOf = (p: Preamble, sniffed: boolean) => ({ lines: p.lines, text: p.text, sniffed });

/** The first `count` lines of `text` (a profile's `skipLines`); more than the sniffed text holds is a 422. */
function linesAt(text: string, count: number): Preamble {
  const lines = leadingLines(text, count);
  if (lines.length < count)
    throw new DataRejectedError(
      `skipLines ${count}: the file has only ${lines.length} lines in its first ${SNIFF_BYTES} bytes`,
      { details: { skipLines: count } },
    );
  const end = lines.at(-1)?.end ?? 0;
  return {
    lines: count,
    bytes: Buffer.byteLength(text.slice(0, end)),
    chars: end,
    text: lines.map((l) => l.text),
  };
}

/** The header's names, trimmed; under a two-row header's group names (`groupedHeader`). */
async function readHeader(file: string, dialect: InputDialect, key: string): Promise<string[]> {
  const header = await readCsvHeader(file, dialect);
  if (header === undefined) throw emptyFile(key);
  const names = header.map((name) => name.trim());
  return dialect.groups ? groupedHeader(dialect.groups, names, dialect.units) : names;
}

/** What the run summary says of a two-row header's names. */
function groupGuess(dialect: InputDialect, header: readonly string[]): string | undefined {
  if (!dialect.groups) return undefined;
  const shown = header.slice(0, 6).map((name) => JSON.stringify(name));
  if (dialect.units)
    return `a header of two rows: the line under the names gives their units, which join them (${shown.join(', ')}${header.length > 6 ? ', ...' : ''}); a profile's source.skipLines says otherwise`;
  const groups = dialect.groups.map((g) => g.trim()).filter(Boolean);
  return `a header of two rows: the names in its upper row (${groups.map((g) => JSON.stringify(g)).join(', ')}) lead those of the columns under them (${shown.join(', ')}${header.length > 6 ? ', ...' : ''}); a profile's source.skipLines past it says otherwise`;
}

/** Lines above the local CSV's header: title lines, and a two-row header's upper row. */
const linesAbove = (dialect: InputDialect): number =>
  (dialect.preamble?.lines ?? 0) + (dialect.groups ? 1 : 0);

const emptyFile = (key: string) =>
  new DataRejectedError(
    `raw file ${key} is empty: expected a CSV header line`,
    { objectKey: key },
    'EMPTY_FILE',
  );

/** Sheet names of a workbook's prose: its notes, sources, a data dictionary. */
const DOCUMENTATION_SHEET =
  /^(read ?me|notes?|about|info|information|instructions?|legend|metadata|(data )?dictionary|descriptions?|sources?|disclaimer|licen[cs]e|documentation|glossary|definitions?)$/i;

/**
 * A workbook's sheet of prose beside its tables (`Notes`, `Data Dictionary`, `Source`): named so and one or
 * two columns wide. Loaded, it was a table of a sentence or a field list; it is skipped and said, as a
 * README next to the data files is. The other tables keep their names (`sheetStem` counts every sheet).
 */
function isDocumentationSheet(sheet: string, input: TableInput): boolean {
  return DOCUMENTATION_SHEET.test(sheet.trim()) && input.header.length <= 2;
}

/** What the run summary says of a first line sniffed as data, not a header (`looksLikeHeader`). */
function headerGuess(dialect: InputDialect, first: readonly string[]): string | undefined {
  if (dialect.header) return undefined;
  const shown = first.slice(0, 4).map((value) => (value.length > 20 ? `${value.slice(0, 20)}…` : value));
  return `no header: the first line (${shown.join(', ')}${first.length > 4 ? ', …' : ''}) reads as data like the lines below it, so the columns are column_1 .. column_${first.length} (a profile's source.header: true says otherwise)`;
}
