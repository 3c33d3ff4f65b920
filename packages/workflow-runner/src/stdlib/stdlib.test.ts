import { describe, expect, it } from 'vitest';
import { evaluateExpression as ev, expressionError, runYaml } from '../test-support';

describe('expression helpers', () => {
  it('default returns the fallback only for null', async () => {
    expect(await ev('[default(null, 1), default(0, 1), default(map.get(args, "x"), "d")]', {})).toEqual([
      1,
      0,
      'd',
    ]);
  });

  it('keys lists map keys in insertion order', async () => {
    expect(await ev('keys({"b": 1, "a": 2, "1": 3})')).toEqual(['b', 'a', '1']);
    expect((await expressionError('keys([1])')).tags).toEqual(['TypeError']);
  });

  it('len counts list items, map entries and string characters', async () => {
    expect(await ev('[len([1, 2]), len({"a": 1}), len("héllo")]')).toEqual([2, 1, 5]);
    expect((await expressionError('len(1)')).tags).toEqual(['TypeError']);
  });

  it('int, double and string convert between types', async () => {
    expect(
      await ev(
        '[int("42"), int(2.9), int(-2.9), double("1.5"), double(2), string(3), string(1.5), string(true)]',
      ),
    ).toEqual([42, 2, -2, 1.5, 2, '3', '1.5', 'true']);
    expect(await ev('get_type(double(2))')).toBe('double');
    expect((await expressionError('int("abc")')).tags).toEqual(['ValueError']);
    expect((await expressionError('string([1])')).tags).toEqual(['TypeError']);
  });

  it('get_type names every type', async () => {
    expect(
      await ev(
        '[get_type(1), get_type(1.0), get_type("s"), get_type(true), get_type([]), get_type({}), get_type(null), get_type(text.encode("x"))]',
      ),
    ).toEqual(['integer', 'double', 'string', 'boolean', 'list', 'map', 'null', 'bytes']);
  });

  it('if picks a branch by a boolean condition', async () => {
    expect(await ev('[if(1 < 2, "yes", "no"), if(false, 1, 2)]')).toEqual(['yes', 2]);
  });
});

describe('list', () => {
  it('concat appends and prepend prepends, without changing the input', async () => {
    const yaml = `
- init:
    assign:
      - a: [1, 2]
      - b: \${list.concat(a, 3)}
      - c: \${list.prepend(a, 0)}
- done:
    return:
      - \${a}
      - \${b}
      - \${c}
`;
    expect(await runYaml(yaml)).toEqual([
      [1, 2],
      [1, 2, 3],
      [0, 1, 2],
    ]);
  });
});

describe('map', () => {
  it('get returns null for missing keys and walks nested key lists', async () => {
    expect(
      await ev(
        '[map.get({"a": {"b": 1}}, ["a", "b"]), map.get({"a": 1}, "z"), map.get({"a": 1}, ["a", "b"])]',
      ),
    ).toEqual([1, null, null]);
  });

  it('merge, merge_nested and delete return new maps', async () => {
    expect(await ev('map.merge({"a": 1, "n": {"x": 1}}, {"b": 2, "n": {"y": 2}})')).toEqual({
      a: 1,
      n: { y: 2 },
      b: 2,
    });
    expect(await ev('map.merge_nested({"n": {"x": 1}}, {"n": {"y": 2}})')).toEqual({ n: { x: 1, y: 2 } });
    expect(await ev('map.delete({"a": 1, "b": 2}, "a")')).toEqual({ b: 2 });
  });
});

describe('text', () => {
  it('split, substring, index and find_all', async () => {
    expect(await ev('text.split("a,b,,c", ",")')).toEqual(['a', 'b', '', 'c']);
    expect(await ev('[text.substring("hello", 1, 3), text.substring("hello", 3, 99)]')).toEqual(['el', 'lo']);
    expect(await ev('[text.index("hello", "l"), text.index("hello", "z")]')).toEqual([2, -1]);
    expect(await ev('text.find_all("banana", "an")')).toEqual([
      { index: 1, match: 'an' },
      { index: 3, match: 'an' },
    ]);
  });

  it('regex helpers: match_regex, find_all_regex, replace_all_regex', async () => {
    expect(
      await ev('[text.match_regex("abc123", "^[a-z]+\\\\d+$"), text.match_regex("abc", "\\\\d")]'),
    ).toEqual([true, false]);
    expect(await ev('text.find_all_regex("a1b22", "\\\\d+")')).toEqual([
      { index: 1, match: '1' },
      { index: 3, match: '22' },
    ]);
    expect(await ev('text.replace_all_regex("a1b22", "(\\\\d+)", "<\\\\1>")')).toBe('a<1>b<22>');
    expect((await expressionError('text.match_regex("a", "(")')).tags).toEqual(['ValueError']);
  });

  it('replace_all, case conversion and URL encoding', async () => {
    expect(await ev('text.replace_all("a-b-c", "-", "+")')).toBe('a+b+c');
    expect(await ev('[text.to_lower("AbC"), text.to_upper("AbC")]')).toEqual(['abc', 'ABC']);
    expect(
      await ev('[text.url_encode("a b&c/é"), text.url_encode_plus("a b"), text.url_decode("a%20b+c")]'),
    ).toEqual(['a%20b%26c%2F%C3%A9', 'a+b', 'a b c']);
  });

  it('encode to bytes and decode back', async () => {
    expect(await ev('text.decode(text.encode("héllo"))')).toBe('héllo');
    expect(await ev('len(text.encode("é"))')).toBe(2);
    expect((await expressionError('text.encode("x", "latin-9")')).tags).toEqual(['ValueError']);
  });
});

describe('json', () => {
  it('decode keeps ints and doubles apart, from bytes or strings', async () => {
    expect(await ev('json.decode("{\\"a\\": 1, \\"b\\": 1.0, \\"c\\": [true, null]}")')).toEqual({
      a: 1,
      b: 1,
      c: [true, null],
    });
    expect(await ev('get_type(json.decode("1.0"))')).toBe('double');
    expect(await ev('json.decode(text.encode("[1]"))')).toEqual([1]);
    expect((await expressionError('json.decode("{")')).tags).toEqual(['ValueError']);
  });

  it('encode returns bytes and encode_to_string a string', async () => {
    expect(await ev('get_type(json.encode({"a": 1}))')).toBe('bytes');
    expect(await ev('text.decode(json.encode({"a": [1, 2.5, "x"]}))')).toBe('{"a":[1,2.5,"x"]}');
    expect(await ev('json.encode_to_string({"a": 1}, 2)')).toBe('{\n  "a": 1\n}');
  });
});

describe('base64', () => {
  it('round-trips bytes', async () => {
    expect(await ev('base64.encode(text.encode("hi?"))')).toBe('aGk/');
    expect(await ev('base64.encode(text.encode("h"), false)')).toBe('aA');
    expect(await ev('text.decode(base64.decode("aGk/"))')).toBe('hi?');
    expect((await expressionError('base64.decode("***")')).tags).toEqual(['ValueError']);
  });
});

describe('math', () => {
  it('abs, floor, max, min keep int/double types', async () => {
    expect(
      await ev(
        '[math.abs(-3), math.abs(-2.5), math.floor(2.7), math.floor(-2.5), math.max(1, 2.5), math.min(3, 2)]',
      ),
    ).toEqual([3, 2.5, 2, -3, 2.5, 2]);
    expect(await ev('get_type(math.floor(2.7))')).toBe('integer');
  });
});

describe('time', () => {
  it('formats epoch seconds as RFC 3339 and parses it back', async () => {
    expect(await ev('time.format(0)')).toBe('1970-01-01T00:00:00Z');
    expect(await ev('time.format(1.5)')).toBe('1970-01-01T00:00:01.500000Z');
    expect(await ev('time.format(0, "Europe/Paris")')).toBe('1970-01-01T01:00:00+01:00');
    expect(await ev('time.parse("2024-01-01T00:00:00Z")')).toBe(1704067200);
    expect(await ev('time.parse("1970-01-01T01:00:00.25+01:00")')).toBe(0.25);
    expect((await expressionError('time.parse("yesterday")')).tags).toEqual(['ValueError']);
  });
});

describe('uuid and hash', () => {
  it('generates v4 uuids', async () => {
    expect(await ev('uuid.generate()')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('computes checksums and HMACs as bytes', async () => {
    expect(await ev('base64.encode(hash.compute_checksum(text.encode("abc"), "SHA256"))')).toBe(
      'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=',
    );
    expect(await ev('len(hash.compute_hmac(text.encode("k"), text.encode("abc"), "SHA1"))')).toBe(20);
    expect((await expressionError('hash.compute_checksum(text.encode("a"), "CRC")')).tags).toEqual([
      'ValueError',
    ]);
  });
});

describe('retry helpers', () => {
  it('exposes the documented predicates and backoff', async () => {
    expect(
      await ev(
        '[http.default_retry_predicate({"code": 502, "tags": ["HttpError"]}), http.default_retry_predicate({"code": 500}), http.default_retry_predicate_non_idempotent({"code": 502}), http.default_retry_predicate_non_idempotent({"tags": ["ConnectionFailedError"]}), http.default_retry_predicate_non_idempotent({"tags": ["TimeoutError"]}), retry.always({}), retry.never({})]',
      ),
    ).toEqual([true, false, false, true, false, true, false]);
    expect(await ev('retry.default_backoff')).toEqual({ initial_delay: 1, max_delay: 60, multiplier: 1.25 });
  });
});
