/**
 * Daily revenue anomalies by a robust rolling rule (a Hampel filter on a trailing window):
 *
 *   baseline_t = median(x_{t-w} .. x_{t-1})                      trailing window, w = 28 days
 *   scale_t    = 1.4826 · median(|x_i - baseline_t|) over the same window   (MAD, normal-consistent)
 *   score_t    = (x_t - baseline_t) / scale_t
 *   anomaly    ⇔ |score_t| > 3.5
 *
 * The window excludes day t, so a spike cannot hide itself by inflating its own baseline. A day is scored
 * once at least `minPeriods` (14) earlier days exist. When the MAD is 0 (e.g. many identical days), the
 * scale falls back to 1.2533 · mean absolute deviation from the median; when that is 0 too, the day is
 * not scored. Days without sales must be passed as 0, not skipped.
 */
import { median } from 'simple-statistics';

export interface AnomalyOptions {
  window?: number;
  threshold?: number;
  minPeriods?: number;
}

export interface AnomalyPoint {
  index: number;
  value: number;
  /** Rolling median of the trailing window; null before `minPeriods` days exist. */
  baseline: number | null;
  scale: number | null;
  score: number | null;
  isAnomaly: boolean;
  direction: 'spike' | 'drop' | null;
}

/** The trailing window, in periods (days, or the series' own grain). */
export const ANOMALY_WINDOW = 28;

export const ANOMALY_RULE = `|x - median of the previous ${ANOMALY_WINDOW} days| / (1.4826 × MAD of those days) > 3.5 (Hampel filter, trailing window)`;

export function detectAnomalies(values: readonly number[], options: AnomalyOptions = {}): AnomalyPoint[] {
  const window = options.window ?? ANOMALY_WINDOW;
  const threshold = options.threshold ?? 3.5;
  const minPeriods = options.minPeriods ?? Math.min(14, window);
  return values.map((value, index) => {
    const history = values.slice(Math.max(0, index - window), index);
    if (history.length < minPeriods) {
      return { index, value, baseline: null, scale: null, score: null, isAnomaly: false, direction: null };
    }
    const baseline = median(history as number[]);
    const deviations = history.map((v) => Math.abs(v - baseline));
    let scale = 1.4826 * median(deviations);
    if (scale === 0) scale = (1.2533 * deviations.reduce((a, b) => a + b, 0)) / deviations.length;
    if (scale === 0) {
      return { index, value, baseline, scale: null, score: null, isAnomaly: false, direction: null };
    }
    const score = (value - baseline) / scale;
    const isAnomaly = Math.abs(score) > threshold;
    return {
      index,
      value,
      baseline,
      scale,
      score,
      isAnomaly,
      direction: isAnomaly ? (score > 0 ? 'spike' : 'drop') : null,
    };
  });
}
