import { raise } from '../errors';
import type { WfValue } from '../values';
import { type BuiltinRegistry, requireBytes, requireInt, requireString } from './types';

/** RE2 syntax is close enough to JS for the common subset; `(?i)` style flags are translated. */
function compileRegex(fn: string, pattern: string, flags = ''): RegExp {
  let source = pattern;
  let extraFlags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    extraFlags = inline[1]!.replace(/U/g, '');
  }
  try {
    return new RegExp(source, `${flags}${extraFlags}u`);
  } catch (error) {
    return raise('ValueError', `${fn}: invalid regular expression '${pattern}': ${(error as Error).message}`);
  }
}

function checkCharset(fn: string, charset: WfValue | undefined): void {
  const name = charset === undefined || charset === null ? 'UTF-8' : requireString(fn, charset);
  if (!/^utf-?8$/i.test(name))
    raise('ValueError', `${fn}: unsupported charset '${name}', only UTF-8 is supported`);
}

/** Character offsets count code points, as Workflows strings are sequences of characters. */
function codePointIndex(source: string, utf16Index: number): bigint {
  return BigInt([...source.slice(0, utf16Index)].length);
}

function matchesList(source: string, matches: Iterable<RegExpMatchArray>): WfValue[] {
  return [...matches].map(
    (match) =>
      new Map<string, WfValue>([
        ['index', codePointIndex(source, match.index ?? 0)],
        ['match', match[0]],
      ]),
  );
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text.*` (wf:reference/stdlib/text). */
export const textFunctions: BuiltinRegistry = {
  'text.split': {
    params: ['source', 'separator'],
    run: ([source, separator]) =>
      requireString('text.split', source).split(requireString('text.split', separator)),
  },
  'text.substring': {
    params: ['source', 'start', 'end'],
    run: ([source, start, end]) => {
      const chars = [...requireString('text.substring', source)];
      const clamp = (value: bigint) => Math.max(0, Math.min(chars.length, Number(value)));
      return chars
        .slice(clamp(requireInt('text.substring', start)), clamp(requireInt('text.substring', end)))
        .join('');
    },
  },
  'text.index': {
    params: ['source', 'substr'],
    run: ([source, substr]) => {
      const text = requireString('text.index', source);
      const position = text.indexOf(requireString('text.index', substr));
      return position < 0 ? -1n : codePointIndex(text, position);
    },
  },
  'text.find_all': {
    params: ['source', 'substr'],
    run: ([source, substr]) => {
      const text = requireString('text.find_all', source);
      const needle = requireString('text.find_all', substr);
      if (needle === '') return [];
      return matchesList(text, text.matchAll(new RegExp(escapeRegex(needle), 'g')));
    },
  },
  'text.find_all_regex': {
    params: ['source', 'regexp'],
    run: ([source, regexp]) => {
      const text = requireString('text.find_all_regex', source);
      return matchesList(
        text,
        text.matchAll(compileRegex('text.find_all_regex', requireString('text.find_all_regex', regexp), 'g')),
      );
    },
  },
  'text.match_regex': {
    params: ['source', 'regexp'],
    run: ([source, regexp]) =>
      compileRegex('text.match_regex', requireString('text.match_regex', regexp)).test(
        requireString('text.match_regex', source),
      ),
  },
  'text.replace_all': {
    params: ['source', 'substr', 'repl'],
    run: ([source, substr, repl]) =>
      requireString('text.replace_all', source).replaceAll(requireString('text.replace_all', substr), () =>
        requireString('text.replace_all', repl),
      ),
  },
  'text.replace_all_regex': {
    params: ['source', 'regexp', 'repl'],
    run: ([source, regexp, repl]) => {
      const pattern = compileRegex(
        'text.replace_all_regex',
        requireString('text.replace_all_regex', regexp),
        'g',
      );
      // RE2 replacement syntax uses \1 for groups; JS uses $1.
      const replacement = requireString('text.replace_all_regex', repl)
        .replace(/\$/g, '$$$$')
        .replace(/\\(\d)/g, '$$$1');
      return requireString('text.replace_all_regex', source).replace(pattern, replacement);
    },
  },
  'text.to_lower': {
    params: ['source'],
    run: ([source]) => requireString('text.to_lower', source).toLowerCase(),
  },
  'text.to_upper': {
    params: ['source'],
    run: ([source]) => requireString('text.to_upper', source).toUpperCase(),
  },
  'text.url_encode': {
    params: ['source'],
    run: ([source]) => encodeURIComponent(requireString('text.url_encode', source)),
  },
  'text.url_encode_plus': {
    params: ['source'],
    run: ([source]) => encodeURIComponent(requireString('text.url_encode_plus', source)).replace(/%20/g, '+'),
  },
  'text.url_decode': {
    params: ['source'],
    run: ([source]) => {
      try {
        return decodeURIComponent(requireString('text.url_decode', source).replace(/\+/g, ' '));
      } catch {
        return raise('ValueError', 'text.url_decode: malformed percent-encoding');
      }
    },
  },
  'text.encode': {
    params: ['text', 'charset'],
    required: 1,
    run: ([text, charset]) => {
      checkCharset('text.encode', charset);
      return new TextEncoder().encode(requireString('text.encode', text));
    },
  },
  'text.decode': {
    params: ['data', 'charset'],
    required: 1,
    run: ([data, charset]) => {
      checkCharset('text.decode', charset);
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(requireBytes('text.decode', data));
      } catch {
        return raise('ValueError', 'text.decode: data is not valid UTF-8');
      }
    },
  },
};
