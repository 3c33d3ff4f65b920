import { describe, expect, it } from 'vitest';
import { runYaml, runYamlError } from './test-support';

describe('documented limits', () => {
  it('fails with ResourceLimitError past 100,000 steps', async () => {
    const yaml = '- spin:\n    next: spin\n';
    const error = await runYamlError(yaml);
    expect(error.tags).toEqual(['ResourceLimitError']);
    expect(error.message).toMatch(/100000 steps/);
  });

  it('fails with ResourceLimitError when variables exceed 512 KB, and can be caught', async () => {
    const grow = `
- init:
    assign:
      - s: "0123456789abcdef"
- grow:
    for:
      value: i
      range: [1, 16]
      steps:
        - double:
            assign:
              - s: \${s + s}
- done:
    return: \${len(s)}
`;
    const error = await runYamlError(grow);
    expect(error.tags).toEqual(['ResourceLimitError']);
    expect(error.message).toMatch(/memory limit/);
    expect(await runYaml(grow.replace('range: [1, 16]', 'range: [1, 10]'))).toBe(16 * 1024);
  });

  it('frees loop-local memory after the loop', async () => {
    const yaml = `
- outer:
    for:
      value: round
      range: [1, 5]
      steps:
        - fill:
            for:
              value: i
              range: [1, 1]
              steps:
                - big:
                    assign:
                      - blob: \${text.substring("${'x'.repeat(300)}", 0, 300)}
- done:
    return: "ok"
`;
    expect(await runYaml(yaml, undefined, { limits: { memoryBytes: 1000 } })).toBe('ok');
  });
});
