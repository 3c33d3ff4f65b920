import { describe, expect, test } from 'vitest';
import { nelderMead } from './nelder-mead';

describe('nelderMead', () => {
  test('finds the minimum of the Rosenbrock function at (1, 1)', () => {
    const rosenbrock = ([x, y]: number[]) => (1 - x!) ** 2 + 100 * (y! - x! ** 2) ** 2;
    const result = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 5000, tolerance: 1e-16 });
    expect(result.x[0]).toBeCloseTo(1, 4);
    expect(result.x[1]).toBeCloseTo(1, 4);
    expect(result.value).toBeLessThan(1e-8);
  });

  test('minimises a shifted quadratic in 5 dimensions', () => {
    const target = [3, -2, 0.5, 10, -7];
    const f = (x: number[]) => x.reduce((s, v, i) => s + (v - target[i]!) ** 2, 0);
    const result = nelderMead(f, [0, 0, 0, 0, 0], { step: 1, maxIterations: 10_000, tolerance: 1e-18 });
    result.x.forEach((v, i) => {
      expect(v).toBeCloseTo(target[i]!, 4);
    });
  });
});
