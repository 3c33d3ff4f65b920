/**
 * Reading CSV files out of a zip archive without trusting it. The central directory is checked in full
 * before a byte is extracted: entry count, names (no traversal, no absolute paths), symlinks, declared
 * sizes and compression ratios. Entries are then streamed, and yauzl's `validateEntrySizes` plus our
 * own byte counting catch headers that lie.
 */
import path from 'node:path';
import { DataRejectedError, errorMessage, isPipelineError } from '@etl/common/errors';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { RawInput } from './raw-files';

export interface ZipLimits {
  /** Total uncompressed bytes of the CSV entries taken from one archive. */
  maxUnzippedBytes: number;
  /** Largest uncompressed/compressed ratio of one entry. */
  maxRatio: number;
  maxEntries: number;
}

export interface CsvArchive {
  inputs: RawInput[];
  close(): void;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
// Small entries compress absurdly well when repetitive (a 100 KB file of one repeated line is ~1000:1),
// and cannot hurt: the ratio guard only applies above this size.
const RATIO_FLOOR_BYTES = 1024 * 1024;

const rejected = (message: string, cause?: unknown) =>
  new DataRejectedError(message, cause === undefined ? {} : { cause }, 'UNSAFE_ARCHIVE');

const corrupt = (archive: string, error: unknown) =>
  isPipelineError(error)
    ? error
    : new DataRejectedError(
        `archive ${archive} is not a readable zip: ${errorMessage(error)}`,
        { cause: error },
        'CORRUPT_ARCHIVE',
      );

function isSymlink(entry: Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
}

export function isCsvName(name: string): boolean {
  const base = path.posix.basename(name);
  return /\.csv$/i.test(base) && !base.startsWith('._') && !name.split('/').includes('__MACOSX');
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

function checkEntry(archive: string, name: string, entry: Entry, limits: ZipLimits): void {
  const named = `entry ${JSON.stringify(name)} in archive ${archive}`;
  const reason = unsafeNameReason(name);
  if (reason) throw rejected(`${named} ${reason}`);
  if (isSymlink(entry)) throw rejected(`${named} is a symbolic link`);
  if (!isCsvName(name)) return;
  if (entry.isEncrypted()) throw rejected(`${named} is encrypted`);
  if (!entry.canDecodeFileData()) {
    throw rejected(
      `${named} uses compression method ${entry.compressionMethod}; expected stored (0) or deflate (8)`,
    );
  }
  if (entry.uncompressedSize > limits.maxUnzippedBytes) {
    throw rejected(
      `${named} declares ${entry.uncompressedSize} bytes uncompressed, more than the limit of ${limits.maxUnzippedBytes} (MAX_UNZIPPED_BYTES)`,
    );
  }
  const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
  if (entry.uncompressedSize > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
    throw rejected(
      `${named} has a compression ratio of ${Math.round(ratio)}:1, above the limit of ${limits.maxRatio}:1 (MAX_ZIP_RATIO): a decompression bomb?`,
    );
  }
}

async function readEntries(
  zipfile: ZipFile,
  archive: string,
  limits: ZipLimits,
): Promise<Map<string, Entry>> {
  const csvEntries = new Map<string, Entry>();
  let declaredBytes = 0;
  for await (const entry of zipfile.eachEntry()) {
    // decodeStrings is off so that yauzl hands us unsafe names instead of failing without naming the entry.
    const name = yauzl.getFileNameLowLevel(
      entry.generalPurposeBitFlag,
      entry.fileNameRaw,
      entry.extraFields,
      false,
    );
    checkEntry(archive, name, entry, limits);
    if (!isCsvName(name)) continue;
    if (csvEntries.has(name))
      throw rejected(`entry ${JSON.stringify(name)} appears twice in archive ${archive}`);
    declaredBytes += entry.uncompressedSize;
    if (declaredBytes > limits.maxUnzippedBytes) {
      throw rejected(
        `archive ${archive} declares more than ${limits.maxUnzippedBytes} bytes of CSV files uncompressed (MAX_UNZIPPED_BYTES)`,
      );
    }
    csvEntries.set(name, entry);
  }
  return csvEntries;
}

/** Opens and checks an archive; its CSV entries come back as inputs sorted by name. Call close() after. */
export async function openCsvArchive(file: string, archive: string, limits: ZipLimits): Promise<CsvArchive> {
  let zipfile: ZipFile;
  try {
    zipfile = await yauzl.openPromise(file, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (error) {
    throw corrupt(archive, error);
  }
  try {
    if (zipfile.entryCount > limits.maxEntries) {
      throw rejected(
        `archive ${archive} has ${zipfile.entryCount} entries, more than the limit of ${limits.maxEntries} (MAX_ZIP_ENTRIES)`,
      );
    }
    let entries: Map<string, Entry>;
    try {
      entries = await readEntries(zipfile, archive, limits);
    } catch (error) {
      throw corrupt(archive, error);
    }
    if (entries.size === 0) {
      throw new DataRejectedError(`archive ${archive} contains no CSV files`, {}, 'NO_CSV_FILES');
    }
    const inputs = [...entries.keys()].sort().map((name): RawInput => {
      const entry = entries.get(name)!;
      const label = `entry ${JSON.stringify(name)} in archive ${archive}`;
      return {
        name,
        label,
        open: () => zipfile.openReadStreamPromise(entry),
        maxBytes: entry.uncompressedSize,
        tooLarge: (bytes) =>
          rejected(
            `${label} expands to more than the ${entry.uncompressedSize} bytes its header declares (${bytes} so far)`,
          ),
      };
    });
    return { inputs, close: () => zipfile.close() };
  } catch (error) {
    zipfile.close();
    throw error;
  }
}
