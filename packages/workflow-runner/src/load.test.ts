import { describe, expect, it } from 'vitest';
import { WorkflowValidationError } from './errors';
import { loadWorkflow } from './load';

function rejection(source: string): WorkflowValidationError {
  try {
    loadWorkflow(source, { fileName: 'test.yaml' });
  } catch (error) {
    if (error instanceof WorkflowValidationError) return error;
    throw error;
  }
  throw new Error('expected the workflow to be rejected');
}

describe('loadWorkflow', () => {
  it('accepts a bare list of steps and a main + subworkflows map', () => {
    expect([...loadWorkflow('- a:\n    return: 1\n').subworkflows.keys()]).toEqual(['main']);
    const workflow = loadWorkflow(
      'main:\n  steps:\n    - a:\n        return: 1\nhelper:\n  params: [x, y: 2]\n  steps:\n    - b:\n        return: ${x}\n',
    );
    expect([...workflow.subworkflows.keys()]).toEqual(['main', 'helper']);
  });

  it('reports YAML syntax errors with their line', () => {
    const error = rejection('- a:\n    assign:\n      - x: [1, 2\n');
    expect(error.line).toBeGreaterThanOrEqual(3);
    expect(error.message).toMatch(/^test\.yaml:line \d+: invalid YAML/);
  });

  it.each([
    [
      'a step map with two keys',
      '- a:\n    return: 1\n  b:\n    return: 2\n',
      undefined,
      1,
      /exactly one key/,
    ],
    [
      'an unknown step key',
      '- a:\n    assign:\n      - x: 1\n    foo: 1\n',
      'a',
      4,
      /unknown step key 'foo'/,
    ],
    ['args without call', '- a:\n    args: {x: 1}\n', 'a', 2, /'args' requires 'call'/],
    ['retry without try', '- a:\n    retry: ${http.default_retry}\n', 'a', 2, /'retry' requires 'try'/],
    [
      'two actions in one step',
      '- a:\n    assign:\n      - x: 1\n    return: 1\n',
      'a',
      2,
      /only one of assign, return/,
    ],
    [
      'for without value',
      '- a:\n    for:\n      in: [1]\n      steps:\n        - b:\n            return: 1\n',
      'a',
      3,
      /requires 'value'/,
    ],
    [
      'for with both in and range',
      '- a:\n    for:\n      value: v\n      in: [1]\n      range: [1, 2]\n      steps:\n        - b:\n            return: 1\n',
      'a',
      3,
      /exactly one of 'in' or 'range'/,
    ],
    [
      'parallel with one branch',
      '- p:\n    parallel:\n      branches:\n        - b1:\n            steps:\n              - s:\n                  return: 1\n',
      'p',
      4,
      /2 to 10 branches/,
    ],
    [
      'parallel with both branches and for',
      '- p:\n    parallel:\n      for:\n        value: v\n        in: [1]\n        steps:\n          - s:\n              return: 1\n      branches:\n        - b1:\n            steps:\n              - s1:\n                  return: 1\n        - b2:\n            steps:\n              - s2:\n                  return: 2\n',
      'p',
      3,
      /exactly one of 'branches' or 'for'/,
    ],
    [
      'parallel with neither branches nor for',
      '- p:\n    parallel:\n      shared: []\n',
      'p',
      3,
      /exactly one of 'branches' or 'for'/,
    ],
    [
      'an unsupported exception_policy',
      '- p:\n    parallel:\n      exception_policy: abort\n      for:\n        value: v\n        in: [1]\n        steps:\n          - s:\n              assign:\n                - x: 1\n',
      'p',
      3,
      /only continueAll/,
    ],
    ['next to an unknown step', '- a:\n    next: nowhere\n', 'a', 1, /next target 'nowhere'/],
    ['break outside a for', '- a:\n    next: break\n', 'a', 1, /only allowed inside a for loop/],
    [
      'an undefined variable',
      '- a:\n    return: ${nope}\n',
      'a',
      1,
      /symbol 'nope' is neither a variable nor a sub-workflow name/,
    ],
    ['an unknown function', '- a:\n    return: ${nope(1)}\n', 'a', 1, /unknown function 'nope'/],
    [
      'a blocking call in an expression',
      '- a:\n    return: ${http.get("http://x")}\n',
      'a',
      1,
      /blocking call/,
    ],
    ['an unknown call target', '- a:\n    call: nope.nope\n', 'a', 1, /unknown call target/],
    [
      'an unknown connector',
      '- a:\n    call: googleapis.bigquery.v2.jobs.insert\n',
      'a',
      1,
      /unsupported connector/,
    ],
    ['events callbacks', '- a:\n    call: events.create_callback_endpoint\n', 'a', 1, /not supported/],
    [
      'an unknown argument name',
      '- a:\n    call: sys.sleep\n    args:\n      secs: 1\n',
      'a',
      1,
      /no parameter 'secs'/,
    ],
    [
      'a missing subworkflow argument',
      'main:\n  steps:\n    - a:\n        call: sub\nsub:\n  params: [x]\n  steps:\n    - b:\n        return: ${x}\n',
      'a',
      3,
      /requires argument 'x'/,
    ],
    [
      'main with two params',
      'main:\n  params: [a, b]\n  steps:\n    - a:\n        return: 1\n',
      undefined,
      2,
      /at most one parameter/,
    ],
    [
      'a duplicate step name',
      '- a:\n    assign:\n      - x: 1\n- a:\n    return: 1\n',
      'a',
      4,
      /duplicate step name/,
    ],
    ['an invalid expression', '- a:\n    return: ${1 +}\n', 'a', 2, /invalid expression/],
    [
      'an expression over 400 characters',
      `- a:\n    return: \${"${'x'.repeat(400)}"}\n`,
      'a',
      2,
      /limit 400/,
    ],
    [
      'a write to an unshared parent variable',
      '- init:\n    assign:\n      - total: 0\n- p:\n    parallel:\n      branches:\n        - b1:\n            steps:\n              - w:\n                  assign:\n                    - total: 1\n        - b2:\n            steps:\n              - r:\n                  assign:\n                    - y: 2\n',
      'w',
      9,
      /list it in 'shared'/,
    ],
    [
      'a shared variable that does not exist',
      '- p:\n    parallel:\n      shared: [nope]\n      branches:\n        - b1:\n            steps:\n              - w:\n                  assign:\n                    - x: 1\n        - b2:\n            steps:\n              - r:\n                  assign:\n                    - y: 2\n',
      'p',
      1,
      /must be assigned before/,
    ],
  ])('rejects %s, naming the step and line', (_what, source, step, line, message) => {
    const error = rejection(source);
    expect(error.message).toMatch(message);
    expect(error.step).toBe(step);
    expect(error.line).toBe(line);
  });

  it('rejects more than 50 assignments in one step and more than 50 switch conditions', () => {
    const assigns = Array.from({ length: 51 }, (_, i) => `      - v${i}: ${i}`).join('\n');
    expect(rejection(`- a:\n    assign:\n${assigns}\n`).message).toMatch(/too many assignments: 51/);
    const conditions = Array.from({ length: 51 }, () => '      - condition: true\n        next: end').join(
      '\n',
    );
    expect(rejection(`- s:\n    switch:\n${conditions}\n`).message).toMatch(/too many switch conditions: 51/);
  });

  it('rejects more than 10 branches', () => {
    const branches = Array.from(
      { length: 11 },
      (_, i) =>
        `        - b${i}:\n            steps:\n              - s${i}:\n                  assign:\n                    - x: ${i}`,
    ).join('\n');
    expect(rejection(`- p:\n    parallel:\n      branches:\n${branches}\n`).message).toMatch(
      /2 to 10 branches, got 11/,
    );
  });

  it('accepts connectors registered by name', () => {
    const source = '- a:\n    call: googleapis.bigquery.v2.jobs.insert\n    args: {projectId: p}\n';
    expect(
      loadWorkflow(source, { connectors: ['googleapis.bigquery.v2.jobs.insert'] }).connectorCalls,
    ).toEqual(new Set(['googleapis.bigquery.v2.jobs.insert']));
  });
});
