import { describe, expect, test } from 'vitest';
import { discountBand, discountEffect, revenueDrivers } from './drivers';

const lines = [
  { groups: { category: 'A', band: discountBand(0) }, sales: 100, profit: 30, discount: 0 },
  { groups: { category: 'A', band: discountBand(0.2) }, sales: 100, profit: 10, discount: 0.2 },
  { groups: { category: 'B', band: discountBand(0.5) }, sales: 200, profit: -40, discount: 0.5 },
];

describe('revenueDrivers', () => {
  test('shares and margins per group, largest revenue first', () => {
    const withC = [...lines, { groups: { category: 'C' }, sales: 50, profit: 20, discount: 0 }];
    // totals: revenue 450, profit 20
    expect(revenueDrivers(withC, ['category'])).toEqual([
      {
        dimension: 'category',
        key: 'A',
        lines: 2,
        revenue: 200,
        revenueShare: 200 / 450,
        profit: 40,
        profitShare: 2,
        margin: 0.2,
      },
      {
        dimension: 'category',
        key: 'B',
        lines: 1,
        revenue: 200,
        revenueShare: 200 / 450,
        profit: -40,
        profitShare: -2,
        margin: -0.2,
      },
      {
        dimension: 'category',
        key: 'C',
        lines: 1,
        revenue: 50,
        revenueShare: 50 / 450,
        profit: 20,
        profitShare: 1,
        margin: 0.4,
      },
    ]);
  });

  test('a group key missing from a line is reported as (missing); zero totals give zero shares', () => {
    const groups = revenueDrivers(lines, ['band', 'region']);
    expect(groups.filter((g) => g.dimension === 'region')).toEqual([
      {
        dimension: 'region',
        key: '(missing)',
        lines: 3,
        revenue: 400,
        revenueShare: 1,
        profit: 0,
        profitShare: 0,
        margin: 0,
      },
    ]);
  });

  test('bands discounts', () => {
    expect([0, 0.1, 0.2, 0.3, 0.45].map(discountBand)).toEqual([
      'none',
      '1-20%',
      '1-20%',
      '21-40%',
      'over 40%',
    ]);
  });
});

describe('discountEffect', () => {
  test('correlation and slope of line margin on discount', () => {
    // margins 0.3, 0.1, -0.2 at discounts 0, 0.2, 0.5: least squares slope = -1.0 exactly
    const effect = discountEffect(lines)!;
    expect(effect.lines).toBe(3);
    expect(effect.slope).toBeCloseTo(-1, 9);
    expect(effect.intercept).toBeCloseTo(0.3, 9);
    expect(effect.correlation).toBeCloseTo(-1, 9);
  });
});
