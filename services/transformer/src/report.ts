/** The transform report (`runs/<runId>/reports/transform.json`): what the on-call reads first. */
import type { QualityCheck, SchemaChange, SkippedFile, TableFormat } from '@etl/common/contracts';
import type { TextEncoding } from './detect-encoding';
import type { FeatureNotes } from './features';
import type { ColumnType } from './infer-types';
import type { FeatureTableKind } from './profile';
import type { KeyDuplicateReport } from './refine';

export const LINE_NUMBERING =
  'line = 1-based record number in its file, the header being line 1; equal to the physical line unless an ' +
  'earlier record spans lines (a quoted line break) or blank lines precede it. A workbook sheet: the row ' +
  'number in the sheet. JSON, JSON lines, Parquet: the record number (the line of a JSON lines file without ' +
  'blank lines). raw = the original text for unparseable_line; for invalid_<type> the parsed fields ' +
  're-joined with commas, quoted as CSV where needed.';

export interface FileReport {
  /** The raw file (`FILE#SHEET` for a workbook sheet). */
  name: string;
  key: string;
  format: TableFormat;
  bytes: number;
  encoding: TextEncoding;
  /** Records DuckDB parsed. */
  rowsParsed: number;
  /** Records DuckDB could not parse (quarantined as unparseable_line). */
  rowsUnparseable: number;
  /** Title lines above the header, skipped (not records): their count and text. */
  preamble?: { lines: number; text: string[]; sniffed: boolean };
}

export interface ColumnReport {
  name: string;
  /** Header text in the file. */
  source: string;
  type: ColumnType;
  /** strptime format of a DATE column, or of a TIMESTAMP column that is not ISO (`%m/%d/%Y %H:%M`). */
  format: string | null;
  /** Another candidate date (or date-time) format parsed the same values. */
  ambiguous: boolean;
  /** With `ambiguous`: the formats that fit. */
  candidates?: string[];
  /**
   * Why inference overruled the values' look, e.g. `identifier: 1,712 of 100,000 sampled values are a
   * letter prefix on a number, e.g. C536379` for a mostly-numeric column kept as text; or that its reading
   * was a guess (`ambiguous: ... values like 1,234 ...`, read with a thousands comma).
   */
  reason?: string;
  /** Thousands separator read in numbers. */
  thousands?: string;
  /** Decimal mark read in numbers, when not `.` by default: `,` for `2,50` (inferred or the profile's). */
  decimal?: string;
  /** Currency symbol dropped from money (`$1,234.50`); `($5.00)` read as -5. */
  currency?: string;
  /** Percentages read as fractions (`12%` -> 0.12). */
  percent?: boolean;
  /** Its values were written as Excel's text formula (`="00123"`) and read as what they quote. */
  excelText?: boolean;
  /** Whether NA, N/A, null, None, -, \N, NaN, <NA>, #N/A were read as missing. */
  missingTokens: boolean;
  /** NULLs in the staged rows. */
  nulls: number;
  /** Rows quarantined because this column's value failed its cast. */
  invalid: number;
  /** Values filled by the missing-value strategy (profile `missing: { impute }`). */
  imputed?: number;
  /** Rows flagged `<name>_outlier`. */
  outliers?: number;
}

export interface DialectReport {
  delimiter: string;
  quote: string;
  header: boolean;
  /** Sniffed from the data (true) or stated by the profile. */
  sniffed: boolean;
  lineEnding?: string;
}

export interface FeatureReport {
  name: string;
  kind: FeatureTableKind;
  rows: number;
  columns: string[];
  stagedKey: string;
  quarantineKey: string;
}

export interface DuplicateExample {
  file: string;
  line: number;
  /** The earlier, identical row that was kept. */
  keptFile: string;
  keptLine: number;
}

export interface TransformTimings {
  prepare: number;
  parse: number;
  infer: number;
  clean: number;
  write: number;
  features?: number;
  total: number;
}

export interface TransformReport {
  runId: string;
  stage: 'transform';
  startedAt: string;
  finishedAt: string;
  /** One report per table of the dataset, in the order of the response's tables. */
  tables: TableReport[];
  /** Files and sheets that hold no table, with the reason (the extractor's and the transformer's). */
  skippedFiles: SkippedFile[];
}

export interface TableReport {
  table: string;
  /** How the name was fixed up, when the file name alone did not make a valid, unique one. */
  naming?: string;
  counts: { rowsIn: number; rowsOut: number; rowsQuarantined: number; rowsDuplicate: number };
  quality: { passed: boolean; rejectRate: number; maxRejectRate: number; checks?: QualityCheck[] };
  outputs: { stagedKey: string; quarantineKey: string };
  /** The profile the run used, and the columns it lists that the files lack. */
  profile: { name: string; file: string; absentColumns: string[] } | null;
  dialect: DialectReport;
  files: FileReport[];
  columns: ColumnReport[];
  /** How the table differs from the schema the dataset loaded it with (absent on a first load). */
  schemaChanges?: SchemaChange[];
  /** Quarantined rows per reason code. */
  reasons: Record<string, number>;
  duplicates: {
    /** Exact duplicates found (every column equal). */
    count: number;
    /** Whether they were dropped (always, without a profile; profile `duplicates.exact`). */
    dropped: boolean;
    examples: DuplicateExample[];
    /** Repeated values of the profile's `duplicates.keys` and rows equal but for `ignoreColumns`: kept. */
    keys?: KeyDuplicateReport[];
  };
  /** Without a profile: columns or pairs unique and never empty over the sampled rows. */
  candidateKeys?: string[][];
  features?: FeatureReport[];
  featureNotes?: FeatureNotes;
  inference: { sampleRows: number; threshold: number };
  lineNumbering: string;
  timingsMs: TransformTimings;
}

/** "12.5%" */
export function formatPercent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}
