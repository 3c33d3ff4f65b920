/**
 * Baseline (c): plain Node.js, no engine. A hand-written streaming CSV parser (RFC 4180: quotes, doubled
 * quotes, line breaks inside quotes, CRLF) turns each record into a row object, and the transformer's rules
 * are applied in JavaScript: trim ASCII blanks, empty -> null, types inferred over the first 100,000 rows
 * (>= 98% of the non-missing values parse; leading zeros keep a column text; date formats in the
 * transformer's order), missing tokens in typed columns, a row failing a cast quarantined, exact duplicates
 * among the valid rows dropped (first kept). Records with the wrong number of fields are quarantined.
 * The cleaned rows stay in memory as objects (nothing is written out).
 *
 *   node --max-old-space-size=12288 --import tsx bench/baselines/node-naive.ts <csv-file> [sample-rows]
 */
import { createReadStream } from 'node:fs';
import { maxRssMb, printResult } from '../worker-result';

type ColumnType = 'BIGINT' | 'DOUBLE' | 'DATE' | 'TIMESTAMP' | 'BOOLEAN' | 'VARCHAR';
type Value = string | number | boolean | null;

interface Plan {
  type: ColumnType;
  format?: string;
  missingTokens: boolean;
}

const THRESHOLD = 0.98;
const MISSING = new Set(['na', 'n/a', 'null', 'none', '-']);
const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);
const INTEGER = /^[+-]?[0-9]+$/;
const NUMBER = /^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?Z?$/;
const LEADING_ZERO = /^[+-]?0[0-9]/;
const DATE_FORMATS = ['%Y-%m-%d', '%m/%d/%Y', '%d/%m/%Y', '%Y/%m/%d', '%d.%m.%Y', '%m-%d-%Y', '%d-%m-%Y'];

/** A date format as a regular expression with named parts, e.g. %m/%d/%Y -> (?<m>..)/(?<d>..)/(?<Y>....). */
const DATE_PATTERNS = new Map(
  DATE_FORMATS.map((format) => [
    format,
    new RegExp(
      `^${format
        .replaceAll('.', '[.]')
        .replace('%Y', '(?<Y>[0-9]{4})')
        .replace('%m', '(?<m>[0-9]{1,2})')
        .replace('%d', '(?<d>[0-9]{1,2})')}$`,
    ),
  ]),
);

/** Days since 1970-01-01, or null when `text` is not a valid date in `format`. */
function parseDate(text: string, format: string): number | null {
  const groups = DATE_PATTERNS.get(format)!.exec(text)?.groups;
  if (!groups) return null;
  const year = Number(groups['Y']);
  const month = Number(groups['m']);
  const day = Number(groups['d']);
  if (month < 1 || month > 12 || day < 1) return null;
  const time = Date.UTC(year, month - 1, day);
  if (new Date(time).getUTCDate() !== day) return null; // 2023-02-30
  return time / 86_400_000;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

function trim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function castValue(text: string, plan: Plan): Value {
  switch (plan.type) {
    case 'BIGINT':
      return INTEGER.test(text) ? Number(text) : null;
    case 'DOUBLE':
      return NUMBER.test(text) ? Number(text) : null;
    case 'DATE':
      return parseDate(text, plan.format!);
    case 'TIMESTAMP': {
      if (!TIMESTAMP.test(text)) return null;
      const time = Date.parse(text.endsWith('Z') ? text : `${text.replace(' ', 'T')}Z`);
      return Number.isNaN(time) ? null : time;
    }
    case 'BOOLEAN': {
      const lower = text.toLowerCase();
      return TRUE_TOKENS.has(lower) ? true : FALSE_TOKENS.has(lower) ? false : null;
    }
    case 'VARCHAR':
      return text;
  }
}

function chooseType(values: readonly string[]): Plan {
  const text: Plan = { type: 'VARCHAR', missingTokens: false };
  let tokens = 0;
  let integers = 0;
  let zeros = 0;
  let numbers = 0;
  let timestamps = 0;
  let booleans = 0;
  for (const v of values) {
    const lower = v.toLowerCase();
    if (MISSING.has(lower)) tokens++;
    if (INTEGER.test(v)) integers++;
    if (LEADING_ZERO.test(v)) zeros++;
    if (NUMBER.test(v)) numbers++;
    if (castValue(v, { type: 'TIMESTAMP', missingTokens: true }) !== null) timestamps++;
    if (TRUE_TOKENS.has(lower) || FALSE_TOKENS.has(lower)) booleans++;
  }
  const candidates = values.length - tokens;
  if (candidates <= 0) return text;
  const enough = (n: number): boolean => n >= THRESHOLD * candidates;
  if (zeros === 0 && enough(integers)) return { type: 'BIGINT', missingTokens: true };
  if (zeros === 0 && enough(numbers)) return { type: 'DOUBLE', missingTokens: true };
  const dates = DATE_FORMATS.map((format) => values.filter((v) => parseDate(v, format) !== null).length);
  const best = Math.max(...dates);
  if (best > 0 && enough(best))
    return { type: 'DATE', format: DATE_FORMATS[dates.indexOf(best)]!, missingTokens: true };
  if (enough(timestamps)) return { type: 'TIMESTAMP', missingTokens: true };
  if (enough(booleans)) return { type: 'BOOLEAN', missingTokens: true };
  return text;
}

/** Streams records (arrays of fields) out of text chunks. */
class CsvParser {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  private afterQuote = false;
  private pendingCr = false;

  constructor(private readonly onRecord: (fields: string[]) => void) {}

  push(chunk: string): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (this.quoted) {
        if (code === 34) {
          this.field += chunk.slice(start, i);
          start = i + 1;
          this.quoted = false;
          this.afterQuote = true;
        }
        continue;
      }
      if (this.pendingCr) {
        this.pendingCr = false;
        if (code === 10) {
          start = i + 1;
          continue;
        }
      }
      if (code === 34) {
        // "" inside a quoted field: the quote that just closed was an escape.
        this.field += chunk.slice(start, i) + (this.afterQuote ? '"' : '');
        start = i + 1;
        this.quoted = true;
        this.afterQuote = false;
      } else if (code === 44) {
        this.field += chunk.slice(start, i);
        this.record.push(this.field);
        this.field = '';
        start = i + 1;
        this.afterQuote = false;
      } else if (code === 10 || code === 13) {
        this.field += chunk.slice(start, i);
        this.endRecord();
        start = i + 1;
        this.pendingCr = code === 13;
      } else {
        this.afterQuote = false;
      }
    }
    this.field += chunk.slice(start);
  }

  end(): void {
    if (this.field !== '' || this.record.length > 0) this.endRecord();
  }

  private endRecord(): void {
    this.record.push(this.field);
    this.field = '';
    this.afterQuote = false;
    const record = this.record;
    this.record = [];
    if (record.length === 1 && record[0] === '') return; // blank line
    this.onRecord(record);
  }
}

interface Counts {
  rowsOut: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
}

async function clean(file: string, sampleRows: number, encoding: 'utf-8' | 'windows-1252'): Promise<Counts> {
  let header: string[] | undefined;
  let plans: Plan[] | undefined;
  const sample: string[][] = [];
  const rows: Record<string, Value>[] = [];
  const seen = new Set<string>();
  const counts: Counts = { rowsOut: 0, rowsQuarantined: 0, rowsDuplicate: 0 };

  const cleanRecord = (fields: string[]): void => {
    const row: Record<string, Value> = {};
    const key: string[] = [];
    for (let i = 0; i < fields.length; i++) {
      const plan = plans![i]!;
      let text: string | null = trim(fields[i]!);
      if (text === '' || (plan.missingTokens && MISSING.has(text.toLowerCase()))) text = null;
      const value = text === null ? null : castValue(text, plan);
      if (text !== null && value === null) {
        counts.rowsQuarantined++;
        return;
      }
      row[header![i]!] = value;
      key.push(value === null ? '\u0000' : String(value));
    }
    const identity = key.join('\u0001');
    if (seen.has(identity)) {
      counts.rowsDuplicate++;
      return;
    }
    seen.add(identity);
    rows.push(row);
  };
  const planSample = (): void => {
    plans = header!.map((_, i) => {
      const values: string[] = [];
      for (const fields of sample) {
        const text = trim(fields[i]!);
        if (text !== '') values.push(text);
      }
      return chooseType(values);
    });
    for (const fields of sample) cleanRecord(fields);
    sample.length = 0;
  };
  const parser = new CsvParser((fields) => {
    if (!header) {
      header = fields.map(trim);
      return;
    }
    if (fields.length !== header.length) {
      counts.rowsQuarantined++;
      return;
    }
    if (plans) cleanRecord(fields);
    else {
      sample.push(fields);
      if (sample.length === sampleRows) planSample();
    }
  });

  const decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8', ignoreBOM: false });
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    parser.push(decoder.decode(chunk as Buffer, { stream: true }));
  }
  parser.push(decoder.decode());
  parser.end();
  if (!plans) planSample();
  counts.rowsOut = rows.length;
  return counts;
}

async function main([file, sample = '100000']: string[]): Promise<void> {
  if (!file) throw new Error('usage: node-naive.ts CSV [SAMPLE_ROWS]');
  const started = performance.now();
  let counts: Counts;
  try {
    counts = await clean(file, Number(sample), 'utf-8');
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // invalid UTF-8: start again as Windows-1252
    counts = await clean(file, Number(sample), 'windows-1252');
  }
  printResult({ stage: 'node-naive', ms: performance.now() - started, maxRssMb: maxRssMb(), ...counts });
}

await main(process.argv.slice(2));
