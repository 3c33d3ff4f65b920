/**
 * `pnpm test:chaos`: fault injection against the real services as child processes. Slow and
 * timing-based, so kept out of `pnpm test` (vitest.config.ts excludes test/chaos/); CI runs it as its own
 * step with its own JSON report, summed into the totals line by .ci/run.
 */
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: path.resolve(import.meta.dirname, '../..'),
    include: ['test/chaos/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // One file at a time: each starts its own services, and the machine has few cores.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: '.vitest/chaos-results.json' }]],
  },
});
