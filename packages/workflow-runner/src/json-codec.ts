import { raise } from './errors';
import { FunctionRef, type WfMap, type WfValue } from './values';

const KEYWORDS: Array<[string, WfValue]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/**
 * Parses JSON text into Workflows values. A hand-written parser because `JSON.parse` cannot tell `1`
 * (int) from `1.0` (double), a distinction `get_type()` and `/` vs `//` arithmetic depend on.
 */
export function parseJson(text: string): WfValue {
  let pos = 0;

  const fail = (what: string): never =>
    raise('ValueError', `json.decode: ${what} at position ${pos} of ${JSON.stringify(text.slice(0, 60))}`);
  const skipSpace = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const expect = (literal: string) => {
    if (text.startsWith(literal, pos)) pos += literal.length;
    else fail(`expected '${literal}'`);
  };

  const parseString = (): string => {
    const match = /^"(?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(text.slice(pos));
    if (!match) return fail('invalid string');
    try {
      // JSON.parse rejects raw control characters, as the JSON grammar requires.
      const value = JSON.parse(match[0]) as string;
      pos += match[0].length;
      return value;
    } catch {
      return fail('invalid string');
    }
  };

  const parseNumber = (): WfValue => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos));
    if (!match) return fail('unexpected character');
    pos += match[0].length;
    if (match[1] === undefined && match[2] === undefined) {
      const int = BigInt(match[0]);
      // Ints outside 64 bits degrade to doubles rather than failing the decode.
      return int >= -(2n ** 63n) && int < 2n ** 63n ? int : Number(match[0]);
    }
    return Number(match[0]);
  };

  const parseValue = (): WfValue => {
    skipSpace();
    const char = text[pos];
    if (char === '{') {
      pos++;
      const map: WfMap = new Map();
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return map;
      }
      for (;;) {
        skipSpace();
        const key = parseString();
        skipSpace();
        expect(':');
        map.set(key, parseValue());
        skipSpace();
        if (text[pos] === ',') pos++;
        else {
          expect('}');
          return map;
        }
      }
    }
    if (char === '[') {
      pos++;
      const list: WfValue[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return list;
      }
      for (;;) {
        list.push(parseValue());
        skipSpace();
        if (text[pos] === ',') pos++;
        else {
          expect(']');
          return list;
        }
      }
    }
    if (char === '"') return parseString();
    for (const [literal, value] of KEYWORDS) {
      if (text.startsWith(literal, pos)) {
        pos += literal.length;
        return value;
      }
    }
    return parseNumber();
  };

  const value = parseValue();
  skipSpace();
  if (pos !== text.length) fail('unexpected trailing data');
  return value;
}

/** Encodes Workflows values as JSON text; bytes and function references cannot be encoded. */
export function encodeJson(value: WfValue, indent?: number | string): string {
  const pad = typeof indent === 'number' ? ' '.repeat(indent) : (indent ?? '');
  const encode = (item: WfValue, depth: number): string => {
    if (item === null) return 'null';
    if (typeof item === 'boolean') return item ? 'true' : 'false';
    if (typeof item === 'bigint') return item.toString();
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return raise('ValueError', `cannot JSON-encode ${item}`);
      return String(item);
    }
    if (typeof item === 'string') return JSON.stringify(item);
    if (item instanceof Uint8Array)
      return raise('TypeError', 'bytes cannot be JSON-encoded; use base64.encode');
    if (item instanceof FunctionRef)
      return raise('TypeError', `function '${item.name}' cannot be JSON-encoded`);
    const open = pad ? `\n${pad.repeat(depth + 1)}` : '';
    const close = pad ? `\n${pad.repeat(depth)}` : '';
    const separator = pad ? `,${open}` : ',';
    if (Array.isArray(item)) {
      if (item.length === 0) return '[]';
      return `[${open}${item.map((entry) => encode(entry, depth + 1)).join(separator)}${close}]`;
    }
    if (item.size === 0) return '{}';
    const colon = pad ? ': ' : ':';
    const entries = [...item].map(
      ([key, entry]) => `${JSON.stringify(key)}${colon}${encode(entry, depth + 1)}`,
    );
    return `{${open}${entries.join(separator)}${close}}`;
  };
  return encode(value, 0);
}
