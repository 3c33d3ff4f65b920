/**
 * A dataset's state, datasets/<kind>/<owner>/<slug>/state.json: the version last loaded and the schema each
 * of its tables was loaded with. The loader writes it; the extractor reads the version to tell whether the
 * data changed, the transformer reads the schemas to hold the next version to them (schema contracts).
 *
 * The loader marks a load `pending` before it commits and clears the mark after: a loader killed between
 * its commit and the state write leaves the mark, and a pending state never counts as "unchanged", so the
 * next run loads again (idempotently) instead of skipping while the warehouse holds another version.
 */
import { z } from 'zod';
import { errorMessage } from './errors';
import type { Logger } from './logging';
import { type BlobStore, datasetStateKey, getJson, putJson } from './storage';

export const COLUMN_TYPES = ['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'TIME', 'BOOLEAN', 'VARCHAR'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** One column of a table as it was loaded. */
export const recordedColumnSchema = z.object({
  name: z.string(),
  type: z.enum(COLUMN_TYPES),
  /** strptime format of a DATE or non-ISO TIMESTAMP column. */
  format: z.string().optional(),
  /** Thousands separator and decimal mark of a number column read with them (`1.234,56`). */
  thousands: z.string().optional(),
  decimal: z.string().optional(),
  /** Currency symbol of a money column, and whether a number column was read as percentages. */
  currency: z.string().optional(),
  percent: z.boolean().optional(),
  /** Whether the loaded version had NULLs in it. */
  nullable: z.boolean(),
  /** Bottom-k hashes (hex) of the column's sampled values: tells a renamed column by its values. */
  sketch: z.array(z.string()).optional(),
});
export type RecordedColumn = z.infer<typeof recordedColumnSchema>;

export const recordedTableSchema = z.object({ columns: z.array(recordedColumnSchema) });
export type RecordedTable = z.infer<typeof recordedTableSchema>;

export const datasetStateSchema = z.object({
  version: z.string(),
  runId: z.string(),
  loadedAt: z.string(),
  /** A local dataset's resolved path, from the extract manifest. */
  location: z.string().optional(),
  /** Schema of each cleaned table as last loaded; absent in states written before schemas were kept. */
  tables: z.record(z.string(), recordedTableSchema).optional(),
  /** A load that started and may have committed, but whose state was never written. */
  pending: z.object({ version: z.string(), runId: z.string(), startedAt: z.string() }).optional(),
});
export type DatasetState = z.infer<typeof datasetStateSchema>;

/** `kind/owner/slug` -> its state key. */
export function stateKeyOf(datasetId: string): string {
  const [kind, owner, slug] = datasetId.split('/') as [string, string, string];
  return datasetStateKey(kind, owner, slug);
}

/** The stored state, or undefined when the dataset was never loaded (or its state file is unreadable). */
export async function readDatasetState(
  store: BlobStore,
  datasetId: string,
  logger: Logger,
): Promise<DatasetState | undefined> {
  const key = stateKeyOf(datasetId);
  if (!(await store.exists(key))) return undefined;
  try {
    return datasetStateSchema.parse(await getJson(store, key));
  } catch (error) {
    // Treating it as "never loaded" only costs a reload (the loader makes it idempotent) and the contract
    // check of one version.
    logger.warn({ objectKey: key, error: errorMessage(error) }, `ignoring unreadable dataset state ${key}`);
    return undefined;
  }
}

export async function writeDatasetState(
  store: BlobStore,
  datasetId: string,
  state: DatasetState,
): Promise<void> {
  await putJson(store, stateKeyOf(datasetId), datasetStateSchema.parse(state));
}
