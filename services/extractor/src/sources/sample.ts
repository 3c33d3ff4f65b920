/** The `sample` source: a generated sales CSV, deterministic for a given row count and seed. */
import { generateSalesCsv } from '@etl/sample-data';
import { writeRawFiles } from '../files/raw-files';
import type { SourceContext, SourceResult } from './source';

export interface SampleOptions {
  rows: number;
  seed: number;
}

export const DEFAULT_SAMPLE: SampleOptions = { rows: 10_000, seed: 42 };

export async function extractSample(context: SourceContext, sample: SampleOptions): Promise<SourceResult> {
  const files = await writeRawFiles(context.store, context.runId, [
    {
      name: 'sales.csv',
      label: `generated sample sales.csv (${sample.rows} rows, seed ${sample.seed})`,
      format: 'delimited',
      open: async () => generateSalesCsv(sample),
    },
  ]);
  return { dataset: { kind: 'sample', owner: 'generated', slug: 'sales' }, files, skippedFiles: [] };
}
