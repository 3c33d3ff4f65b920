/** The transform report (`runs/<runId>/reports/transform.json`): what the on-call reads first. */
import type { TextEncoding } from './detect-encoding';
import type { ColumnType } from './infer-types';

export const LINE_NUMBERING =
  'line = 1-based record number in its file, the header being line 1; equal to the physical line unless an ' +
  'earlier record spans lines (a quoted line break) or blank lines precede it. raw = the original text for ' +
  'unparseable_line; for invalid_<type> the parsed fields re-joined with commas, quoted as CSV where needed.';

export interface FileReport {
  name: string;
  key: string;
  bytes: number;
  encoding: TextEncoding;
  /** Records DuckDB parsed. */
  rowsParsed: number;
  /** Records DuckDB could not parse (quarantined as unparseable_line). */
  rowsUnparseable: number;
}

export interface ColumnReport {
  name: string;
  /** Header text in the file. */
  source: string;
  type: ColumnType;
  /** strptime format of a DATE column. */
  format: string | null;
  /** Another candidate date format parsed the same values. */
  ambiguous: boolean;
  /** Whether NA, N/A, null, None, - were read as missing. */
  missingTokens: boolean;
  /** NULLs in the staged rows. */
  nulls: number;
  /** Rows quarantined because this column's value failed its cast. */
  invalid: number;
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
  total: number;
}

export interface TransformReport {
  runId: string;
  stage: 'transform';
  table: string;
  startedAt: string;
  finishedAt: string;
  counts: { rowsIn: number; rowsOut: number; rowsQuarantined: number; rowsDuplicate: number };
  quality: { passed: boolean; rejectRate: number; maxRejectRate: number };
  outputs: { stagedKey: string; quarantineKey: string };
  files: FileReport[];
  columns: ColumnReport[];
  /** Quarantined rows per reason code. */
  reasons: Record<string, number>;
  duplicates: { count: number; examples: DuplicateExample[] };
  inference: { sampleRows: number; threshold: number };
  lineNumbering: string;
  timingsMs: TransformTimings;
}

/** "12.5%" */
export function formatPercent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}
