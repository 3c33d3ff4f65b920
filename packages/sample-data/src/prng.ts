/** mulberry32: a tiny, fast, seedable PRNG. Same seed, same sequence, on every platform. */
export type Random = () => number;

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return function nextRandom() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pickOne<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Picks from `[item, weight]` pairs; weights need not sum to 1. */
export function pickWeighted<T>(random: Random, pairs: ReadonlyArray<readonly [T, number]>): T {
  const total = pairs.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [item, weight] of pairs) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return pairs[pairs.length - 1]![0];
}
