/**
 * Encoding detection while bytes stream past: a UTF-8 or UTF-16 byte-order mark (Excel's "Unicode Text" is
 * UTF-16LE with one), else valid UTF-8, else Windows-1252 (the encoding of CSV files saved by Excel on
 * Windows, e.g. Kaggle's Superstore file).
 * Validation uses Node's native `isUtf8` per chunk, holding back a sequence cut by a chunk boundary, so
 * no per-byte JavaScript runs.
 */
import { isUtf8 } from 'node:buffer';
import { UTF16_BOM_BYTES, type Utf16ByteOrder, utf16ByteOrder } from '@etl/common/byte-order';

export type TextEncoding = 'utf-8' | 'utf-8-bom' | Utf16ByteOrder | 'windows-1252';

export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Feed chunks in order with `update`, then read `encoding`. Once a chunk is invalid, the rest is skipped. */
export class EncodingDetector {
  private started = false;
  private bom = false;
  private utf16: Utf16ByteOrder | undefined;
  private invalid = false;
  private pending: Buffer = Buffer.alloc(0);

  /** Returns the chunk without a leading BOM (only the first chunk can carry one). */
  update(chunk: Buffer): Buffer {
    let body = chunk;
    if (!this.started) {
      // A BOM split across the first chunks is not worth handling: streams deliver >= 3 bytes first.
      this.started = true;
      if (chunk.subarray(0, 3).equals(UTF8_BOM)) {
        this.bom = true;
        body = chunk.subarray(3);
      }
      this.utf16 = utf16ByteOrder(chunk);
      if (this.utf16) body = chunk.subarray(UTF16_BOM_BYTES);
    }
    if (!this.invalid && !this.utf16) this.check(body);
    return body;
  }

  /** The verdict after the last chunk. */
  get encoding(): TextEncoding {
    if (this.utf16) return this.utf16;
    const valid = !this.invalid && this.pending.length === 0;
    if (!valid) return 'windows-1252';
    return this.bom ? 'utf-8-bom' : 'utf-8';
  }

  private check(chunk: Buffer): void {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const cut = incompleteTail(data);
    this.pending = Buffer.from(data.subarray(data.length - cut));
    if (!isUtf8(data.subarray(0, data.length - cut))) this.invalid = true;
  }
}

/** Bytes at the end of `data` that begin a UTF-8 sequence the chunk does not finish (0-3). */
export function incompleteTail(data: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, data.length); back++) {
    const byte = data[data.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

/** Detects the encoding of a whole buffer (for small inputs and tests). */
export function detectEncoding(bytes: Buffer): TextEncoding {
  const detector = new EncodingDetector();
  detector.update(bytes);
  return detector.encoding;
}
