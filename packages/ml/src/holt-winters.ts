/**
 * Additive Holt-Winters (ETS(A,A,A)): additive trend and additive season of period m.
 *
 *   one-step forecast  ŷ_t = l_{t-1} + b_{t-1} + s_{t-m},   e_t = y_t - ŷ_t
 *   level              l_t = α (y_t - s_{t-m}) + (1 - α)(l_{t-1} + b_{t-1})
 *   trend              b_t = β (l_t - l_{t-1}) + (1 - β) b_{t-1}
 *   season             s_t = γ (y_t - l_{t-1} - b_{t-1}) + (1 - γ) s_{t-m}
 *   h-step forecast    ŷ_{n+h|n} = l_n + h b_n + s_{n+h-m(k+1)},  k = ⌊(h-1)/m⌋
 *
 * Parameters are fitted by minimising the in-sample one-step SSE with Nelder-Mead from several starts,
 * with α, β ∈ [0, 1] and γ ∈ [0, 1 - α] (the usual admissible region) enforced through a logistic map.
 * Initial states come from the classical-decomposition heuristic (statsmodels' `initialization_method=
 * 'heuristic'`, Hyndman & Athanasopoulos §8.1): a 2×m centred moving average over the first (up to 5)
 * full cycles gives the trend; the mean detrended value per season position, centred to sum 0, gives the
 * initial season; a straight line through the first 10 deseasonalised points gives the initial level and
 * trend. With `initialization: 'estimated'` those states are then refined jointly with α, β, γ.
 *
 * Prediction intervals use the exact ETS(A,A,A) forecast variance (Hyndman et al. 2008, class 1):
 *
 *   σ²_h = σ² (1 + Σ_{j=1}^{h-1} c_j²),   c_j = α (1 + j β) + γ·[j mod m = 0]
 *
 * with σ² = SSE / (n - p) (p = number of fitted parameters and states), and bounds ŷ ± z σ_h.
 */
import { nelderMead } from './nelder-mead';

export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
}

export interface HoltWintersStates {
  level: number;
  trend: number;
  /** One value per season position, oldest first: season[i] applies to the i-th step of a cycle. */
  season: number[];
}

export type HoltWintersInitialization = 'heuristic' | 'estimated';

export interface HoltWintersOptions {
  period: number;
  /** 'heuristic' fixes the decomposition-based initial states; 'estimated' refines them with the SSE. */
  initialization?: HoltWintersInitialization;
}

export interface HoltWintersModel {
  period: number;
  initialization: HoltWintersInitialization;
  params: HoltWintersParams;
  initial: HoltWintersStates;
  /** States after the last observation; `season` holds the next m season values in forecast order. */
  final: HoltWintersStates;
  /** One-step in-sample forecasts, aligned with the input. */
  fitted: number[];
  residuals: number[];
  sse: number;
  /** Residual variance SSE / (n - p). */
  sigma2: number;
  /** Number of fitted parameters and initial states. */
  parameterCount: number;
  /** Corrected Akaike information criterion of the Gaussian likelihood, for comparing fits. */
  aicc: number;
  n: number;
}

export interface Forecast {
  mean: number[];
  lower: number[];
  upper: number[];
  /** Standard deviation of each h-step forecast error. */
  sd: number[];
  /** Coverage of [lower, upper], e.g. 0.95. */
  level: number;
}

/** Runs the recursions; returns the SSE, the fitted values and the final states. */
export function runHoltWinters(
  y: readonly number[],
  period: number,
  params: HoltWintersParams,
  initial: HoltWintersStates,
): { sse: number; fitted: number[]; final: HoltWintersStates } {
  const { alpha, beta, gamma } = params;
  let level = initial.level;
  let trend = initial.trend;
  const season = [...initial.season];
  const fitted: number[] = [];
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    const i = t % period;
    const s = season[i]!;
    const prediction = level + trend + s;
    fitted.push(prediction);
    const value = y[t]!;
    sse += (value - prediction) ** 2;
    const previousLevel = level;
    const previousTrend = trend;
    level = alpha * (value - s) + (1 - alpha) * (previousLevel + previousTrend);
    trend = beta * (level - previousLevel) + (1 - beta) * previousTrend;
    season[i] = gamma * (value - previousLevel - previousTrend) + (1 - gamma) * s;
  }
  const offset = y.length % period;
  return {
    sse,
    fitted,
    final: { level, trend, season: [...season.slice(offset), ...season.slice(0, offset)] },
  };
}

/** The classical-decomposition initial states (see the module comment). Needs two full cycles. */
export function heuristicInitialStates(y: readonly number[], period: number): HoltWintersStates {
  const cycles = Math.min(5, Math.floor(y.length / period));
  if (cycles < 2 || y.length < 10) {
    throw new RangeError(
      `Holt-Winters heuristic initialisation needs two full cycles and 10 points: expected >= ${Math.max(2 * period, 10)} observations for period ${period}, got ${y.length}`,
    );
  }
  const series = y.slice(0, cycles * period);
  const movingAverage = centredMovingAverage(series, period);
  const sums = new Array<number>(period).fill(0);
  const counts = new Array<number>(period).fill(0);
  for (const [t, trend] of movingAverage.entries()) {
    if (trend === undefined) continue;
    sums[t % period]! += series[t]! - trend;
    counts[t % period]! += 1;
  }
  const raw = sums.map((sum, i) => (counts[i]! > 0 ? sum / counts[i]! : 0));
  const mean = raw.reduce((a, b) => a + b, 0) / period;
  const season = raw.map((s) => s - mean);
  // Straight line through the first 10 deseasonalised points, x = 1..10: the intercept is the level at t=0.
  const points = 10;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let t = 0; t < points; t++) {
    const x = t + 1;
    const value = y[t]! - season[t % period]!;
    sx += x;
    sy += value;
    sxx += x * x;
    sxy += x * value;
  }
  const trend = (points * sxy - sx * sy) / (points * sxx - sx * sx);
  return { level: (sy - trend * sx) / points, trend, season };
}

/** Centred moving average of order m (2×m for even m); undefined where the window does not fit. */
function centredMovingAverage(y: readonly number[], m: number): Array<number | undefined> {
  const out: Array<number | undefined> = new Array(y.length).fill(undefined);
  const half = Math.floor(m / 2);
  for (let t = half; t < y.length - half; t++) {
    let sum = 0;
    if (m % 2 === 1) {
      for (let j = -half; j <= half; j++) sum += y[t + j]!;
      out[t] = sum / m;
    } else {
      sum += 0.5 * y[t - half]! + 0.5 * y[t + half]!;
      for (let j = -half + 1; j < half; j++) sum += y[t + j]!;
      out[t] = sum / m;
    }
  }
  return out;
}

const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => {
  const q = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  return Math.log(q / (1 - q));
};

function toParams(u: readonly number[]): HoltWintersParams {
  const alpha = logistic(u[0]!);
  return { alpha, beta: logistic(u[1]!), gamma: (1 - alpha) * logistic(u[2]!) };
}

function fromParams(p: HoltWintersParams): number[] {
  return [logit(p.alpha), logit(p.beta), logit(p.alpha >= 1 ? 0 : p.gamma / (1 - p.alpha))];
}

/** Starting points for the smoothing parameters: a small grid, so one bad start cannot decide the fit. */
const STARTS: HoltWintersParams[] = [];
for (const alpha of [0.1, 0.3, 0.6]) {
  for (const beta of [0.01, 0.1]) {
    for (const gamma of [0.05, 0.3]) STARTS.push({ alpha, beta, gamma: Math.min(gamma, 1 - alpha) });
  }
}

/** Fits α, β, γ (and, for 'estimated', the initial states) by minimising the one-step SSE. */
export function fitHoltWinters(y: readonly number[], options: HoltWintersOptions): HoltWintersModel {
  const { period } = options;
  const initialization = options.initialization ?? 'heuristic';
  if (!Number.isInteger(period) || period < 2) {
    throw new RangeError(`expected an integer seasonal period >= 2, got ${period}`);
  }
  if (y.some((v) => !Number.isFinite(v))) throw new RangeError('expected finite observations only');
  const heuristic = heuristicInitialStates(y, period);

  let params = STARTS[0]!;
  let best = Number.POSITIVE_INFINITY;
  for (const start of STARTS) {
    const result = nelderMead(
      (u) => runHoltWinters(y, period, toParams(u), heuristic).sse,
      fromParams(start),
      {
        step: 1,
        maxIterations: 600,
      },
    );
    if (result.value < best) {
      best = result.value;
      params = toParams(result.x);
    }
  }
  let initial = heuristic;

  if (initialization === 'estimated') {
    // Refine smoothing parameters and initial states together; the season is kept centred (sums to 0)
    // by estimating m-1 values. States are scaled so one simplex step means the same for all coordinates.
    const scale = Math.max(standardDeviation(y), 1e-9);
    const pack = (p: HoltWintersParams, s: HoltWintersStates): number[] => [
      ...fromParams(p),
      s.level / scale,
      s.trend / scale,
      ...s.season.slice(0, period - 1).map((v) => v / scale),
    ];
    const unpack = (u: readonly number[]): [HoltWintersParams, HoltWintersStates] => {
      const season = u.slice(5, 5 + period - 1).map((v) => v * scale);
      season.push(-season.reduce((a, b) => a + b, 0));
      return [toParams(u), { level: u[3]! * scale, trend: u[4]! * scale, season }];
    };
    let x = pack(params, heuristic);
    let value = best;
    // Restarting Nelder-Mead from its own optimum is the standard cure for its early stalls.
    for (let round = 0; round < 4; round++) {
      const result = nelderMead(
        (u) => {
          const [p, s] = unpack(u);
          return runHoltWinters(y, period, p, s).sse;
        },
        x,
        { step: 0.25, maxIterations: 4000 },
      );
      if (result.value >= value * (1 - 1e-9)) break;
      x = result.x;
      value = result.value;
    }
    [params, initial] = unpack(x);
  }

  const { sse, fitted, final } = runHoltWinters(y, period, params, initial);
  const n = y.length;
  const parameterCount = 3 + (initialization === 'estimated' ? 2 + period - 1 : 0);
  const dof = Math.max(n - parameterCount, 1);
  const k = parameterCount + 1;
  const logLikelihoodTerm = n * Math.log(Math.max(sse, Number.MIN_VALUE) / n);
  return {
    period,
    initialization,
    params,
    initial,
    final,
    fitted,
    residuals: y.map((v, t) => v - fitted[t]!),
    sse,
    sigma2: sse / dof,
    parameterCount,
    aicc:
      logLikelihoodTerm +
      2 * k +
      (n - k - 1 > 0 ? (2 * k * (k + 1)) / (n - k - 1) : Number.POSITIVE_INFINITY),
    n,
  };
}

/** h-step forecasts with prediction intervals at `level` coverage (default 95 %). */
export function forecastHoltWinters(model: HoltWintersModel, horizon: number, level = 0.95): Forecast {
  const { alpha, beta, gamma } = model.params;
  const { period } = model;
  const z = normalQuantile(0.5 + level / 2);
  const mean: number[] = [];
  const sd: number[] = [];
  let cumulative = 0;
  for (let h = 1; h <= horizon; h++) {
    mean.push(model.final.level + h * model.final.trend + model.final.season[(h - 1) % period]!);
    if (h > 1) {
      const j = h - 1;
      const c = alpha * (1 + j * beta) + (j % period === 0 ? gamma : 0);
      cumulative += c * c;
    }
    sd.push(Math.sqrt(model.sigma2 * (1 + cumulative)));
  }
  return {
    mean,
    lower: mean.map((m, i) => m - z * sd[i]!),
    upper: mean.map((m, i) => m + z * sd[i]!),
    sd,
    level,
  };
}

function standardDeviation(y: readonly number[]): number {
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  return Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`expected a probability in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (coefficients: number[], x: number): number => coefficients.reduce((acc, k) => acc * x + k, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
