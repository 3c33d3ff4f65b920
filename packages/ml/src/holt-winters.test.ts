import { describe, expect, test } from 'vitest';
import { mae, seasonalNaive } from './forecast-metrics';
import {
  fitHoltWinters,
  forecastHoltWinters,
  type HoltWintersModel,
  heuristicInitialStates,
  normalQuantile,
  runHoltWinters,
} from './holt-winters';
import { createRandom } from './test-random';

describe('Holt-Winters recursions (values computed by hand)', () => {
  const params = { alpha: 0.5, beta: 0.5, gamma: 0.5 };
  const initial = { level: 10, trend: 1, season: [-1, 1] };

  test('one-step forecasts, SSE and final states', () => {
    const run = runHoltWinters([10, 12, 14, 11], 2, params, initial);
    expect(run.fitted).toEqual([10, 13, 11.25, 15.5625]);
    expect(run.sse).toBeCloseTo(29.37890625, 12);
    // After t=3: level = 0.5·(11 - 0.5) + 0.5·(13.625 + 1.4375) = 12.78125
    expect(run.final.level).toBeCloseTo(12.78125, 12);
  });

  test('interval variance follows σ²(1 + Σ c_j²), c_j = α(1 + jβ) + γ·[j mod m = 0]', () => {
    const model: HoltWintersModel = {
      period: 2,
      initialization: 'heuristic',
      params,
      initial,
      final: { level: 0, trend: 1, season: [5, -5] },
      fitted: [],
      residuals: [],
      sse: 4,
      sigma2: 4,
      parameterCount: 3,
      aicc: 0,
      n: 4,
    };
    const f = forecastHoltWinters(model, 3, 0.95);
    expect(f.mean).toEqual([6, -3, 8]);
    // c_1 = 0.5·1.5 = 0.75; c_2 = 0.5·2 + 0.5 = 1.5
    expect(f.sd[0]).toBeCloseTo(2, 12);
    expect(f.sd[1]).toBeCloseTo(2 * Math.sqrt(1 + 0.5625), 12);
    expect(f.sd[2]).toBeCloseTo(2 * Math.sqrt(1 + 0.5625 + 2.25), 12);
    expect(f.upper[0]! - f.mean[0]!).toBeCloseTo(1.959963984540054 * 2, 6);
  });
});

describe('heuristic initial states', () => {
  test('recover level, trend and a centred season from an exact series', () => {
    const season = [5, -3, -2];
    const y = Array.from({ length: 15 }, (_, t) => 100 + 2 * (t + 1) + season[t % 3]!);
    const states = heuristicInitialStates(y, 3);
    expect(states.trend).toBeCloseTo(2, 9);
    expect(states.level).toBeCloseTo(100, 9);
    states.season.forEach((s, i) => {
      expect(s).toBeCloseTo(season[i]!, 9);
    });
  });

  test('need two full cycles', () => {
    expect(() => heuristicInitialStates([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 12)).toThrow(
      /expected >= 24 observations for period 12, got 13/,
    );
  });
});

describe('fitHoltWinters', () => {
  const random = createRandom(7);
  const series = Array.from(
    { length: 60 },
    (_, t) => 200 + 3 * t + 30 * Math.sin((2 * Math.PI * t) / 12) + random.normal(0, 3),
  );
  const truth = (t: number) => 200 + 3 * t + 30 * Math.sin((2 * Math.PI * t) / 12);

  test('on trend + season + small noise, beats seasonal naive by a wide margin', () => {
    const train = series.slice(0, 48);
    const actual = series.slice(48);
    const model = fitHoltWinters(train, { period: 12 });
    const forecast = forecastHoltWinters(model, 12);
    const hw = mae(actual, forecast.mean);
    const naive = mae(actual, seasonalNaive(train, 12, 12));
    expect(naive).toBeGreaterThan(30); // seasonal naive misses a year of trend (3 × 12)
    expect(hw).toBeLessThan(naive / 4);
    forecast.mean.forEach((m, h) => {
      expect(Math.abs(m - truth(48 + h))).toBeLessThan(12);
    });
    // Intervals widen with the horizon.
    for (let h = 1; h < 12; h++) expect(forecast.sd[h]!).toBeGreaterThanOrEqual(forecast.sd[h - 1]!);
    expect(model.params.gamma).toBeLessThanOrEqual(1 - model.params.alpha + 1e-12);
  });

  test("'estimated' refines the initial states and never fits worse in-sample", () => {
    const train = series.slice(0, 48);
    const heuristic = fitHoltWinters(train, { period: 12 });
    const estimated = fitHoltWinters(train, { period: 12, initialization: 'estimated' });
    expect(estimated.sse).toBeLessThanOrEqual(heuristic.sse * (1 + 1e-9));
    expect(estimated.initial.season.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
  });
});

describe('normalQuantile', () => {
  test('matches tabulated values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263478740408408, 8);
  });
});
