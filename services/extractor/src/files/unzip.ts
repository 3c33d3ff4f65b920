/**
 * Reading the files of a zip archive without trusting it. The central directory is checked in full before
 * a byte is extracted: entry count, names (no traversal, no absolute paths), symlinks, and for the entries
 * that will be read (everything but skipped files) encryption, declared sizes and compression ratios.
 * Entries are then streamed, and yauzl's `validateEntrySizes` plus our own byte counting catch headers
 * that lie. The same checks run on every archive of a dataset, nested ones included.
 */
import { isUtf8 } from 'node:buffer';
import { DataRejectedError, errorMessage, isPipelineError } from '@etl/common/errors';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { classifyFile } from './dataset-files';
import type { DatasetFile } from './raw-files';

export interface ZipLimits {
  /** Total uncompressed bytes unpacked from one dataset, over every archive and .gz file in it. */
  maxUnzippedBytes: number;
  /** Largest uncompressed/compressed ratio of one zip entry or .gz file. */
  maxRatio: number;
  /** Most entries in one archive. */
  maxEntries: number;
}

export interface ZipArchive {
  /** Every file entry (not folders), sorted by name; `maxBytes` is its declared uncompressed size. */
  files: Array<DatasetFile & { maxBytes: number }>;
  close(): void;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/**
 * Small entries compress absurdly well when repetitive (a 100 KB file of one repeated line is ~1000:1), and
 * cannot hurt: the ratio guard only applies above this size.
 */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

export const unsafeArchive = (message: string, cause?: unknown) =>
  new DataRejectedError(message, cause === undefined ? {} : { cause }, 'UNSAFE_ARCHIVE');

const corrupt = (label: string, error: unknown) =>
  isPipelineError(error)
    ? error
    : new DataRejectedError(
        `${label} is not a readable zip: ${errorMessage(error)}`,
        { cause: error },
        'CORRUPT_ARCHIVE',
      );

function isSymlink(entry: Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
}

/** Why an entry name is unsafe, or undefined when it is a plain relative path. */
function unsafeNameReason(name: string): string | undefined {
  const yauzlReason = yauzl.validateFileName(name);
  if (yauzlReason?.startsWith('absolute path')) return 'is an absolute path';
  if (yauzlReason?.startsWith('invalid relative path')) return 'escapes the archive (path traversal)';
  if (yauzlReason) return `is not a valid path (${yauzlReason})`;
  if (name.length > 512) return 'has a path longer than 512 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a name are the thing rejected
  if (/[\u0000-\u001f]/.test(name)) return 'contains control characters';
  if (
    name
      .replace(/\/$/, '')
      .split('/')
      .some((segment) => segment === '' || segment === '.')
  ) {
    return 'has an empty or "." path segment';
  }
  return undefined;
}

function checkEntry(named: string, name: string, entry: Entry, limits: ZipLimits): void {
  const reason = unsafeNameReason(name);
  if (reason) throw unsafeArchive(`${named} ${reason}`);
  if (isSymlink(entry)) throw unsafeArchive(`${named} is a symbolic link`);
  if (name.endsWith('/') || classifyFile(name).kind === 'skip') return;
  if (entry.isEncrypted()) throw unsafeArchive(`${named} is encrypted`);
  if (!entry.canDecodeFileData()) {
    throw unsafeArchive(
      `${named} uses compression method ${entry.compressionMethod}; expected stored (0) or deflate (8)`,
    );
  }
  if (entry.uncompressedSize > limits.maxUnzippedBytes) {
    throw unsafeArchive(
      `${named} declares ${entry.uncompressedSize} bytes uncompressed, more than the limit of ${limits.maxUnzippedBytes} (MAX_UNZIPPED_BYTES)`,
    );
  }
  const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
  if (entry.uncompressedSize > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
    throw unsafeArchive(
      `${named} has a compression ratio of ${Math.round(ratio)}:1, above the limit of ${limits.maxRatio}:1 (MAX_ZIP_RATIO): a decompression bomb?`,
    );
  }
}

/** General purpose flag bit 11: the entry's name is UTF-8. */
const UTF8_NAME_FLAG = 0x800;
/** Info-ZIP's Unicode Path extra field: a UTF-8 name beside the legacy one. */
const UNICODE_PATH_FIELD = 0x7075;

/**
 * An entry's name. One whose bytes are UTF-8 without the flag that says so (what many zip tools on Linux and
 * macOS write: `données.csv`) is read as UTF-8, not as the CP437 the format defaults to, which made it
 * `donn├⌐es.csv`. Bytes that are no UTF-8 stay CP437.
 */
function entryName(entry: Entry): string {
  const raw = entry.fileNameRaw;
  const unflagged =
    (entry.generalPurposeBitFlag & UTF8_NAME_FLAG) === 0 &&
    !entry.extraFields.some((field) => field.id === UNICODE_PATH_FIELD);
  if (unflagged && raw.some((byte) => byte >= 0x80) && isUtf8(raw)) return raw.toString('utf8');
  // decodeStrings is off so that yauzl hands us unsafe names instead of failing without naming the entry.
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
}

async function readEntries(zipfile: ZipFile, label: string, limits: ZipLimits): Promise<ZipArchive['files']> {
  const files: ZipArchive['files'] = [];
  for await (const entry of zipfile.eachEntry()) {
    const name = entryName(entry);
    const named = `entry ${JSON.stringify(name)} in ${label}`;
    checkEntry(named, name, entry, limits);
    if (name.endsWith('/')) continue;
    files.push({
      name,
      label: named,
      open: () => zipfile.openReadStreamPromise(entry),
      maxBytes: entry.uncompressedSize,
      tooLarge: (bytes) =>
        unsafeArchive(
          `${named} expands to more than the ${entry.uncompressedSize} bytes its header declares (${bytes} so far)`,
        ),
    });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Opens and checks the zip at `file`, named `label` in messages (`archive /data/x.zip`, `entry "b.zip" in
 * archive /data/x.zip`). Call close() once its files have been read.
 */
export async function openZipArchive(file: string, label: string, limits: ZipLimits): Promise<ZipArchive> {
  let zipfile: ZipFile;
  try {
    zipfile = await yauzl.openPromise(file, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (error) {
    throw corrupt(label, error);
  }
  try {
    if (zipfile.entryCount > limits.maxEntries) {
      throw unsafeArchive(
        `${label} has ${zipfile.entryCount} entries, more than the limit of ${limits.maxEntries} (MAX_ZIP_ENTRIES)`,
      );
    }
    try {
      return { files: await readEntries(zipfile, label, limits), close: () => zipfile.close() };
    } catch (error) {
      throw corrupt(label, error);
    }
  } catch (error) {
    zipfile.close();
    throw error;
  }
}
