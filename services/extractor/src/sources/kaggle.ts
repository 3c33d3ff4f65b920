/**
 * The `kaggle:OWNER/SLUG[/VERSION]` source: pin the version (asked for, or the current one), download
 * that version's zip to a temporary folder, and unpack it as a local archive is (nested zips, .gz, every
 * table format; see sources/dataset.ts).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classifyFile } from '../files/dataset-files';
import { type KaggleClient, nameKaggleDataset } from '../kaggle-client';
import { extractDataset } from './dataset';
import type { SourceContext, SourceResult } from './source';

export interface KaggleSource {
  owner: string;
  slug: string;
  version: number | undefined;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b]);

async function startsLikeZip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.equals(ZIP_MAGIC);
  } finally {
    await handle.close();
  }
}

export async function extractKaggle(
  context: SourceContext,
  source: KaggleSource,
  client: Pick<KaggleClient, 'getDataset' | 'downloadDataset'>,
): Promise<SourceResult> {
  const { owner, slug } = source;
  // Pinning the number before downloading keeps the reported version and the bytes in step.
  const version = source.version ?? (await client.getDataset({ owner, slug })).currentVersionNumber;
  const dataset = { owner, slug, version };
  const folder = await mkdtemp(path.join(os.tmpdir(), 'etl-kaggle-'));
  try {
    const zip = path.join(folder, `${slug}.zip`);
    const download = await client.downloadDataset(dataset, zip);
    const named = nameKaggleDataset(dataset);
    context.logger.info({ dataset: named, bytes: download.bytes }, 'downloaded Kaggle dataset');
    // A single-file dataset arrives as the file itself, named by the storage URL. An .xlsx starts like a
    // zip too, but it is a table, not the dataset's archive.
    const fileName = path.posix.basename(download.fileName) || `${slug}.zip`;
    const kind = classifyFile(fileName);
    const isWorkbook = kind.kind === 'table' && kind.format === 'xlsx';
    const isArchive = !isWorkbook && (await startsLikeZip(zip));
    const name = isArchive ? `${slug}.zip` : fileName;
    const result = await extractDataset(context, {
      label: `Kaggle dataset ${named}`,
      file: {
        name,
        label: `${isArchive ? 'archive ' : ''}${name} of Kaggle dataset ${named}`,
        path: zip,
        open: async () => createReadStream(zip),
      },
    });
    return { dataset: { kind: 'kaggle', owner, slug }, version: String(version), ...result };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
