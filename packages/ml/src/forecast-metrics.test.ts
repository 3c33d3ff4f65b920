import { describe, expect, test } from 'vitest';
import { mae, mase, seasonalNaive, seasonalNaiveScale, smape } from './forecast-metrics';

describe('seasonal naive', () => {
  test('repeats the last season, wrapping for horizons beyond one season', () => {
    const history = [1, 2, 3, 4, 10, 20, 30, 40];
    expect(seasonalNaive(history, 4, 6)).toEqual([10, 20, 30, 40, 10, 20]);
  });

  test('needs one full season', () => {
    expect(() => seasonalNaive([1, 2, 3], 4, 1)).toThrow(/expected >= 4 points, got 3/);
  });
});

describe('accuracy measures (known values)', () => {
  test('MAE', () => {
    expect(mae([1, 2, 3], [2, 2, 2])).toBeCloseTo(2 / 3, 12);
  });

  test('MASE divides by the in-sample seasonal-naive MAE', () => {
    const history = [10, 20, 14, 26]; // seasonal differences (m = 2): |14-10| = 4, |26-20| = 6 -> scale 5
    expect(seasonalNaiveScale(history, 2)).toBe(5);
    expect(mase([15, 25], [10, 30], history, 2)).toBeCloseTo(1, 12); // MAE 5 / 5
  });

  test('sMAPE is 200/h Σ |e| / (|y| + |ŷ|), in percent', () => {
    // 2·10/(100+90) = 0.105263..., 2·0/(50+50) = 0 -> mean 0.0526316 -> 5.26316 %
    expect(smape([100, 50], [90, 50])).toBeCloseTo(5.263157894736842, 10);
    expect(smape([0], [0])).toBe(0);
  });

  test('mismatched lengths are rejected with both lengths named', () => {
    expect(() => mae([1, 2], [1])).toThrow(/got 2 and 1/);
  });
});
