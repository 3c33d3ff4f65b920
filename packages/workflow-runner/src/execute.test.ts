import { describe, expect, it } from 'vitest';
import { collectLogs, createFakeClock, runYaml, runYamlError } from './test-support';
import type { TraceEvent } from './trace';

describe('assign', () => {
  it('assigns plain, dotted, bracketed and indexed targets in order', async () => {
    const yaml = `
- init:
    assign:
      - m: {}
      - l: [1, 2, 3]
      - k: "dyn"
      - m.a: 1
      - m["b"]: \${m.a + 1}
      - m[k]: true
      - m.nested.deep: "created"
      - l[1]: 20
      - l[len(l) - 1]: \${l[1] + 10}
- done:
    return: [\${m}, \${l}]
`.replace('return: [${m}, ${l}]', 'return:\n      - ${m}\n      - ${l}');
    expect(await runYaml(yaml)).toEqual([
      { a: 1, b: 2, dyn: true, nested: { deep: 'created' } },
      [1, 20, 30],
    ]);
  });

  it('copies values on assignment', async () => {
    const yaml = `
- init:
    assign:
      - a: {"x": 1}
      - b: \${a}
      - b.x: 2
- done:
    return: \${a.x}
`;
    expect(await runYaml(yaml)).toBe(1);
  });

  it('evaluates expression map keys (WS dictionary)', async () => {
    const yaml = `
- init:
    assign:
      - dynamicKey: "fruit"
      - m:
          \${dynamicKey}: "Apple"
- done:
    return: \${m}
`;
    expect(await runYaml(yaml)).toEqual({ fruit: 'Apple' });
  });

  it('raises IndexError when assigning past the end of a list', async () => {
    const yaml = '- a:\n    assign:\n      - l: [1]\n      - l[5]: 1\n';
    expect((await runYamlError(yaml)).tags).toEqual(['IndexError']);
  });
});

describe('call', () => {
  it('calls stdlib functions with named and positional args and stores the result', async () => {
    const yaml = `
- split:
    call: text.split
    args:
      source: "a/b"
      separator: "/"
    result: parts
- log:
    call: sys.log
    args: ["\${parts}", "ERROR"]
- log_text:
    call: sys.log
    args:
      text: "hello"
- done:
    return: \${parts}
`;
    const logs = collectLogs();
    expect(await runYaml(yaml, undefined, { log: logs.log })).toEqual(['a', 'b']);
    expect(logs.entries.map((entry) => [entry.severity, entry.payload])).toEqual([
      ['ERROR', ['a', 'b']],
      ['DEFAULT', 'hello'],
    ]);
  });

  it('sys.log raises TypeError without exactly one payload', async () => {
    const yaml = '- log:\n    call: sys.log\n    args:\n      text: a\n      data: b\n';
    expect((await runYamlError(yaml)).tags).toEqual(['TypeError']);
  });

  it('sys.sleep and sys.now use the injected clock', async () => {
    const clock = createFakeClock(1_000_000);
    const yaml = `
- before:
    assign:
      - t0: \${sys.now()}
- nap:
    call: sys.sleep
    args:
      seconds: 90
- after:
    return: \${sys.now() - t0}
`;
    expect(await runYaml(yaml, undefined, { clock })).toBe(90);
    expect(clock.sleeps).toEqual([90_000]);
  });

  it('sys.get_env returns built-ins, user env vars and defaults', async () => {
    const yaml = `
- done:
    return:
      - \${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}
      - \${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
      - \${sys.get_env("GOOGLE_CLOUD_LOCATION")}
      - \${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}
      - \${sys.get_env("API_URL")}
      - \${sys.get_env("MISSING", "fallback")}
      - \${sys.get_env("MISSING")}
`;
    const result = await runYaml(yaml, undefined, {
      env: { API_URL: 'http://api' },
      executionId: 'exec-1',
      projectId: 'p',
      location: 'europe-west1',
      workflowId: 'wf',
    });
    expect(result).toEqual(['exec-1', 'p', 'europe-west1', 'wf', 'http://api', 'fallback', null]);
    const generated = (await runYaml(yaml)) as string[];
    expect(generated[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses user env vars named GOOGLE_*', async () => {
    await expect(runYaml('- a:\n    return: 1\n', undefined, { env: { GOOGLE_X: '1' } })).rejects.toThrow(
      /GOOGLE_/,
    );
  });
});

describe('next', () => {
  it('jumps forward and backward and stops at end', async () => {
    const yaml = `
- init:
    assign:
      - i: 0
- loop:
    assign:
      - i: \${i + 1}
- check:
    switch:
      - condition: \${i < 3}
        next: loop
    next: finish
- never:
    return: "skipped"
- finish:
    return: \${i}
`;
    expect(await runYaml(yaml)).toBe(3);
    expect(await runYaml('- a:\n    next: end\n- b:\n    return: 1\n')).toBeNull();
  });

  it('jumps into a nested steps block and to a sibling inside it', async () => {
    const yaml = `
- start:
    next: second
- block:
    steps:
      - first:
          assign:
            - trail: ["first"]
      - second:
          assign:
            - trail: \${list.concat(default(map.get({}, "x"), []), "second")}
      - third:
          assign:
            - trail: \${list.concat(trail, "third")}
- done:
    return: \${trail}
`;
    expect(await runYaml(yaml)).toEqual(['second', 'third']);
  });
});

describe('switch', () => {
  it('runs the first matching condition: next, embedded steps, assign, return, raise', async () => {
    const yaml = `
main:
  params: [n]
  steps:
    - pick:
        switch:
          - condition: \${n == 1}
            return: "one"
          - condition: \${n == 2}
            raise: "two"
          - condition: \${n == 3}
            assign:
              - out: "three"
          - condition: \${n == 4}
            steps:
              - inner:
                  assign:
                    - out: "four"
          - condition: \${n == 5}
            call: text.to_upper
            args:
              source: "five"
            result: out
          - condition: \${n == 6}
            next: six
        next: fallthrough
    - six:
        return: "six"
    - fallthrough:
        return: \${out}
`;
    const ok = (n: number) => runYaml(yaml, n);
    expect(await ok(1)).toBe('one');
    expect(await runYamlError(yaml, 2)).toBe('two');
    expect(await ok(3)).toBe('three');
    expect(await ok(4)).toBe('four');
    expect(await ok(5)).toBe('FIVE');
    expect(await ok(6)).toBe('six');
  });

  it('continues with the next step when nothing matches, and rejects non-boolean conditions', async () => {
    const yaml = `
main:
  params: [c]
  steps:
    - s:
        switch:
          - condition: \${c}
            return: "matched"
    - after:
        return: "after"
`;
    expect(await runYaml(yaml, false)).toBe('after');
    expect((await runYamlError(yaml, 'yes')).tags).toEqual(['TypeError']);
  });
});

describe('for', () => {
  it('iterates lists with value and index, and int and double ranges inclusively', async () => {
    const yaml = `
- init:
    assign:
      - out: []
      - sum: 0
      - dsum: 0
- over_list:
    for:
      value: v
      index: i
      in: ["a", "b"]
      steps:
        - add:
            assign:
              - out: \${list.concat(out, string(i) + v)}
- over_range:
    for:
      value: n
      range: [1, 4]
      steps:
        - add_n:
            assign:
              - sum: \${sum + n}
- over_double_range:
    for:
      value: d
      range: \${[0.5, 2.5]}
      steps:
        - add_d:
            assign:
              - dsum: \${dsum + d}
- done:
    return:
      - \${out}
      - \${sum}
      - \${dsum}
`;
    expect(await runYaml(yaml)).toEqual([['0a', '1b'], 10, 4.5]);
  });

  it('iterates maps through keys() and rejects a map as in', async () => {
    const yaml = `
main:
  params: [m]
  steps:
    - init:
        assign:
          - total: 0
    - each:
        for:
          value: k
          in: \${keys(m)}
          steps:
            - add:
                assign:
                  - total: \${total + m[k]}
    - done:
        return: \${total}
`;
    expect(await runYaml(yaml, { a: 1, b: 2 })).toBe(3);
    expect((await runYamlError(yaml.replace('${keys(m)}', '${m}'), { a: 1 })).tags).toEqual(['TypeError']);
  });

  it('supports break and continue', async () => {
    const yaml = `
- init:
    assign:
      - seen: []
- each:
    for:
      value: v
      range: [1, 10]
      steps:
        - skip_even:
            switch:
              - condition: \${v % 2 == 0}
                next: continue
        - stop:
            switch:
              - condition: \${v > 5}
                next: break
        - keep:
            assign:
              - seen: \${list.concat(seen, v)}
- done:
    return: \${seen}
`;
    expect(await runYaml(yaml)).toEqual([1, 3, 5]);
  });

  it('drops loop variables and variables first created inside, keeps outer writes', async () => {
    const yaml = `
- init:
    assign:
      - outer: 0
- each:
    for:
      value: v
      in: [1, 2]
      steps:
        - body:
            assign:
              - inner: \${v}
              - outer: \${outer + v}
- done:
    return: \${outer}
`;
    expect(await runYaml(yaml)).toBe(3);
  });

  it('returns from inside a loop', async () => {
    const yaml =
      '- each:\n    for:\n      value: v\n      in: [1, 2, 3]\n      steps:\n        - r:\n            switch:\n              - condition: ${v == 2}\n                return: ${v * 10}\n';
    expect(await runYaml(yaml)).toBe(20);
  });
});

describe('errors: raise, try, except', () => {
  it('raises strings and maps, catches them with as, and continues after the try step', async () => {
    const yaml = `
main:
  params: [kind]
  steps:
    - guarded:
        try:
          steps:
            - choose:
                switch:
                  - condition: \${kind == "string"}
                    raise: "how odd!"
                  - condition: \${kind == "map"}
                    raise:
                      code: 55
                      message: "custom"
            - ok:
                assign:
                  - caught: "nothing"
        except:
          as: e
          steps:
            - keep:
                assign:
                  - caught: \${e}
    - done:
        return: \${caught}
`;
    expect(await runYaml(yaml, 'string')).toBe('how odd!');
    expect(await runYaml(yaml, 'map')).toEqual({ code: 55, message: 'custom' });
    expect(await runYaml(yaml, 'none')).toBe('nothing');
  });

  it('catches built-in errors by tag and re-raises unknown ones', async () => {
    const yaml = `
main:
  params: [expr]
  steps:
    - t:
        try:
          assign:
            - r: \${1 / expr}
        except:
          as: e
          steps:
            - known:
                switch:
                  - condition: \${"ZeroDivisionError" in e.tags}
                    return: "division by zero"
            - unknown:
                raise: \${e}
    - done:
        return: \${r}
`;
    expect(await runYaml(yaml, 4)).toBe(0.25);
    expect(await runYaml(yaml, 0)).toBe('division by zero');
    const error = await runYamlError(yaml, 'x');
    expect(error.tags).toEqual(['TypeError']);
    expect(error.message).toMatch(/unsupported operand/);
  });
});

describe('subworkflows', () => {
  const yaml = `
main:
  params: [args]
  steps:
    - by_call:
        call: greet
        args:
          first: "Ada"
        result: a
    - by_call_all:
        call: greet
        args:
          first: "Alan"
          last: "Turing"
        result: b
    - done:
        return:
          - \${a}
          - \${b}
          - \${greet("Grace", "Hopper")}
          - \${args}
greet:
  params: [first, last: "Unknown"]
  steps:
    - build:
        return: \${"Hello " + first + " " + last}
`;

  it('uses default params only when the caller omits them, via call and in expressions', async () => {
    expect(await runYaml(yaml, { x: 1 })).toEqual([
      'Hello Ada Unknown',
      'Hello Alan Turing',
      'Hello Grace Hopper',
      { x: 1 },
    ]);
  });

  it('returns null from a subworkflow without return', async () => {
    expect(
      await runYaml(
        'main:\n  steps:\n    - c:\n        call: noop\n        result: r\n    - d:\n        return: ${r}\nnoop:\n  steps:\n    - s:\n        assign:\n          - x: 1\n',
      ),
    ).toBeNull();
  });

  it('raises RecursionError beyond a call depth of 20', async () => {
    const recursive = `
main:
  steps:
    - go:
        return: \${depth(1)}
depth:
  params: [n]
  steps:
    - recurse:
        return: \${depth(n + 1)}
`;
    const error = await runYamlError(recursive);
    expect(error.tags).toEqual(['RecursionError']);
    const counting = recursive.replace('return: ${depth(n + 1)}', 'return: ${if(n >= 19, n, depth(n + 1))}');
    // `if` evaluates both branches, so stop with a switch instead.
    expect(counting).toContain('if(');
    const bounded = `
main:
  steps:
    - go:
        return: \${depth(1)}
depth:
  params: [n]
  steps:
    - stop:
        switch:
          - condition: \${n >= 19}
            return: \${n}
    - recurse:
        return: \${depth(n + 1)}
`;
    expect(await runYaml(bounded)).toBe(19);
  });
});

describe('trace', () => {
  it('reports each step with start/end, duration and outcome', async () => {
    const events: TraceEvent[] = [];
    const yaml =
      '- a:\n    assign:\n      - x: 1\n    next: c\n- b:\n    return: 0\n- c:\n    raise: "boom"\n';
    await runYamlError(yaml, undefined, { trace: (event) => events.push(event) });
    const ends = events.filter((event) => event.phase === 'end');
    expect(ends.map((event) => [event.step, event.outcome, event.next ?? event.error])).toEqual([
      ['a', 'next', 'c'],
      ['c', 'error', 'raise'],
    ]);
    expect(events.filter((event) => event.phase === 'start').map((event) => event.step)).toEqual(['a', 'c']);
    expect(ends[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });
});
