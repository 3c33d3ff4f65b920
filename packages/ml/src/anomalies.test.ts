import { describe, expect, test } from 'vitest';
import { detectAnomalies } from './anomalies';
import { createRandom } from './test-random';

describe('detectAnomalies (trailing 28-day median / MAD rule)', () => {
  const random = createRandom(21);
  const clean = Array.from(
    { length: 365 },
    (_, t) => 1000 + 0.5 * t + 150 * Math.sin((2 * Math.PI * t) / 7) + random.normal(0, 20),
  );

  test('flags nothing on a clean weekly-seasonal series', () => {
    const flagged = detectAnomalies(clean).filter((p) => p.isAnomaly);
    expect(flagged).toEqual([]);
  });

  test('flags the planted spikes and drops, and nothing else', () => {
    const planted = new Map([
      [60, 4000],
      [150, -900],
      [151, 3500],
      [300, 5000],
    ]);
    const values = clean.map((v, t) => v + (planted.get(t) ?? 0));
    const points = detectAnomalies(values);
    const flagged = points.filter((p) => p.isAnomaly);
    expect(flagged.map((p) => p.index)).toEqual([60, 150, 151, 300]);
    expect(flagged.map((p) => p.direction)).toEqual(['spike', 'drop', 'spike', 'spike']);
    expect(Math.abs(points[60]!.score!)).toBeGreaterThan(3.5);
  });

  test('does not score days without enough history, nor windows with no spread at all', () => {
    const points = detectAnomalies([...new Array(20).fill(5), 500]);
    expect(points[0]!.score).toBeNull();
    expect(points[20]!.score).toBeNull();
    expect(points[20]!.isAnomaly).toBe(false);
  });

  test('falls back to the mean absolute deviation when the MAD is 0', () => {
    const values = [...Array.from({ length: 28 }, (_, i) => (i % 4 === 0 ? 10 : 0)), 1000];
    const last = detectAnomalies(values).at(-1)!;
    expect(last.baseline).toBe(0);
    expect(last.scale).toBeCloseTo(1.2533 * 2.5, 9); // 7 of 28 days deviate by 10
    expect(last.isAnomaly).toBe(true);
  });
});
