/**
 * Random `${...}` expressions through the workflow runner's public API (loadWorkflow + runWorkflow): they
 * never hang and never crash the runner. Each ends in a value, a Workflows error map (the execution
 * failed with tags and a message) or a validation error naming the step, nothing else.
 */
import {
  loadWorkflow,
  runWorkflow,
  WorkflowExecutionError,
  WorkflowValidationError,
} from '@etl/workflow-runner';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

type Outcome = 'value' | 'error-map' | 'invalid';

const TIME_LIMIT_MS = 2_000;

async function evaluate(source: string): Promise<Outcome> {
  const yaml = `main:\n  params: [args]\n  steps:\n    - answer:\n        return: ${JSON.stringify(`\${${source}}`)}\n`;
  const run = async (): Promise<Outcome> => {
    try {
      const workflow = loadWorkflow(yaml);
      await runWorkflow(workflow, { a: 1, s: 'x', l: [1, 2, 3], m: { k: 'v' } }, { log: () => {} });
      return 'value';
    } catch (error) {
      if (error instanceof WorkflowExecutionError) {
        const map = error.error as { tags?: unknown; message?: unknown };
        expect(Array.isArray(map.tags) || typeof map.message === 'string', JSON.stringify(map)).toBe(true);
        return 'error-map';
      }
      if (error instanceof WorkflowValidationError) return 'invalid';
      throw new Error(`expression ${JSON.stringify(source)} crashed the runner: ${String(error)}`, {
        cause: error,
      });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`expression ${JSON.stringify(source)} ran longer than ${TIME_LIMIT_MS} ms`)),
      TIME_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([run(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const TOKENS = [
  '1',
  '0',
  '-1',
  '2.5',
  '1e308',
  '9223372036854775807',
  '9223372036854775808',
  '"s"',
  "'q'",
  '""',
  'true',
  'null',
  'args',
  'args.a',
  'args.l',
  'args.m',
  'args.m.k',
  'args.missing',
  'x',
  '.',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  ':',
  ',',
  '+',
  '-',
  '*',
  '/',
  '//',
  '%',
  '==',
  '!=',
  '<',
  '>=',
  'and',
  'or',
  'not',
  'in',
  ' ',
  '"',
  '\\',
  '$',
  '${',
  '\n',
  '\u0000',
  'len',
  'default',
  'map.get',
  'keys',
  'int',
  'double',
  'string',
  'bool',
  'type',
  'json.decode',
  'json.encode_to_string',
  'text.split',
  'text.substring',
  'text.find_all_regex',
  'text.replace_all_regex',
  'base64.decode',
  'list.concat',
  'math.max',
  'time.parse',
  'hash.compute_checksum',
  'sys.get_env',
  'sys.now',
  'uuid.generate',
  'http.default_retry_predicate',
  'retry.always',
];

/** Grammar-shaped expressions: valid syntax, random types and functions. */
const expression = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      '1',
      '2.5',
      '-7',
      '"abc"',
      '"12"',
      'true',
      'false',
      'null',
      'args',
      'args.l',
      'args.m',
      'args.s',
    ),
    fc
      .tuple(
        tie('expr'),
        fc.constantFrom('+', '-', '*', '/', '//', '%', '==', '!=', '<', '>', 'and', 'or', 'in'),
        tie('expr'),
      )
      .map(([l, op, r]) => `(${l} ${op} ${r})`),
    tie('expr').map((e) => `not ${e}`),
    tie('expr').map((e) => `-(${e})`),
    fc.tuple(tie('expr'), tie('expr')).map(([l, i]) => `${l}[${i}]`),
    fc.array(tie('expr'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc.tuple(fc.constantFrom('k', 'a', '"q"'), tie('expr')).map(([k, v]) => `{"${k}": ${v}}`),
    fc
      .tuple(
        fc.constantFrom(
          'len',
          'default',
          'map.get',
          'keys',
          'int',
          'double',
          'string',
          'bool',
          'json.decode',
          'json.encode',
          'json.encode_to_string',
          'text.split',
          'text.substring',
          'text.replace_all_regex',
          'text.match_regex',
          'base64.decode',
          'base64.encode',
          'list.concat',
          'math.max',
          'math.abs',
          'time.parse',
          'time.format',
          'text.url_encode',
          'hash.compute_checksum',
          'text.encode',
          'text.decode',
          'type',
        ),
        fc.array(tie('expr'), { maxLength: 3 }),
      )
      .map(([f, args]) => `${f}(${args.join(', ')})`),
  ),
})).expr;

describe('workflow expressions: random input never hangs or crashes the runner', () => {
  test('token soup', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }), async (tokens) => {
        await evaluate(tokens.join(''));
      }),
      { seed: 4242, numRuns: 400 },
    );
  });

  test('grammar-shaped expressions with random types and functions', async () => {
    const outcomes: Outcome[] = [];
    await fc.assert(
      fc.asyncProperty(expression, async (source) => {
        outcomes.push(await evaluate(source));
      }),
      { seed: 4343, numRuns: 400 },
    );
    // Both branches are exercised: some expressions evaluate, some fail with an error map.
    expect(outcomes).toContain('value');
    expect(outcomes).toContain('error-map');
  });

  test('random unicode text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 60 }), async (source) => {
        await evaluate(source);
      }),
      { seed: 4444, numRuns: 300 },
    );
  });

  test('deep nesting and long inputs end in a value or an error, not a stack overflow', async () => {
    for (const depth of [100, 1_000, 10_000, 50_000]) {
      await evaluate(`${'('.repeat(depth)}1${')'.repeat(depth)}`);
      await evaluate(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
      await evaluate(`${'not '.repeat(depth)}true`);
      await evaluate(`${'-'.repeat(depth)}1`);
      await evaluate(Array.from({ length: depth }, () => '1').join(' + '));
      await evaluate(`len(${'"x" + '.repeat(depth)}"y")`);
    }
  }, 60_000);
});
