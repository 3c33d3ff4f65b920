import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, test } from 'vitest';
import { detectEncoding, EncodingDetector, incompleteTail } from './detect-encoding';
import { createUtf16Decoder, decodeWindows1252, windows1252ToUtf8 } from './transcode';

describe('encoding detection', () => {
  test('UTF-8, UTF-8 with BOM, Windows-1252', () => {
    expect(detectEncoding(Buffer.from('a,b\nCafé,1\n'))).toBe('utf-8');
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('utf-8-bom');
    expect(detectEncoding(Buffer.from([0x61, 0x93, 0x62, 0x94]))).toBe('windows-1252');
    expect(detectEncoding(Buffer.alloc(0))).toBe('utf-8');
  });

  test('a multi-byte character split across chunks is still valid UTF-8', () => {
    const bytes = Buffer.from('x€y'); // € is 3 bytes
    for (let cut = 1; cut < bytes.length; cut++) {
      const detector = new EncodingDetector();
      detector.update(bytes.subarray(0, cut));
      detector.update(bytes.subarray(cut));
      expect(detector.encoding).toBe('utf-8');
    }
  });

  test('a truncated sequence at the end is not UTF-8', () => {
    expect(detectEncoding(Buffer.from([0x61, 0xe2, 0x82]))).toBe('windows-1252');
    expect(incompleteTail(Buffer.from([0x61, 0xe2, 0x82]))).toBe(2);
    expect(incompleteTail(Buffer.from('abc'))).toBe(0);
  });

  test('UTF-16 by its byte-order mark (little or big endian), whatever follows; the mark is removed', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\r\n', 'utf16le')]);
    const detector = new EncodingDetector();
    expect(detector.update(le)).toEqual(Buffer.from('a\tb\r\n', 'utf16le'));
    expect(detector.encoding).toBe('utf-16le');
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0x00, 0x61]))).toBe('utf-16be');
    // Without a mark, NUL-laden text is not taken for UTF-16 (the extractor refuses it before).
    expect(detectEncoding(Buffer.from('ab', 'utf16le'))).toBe('utf-8');
  });

  test('the BOM is removed from the first chunk only', () => {
    const detector = new EncodingDetector();
    expect(detector.update(Buffer.from([0xef, 0xbb, 0xbf, 0x61])).toString()).toBe('a');
    expect(detector.update(Buffer.from([0xef, 0xbb, 0xbf])).length).toBe(3);
  });
});

describe('UTF-16 decoding', () => {
  test('a code unit or a surrogate pair cut by a chunk boundary decodes whole', async () => {
    const sample = 'Äpfel\t€ 1,20\t😀\r\n';
    for (const encoding of ['utf-16le', 'utf-16be'] as const) {
      const bytes = Buffer.from(sample, 'utf16le');
      if (encoding === 'utf-16be') bytes.swap16();
      for (let cut = 1; cut < bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        expect(await text(Readable.from(chunks).pipe(createUtf16Decoder(encoding)))).toBe(sample);
      }
    }
  });
});

describe('Windows-1252 decoding', () => {
  test('0x80-0x9F map to their Windows-1252 characters, not C1 controls', () => {
    // Node 20's TextDecoder('windows-1252') gets this wrong (it decodes Latin-1).
    expect(decodeWindows1252(Buffer.from([0x93, 0x41, 0x94, 0xa0, 0x80, 0x96, 0xe9]))).toBe(
      '\u201cA\u201d\u00a0€–é',
    );
    expect(decodeWindows1252(Buffer.from([0x81, 0x8d]))).toBe('\u0081\u008d');
  });

  test('the byte route and the string route agree on every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(windows1252ToUtf8(all).toString('utf8')).toBe(decodeWindows1252(all));
    expect(windows1252ToUtf8(Buffer.from([0x61, 0xa0, 0x93, 0xc2, 0x94])).toString('utf8')).toBe(
      'a\u00a0\u201c\u00c2\u201d',
    );
    expect(windows1252ToUtf8(Buffer.from('plain ascii')).toString()).toBe('plain ascii');
  });
});
