/**
 * A pass-through stream that checks bytes on their way to the store: it counts and hashes them, enforces
 * a size limit (counted, not declared, so lying headers do not help), and rejects what is not a CSV
 * worth loading: empty, blank, header-only, or binary (NUL bytes or a known file signature up front).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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
];
const PROBE_BYTES = 8;
const BOM = [0xef, 0xbb, 0xbf];
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

export interface InspectedBytes {
  bytes: number;
  sha256: string;
}

export interface CsvInspectorOptions {
  /** Names the file in every message, e.g. `local file /data/orders.csv`. */
  label: string;
  maxBytes?: number;
  /** Builds the error thrown when more than `maxBytes` arrive. */
  tooLarge?: (bytes: number) => PipelineError;
}

export class CsvInspector extends Transform {
  private readonly label: string;
  private readonly maxBytes: number;
  private readonly tooLarge: (bytes: number) => PipelineError;
  private readonly hash: Hash = createHash('sha256');
  private probe = Buffer.alloc(0);
  private bytes = 0;
  private contentLines = 0;
  private lineHasContent = false;
  private digest: string | undefined;

  constructor(options: CsvInspectorOptions) {
    super();
    this.label = options.label;
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
    const problem = this.checkSignature(chunk) ?? this.checkNul(chunk, offset);
    if (problem) {
      callback(problem);
      return;
    }
    this.countLines(chunk, offset);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.lineHasContent) this.contentLines++;
    this.digest = this.hash.digest('hex');
    callback(this.checkRows() ?? null);
  }

  /** Size and sha256 of everything that passed; only after the stream ended. */
  result(): InspectedBytes {
    if (this.digest === undefined) throw new Error(`inspection of ${this.label} has not finished`);
    return { bytes: this.bytes, sha256: this.digest };
  }

  /** For a prefix of the file: binary checks only, plus the row checks if the prefix is the whole file. */
  static checkHead(label: string, head: Buffer, isWholeFile: boolean): DataRejectedError | undefined {
    const inspector = new CsvInspector({ label });
    const problem = inspector.checkSignature(head) ?? inspector.checkNul(head, 0);
    if (problem || !isWholeFile) return problem;
    inspector.bytes = head.length;
    inspector.countLines(head, 0);
    if (inspector.lineHasContent) inspector.contentLines++;
    return inspector.checkRows();
  }

  private checkSignature(chunk: Buffer): DataRejectedError | undefined {
    if (this.probe.length >= PROBE_BYTES) return undefined;
    this.probe = Buffer.concat([this.probe, chunk.subarray(0, PROBE_BYTES - this.probe.length)]);
    const match = SIGNATURES.find(
      ({ bytes }) => this.probe.length >= bytes.length && bytes.every((byte, i) => this.probe[i] === byte),
    );
    return match
      ? new DataRejectedError(`${this.label} is not CSV text: it starts like ${match.what}`, {}, 'NOT_CSV')
      : undefined;
  }

  private checkNul(chunk: Buffer, offset: number): DataRejectedError | undefined {
    if (offset >= HEAD_BYTES) return undefined;
    const at = chunk.subarray(0, HEAD_BYTES - offset).indexOf(0);
    if (at < 0) return undefined;
    return new DataRejectedError(
      `${this.label} is not CSV text: found a NUL byte at offset ${offset + at} (binary or UTF-16 content)`,
      {},
      'NOT_CSV',
    );
  }

  /** Counts lines holding something other than blanks, up to two: enough to tell "header only" apart. */
  private countLines(chunk: Buffer, offset: number): void {
    for (let i = 0; i < chunk.length && this.contentLines < 2; i++) {
      const byte = chunk[i]!;
      if (byte === LF || byte === CR) {
        // CR alone ends a line too (old Mac files); CRLF just adds an empty line, which is not counted.
        if (this.lineHasContent) this.contentLines++;
        this.lineHasContent = false;
      } else if (byte !== SPACE && byte !== TAB && !(offset + i < BOM.length && BOM[offset + i] === byte)) {
        this.lineHasContent = true;
      }
    }
  }

  private checkRows(): DataRejectedError | undefined {
    if (this.bytes === 0) return new DataRejectedError(`${this.label} is empty (0 bytes)`, {}, 'EMPTY_FILE');
    if (this.contentLines === 0) {
      return new DataRejectedError(
        `${this.label} has no header and no data rows (only blank lines)`,
        {},
        'NO_DATA_ROWS',
      );
    }
    if (this.contentLines === 1) {
      return new DataRejectedError(`${this.label} has a header but no data rows`, {}, 'NO_DATA_ROWS');
    }
    return undefined;
  }
}
