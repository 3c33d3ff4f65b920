/**
 * What a file of a dataset is, judged by its name alone: a table file and its format, an archive to unpack,
 * or something skipped with a reason a person can act on. Every source classifies with this one function,
 * so a file is treated the same in a folder, a zip, a zip inside a zip, a Kaggle download or a Cloud
 * Storage object.
 */
import path from 'node:path';
import type { TableFormat } from '@etl/common/contracts';

export type FileKind =
  | { kind: 'table'; format: TableFormat }
  | { kind: 'zip' }
  /** `inner`: the name without `.gz`, itself a table file or an archive. */
  | { kind: 'gzip'; inner: string }
  /** `unknownFormat`: skipped only for want of a table extension (`export.dat`, none), not for what it is. */
  | { kind: 'skip'; reason: string; unknownFormat?: true };

const TABLE_EXTENSIONS = new Map<string, TableFormat>([
  ['.csv', 'delimited'],
  ['.tsv', 'delimited'],
  ['.tab', 'delimited'],
  ['.psv', 'delimited'],
  ['.txt', 'delimited'],
  ['.json', 'json'],
  ['.jsonl', 'json'],
  ['.ndjson', 'json'],
  ['.parquet', 'parquet'],
  ['.pq', 'parquet'],
  ['.xlsx', 'xlsx'],
  ['.xlsm', 'xlsx'],
]);

const IMAGE = 'image, not a table';
const SKIP_REASONS = new Map<string, string>([
  ['.xls', 'Excel 97-2003 workbook: save it as .xlsx or CSV'],
  ['.md', 'documentation, not a table'],
  ['.pdf', 'PDF document, not a table'],
  ['.ipynb', 'Jupyter notebook, not a table'],
  ...['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.svg', '.webp', '.tif', '.tiff'].map(
    (ext) => [ext, IMAGE] as const,
  ),
  ...['.7z', '.rar', '.bz2', '.xz', '.tar', '.tgz', '.zst'].map(
    (ext) => [ext, `unsupported archive format ${ext}`] as const,
  ),
]);

/** For the messages that list what the extractor reads. */
export const SUPPORTED_FILES = `${[...TABLE_EXTENSIONS.keys()].join(', ')} files, also inside .zip and .gz`;

// Dataset pages ship prose next to the data: data_description.txt, README, LICENSE, release-notes.txt.
const DOCUMENTATION = /(^|[^a-z])(readme|licen[cs]e|changelog|description|notes?|citation|about)([^a-z]|$)/;

const skip = (reason: string): FileKind => ({ kind: 'skip', reason });

export function classifyFile(name: string): FileKind {
  const base = path.posix.basename(name);
  if (name.split('/').includes('__MACOSX') || base.startsWith('._') || base === '.DS_Store') {
    return skip('macOS metadata');
  }
  const lower = base.toLowerCase();
  const ext = path.posix.extname(lower);
  const stem = lower.slice(0, lower.length - ext.length);
  if (lower.endsWith('.tar.gz')) return skip('unsupported archive format .tar.gz');
  if (ext === '.gz') {
    const inner = name.slice(0, -ext.length);
    const kind = classifyFile(inner);
    return kind.kind === 'skip' ? kind : { kind: 'gzip', inner };
  }
  if (ext === '.zip') return { kind: 'zip' };
  if ((ext === '.txt' || ext === '') && DOCUMENTATION.test(stem)) return skip('documentation, not a table');
  if (ext === '.json' && (stem.includes('metadata') || stem === 'datapackage')) {
    return skip('dataset metadata, not a table');
  }
  const format = TABLE_EXTENSIONS.get(ext);
  if (format) return { kind: 'table', format };
  const known = SKIP_REASONS.get(ext);
  if (known) return skip(known);
  return { kind: 'skip', reason: `not a table format (${ext || 'no extension'})`, unknownFormat: true };
}

/** A file or folder name without the extensions the extractor reads through: `Sales.csv.gz` -> `Sales`. */
export function stripDataExtensions(name: string): string {
  let stripped = name;
  for (;;) {
    const ext = path.posix.extname(stripped).toLowerCase();
    if (!(TABLE_EXTENSIONS.has(ext) || ext === '.zip' || ext === '.gz')) return stripped;
    stripped = stripped.slice(0, -ext.length);
  }
}
