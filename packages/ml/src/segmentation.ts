/**
 * Customer segmentation: RFM features per customer, standardised, clustered with k-means, k chosen by
 * the mean silhouette over k = 2..6, clusters named by the rank of their mean recency, frequency and
 * monetary value.
 *
 *   recency    days from the customer's last order to the reference date (the day after the last order
 *              in the data), lower is better
 *   frequency  distinct orders
 *   monetary   total revenue
 *   features   z-scores of [recency, ln(1 + frequency), ln(1 + monetary)] (the logs tame the long tails)
 *
 * k-means is ml-kmeans (Lloyd's algorithm, k-means++ seeding) run from 10 fixed seeds, keeping the run with
 * the lowest within-cluster sum of squares, so results are deterministic. The silhouette is the mean of the
 * per-point silhouette values (simple-statistics' `silhouette`, not its `silhouetteMetric`, which is their
 * maximum), computed on at most 1,500 customers (an evenly spaced, hence deterministic, sample) because it
 * needs all pairwise distances.
 */
import { kmeans } from 'ml-kmeans';

export interface CustomerOrderLine {
  customerId: string;
  orderId: string;
  /** Order date as epoch milliseconds (UTC midnight). */
  orderDate: number;
  sales: number;
}

export interface RfmRow {
  customerId: string;
  recencyDays: number;
  frequency: number;
  monetary: number;
}

const DAY_MS = 86_400_000;

/** RFM per customer; the reference date defaults to the day after the last order in `lines`. */
export function computeRfm(lines: readonly CustomerOrderLine[], referenceDate?: number): RfmRow[] {
  const reference = referenceDate ?? Math.max(...lines.map((l) => l.orderDate)) + DAY_MS;
  const byCustomer = new Map<string, { last: number; orders: Set<string>; monetary: number }>();
  for (const line of lines) {
    let entry = byCustomer.get(line.customerId);
    if (!entry) {
      entry = { last: line.orderDate, orders: new Set(), monetary: 0 };
      byCustomer.set(line.customerId, entry);
    }
    entry.last = Math.max(entry.last, line.orderDate);
    entry.orders.add(line.orderId);
    entry.monetary += line.sales;
  }
  return [...byCustomer.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([customerId, e]) => ({
      customerId,
      recencyDays: Math.round((reference - e.last) / DAY_MS),
      frequency: e.orders.size,
      monetary: e.monetary,
    }));
}

/** Column-wise z-scores; a constant column becomes all zeros. */
export function standardize(points: readonly number[][]): number[][] {
  const dims = points[0]?.length ?? 0;
  const means = new Array<number>(dims).fill(0);
  const sds = new Array<number>(dims).fill(0);
  for (const p of points) for (let d = 0; d < dims; d++) means[d]! += p[d]! / points.length;
  for (const p of points) for (let d = 0; d < dims; d++) sds[d]! += (p[d]! - means[d]!) ** 2 / points.length;
  for (let d = 0; d < dims; d++) sds[d] = Math.sqrt(sds[d]!);
  return points.map((p) => p.map((v, d) => (sds[d]! > 0 ? (v - means[d]!) / sds[d]! : 0)));
}

export function rfmFeatures(rows: readonly RfmRow[]): number[][] {
  return standardize(
    rows.map((r) => [r.recencyDays, Math.log1p(r.frequency), Math.log1p(Math.max(r.monetary, 0))]),
  );
}

export interface KMeansFit {
  k: number;
  /** Cluster index per point, 0..k-1. */
  clusters: number[];
  centroids: number[][];
  /** Within-cluster sum of squared distances. */
  inertia: number;
}

export interface KSelection {
  best: KMeansFit;
  /** Mean silhouette per candidate k. */
  silhouettes: Array<{ k: number; silhouette: number }>;
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const SILHOUETTE_SAMPLE = 1_500;

/** k-means from several fixed seeds, keeping the lowest inertia. */
export function fitKMeans(points: readonly number[][], k: number): KMeansFit {
  let best: KMeansFit | undefined;
  for (const seed of SEEDS) {
    const result = kmeans(points as number[][], k, { seed, initialization: 'kmeans++', maxIterations: 300 });
    let inertia = 0;
    for (const [i, p] of points.entries())
      inertia += squaredDistance(p, result.centroids[result.clusters[i]!]!);
    if (!best || inertia < best.inertia - 1e-9) {
      best = { k, clusters: [...result.clusters], centroids: result.centroids.map((c) => [...c]), inertia };
    }
  }
  return best!;
}

/** Fits k = kMin..kMax and keeps the k with the highest mean silhouette (ties: the smaller k). */
export function selectKMeans(points: readonly number[][], kMin = 2, kMax = 6): KSelection {
  const usableMax = Math.min(kMax, points.length - 1);
  if (usableMax < kMin) {
    throw new RangeError(
      `k-means needs more points than clusters: expected > ${kMin} points, got ${points.length}`,
    );
  }
  const step = Math.max(1, points.length / SILHOUETTE_SAMPLE);
  const sample: number[] = [];
  for (let i = 0; i < points.length && sample.length < SILHOUETTE_SAMPLE; i += step)
    sample.push(Math.floor(i));
  // The sample's distances serve every k (simple-statistics' `silhouette` computed them anew for each k: a
  // third of the segmentation's time at 800 customers in a fresh process).
  const distances = pairwiseDistances(sample.map((i) => points[i]!));
  const silhouettes: KSelection['silhouettes'] = [];
  let best: { fit: KMeansFit; silhouette: number } | undefined;
  for (let k = kMin; k <= usableMax; k++) {
    const fit = fitKMeans(points, k);
    const silhouette = sampledSilhouette(
      distances,
      sample.map((i) => fit.clusters[i]!),
    );
    silhouettes.push({ k, silhouette });
    if (!best || silhouette > best.silhouette + 1e-12) best = { fit, silhouette };
  }
  return { best: best!.fit, silhouettes };
}

/** Euclidean distances of every pair of `points`, row by row (`distances[i][j]`). */
export function pairwiseDistances(points: readonly number[][]): Float64Array[] {
  const distances = points.map(() => new Float64Array(points.length));
  for (let i = 0; i < points.length; i++) {
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let d = 0; d < points[i]!.length; d++) {
        const diff = points[i]![d]! - points[j]![d]!;
        sum += diff * diff;
      }
      distances[i]![j] = Math.sqrt(sum);
      distances[j]![i] = distances[i]![j]!;
    }
  }
  return distances;
}

/**
 * The mean silhouette of points labelled `clusters`, from their `distances` (`pairwiseDistances`); -1 when
 * they fall in fewer than 2 clusters (a sample may miss a tiny one). Each point's value is simple-statistics'
 * `silhouette`, computed the same way (same sums in the same order), so the values are the same to the bit.
 */
export function sampledSilhouette(distances: readonly Float64Array[], clusters: readonly number[]): number {
  const groups = new Map<number, number[]>();
  for (const [i, c] of clusters.entries()) {
    const members = groups.get(c) ?? [];
    members.push(i);
    groups.set(c, members);
  }
  if (groups.size < 2) return -1;
  const meanDistance = (i: number, members: readonly number[]): number => {
    let total = 0;
    let count = 0;
    for (const j of members) {
      if (j === i) continue;
      total += distances[i]![j]!;
      count++;
    }
    return total / count;
  };
  let sum = 0;
  for (const [i, c] of clusters.entries()) {
    const own = groups.get(c)!;
    let value = 0;
    if (own.length > 1) {
      const a = meanDistance(i, own);
      let b = Number.MAX_VALUE;
      for (const members of groups.values()) {
        if (members === own) continue;
        const d = meanDistance(i, members);
        if (d < b) b = d;
      }
      value = (b - a) / Math.max(a, b);
    }
    sum += value;
  }
  return sum / clusters.length;
}

export interface SegmentProfile {
  segment: number;
  label: string;
  customers: number;
  share: number;
  meanRecencyDays: number;
  meanFrequency: number;
  meanMonetary: number;
  /** Share of all customers' revenue. */
  revenueShare: number;
}

export interface CustomerSegment extends RfmRow {
  segment: number;
  label: string;
}

export interface Segmentation {
  k: number;
  silhouettes: KSelection['silhouettes'];
  silhouette: number;
  customers: CustomerSegment[];
  profiles: SegmentProfile[];
}

/** RFM -> features -> k-means with k by silhouette -> profiles and labels. Segments are numbered by revenue. */
export function segmentCustomers(
  rows: readonly RfmRow[],
  options: { kMin?: number; kMax?: number } = {},
): Segmentation {
  const features = rfmFeatures(rows);
  const selection = selectKMeans(features, options.kMin ?? 2, options.kMax ?? 6);
  const { k, clusters } = selection.best;
  const totalRevenue = rows.reduce((sum, r) => sum + r.monetary, 0);
  const raw = Array.from({ length: k }, (_, c) => {
    const indexes = rows.map((_, i) => i).filter((i) => clusters[i] === c);
    const members = indexes.map((i) => rows[i]!);
    const n = members.length;
    const meanFeature = (d: number) => (n ? indexes.reduce((s, i) => s + features[i]![d]!, 0) / n : 0);
    const monetary = members.reduce((s, r) => s + r.monetary, 0);
    return {
      cluster: c,
      customers: n,
      meanRecencyDays: n ? members.reduce((s, r) => s + r.recencyDays, 0) / n : 0,
      meanFrequency: n ? members.reduce((s, r) => s + r.frequency, 0) / n : 0,
      meanMonetary: n ? monetary / n : 0,
      revenue: monetary,
      recencyScore: -meanFeature(0),
      valueScore: (meanFeature(1) + meanFeature(2)) / 2,
    };
  }).filter((p) => p.customers > 0);
  raw.sort((a, b) => b.revenue - a.revenue);
  const renumber = new Map(raw.map((p, i) => [p.cluster, i]));
  const labels = labelSegments(raw);
  const profiles: SegmentProfile[] = raw.map((p, i) => ({
    segment: i,
    label: labels[i]!,
    customers: p.customers,
    share: p.customers / rows.length,
    meanRecencyDays: p.meanRecencyDays,
    meanFrequency: p.meanFrequency,
    meanMonetary: p.meanMonetary,
    revenueShare: totalRevenue > 0 ? p.revenue / totalRevenue : 0,
  }));
  const silhouette = selection.silhouettes.find((s) => s.k === k)?.silhouette ?? Number.NaN;
  return {
    k: profiles.length,
    silhouettes: selection.silhouettes,
    silhouette,
    customers: rows.map((r, i) => {
      const segment = renumber.get(clusters[i]!)!;
      return { ...r, segment, label: labels[segment]! };
    }),
    profiles,
  };
}

export interface SegmentScores {
  /** Minus the segment's mean recency z-score: above 0 means more recent than the average customer. */
  recencyScore: number;
  /** Mean of the segment's frequency and monetary z-scores (of the logs): above 0 means above average. */
  valueScore: number;
}

/**
 * Names segments by where their centroid sits relative to the average customer (0 in the standardised
 * features), so the names follow the R, F and M ranks of the segments:
 * recent and valuable: "champions" (then "loyal"); recent, below-average value: "promising" (then "new");
 * lapsed and valuable: "at risk" (then "needs attention"); lapsed, below-average value: "hibernating"
 * (then "lost"). Within a quadrant the better segment (recency + value score) takes the first name;
 * any further duplicates get a number.
 */
export function labelSegments(scores: readonly SegmentScores[]): string[] {
  const names: Record<string, string[]> = {
    'recent-valuable': ['champions', 'loyal'],
    'recent-low': ['promising', 'new'],
    'lapsed-valuable': ['at risk', 'needs attention'],
    'lapsed-low': ['hibernating', 'lost'],
  };
  const labels = new Array<string>(scores.length);
  const used = new Map<string, number>();
  const order = scores
    .map((_, i) => i)
    .sort(
      (a, b) =>
        scores[b]!.recencyScore + scores[b]!.valueScore - (scores[a]!.recencyScore + scores[a]!.valueScore),
    );
  for (const i of order) {
    const { recencyScore, valueScore } = scores[i]!;
    const quadrant = `${recencyScore >= 0 ? 'recent' : 'lapsed'}-${valueScore >= 0 ? 'valuable' : 'low'}`;
    const taken = used.get(quadrant) ?? 0;
    used.set(quadrant, taken + 1);
    const options = names[quadrant]!;
    labels[i] = taken < options.length ? options[taken]! : `${options.at(-1)} ${taken - options.length + 2}`;
  }
  return labels;
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}
