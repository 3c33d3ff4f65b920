/**
 * Test support: a dataset shaped like a real Kaggle competition download (Walmart Recruiting - Store Sales
 * Forecasting): one CSV at the top, the big tables as zips inside the zip.
 */
import { buildZip } from './yazl-zip';

export const WALMART_TABLES: Record<string, string> = {
  'stores.csv': 'Store,Type,Size\n1,A,151315\n2,A,202307\n',
  'train.csv.zip/train.csv': 'Store,Dept,Date,Weekly_Sales,IsHoliday\n1,1,2010-02-05,24924.5,FALSE\n',
  'features.csv.zip/features.csv': 'Store,Date,Temperature,Fuel_Price\n1,2010-02-05,42.31,2.572\n',
  'test.csv.zip/test.csv': 'Store,Dept,Date,IsHoliday\n1,1,2012-11-02,FALSE\n',
  'sampleSubmission.csv.zip/sampleSubmission.csv': 'Id,Weekly_Sales\n1_1_2012-11-02,0\n',
};

/** The raw names the extractor gives the tables, sorted. */
export const WALMART_RAW_NAMES = Object.keys(WALMART_TABLES).sort();

/** The competition zip's entries: `stores.csv` plus `train.csv.zip` (holding `train.csv`) and so on. */
export async function walmartEntries(
  extra: Record<string, Buffer | string> = {},
): Promise<Record<string, Buffer | string>> {
  const entries: Record<string, Buffer | string> = { ...extra };
  for (const [name, csv] of Object.entries(WALMART_TABLES)) {
    const [outer, inner] = name.split('/');
    entries[outer!] = inner === undefined ? csv : await buildZip({ [inner]: csv });
  }
  return entries;
}

export async function buildWalmartZip(extra: Record<string, Buffer | string> = {}): Promise<Buffer> {
  return buildZip(await walmartEntries(extra));
}
