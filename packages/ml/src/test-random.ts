/** A seeded PRNG for tests (mulberry32) and a normal sampler (Box-Muller), so test data is reproducible. */
export function createRandom(seed: number): {
  uniform(): number;
  normal(mean?: number, sd?: number): number;
} {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal(mean = 0, sd = 1) {
      const u = Math.max(uniform(), Number.MIN_VALUE);
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    },
  };
}
