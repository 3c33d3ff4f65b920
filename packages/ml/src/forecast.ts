/**
 * The forecasting policy for a monthly (or any regular) series, in one place so the stage, the app and the
 * tests agree:
 *
 *   n >= 2m + m   Holt-Winters on all n points for the future; a holdout check fits the same model on the
 *                 first n - m points, forecasts the last m, and compares with seasonal naive (MAE ratio,
 *                 MASE, sMAPE, interval coverage).
 *   2m <= n       Holt-Winters on all points; no holdout (too short to hold a season out and still fit).
 *   m < n < 2m    seasonal naive, sd_h = σ √(k+1), k = ⌊(h-1)/m⌋, σ from the in-sample seasonal differences.
 *   2 <= n <= m   naive (last value), sd_h = σ √h, σ from the first differences (Hyndman & Athanasopoulos, 5.5).
 *
 * Holt-Winters needs two full cycles for its heuristic initial states, hence the 2m threshold.
 */

import { mae, mase, seasonalNaive, smape } from './forecast-metrics';
import {
  type Forecast,
  fitHoltWinters,
  forecastHoltWinters,
  type HoltWintersParams,
  normalQuantile,
} from './holt-winters';

export type ForecastMethod = 'holt-winters' | 'seasonal-naive' | 'naive';

export interface HoldoutEvaluation {
  size: number;
  /** Holt-Winters forecasts of the held-out points, fitted on the points before them. */
  forecast: number[];
  lower: number[];
  upper: number[];
  naive: number[];
  maeModel: number;
  maeNaive: number;
  /** MAE(model) / MAE(seasonal naive) on the holdout: below 1 means the model beats the baseline. */
  maeRatio: number;
  maseModel: number;
  maseNaive: number;
  smapeModel: number;
  smapeNaive: number;
  /** Share of held-out points inside the prediction interval. */
  coverage: number;
}

export interface SeriesForecast {
  method: ForecastMethod;
  period: number;
  /** One-step in-sample forecasts (Holt-Winters only), aligned with the history. */
  fitted: Array<number | null>;
  forecast: Forecast;
  params?: HoltWintersParams;
  sigma2?: number;
  holdout?: HoldoutEvaluation;
}

export interface ForecastSeriesOptions {
  period: number;
  horizon: number;
  /** Interval coverage, default 0.95. */
  level?: number;
}

export function forecastSeries(history: readonly number[], options: ForecastSeriesOptions): SeriesForecast {
  const { period: m, horizon } = options;
  const level = options.level ?? 0.95;
  const n = history.length;
  if (n >= 2 * m && n >= 10) {
    const model = fitHoltWinters(history, { period: m });
    const result: SeriesForecast = {
      method: 'holt-winters',
      period: m,
      fitted: model.fitted,
      forecast: forecastHoltWinters(model, horizon, level),
      params: model.params,
      sigma2: model.sigma2,
    };
    if (n - m >= 2 * m && n - m >= 10) result.holdout = evaluateHoldout(history, m, level);
    return result;
  }
  if (n > m)
    return {
      method: 'seasonal-naive',
      period: m,
      fitted: history.map(() => null),
      forecast: seasonalNaiveForecast(history, m, horizon, level),
    };
  if (n >= 2)
    return {
      method: 'naive',
      period: m,
      fitted: history.map(() => null),
      forecast: naiveForecast(history, horizon, level),
    };
  throw new RangeError(`forecasting needs at least 2 observations, got ${n}`);
}

/** Fits on all but the last m points and scores the forecast of those m against seasonal naive. */
export function evaluateHoldout(series: readonly number[], m: number, level = 0.95): HoldoutEvaluation {
  const train = series.slice(0, series.length - m);
  const actual = series.slice(series.length - m);
  const model = fitHoltWinters(train, { period: m });
  const f = forecastHoltWinters(model, m, level);
  const naive = seasonalNaive(train, m, m);
  const maeModel = mae(actual, f.mean);
  const maeNaive = mae(actual, naive);
  return {
    size: m,
    forecast: f.mean,
    lower: f.lower,
    upper: f.upper,
    naive,
    maeModel,
    maeNaive,
    maeRatio: maeModel / maeNaive,
    maseModel: mase(actual, f.mean, train, m),
    maseNaive: mase(actual, naive, train, m),
    smapeModel: smape(actual, f.mean),
    smapeNaive: smape(actual, naive),
    coverage: actual.filter((y, i) => y >= f.lower[i]! && y <= f.upper[i]!).length / m,
  };
}

function seasonalNaiveForecast(
  history: readonly number[],
  m: number,
  horizon: number,
  level: number,
): Forecast {
  const mean = seasonalNaive(history, m, horizon);
  const diffs = history.slice(m).map((v, i) => v - history[i]!);
  const sigma = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length);
  return withIntervals(mean, (h) => sigma * Math.sqrt(Math.floor((h - 1) / m) + 1), level);
}

function naiveForecast(history: readonly number[], horizon: number, level: number): Forecast {
  const last = history[history.length - 1]!;
  const diffs = history.slice(1).map((v, i) => v - history[i]!);
  const sigma = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length);
  return withIntervals(
    Array.from({ length: horizon }, () => last),
    (h) => sigma * Math.sqrt(h),
    level,
  );
}

function withIntervals(mean: number[], sdAt: (h: number) => number, level: number): Forecast {
  const z = normalQuantile(0.5 + level / 2);
  const sd = mean.map((_, i) => sdAt(i + 1));
  return {
    mean,
    sd,
    lower: mean.map((v, i) => v - z * sd[i]!),
    upper: mean.map((v, i) => v + z * sd[i]!),
    level,
  };
}
