/**
 * Revenue and profit drivers, kept descriptive: for each dimension (category, region, segment, discount
 * band) the share of revenue and of profit and the profit margin of each group, plus the association of
 * discount with line margin (Pearson r and a least-squares line margin = a + b · discount). These are
 * associations in historical data, not causal effects.
 */
import { linearRegression, sampleCorrelation } from 'simple-statistics';

export interface DriverLine {
  /** Group key per dimension, e.g. { category: 'Furniture', region: 'West' }. */
  groups: Record<string, string>;
  sales: number;
  profit: number;
  discount: number;
  /** How many order lines this row stands for when lines are pre-aggregated (default 1). */
  count?: number;
}

export interface DriverGroup {
  dimension: string;
  key: string;
  lines: number;
  revenue: number;
  revenueShare: number;
  profit: number;
  profitShare: number;
  /** profit / revenue. */
  margin: number;
}

export interface DiscountEffect {
  lines: number;
  /** Pearson correlation of discount with line margin (profit / sales). */
  correlation: number;
  /** Margin change per unit of discount (e.g. -1.2: +10 pp discount ≈ -12 pp margin). */
  slope: number;
  intercept: number;
}

/** Discount bands used by the drivers table. */
export function discountBand(discount: number): string {
  if (discount <= 0) return 'none';
  if (discount <= 0.2) return '1-20%';
  if (discount <= 0.4) return '21-40%';
  return 'over 40%';
}

export function revenueDrivers(lines: readonly DriverLine[], dimensions: readonly string[]): DriverGroup[] {
  const totalRevenue = lines.reduce((s, l) => s + l.sales, 0);
  const totalProfit = lines.reduce((s, l) => s + l.profit, 0);
  const out: DriverGroup[] = [];
  for (const dimension of dimensions) {
    const groups = new Map<string, { lines: number; revenue: number; profit: number }>();
    for (const line of lines) {
      const key = line.groups[dimension] ?? '(missing)';
      const g = groups.get(key) ?? { lines: 0, revenue: 0, profit: 0 };
      g.lines += line.count ?? 1;
      g.revenue += line.sales;
      g.profit += line.profit;
      groups.set(key, g);
    }
    const rows = [...groups.entries()].map(([key, g]) => ({
      dimension,
      key,
      lines: g.lines,
      revenue: g.revenue,
      revenueShare: totalRevenue !== 0 ? g.revenue / totalRevenue : 0,
      profit: g.profit,
      profitShare: totalProfit !== 0 ? g.profit / totalProfit : 0,
      margin: g.revenue !== 0 ? g.profit / g.revenue : 0,
    }));
    out.push(...rows.sort((a, b) => b.revenue - a.revenue));
  }
  return out;
}

/** Association of discount with line margin; undefined with fewer than 3 usable lines or no variance. */
export function discountEffect(lines: readonly DriverLine[]): DiscountEffect | undefined {
  const usable = lines.filter((l) => l.sales > 0 && Number.isFinite(l.discount) && Number.isFinite(l.profit));
  if (usable.length < 3) return undefined;
  const x = usable.map((l) => l.discount);
  const y = usable.map((l) => l.profit / l.sales);
  if (new Set(x).size < 2 || new Set(y).size < 2) return undefined;
  const line = linearRegression(x.map((v, i) => [v, y[i]!]));
  return { lines: usable.length, correlation: sampleCorrelation(x, y), slope: line.m, intercept: line.b };
}
