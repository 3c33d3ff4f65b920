/**
 * A pass-through stream that checks a table file on its way to the store: it counts and hashes the bytes,
 * enforces a size limit (counted, not declared, so lying headers do not help), and rejects what cannot be
 * the format the file's name claims: binary content in a text format (NUL bytes or a known file signature
 * up front), a Parquet file without its `PAR1` magic, an .xlsx that is not a zip container, and files that
 * hold no rows (empty; for delimited text also blank or header-only).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { UTF16_BOM_BYTES, type Utf16ByteOrder, utf16ByteOrder } from '@etl/common/byte-order';
import type { TableFormat } from '@etl/common/contracts';
import { DataRejectedError, type PipelineError } from '@etl/common/errors';

/** How far into a file binary content is looked for. */
export const HEAD_BYTES = 64 * 1024;

const SIGNATURES: ReadonlyArray<{ what: string; bytes: readonly number[] }> = [
  { what: 'a zip archive', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { what: 'an empty zip archive', bytes: [0x50, 0x4b, 0x05, 0x06] },
  { what: 'a gzip file', bytes: [0x1f, 0x8b] },
  { what: 'a PNG image', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { what: 'a PDF document', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { what: 'a 7z archive', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { what: 'an xz file', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { what: 'an Excel 97-2003 workbook', bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  { what: 'a Parquet file', bytes: [0x50, 0x41, 0x52, 0x31] },
];
const PROBE_BYTES = 8;

/** Text formats: binary content is rejected with these names. */
const TEXT: Partial<Record<TableFormat, { name: string; code: string }>> = {
  delimited: { name: 'CSV', code: 'NOT_CSV' },
  json: { name: 'JSON', code: 'NOT_JSON' },
};

/** Binary formats: the file must start with its magic number. */
const MAGIC: Partial<Record<TableFormat, { bytes: Buffer; what: string; expected: string; code: string }>> = {
  parquet: { bytes: Buffer.from('PAR1'), what: 'a Parquet file', expected: '"PAR1"', code: 'NOT_PARQUET' },
  xlsx: {
    bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
    what: 'an .xlsx workbook',
    expected: 'the zip signature "PK\\x03\\x04"',
    code: 'NOT_XLSX',
  },
};

const BOM = [0xef, 0xbb, 0xbf];
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

const NO_DATA = {
  empty: { code: 'EMPTY_FILE', message: 'is empty (0 bytes)', reason: 'empty (0 bytes)' },
  blank: {
    code: 'NO_DATA_ROWS',
    message: 'has no header and no data rows (only blank lines)',
    reason: 'blank: no header and no data rows',
  },
  headerOnly: {
    code: 'NO_DATA_ROWS',
    message: 'has a header but no data rows',
    reason: 'header only, no data rows',
  },
} as const;

/** A file that holds no rows: fatal when it is the whole dataset, skipped with `reason` among several files. */
export class NoDataError extends DataRejectedError {
  readonly reason: string;

  constructor(label: string, kind: keyof typeof NO_DATA) {
    const { code, message, reason } = NO_DATA[kind];
    super(`${label} ${message}`, {}, code);
    this.reason = reason;
  }
}

export interface InspectedBytes {
  bytes: number;
  sha256: string;
}

export interface FileInspectorOptions {
  /** Names the file in every message, e.g. `local file /data/orders.csv`. */
  label: string;
  format: TableFormat;
  maxBytes?: number;
  /** Builds the error thrown when more than `maxBytes` arrive. */
  tooLarge?: (bytes: number) => PipelineError;
}

export class FileInspector extends Transform {
  private readonly label: string;
  private readonly format: TableFormat;
  private readonly maxBytes: number;
  private readonly tooLarge: (bytes: number) => PipelineError;
  private readonly hash: Hash = createHash('sha256');
  private probe = Buffer.alloc(0);
  private bytes = 0;
  private contentLines = 0;
  private lineHasContent = false;
  /** Delimited text in UTF-16, by its byte-order mark; then lines are counted in code units. */
  private utf16: Utf16ByteOrder | undefined;
  private unitFirstByte = 0;
  private digest: string | undefined;

  constructor(options: FileInspectorOptions) {
    super();
    this.label = options.label;
    this.format = options.format;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.tooLarge =
      options.tooLarge ??
      ((bytes) =>
        new DataRejectedError(`${this.label} is larger than ${this.maxBytes} bytes (${bytes} read so far)`));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const offset = this.bytes;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(this.tooLarge(this.bytes));
      return;
    }
    this.hash.update(chunk);
    const problem = this.checkStart(chunk) ?? this.checkNul(chunk, offset);
    if (problem) {
      callback(problem);
      return;
    }
    this.countLines(chunk, offset);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    callback(this.checkEnd() ?? null);
  }

  /** Size and sha256 of everything that passed; only after the stream ended. */
  result(): InspectedBytes {
    if (this.digest === undefined) throw new Error(`inspection of ${this.label} has not finished`);
    return { bytes: this.bytes, sha256: this.digest };
  }

  /** For a prefix of the file: the start and binary checks, plus the end checks if the prefix is the whole file. */
  static checkHead(
    label: string,
    format: TableFormat,
    head: Buffer,
    isWholeFile: boolean,
  ): DataRejectedError | undefined {
    const inspector = new FileInspector({ label, format });
    const problem = inspector.checkStart(head) ?? inspector.checkNul(head, 0);
    if (problem || !isWholeFile) return problem;
    inspector.bytes = head.length;
    inspector.countLines(head, 0);
    return inspector.checkEnd();
  }

  private checkStart(chunk: Buffer): DataRejectedError | undefined {
    if (this.probe.length >= PROBE_BYTES) return undefined;
    this.probe = Buffer.concat([this.probe, chunk.subarray(0, PROBE_BYTES - this.probe.length)]);
    if (this.format === 'delimited') this.utf16 = utf16ByteOrder(this.probe);
    return this.startProblem(false);
  }

  /** `complete`: no more bytes will come, so a probe shorter than the magic number is a mismatch. */
  private startProblem(complete: boolean): DataRejectedError | undefined {
    const signature = SIGNATURES.find(
      ({ bytes }) => this.probe.length >= bytes.length && bytes.every((byte, i) => this.probe[i] === byte),
    );
    const magic = MAGIC[this.format];
    if (magic) {
      if (this.probe.length < magic.bytes.length && !complete) return undefined;
      if (this.probe.subarray(0, magic.bytes.length).equals(magic.bytes)) return undefined;
      const found =
        signature?.what ?? JSON.stringify(this.probe.subarray(0, magic.bytes.length).toString('latin1'));
      return new DataRejectedError(
        `${this.label} is not ${magic.what}: expected it to start with ${magic.expected}, found ${found}`,
        {},
        magic.code,
      );
    }
    const text = TEXT[this.format];
    return text && signature
      ? new DataRejectedError(
          `${this.label} is not ${text.name} text: it starts like ${signature.what}`,
          {},
          text.code,
        )
      : undefined;
  }

  private checkNul(chunk: Buffer, offset: number): DataRejectedError | undefined {
    const text = TEXT[this.format];
    if (!text || offset >= HEAD_BYTES || this.utf16) return undefined;
    const at = chunk.subarray(0, HEAD_BYTES - offset).indexOf(0);
    if (at < 0) return undefined;
    return new DataRejectedError(
      `${this.label} is not ${text.name} text: found a NUL byte at offset ${offset + at} (binary content, or UTF-16 without a byte-order mark: save it as UTF-8)`,
      {},
      text.code,
    );
  }

  /** Counts lines of delimited text holding something other than blanks, up to two: enough to tell "header only" apart. */
  private countLines(chunk: Buffer, offset: number): void {
    if (this.format !== 'delimited') return;
    for (let i = 0; i < chunk.length && this.contentLines < 2; i++) {
      const at = offset + i;
      const byte = chunk[i]!;
      if (!this.utf16) {
        if (!(at < BOM.length && BOM[at] === byte)) this.countCharacter(byte);
      } else if (at >= UTF16_BOM_BYTES) {
        // Code units start at even offsets, after the mark.
        if (at % 2 === 0) this.unitFirstByte = byte;
        else
          this.countCharacter(
            this.utf16 === 'utf-16le' ? this.unitFirstByte | (byte << 8) : (this.unitFirstByte << 8) | byte,
          );
      }
    }
  }

  private countCharacter(code: number): void {
    if (code === LF || code === CR) {
      // CR alone ends a line too (old Mac files); CRLF just adds an empty line, which is not counted.
      if (this.lineHasContent) this.contentLines++;
      this.lineHasContent = false;
    } else if (code !== SPACE && code !== TAB) {
      this.lineHasContent = true;
    }
  }

  private checkEnd(): DataRejectedError | undefined {
    if (this.bytes === 0) return new NoDataError(this.label, 'empty');
    if (this.format !== 'delimited') return this.startProblem(true);
    const lines = this.contentLines + (this.lineHasContent ? 1 : 0);
    if (lines === 0) return new NoDataError(this.label, 'blank');
    if (lines === 1) return new NoDataError(this.label, 'headerOnly');
    return undefined;
  }
}
