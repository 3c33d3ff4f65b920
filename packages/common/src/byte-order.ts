/**
 * UTF-16 text by its byte-order mark: Excel's "Unicode Text" export is tab-delimited UTF-16LE with one. The
 * extractor lets such a file's NUL bytes through and counts its lines in code units; the transformer decodes
 * it to UTF-8. Without a mark, NUL bytes are taken for binary content.
 */
export type Utf16ByteOrder = 'utf-16le' | 'utf-16be';

/** The byte order `bytes` (a file's first bytes) declares, or undefined when they start with no UTF-16 mark. */
export function utf16ByteOrder(bytes: Uint8Array): Utf16ByteOrder | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** Bytes of a UTF-16 byte-order mark. */
export const UTF16_BOM_BYTES = 2;
