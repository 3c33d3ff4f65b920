import { describe, expect, it } from 'vitest';
import { createFakeClock, runYaml, runYamlError } from './test-support';

describe('parallel', () => {
  it('lets branches write shared variables while branch-local variables vanish', async () => {
    const yaml = `
- init:
    assign:
      - input: ["apples", "oranges"]
      - my_result: {}
- par:
    parallel:
      shared: [my_result]
      branches:
        - getStock:
            steps:
              - a:
                  assign:
                    - my_result["getStock"]: \${input[0]}
                    - temp: 1
        - orderStock:
            steps:
              - b:
                  assign:
                    - my_result["orderStock"]: \${input[1]}
                    - temp: 2
- done:
    return: \${my_result}
`;
    expect(await runYaml(yaml)).toEqual({ getStock: 'apples', orderStock: 'oranges' });
  });

  it('runs a parallel for with shared accumulation and concurrency_limit', async () => {
    const clock = createFakeClock();
    const yaml = `
- init:
    assign:
      - total: 0
- par:
    parallel:
      shared: [total]
      concurrency_limit: 2
      for:
        value: v
        index: i
        in: [1, 2, 3, 4]
        steps:
          - nap:
              call: sys.sleep
              args:
                seconds: \${v}
          - add:
              assign:
                - total: \${total + v * 10 + i}
- done:
    return: \${total}
`;
    expect(await runYaml(yaml, undefined, { clock })).toBe(106);
    expect(clock.sleeps.sort()).toEqual([1000, 2000, 3000, 4000]);
  });

  it('runs every branch (continueAll) and raises UnhandledBranchError carrying each branch error', async () => {
    const yaml = `
- init:
    assign:
      - done: []
- par:
    parallel:
      shared: [done]
      branches:
        - fails:
            steps:
              - boom:
                  raise: {"code": 7, "message": "first"}
        - works:
            steps:
              - ok:
                  assign:
                    - done: \${list.concat(done, "works")}
        - divides:
            steps:
              - zero:
                  assign:
                    - x: \${1 / 0}
`;
    const error = await runYamlError(yaml);
    expect(error.tags).toEqual(['UnhandledBranchError']);
    expect(error.branches).toEqual([
      { id: 'fails', error: { code: 7, message: 'first' } },
      { id: 'divides', error: expect.objectContaining({ tags: ['ZeroDivisionError'] }) },
    ]);
  });

  it('lets an outer try catch failed parallel iterations', async () => {
    const yaml = `
- guarded:
    try:
      parallel:
        for:
          value: v
          in: [1, 2, 3]
          steps:
            - check:
                switch:
                  - condition: \${v == 2}
                    raise: "bad two"
    except:
      as: e
      steps:
        - report:
            return: \${e.branches[0]}
`;
    expect(await runYaml(yaml)).toEqual({ id: '1', error: 'bad two' });
  });
});
