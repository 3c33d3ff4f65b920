import { describe, expect, it } from 'vitest';
import { evaluateExpression as ev, expressionError } from '../test-support';
import { tokenize } from './lexer';
import { parseExpression } from './parser';

describe('lexer', () => {
  it('separates ints, doubles, strings with escapes, names and operators', () => {
    const tokens = tokenize('a.b[1] // 2.5 + "x\\n\\"y" != 1e3');
    expect(tokens.map((token) => token.kind)).toEqual([
      'ident',
      'op',
      'ident',
      'op',
      'int',
      'op',
      'op',
      'double',
      'op',
      'string',
      'op',
      'double',
      'eof',
    ]);
    expect(tokens[9]!.value).toBe('x\n"y');
    expect(tokens[4]!.value).toBe(1n);
  });
});

describe('parser', () => {
  it('follows the documented precedence: * before +, comparison before and, and before or', () => {
    expect(parseExpression('1 + 2 * 3')).toMatchObject({ op: '+', right: { op: '*' } });
    expect(parseExpression('a or b and c == d')).toMatchObject({
      op: 'or',
      right: { op: 'and', right: { op: '==' } },
    });
  });

  it('rejects trailing garbage', () => {
    expect(() => parseExpression('1 +')).toThrow(/unexpected end/);
    expect(() => parseExpression('a b')).toThrow(/unexpected/);
  });
});

describe('literals', () => {
  it('evaluates ints, doubles, strings, booleans in every documented case, null', async () => {
    expect(await ev('[1, 2.5, "s", true, True, TRUE, false, False, FALSE, null]')).toEqual([
      1,
      2.5,
      's',
      true,
      true,
      true,
      false,
      false,
      false,
      null,
    ]);
    expect(await ev('"tab\\tquote\\" unicode \\u00e9"')).toBe('tab\tquote" unicode é');
  });

  it('keeps 64-bit ints exact', async () => {
    expect(await ev('9223372036854775807')).toBe(9223372036854775807n);
    expect((await expressionError('9223372036854775807 + 1')).tags).toEqual(['ValueError']);
  });

  it('builds map and list literals and reads them by index and key', async () => {
    expect(await ev('{"a": [1, {"b": 2}]}')).toEqual({ a: [1, { b: 2 }] });
    expect(await ev('{"a": [1, {"b": 2}]}.a[1].b')).toBe(2);
    expect(await ev('{"a": 1}["a"]')).toBe(1);
  });
});

describe('arithmetic', () => {
  it('keeps int + int an int and / a float division', async () => {
    expect(await ev('get_type(1 + 2)')).toBe('integer');
    expect(await ev('7 / 2')).toBe(3.5);
    expect(await ev('get_type(4 / 2)')).toBe('double');
    expect(await ev('7 // 2')).toBe(3);
    expect(await ev('-7 // 2')).toBe(-4);
    expect(await ev('7.5 // 2')).toBe(3);
    expect(await ev('get_type(7.5 // 2)')).toBe('double');
    expect(await ev('7 % 3')).toBe(1);
    expect(await ev('-7 % 3')).toBe(2);
    expect(await ev('2 * 3 - 1')).toBe(5);
    expect(await ev('1 + 0.5')).toBe(1.5);
    expect(await ev('-(2 + 3)')).toBe(-5);
  });

  it('concatenates strings, and ints/doubles/bools with strings, per the docs', async () => {
    expect(await ev('"a" + "b"')).toBe('ab');
    expect(await ev('"n=" + 5')).toBe('n=5');
    expect(await ev('1.5 + "x"')).toBe('1.5x');
    expect(await ev('"flag " + true')).toBe('flag true');
  });

  it('raises TypeError for bool + number and for arithmetic on non-numbers', async () => {
    expect((await expressionError('true + 1')).tags).toEqual(['TypeError']);
    expect((await expressionError('[1] - 1')).tags).toEqual(['TypeError']);
    expect((await expressionError('-"a"')).tags).toEqual(['TypeError']);
  });

  it('raises ZeroDivisionError for / // %', async () => {
    for (const op of ['/', '//', '%']) {
      expect((await expressionError(`1 ${op} 0`)).tags).toEqual(['ZeroDivisionError']);
    }
  });
});

describe('comparison and logic', () => {
  it('compares numbers across int and double, and strings', async () => {
    expect(await ev('[1 == 1.0, 1 != 2, 1 < 2.5, 2 <= 2, "b" > "a", 3 >= 4]')).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(await ev('[1, {"a": 2}] == [1, {"a": 2}]')).toBe(true);
    expect(await ev('1 == "1"')).toBe(false);
    expect((await expressionError('1 < "2"')).tags).toEqual(['TypeError']);
  });

  it('checks membership in lists and map keys with in', async () => {
    expect(await ev('[2 in [1, 2], "a" in {"a": 1}, "b" in {"a": 1}]')).toEqual([true, true, false]);
  });

  it('applies and/or/not in both cases, short-circuiting', async () => {
    expect(await ev('[true and false, true or false, not false, TRUE AND NOT FALSE]')).toEqual([
      false,
      true,
      true,
      true,
    ]);
    expect(await ev('"k" in args and args.k > 1', { x: 1 })).toBe(false);
    expect((await expressionError('1 and true')).tags).toEqual(['TypeError']);
  });
});

describe('access errors', () => {
  it('raises KeyError for a missing key and IndexError for an index out of range', async () => {
    expect((await expressionError('args.missing', {})).tags).toEqual(['KeyError']);
    expect((await expressionError('args[3]', [1])).tags).toEqual(['IndexError']);
    expect((await expressionError('args["x"]', [1])).tags).toEqual(['TypeError']);
  });
});
