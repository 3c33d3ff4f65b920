/**
 * Nelder-Mead simplex minimisation (Lagarias et al. 1998 coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5). Unconstrained: callers map bounded parameters through a transform.
 */

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (absolute); defaults to 0.5. */
  step?: number | number[];
  maxIterations?: number;
  /** Stop when the spread of function values in the simplex falls below this. */
  tolerance?: number;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  iterations: number;
}

export function nelderMead(
  f: (x: number[]) => number,
  start: number[],
  options: NelderMeadOptions = {},
): MinimizeResult {
  const n = start.length;
  const maxIterations = options.maxIterations ?? 200 * n;
  const tolerance = options.tolerance ?? 1e-10;
  const stepOf = (i: number): number =>
    Array.isArray(options.step) ? (options.step[i] ?? 0.5) : (options.step ?? 0.5);

  let simplex: Array<{ x: number[]; value: number }> = [{ x: [...start], value: f(start) }];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i] = x[i]! + stepOf(i);
    simplex.push({ x, value: f(x) });
  }

  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.value - best.value) <= tolerance * (1 + Math.abs(best.value))) break;

    const centroid = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) centroid[i]! += simplex[j]!.x[i]! / n;
    const along = (t: number): number[] => centroid.map((c, i) => c + t * (worst.x[i]! - c));

    const reflected = along(-1);
    const fr = f(reflected);
    if (fr < best.value) {
      const expanded = along(-2);
      const fe = f(expanded);
      simplex[n] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
      continue;
    }
    if (fr < simplex[n - 1]!.value) {
      simplex[n] = { x: reflected, value: fr };
      continue;
    }
    const contracted = fr < worst.value ? along(-0.5) : along(0.5);
    const fc = f(contracted);
    if (fc < Math.min(fr, worst.value)) {
      simplex[n] = { x: contracted, value: fc };
      continue;
    }
    simplex = simplex.map((vertex, j) => {
      if (j === 0) return vertex;
      const x = vertex.x.map((v, i) => best.x[i]! + 0.5 * (v - best.x[i]!));
      return { x, value: f(x) };
    });
  }
  simplex.sort((a, b) => a.value - b.value);
  return { x: simplex[0]!.x, value: simplex[0]!.value, iterations };
}
