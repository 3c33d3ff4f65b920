/**
 * Unpacking a dataset as published: a folder's files or a single file, zips inside zips and .gz files,
 * classified by name into table files (with their format) and skipped files (with the reason). Every
 * archive gets the checks of unzip.ts whatever its level; archives nest at most MAX_ARCHIVE_DEPTH deep;
 * MAX_UNZIPPED_BYTES holds for the whole dataset: a zip entry counts with its declared size as soon as its
 * archive is opened (before a byte is extracted), a .gz file with the bytes it expands to (counted while
 * streaming). A nested zip is copied to a temporary file for yauzl, removed by close().
 *
 * Names: members of the source archive keep their path (`data/orders.csv`); members of an archive inside
 * the dataset live under its name as a folder (`train.csv.zip/train.csv`); a .gz file drops the suffix
 * (`data/sales.csv.gz` -> `data/sales.csv`). A table's name is its raw file name; a skipped file is listed
 * under the same convention.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SkippedFile } from '@etl/common/contracts';
import { DataRejectedError } from '@etl/common/errors';
import { assertRawFileName } from '@etl/common/storage';
import { classifyFile, type FileKind } from './dataset-files';
import { gunzip } from './gunzip';
import { type DatasetFile, type RawInput, readFailed } from './raw-files';
import { openZipArchive, unsafeArchive, type ZipArchive, type ZipLimits } from './unzip';

/** Levels of archives unpacked: the source zip, a zip in it, and two more. */
export const MAX_ARCHIVE_DEPTH = 4;

/** A dataset as found: one file (a source archive's members are the top level), or a folder's files. */
export type FoundFiles = { file: DatasetFile } | { folder: readonly DatasetFile[] };

export interface UnpackedDataset {
  /** Table files, sorted by name. */
  inputs: RawInput[];
  /** Files that are not tables, sorted by name. */
  skipped: SkippedFile[];
  /** Closes the archives and removes the temporary files; call it once the inputs have been read. */
  close(): Promise<void>;
}

export const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function isRawFileName(name: string): boolean {
  try {
    assertRawFileName(name);
    return true;
  } catch {
    return false;
  }
}

class Unpacker {
  readonly inputs: RawInput[] = [];
  readonly skipped: SkippedFile[] = [];
  /** Raw name -> label of the file that took it. */
  private readonly claimed = new Map<string, string>();
  private readonly archives: ZipArchive[] = [];
  private tempFolder: string | undefined;
  private tempFiles = 0;
  private declaredBytes = 0;
  /** What each .gz file expanded to, by name: a file read twice (head check, copy) counts once. */
  private readonly gunzippedBytes = new Map<string, number>();

  constructor(private readonly limits: ZipLimits) {}

  /** `depth`: how many archives hold `file`. `atTop`: if `file` is an archive, its members are the dataset's top level. */
  async add(file: DatasetFile, depth: number, atTop: boolean): Promise<void> {
    const kind: FileKind = file.format ? { kind: 'table', format: file.format } : classifyFile(file.name);
    if (kind.kind === 'skip') {
      this.skipped.push({ name: file.name, reason: kind.reason });
      return;
    }
    if (kind.kind === 'table') {
      this.claim(file);
      this.inputs.push({ ...file, format: kind.format });
      return;
    }
    if (depth >= MAX_ARCHIVE_DEPTH) {
      throw unsafeArchive(
        `${file.label} is an archive inside ${depth} others; archives are unpacked at most ${MAX_ARCHIVE_DEPTH} levels deep`,
      );
    }
    if (kind.kind === 'gzip') await this.add(this.gunzipped(file, kind.inner), depth + 1, atTop);
    else await this.addZip(file, depth, atTop);
  }

  async close(): Promise<void> {
    for (const archive of this.archives) archive.close();
    if (this.tempFolder) await rm(this.tempFolder, { recursive: true, force: true });
  }

  private async addZip(file: DatasetFile, depth: number, atTop: boolean): Promise<void> {
    const archive = await openZipArchive(file.path ?? (await this.copyToTemp(file)), file.label, this.limits);
    this.archives.push(archive);
    const folder = atTop ? '' : `${file.name}/`;
    const members = archive.files.map((member) => ({ ...member, name: folder + member.name }));
    for (const member of members) {
      if (classifyFile(member.name).kind !== 'skip') this.declaredBytes += member.maxBytes;
    }
    if (this.unpackedBytes() > this.limits.maxUnzippedBytes) {
      throw unsafeArchive(
        `${file.label} declares more than ${this.limits.maxUnzippedBytes} bytes uncompressed, with the rest of the dataset (MAX_UNZIPPED_BYTES)`,
      );
    }
    for (const member of members) await this.add(member, depth + 1, false);
  }

  private gunzipped(file: DatasetFile, name: string): DatasetFile {
    return {
      name,
      label: file.label,
      ...(file.assertSettled ? { assertSettled: file.assertSettled } : {}),
      open: async () => {
        const maxBytes = this.limits.maxUnzippedBytes - this.unpackedBytes(name);
        return gunzip(await file.open(), {
          label: file.label,
          maxRatio: this.limits.maxRatio,
          maxBytes,
          tooLarge: () =>
            unsafeArchive(
              `${file.label} expands to more than ${maxBytes} bytes, what is left of the dataset's ${this.limits.maxUnzippedBytes} (MAX_UNZIPPED_BYTES)`,
            ),
          onEnd: (bytes) => this.gunzippedBytes.set(name, bytes),
        });
      },
    };
  }

  /** Bytes the dataset unpacks to so far, leaving out the .gz file `except` (about to be read again). */
  private unpackedBytes(except?: string): number {
    let bytes = this.declaredBytes;
    for (const [name, expanded] of this.gunzippedBytes) if (name !== except) bytes += expanded;
    return bytes;
  }

  /** yauzl reads a zip from a file: an archive inside the dataset is copied to one first. */
  private async copyToTemp(file: DatasetFile): Promise<string> {
    this.tempFolder ??= await mkdtemp(path.join(os.tmpdir(), 'etl-unpack-'));
    const target = path.join(this.tempFolder, `${++this.tempFiles}.zip`);
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (file.maxBytes !== undefined && bytes > file.maxBytes) {
          done(
            file.tooLarge?.(bytes) ??
              new DataRejectedError(`${file.label} is larger than ${file.maxBytes} bytes (${bytes} so far)`),
          );
        } else {
          done(null, chunk);
        }
      },
    });
    try {
      await pipeline(await file.open(), counted, createWriteStream(target));
    } catch (error) {
      throw readFailed(file, error);
    }
    return target;
  }

  private claim(file: DatasetFile): void {
    const other = this.claimed.get(file.name);
    if (other !== undefined) {
      throw new DataRejectedError(
        `${other} and ${file.label} would both be stored as raw file ${JSON.stringify(file.name)}: rename one of them`,
        {},
        'DUPLICATE_FILE_NAME',
      );
    }
    if (!isRawFileName(file.name)) {
      throw new DataRejectedError(
        `${file.label} cannot be stored as ${JSON.stringify(file.name)}: a raw file name must be a relative path without backslashes, control characters or empty segments`,
        {},
        'INVALID_FILE_NAME',
      );
    }
    this.claimed.set(file.name, file.label);
  }
}

export async function unpackDataset(found: FoundFiles, limits: ZipLimits): Promise<UnpackedDataset> {
  const unpacker = new Unpacker(limits);
  try {
    if ('file' in found) await unpacker.add(found.file, 0, true);
    else for (const file of found.folder) await unpacker.add(file, 0, false);
  } catch (error) {
    await unpacker.close();
    throw error;
  }
  return {
    inputs: unpacker.inputs.sort(byName),
    skipped: unpacker.skipped.sort(byName),
    close: () => unpacker.close(),
  };
}
