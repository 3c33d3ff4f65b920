/**
 * Encoding detection while bytes stream past: a UTF-8 or UTF-16 byte-order mark (Excel's "Unicode Text" is
 * UTF-16LE with one), else valid UTF-8, else UTF-8 with a few stray bytes of another encoding (`mixedUtf8`),
 * else a legacy encoding told by its bytes (`legacyEncoding`):
 * Windows-1252 (the encoding of CSV files saved by Excel on Windows, e.g. Kaggle's Superstore file) unless
 * they read as Chinese, Japanese, Korean, Cyrillic, Turkish, Central European, Greek, Hebrew or Arabic text
 * in that language's own encoding.
 * Validation uses Node's native `isUtf8` per chunk, holding back a sequence cut by a chunk boundary, so
 * no per-byte JavaScript runs.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { UTF16_BOM_BYTES, type Utf16ByteOrder, utf16ByteOrder } from '@etl/common/byte-order';
import { analyse } from 'chardet';

/**
 * The legacy encodings read besides Windows-1252, as WHATWG (and so `TextDecoder`) names them: Excel's CSV on
 * a Chinese, Taiwanese, Japanese, Korean, Russian, Turkish, Central European (Polish, Czech, Hungarian, ...),
 * Greek, Hebrew or Arabic Windows, and the ISO and Unix encodings of the same languages.
 */
export const LEGACY_ENCODINGS = [
  'gb18030',
  'big5',
  'shift_jis',
  'euc-jp',
  'euc-kr',
  'windows-1251',
  'koi8-r',
  'windows-1254',
  'windows-1250',
  'iso-8859-2',
  'windows-1253',
  'iso-8859-7',
  'windows-1255',
  'iso-8859-8',
  'windows-1256',
] as const;
export type LegacyEncoding = (typeof LEGACY_ENCODINGS)[number];

export const isLegacyEncoding = (encoding: string): encoding is LegacyEncoding =>
  (LEGACY_ENCODINGS as readonly string[]).includes(encoding);

/** Each legacy encoding by the name the statistical detector gives it. */
const DETECTED_AS: Record<string, LegacyEncoding> = {
  GB18030: 'gb18030',
  Big5: 'big5',
  Shift_JIS: 'shift_jis',
  'EUC-JP': 'euc-jp',
  'EUC-KR': 'euc-kr',
  'windows-1251': 'windows-1251',
  'KOI8-R': 'koi8-r',
  'ISO-8859-9': 'windows-1254',
  'windows-1254': 'windows-1254',
  'windows-1250': 'windows-1250',
  'ISO-8859-2': 'iso-8859-2',
  'windows-1253': 'windows-1253',
  'ISO-8859-7': 'iso-8859-7',
  'windows-1255': 'windows-1255',
  'ISO-8859-8': 'iso-8859-8',
  'windows-1256': 'windows-1256',
};

/** Central European encodings: their letters share most bytes with Western ones (`č` is `è`), see isCentralEuropean. */
const CENTRAL_EUROPEAN: readonly LegacyEncoding[] = ['windows-1250', 'iso-8859-2'];
/** Encodings of scripts of their own (Greek, Hebrew, Arabic), see isOwnScript. */
const OWN_SCRIPT: readonly LegacyEncoding[] = [
  'windows-1253',
  'iso-8859-7',
  'windows-1255',
  'iso-8859-8',
  'windows-1256',
];

/**
 * The bytes where Windows-1254 (Turkish) reads other letters than Windows-1252: Ğ İ Ş ğ ı ş where Windows-1252
 * has Ð Ý Þ ð ý þ. Everywhere else the two read alike, so a sample ranked Turkish is read so only when it
 * holds one of these: text without them is the same either way, and says no guess.
 */
const TURKISH_LETTER_BYTES = [0xd0, 0xdd, 0xde, 0xf0, 0xfd, 0xfe];

/** `utf-8-mixed`: UTF-8 with a few stray Windows-1252 bytes (`mixedUtf8`), each read as its character. */
export type TextEncoding =
  | 'utf-8'
  | 'utf-8-bom'
  | 'utf-8-mixed'
  | Utf16ByteOrder
  | 'windows-1252'
  | LegacyEncoding;

export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Bytes from the first invalid chunk on that `legacyEncoding` judges: enough text, and quick to score. */
const SAMPLE_BYTES = 64 * 1024;

/** Feed chunks in order with `update`, then read `encoding`. Once a chunk is invalid, the rest is skipped. */
export class EncodingDetector {
  private started = false;
  private bom = false;
  private utf16: Utf16ByteOrder | undefined;
  private invalid = false;
  private pending: Buffer = Buffer.alloc(0);
  private sample: Buffer[] = [];
  private sampled = 0;
  /** A chunk before the first invalid one held text beyond ASCII: valid UTF-8 of more than one byte. */
  private multibyte = false;

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
    if (this.utf16) return body;
    if (!this.invalid) this.check(body);
    else this.keep(body);
    return body;
  }

  /** Whether the bytes so far are UTF-8 without a byte-order mark (the last character may still be cut). */
  get plainSoFar(): boolean {
    return !this.bom && !this.utf16 && !this.invalid;
  }

  /** The verdict after the last chunk. */
  get encoding(): TextEncoding {
    if (this.utf16) return this.utf16;
    if (this.invalid || this.pending.length > 0) {
      const sample = Buffer.concat([...this.sample, ...(this.invalid ? [] : [this.pending])]);
      return mixedUtf8(sample, this.multibyte || this.bom) ? 'utf-8-mixed' : legacyEncoding(sample);
    }
    return this.bom ? 'utf-8-bom' : 'utf-8';
  }

  private check(chunk: Buffer): void {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const cut = incompleteTail(data);
    this.pending = Buffer.from(data.subarray(data.length - cut));
    const whole = data.subarray(0, data.length - cut);
    if (!isUtf8(whole)) {
      this.invalid = true;
      this.keep(data);
    } else if (!this.multibyte && !isAscii(whole)) this.multibyte = true;
  }

  private keep(chunk: Buffer): void {
    if (this.sampled >= SAMPLE_BYTES) return;
    const part = Buffer.from(chunk.subarray(0, SAMPLE_BYTES - this.sampled));
    this.sample.push(part);
    this.sampled += part.length;
  }
}

/**
 * The encoding of text that is not UTF-8, from a sample of it: the one a statistical detector (ICU's, ported
 * by `chardet`: byte and character n-grams of each language) ranks first, when it is one of
 * LEGACY_ENCODINGS and decodes the sample without an invalid sequence; else Windows-1252, which decodes
 * anything. Before, GBK and Shift_JIS files were read as Windows-1252 and loaded as mojibake without a word.
 */
export function legacyEncoding(sample: Uint8Array): 'windows-1252' | LegacyEncoding {
  const ranked = analyse(sample);
  if (isTurkish(sample, ranked)) return 'windows-1254';
  const encoding = ranked[0] && DETECTED_AS[ranked[0].name];
  // Turkish without the letters only it reads is the same text in Windows-1252.
  if (!encoding || encoding === 'windows-1254') return 'windows-1252';
  if (CENTRAL_EUROPEAN.includes(encoding) && !isCentralEuropean(sample, encoding)) return 'windows-1252';
  if (OWN_SCRIPT.includes(encoding) && !isOwnScript(sample)) return 'windows-1252';
  try {
    // The sample may end inside a character: `stream` leaves that one undecoded instead of failing on it.
    new TextDecoder(encoding, { fatal: true }).decode(sample, { stream: true });
    return encoding;
  } catch {
    return 'windows-1252';
  }
}

/**
 * Whether text that is not valid UTF-8 is UTF-8 all the same, with a few stray bytes of another encoding: a
 * file written by one program and appended to, or edited, by another (a Windows-1252 `é`, byte 0xE9, among
 * UTF-8's `ë` and `ü`). Decoded whole as Windows-1252, every UTF-8 character of it became two or three
 * (`Zoë` -> `ZoÃ«`) without a word. So when the sample holds at least four valid multi-byte UTF-8 characters
 * for each byte that is none (a UTF-8 BOM, or UTF-8 beyond ASCII before the sample, counting as 64), it is
 * UTF-8. Text in a legacy encoding almost never holds a valid UTF-8 sequence (Windows-1252 would have to put
 * `Ã` before `©`), and Chinese, Japanese or Cyrillic text in one holds far more invalid bytes than valid ones.
 */
export function mixedUtf8(sample: Uint8Array, utf8Before: boolean): boolean {
  let valid = utf8Before ? 64 : 0;
  let invalid = 0;
  for (let i = 0; i < sample.length; ) {
    const size = sample[i]! < 0x80 ? 1 : utf8SequenceAt(sample, i);
    if (size === 1) i++;
    else if (size > 1) {
      valid++;
      i += size;
    } else if (size === -1)
      break; // a character cut by the end of the sample
    else {
      invalid++;
      i++;
    }
  }
  return invalid > 0 && valid >= 4 * invalid;
}

/**
 * UTF-8's lead bytes as ranges `[first, last, size, low, high]`: a sequence of `size` bytes whose second byte
 * lies in `low..high` (RFC 3629's table: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
const UTF8_LEADS: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [0xc2, 0xdf, 2, 0x80, 0xbf],
  [0xe0, 0xe0, 3, 0xa0, 0xbf],
  [0xe1, 0xec, 3, 0x80, 0xbf],
  [0xed, 0xed, 3, 0x80, 0x9f],
  [0xee, 0xef, 3, 0x80, 0xbf],
  [0xf0, 0xf0, 4, 0x90, 0xbf],
  [0xf1, 0xf3, 4, 0x80, 0xbf],
  [0xf4, 0xf4, 4, 0x80, 0x8f],
];

/**
 * The length of the valid UTF-8 sequence of two to four bytes at `at` (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF); 0 when the bytes there are none, -1 when the bytes end first.
 */
export function utf8SequenceAt(bytes: Uint8Array, at: number): number {
  const lead = bytes[at]!;
  const [, , size, low, high] = UTF8_LEADS.find(([first, last]) => lead >= first && lead <= last) ?? [];
  if (size === undefined || low === undefined || high === undefined) return 0;
  for (let k = 1; k < size; k++) {
    const byte = bytes[at + k];
    if (byte === undefined) return -1;
    if (byte < (k === 1 ? low : 0x80) || byte > (k === 1 ? high : 0xbf)) return 0;
  }
  return size;
}

/**
 * Whether the sample is Turkish in Windows-1254: it holds a letter only that encoding reads
 * (`TURKISH_LETTER_BYTES`), and the detector ranks Turkish first, or tied first (a short sample, a few rows,
 * scores Latin-1 and Turkish alike).
 */
function isTurkish(sample: Uint8Array, ranked: ReadonlyArray<{ name: string; confidence: number }>): boolean {
  const top = ranked[0]?.confidence;
  return (
    ranked.some((r) => r.confidence === top && DETECTED_AS[r.name] === 'windows-1254') &&
    TURKISH_LETTER_BYTES.some((byte) => sample.includes(byte))
  );
}

/** Which of the 256 bytes read as a letter in `encoding`, one byte a character. */
function letterBytes(encoding: string): boolean[] {
  const decoder = new TextDecoder(encoding);
  return Array.from({ length: 256 }, (_, byte) => /\p{L}/u.test(decoder.decode(Uint8Array.of(byte))));
}

/**
 * Whether a sample ranked Central European reads so: some byte between two letters is a letter in `encoding`
 * but not in Windows-1252 (Polish `ł` `ą` `ż` are `³` `¹` `¿` there, and no word holds those). Czech and
 * Hungarian text whose letters all have Western look-alikes (`č` `è`, `ő` `õ`) stays Windows-1252: the
 * detector's ranking alone mistook Western files for Central European ones.
 */
function isCentralEuropean(sample: Uint8Array, encoding: LegacyEncoding): boolean {
  const letter = letterBytes(encoding);
  // Latin-1 reads as Windows-1252 from 0xA0 up; below, Windows-1252's letters (Š Œ Ž š œ ž Ÿ) would be
  // Latin-1's controls, so those bytes are left to the ranking.
  const western = letterBytes('latin1');
  for (let i = 1; i < sample.length - 1; i++) {
    const byte = sample[i]!;
    if (byte < 0xa0 || western[byte] || !letter[byte]) continue;
    if (letter[sample[i - 1]!] && letter[sample[i + 1]!]) return true;
  }
  return false;
}

/**
 * Whether the sample's letters beyond ASCII come in runs, as words of Greek, Hebrew or Arabic do (every letter
 * a byte above 0x7F): at least two thirds of those bytes are next to another. Western text has them one by
 * one between ASCII letters (`Hélène`, `Größe` at most two).
 */
function isOwnScript(sample: Uint8Array): boolean {
  let high = 0;
  let paired = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i]! < 0x80) continue;
    high++;
    if ((sample[i - 1] ?? 0) >= 0x80 || (sample[i + 1] ?? 0) >= 0x80) paired++;
  }
  return high > 0 && 3 * paired >= 2 * high;
}

/**
 * What the run summary says of a file read in a legacy encoding its bytes chose (`legacyEncoding`), or of
 * UTF-8 with `strayBytes` bytes read as Windows-1252 (`mixedUtf8`): a guess, unlike UTF-8 and the
 * Windows-1252 every other non-UTF-8 file is read in.
 */
export function encodingGuess(encoding: TextEncoding, strayBytes = 0): string | undefined {
  if (encoding === 'utf-8-mixed')
    return `${strayBytes} ${strayBytes === 1 ? 'byte is' : 'bytes are'} not UTF-8 among its UTF-8 text (another program's Windows-1252 é, ü or €): each read as its Windows-1252 character, the rest as UTF-8 (a profile's source.encoding says otherwise)`;
  if (!isLegacyEncoding(encoding)) return undefined;
  return `not UTF-8: read as ${encoding}, the encoding its bytes read best in (a profile's source.encoding says otherwise)`;
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
