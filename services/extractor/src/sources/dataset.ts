/**
 * What the local, Kaggle and Cloud Storage sources share: the dataset as found (one file, or a folder's
 * files) is unpacked and its table files written under runs/<runId>/raw/, with the list of files skipped
 * and why. A table file that holds no rows fails the step when it is the whole dataset (a one-file source
 * keeps its EMPTY_FILE / NO_DATA_ROWS answer) and is skipped among several files; a dataset left with no
 * table file at all fails with NO_TABLE_FILES, listing every file found.
 */
import type { SkippedFile } from '@etl/common/contracts';
import { DataRejectedError } from '@etl/common/errors';
import { SUPPORTED_FILES } from '../files/dataset-files';
import { checkRawInputs, writeRawFile } from '../files/raw-files';
import { byName, type FoundFiles, unpackDataset } from '../files/unpack';
import type { SourceContext, SourceResult } from './source';

export type FoundDataset = FoundFiles & {
  /** Names the dataset in messages: `folder /data/shop`, `Kaggle dataset acme/sales version 3`. */
  label: string;
  /** Files the source itself passed over (e.g. symbolic links in a folder). */
  skipped?: readonly SkippedFile[];
};

const LISTED_AT_MOST = 20;

function noTableFiles(label: string, skipped: readonly SkippedFile[]): DataRejectedError {
  const listed = skipped.slice(0, LISTED_AT_MOST).map((file) => `${file.name}: ${file.reason}`);
  if (skipped.length > LISTED_AT_MOST) listed.push(`and ${skipped.length - LISTED_AT_MOST} more`);
  const found = skipped.length === 0 ? 'it holds no files' : `found ${listed.join('; ')}`;
  return new DataRejectedError(
    `${label} contains no table files (expected ${SUPPORTED_FILES}); ${found}`,
    {},
    'NO_TABLE_FILES',
  );
}

export async function extractDataset(
  context: SourceContext,
  found: FoundDataset,
): Promise<Pick<SourceResult, 'files' | 'skippedFiles'>> {
  const unpacked = await unpackDataset(found, context.zipLimits);
  try {
    const fileCount = unpacked.inputs.length + unpacked.skipped.length + (found.skipped?.length ?? 0);
    const { ready, skipped } = await checkRawInputs(unpacked.inputs, { skipNoData: fileCount > 1 });
    const skippedFiles = [...(found.skipped ?? []), ...unpacked.skipped, ...skipped].sort(byName);
    for (const file of skippedFiles) {
      context.logger.info({ file: file.name, reason: file.reason }, 'skipped a file that holds no table');
    }
    if (ready.length === 0) throw noTableFiles(found.label, skippedFiles);
    const files = [];
    for (const input of ready) files.push(await writeRawFile(context.store, context.runId, input));
    return { files, skippedFiles };
  } finally {
    await unpacked.close();
  }
}
