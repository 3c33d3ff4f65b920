/**
 * The volume check: a new version that would replace a table's loaded rows with far fewer (a truncated
 * export, a sample uploaded by mistake) is refused before anything is written, unless the request allows
 * it. Counted in the warehouse itself (./dataset-rows).
 */
import { DataRejectedError } from '@etl/common/errors';
import type { Warehouse } from '@etl/common/warehouse';
import { datasetRows } from './dataset-rows';

export interface VolumeCheckInput {
  warehouse: Warehouse;
  source: string;
  /** Cleaned tables and the rows this version stages for each. */
  tables: ReadonlyArray<{ name: string; rows: number }>;
  /** Smallest share of the loaded rows a new version may have; 0 turns the check off. */
  minRatio: number;
  runId: string;
}

export async function checkVolume(input: VolumeCheckInput): Promise<void> {
  const { warehouse, source, minRatio } = input;
  if (minRatio <= 0 || input.tables.length === 0) return;
  const loadedRows = await datasetRows(
    warehouse,
    source,
    input.tables.map((t) => t.name),
  );
  const drops: Array<{ table: string; loaded: number; staged: number }> = [];
  for (const t of input.tables) {
    const loaded = loadedRows.get(t.name)?.rows ?? 0;
    if (loaded > 0 && t.rows < loaded * minRatio) drops.push({ table: t.name, loaded, staged: t.rows });
  }
  if (drops.length === 0) return;
  throw new DataRejectedError(
    `volume check: ${drops
      .map((d) => `table ${d.table} would replace ${d.loaded} loaded rows of ${source} with ${d.staged}`)
      .join(
        '; ',
      )}, fewer than ${Math.round(minRatio * 100)}% of them; nothing was loaded. If the smaller version is right, run again with allowShrink (etl run --allow-shrink)`,
    { runId: input.runId, details: { source, minRatio, tables: drops } },
    'VOLUME_DROP',
  );
}
