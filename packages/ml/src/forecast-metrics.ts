/**
 * The seasonal-naive baseline and the forecast accuracy measures, with their standard definitions
 * (Hyndman & Koehler 2006; M4 competition for sMAPE).
 *
 *   seasonal naive  ŷ_{n+h} = y_{n+h-m(k+1)},  k = ⌊(h-1)/m⌋   (the value one season earlier)
 *   MAE             mean |y_t - ŷ_t|
 *   MASE            MAE / ( 1/(n-m) Σ_{t=m+1..n} |y_t - y_{t-m}| )   scaled by the in-sample seasonal-naive MAE
 *   sMAPE           100/h Σ 2|y_t - ŷ_t| / (|y_t| + |ŷ_t|)           in percent, 0..200
 */

export function seasonalNaive(history: readonly number[], period: number, horizon: number): number[] {
  if (history.length < period) {
    throw new RangeError(
      `seasonal naive needs one full season: expected >= ${period} points, got ${history.length}`,
    );
  }
  const n = history.length;
  return Array.from({ length: horizon }, (_, i) => {
    const h = i + 1;
    return history[n + h - 1 - period * (Math.floor((h - 1) / period) + 1)]!;
  });
}

export function mae(actual: readonly number[], predicted: readonly number[]): number {
  assertSameLength(actual, predicted);
  return actual.reduce((sum, y, i) => sum + Math.abs(y - predicted[i]!), 0) / actual.length;
}

/** MAE of the in-sample seasonal-naive forecast: the MASE denominator. */
export function seasonalNaiveScale(history: readonly number[], period: number): number {
  if (history.length <= period) {
    throw new RangeError(
      `MASE scale needs more than one season: expected > ${period} points, got ${history.length}`,
    );
  }
  let sum = 0;
  for (let t = period; t < history.length; t++) sum += Math.abs(history[t]! - history[t - period]!);
  return sum / (history.length - period);
}

export function mase(
  actual: readonly number[],
  predicted: readonly number[],
  history: readonly number[],
  period: number,
): number {
  return mae(actual, predicted) / seasonalNaiveScale(history, period);
}

export function smape(actual: readonly number[], predicted: readonly number[]): number {
  assertSameLength(actual, predicted);
  const terms = actual.map((y, i) => {
    const denominator = Math.abs(y) + Math.abs(predicted[i]!);
    return denominator === 0 ? 0 : (2 * Math.abs(y - predicted[i]!)) / denominator;
  });
  return (100 * terms.reduce((a, b) => a + b, 0)) / terms.length;
}

function assertSameLength(actual: readonly number[], predicted: readonly number[]): void {
  if (actual.length !== predicted.length || actual.length === 0) {
    throw new RangeError(
      `expected actual and predicted of the same non-zero length, got ${actual.length} and ${predicted.length}`,
    );
  }
}
