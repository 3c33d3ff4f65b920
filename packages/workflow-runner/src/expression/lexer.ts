/** Tokens of the `${...}` expression language (wf:reference/syntax/expressions). */
export type Token =
  | { kind: 'int'; value: bigint; pos: number }
  | { kind: 'double'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'eof'; value: ''; pos: number };

export class ExpressionSyntaxError extends Error {
  override readonly name = 'ExpressionSyntaxError';
}

const OPERATORS = [
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  ':',
];
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const char = source[pos]!;
    if (/\s/.test(char)) {
      pos++;
      continue;
    }
    const start = pos;
    const number = /^(\d+)(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(pos));
    if (number) {
      pos += number[0].length;
      if (number[2] === undefined && number[3] === undefined) {
        tokens.push({ kind: 'int', value: BigInt(number[1]!), pos: start });
      } else {
        tokens.push({ kind: 'double', value: Number(number[0]), pos: start });
      }
      continue;
    }
    if (char === '"' || char === "'") {
      pos++;
      let value = '';
      while (pos < source.length && source[pos] !== char) {
        if (source[pos] === '\\') {
          const next = source[pos + 1] ?? '';
          if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(pos + 2, pos + 6))) {
            value += String.fromCharCode(Number.parseInt(source.slice(pos + 2, pos + 6), 16));
            pos += 6;
            continue;
          }
          const escaped = ESCAPES[next];
          if (escaped === undefined) throw new ExpressionSyntaxError(`invalid escape '\\${next}' at ${pos}`);
          value += escaped;
          pos += 2;
          continue;
        }
        value += source[pos];
        pos++;
      }
      if (pos >= source.length) throw new ExpressionSyntaxError(`unterminated string starting at ${start}`);
      pos++;
      tokens.push({ kind: 'string', value, pos: start });
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(pos));
    if (ident) {
      pos += ident[0].length;
      tokens.push({ kind: 'ident', value: ident[0], pos: start });
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, pos));
    if (!op) throw new ExpressionSyntaxError(`unexpected character '${char}' at ${pos}`);
    pos += op.length;
    tokens.push({ kind: 'op', value: op, pos: start });
  }
  tokens.push({ kind: 'eof', value: '', pos });
  return tokens;
}
