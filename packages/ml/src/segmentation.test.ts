import { silhouette } from 'simple-statistics';
import { describe, expect, test } from 'vitest';
import {
  computeRfm,
  labelSegments,
  pairwiseDistances,
  type RfmRow,
  sampledSilhouette,
  segmentCustomers,
  selectKMeans,
  standardize,
} from './segmentation';
import { createRandom } from './test-random';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('computeRfm', () => {
  test('recency from the day after the last order, distinct orders, total revenue', () => {
    const rows = computeRfm([
      { customerId: 'b', orderId: 'o1', orderDate: day('2024-01-01'), sales: 10 },
      { customerId: 'b', orderId: 'o1', orderDate: day('2024-01-01'), sales: 5 },
      { customerId: 'b', orderId: 'o2', orderDate: day('2024-01-20'), sales: 20 },
      { customerId: 'a', orderId: 'o3', orderDate: day('2024-01-31'), sales: 7 },
    ]);
    expect(rows).toEqual([
      { customerId: 'a', recencyDays: 1, frequency: 1, monetary: 7 },
      { customerId: 'b', recencyDays: 12, frequency: 2, monetary: 35 },
    ]);
  });
});

describe('standardize', () => {
  test('z-scores per column; constant columns become 0', () => {
    expect(
      standardize([
        [1, 5],
        [3, 5],
      ]),
    ).toEqual([
      [-1, 0],
      [1, 0],
    ]);
  });
});

describe('selectKMeans', () => {
  const random = createRandom(11);
  const blob = (cx: number, cy: number, n: number) =>
    Array.from({ length: n }, () => [random.normal(cx, 0.5), random.normal(cy, 0.5)]);
  const centres = [
    [0, 0],
    [10, 0],
    [5, 9],
  ];
  const points = [...blob(0, 0, 60), ...blob(10, 0, 40), ...blob(5, 9, 50)];

  test('chooses k = 3 on three well-separated blobs and recovers them', () => {
    const { best, silhouettes } = selectKMeans(points);
    expect(best.k).toBe(3);
    expect(silhouettes.map((s) => s.k)).toEqual([2, 3, 4, 5, 6]);
    const k3 = silhouettes.find((s) => s.k === 3)!.silhouette;
    expect(k3).toBeGreaterThan(0.8);
    // Every planted blob maps to exactly one cluster.
    const clusterOf = (from: number, to: number) => new Set(best.clusters.slice(from, to));
    expect(clusterOf(0, 60).size).toBe(1);
    expect(clusterOf(60, 100).size).toBe(1);
    expect(clusterOf(100, 150).size).toBe(1);
    for (const [cx, cy] of centres) {
      expect(best.centroids.some(([x, y]) => Math.hypot(x! - cx!, y! - cy!) < 0.5)).toBe(true);
    }
  });

  test('is deterministic', () => {
    expect(selectKMeans(points).best.clusters).toEqual(selectKMeans(points).best.clusters);
  });
});

describe('sampledSilhouette', () => {
  test("is the mean of simple-statistics' per-point silhouettes, to the bit", () => {
    const random = createRandom(3);
    const points = Array.from({ length: 300 }, () => [random.normal(), random.normal(), random.normal()]);
    const distances = pairwiseDistances(points);
    // Labels not numbered by first appearance, and a cluster of one point (its silhouette is 0).
    for (const clusters of [
      points.map((_, i) => (i * 7) % 4),
      points.map((p) => (p[0]! > 0 ? 2 : 0)),
      points.map((_, i) => (i === 5 ? 1 : i % 3 === 0 ? 3 : 0)),
    ]) {
      const dense = new Map<number, number>();
      const labels = clusters.map((c) => dense.get(c) ?? dense.set(c, dense.size).get(c)!);
      const values = silhouette(points, labels);
      expect(sampledSilhouette(distances, clusters)).toBe(values.reduce((a, b) => a + b, 0) / values.length);
    }
  });

  test('is -1 when every point is in one cluster', () => {
    expect(sampledSilhouette(pairwiseDistances([[0], [1], [2]]), [4, 4, 4])).toBe(-1);
  });
});

describe('segmentCustomers', () => {
  const random = createRandom(5);
  const group = (n: number, recency: number, frequency: number, monetary: number, prefix: string): RfmRow[] =>
    Array.from({ length: n }, (_, i) => ({
      customerId: `${prefix}${i}`,
      recencyDays: Math.max(1, Math.round(random.normal(recency, recency * 0.1))),
      frequency: Math.max(1, Math.round(random.normal(frequency, frequency * 0.1))),
      monetary: Math.max(1, random.normal(monetary, monetary * 0.1)),
    }));
  const rows = [
    ...group(40, 10, 20, 20_000, 'champ'),
    ...group(60, 300, 15, 12_000, 'risk'),
    ...group(80, 400, 2, 300, 'lost'),
  ];

  test('finds the planted customer groups and names them by their R, F and M ranks', () => {
    const result = segmentCustomers(rows);
    expect(result.k).toBe(3);
    const labelOf = (prefix: string) =>
      new Set(result.customers.filter((c) => c.customerId.startsWith(prefix)).map((c) => c.label));
    expect(labelOf('champ')).toEqual(new Set(['champions']));
    expect(labelOf('risk')).toEqual(new Set(['at risk']));
    expect(labelOf('lost')).toEqual(new Set(['hibernating']));
    expect(result.profiles.map((p) => p.customers).sort()).toEqual([40, 60, 80].sort());
    expect(result.profiles.reduce((s, p) => s + p.share, 0)).toBeCloseTo(1, 12);
    expect(result.profiles.reduce((s, p) => s + p.revenueShare, 0)).toBeCloseTo(1, 12);
    // Segments are numbered by revenue.
    expect(result.profiles[0]!.label).toBe('champions');
  });
});

describe('labelSegments', () => {
  test('quadrants of recency × value relative to the average customer; duplicates get the second name', () => {
    const labels = labelSegments([
      { recencyScore: 1, valueScore: 1.5 },
      { recencyScore: -0.5, valueScore: 0.8 },
      { recencyScore: 0.7, valueScore: -0.4 },
      { recencyScore: -1.2, valueScore: -1 },
      { recencyScore: 0.2, valueScore: 0.3 },
      { recencyScore: -0.1, valueScore: -0.2 },
    ]);
    expect(labels).toEqual(['champions', 'at risk', 'promising', 'lost', 'loyal', 'hibernating']);
  });
});
