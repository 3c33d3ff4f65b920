/**
 * The `kaggle:OWNER/SLUG[/VERSION]` source: pin the version (asked for, or the current one), download
 * that version's zip to a temporary folder, and unpack its CSV files as for a local archive.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type KaggleClient, nameKaggleDataset } from '../kaggle-client';
import { writeRawFiles } from '../raw-files';
import { openCsvArchive } from '../unzip';
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
  client: KaggleClient,
): Promise<SourceResult> {
  const { owner, slug } = source;
  // Pinning the number before downloading keeps the reported version and the bytes in step.
  const version = source.version ?? (await client.getDataset({ owner, slug })).currentVersionNumber;
  const dataset = { owner, slug, version };
  const folder = await mkdtemp(path.join(os.tmpdir(), 'etl-kaggle-'));
  try {
    const zip = path.join(folder, `${slug}.zip`);
    const download = await client.downloadDataset(dataset, zip);
    context.logger.info(
      { dataset: nameKaggleDataset(dataset), bytes: download.bytes },
      'downloaded Kaggle dataset',
    );
    const label = `${slug}.zip of Kaggle dataset ${nameKaggleDataset(dataset)}`;
    let files: SourceResult['files'];
    if (await startsLikeZip(zip)) {
      const archive = await openCsvArchive(zip, label, context.zipLimits);
      try {
        files = await writeRawFiles(context.store, context.runId, archive.inputs);
      } finally {
        archive.close();
      }
    } else {
      // A single-file download arrives as the file itself, named by the storage URL.
      const name = path.posix.basename(download.fileName) || `${slug}.csv`;
      files = await writeRawFiles(context.store, context.runId, [
        {
          name,
          label: `${name} of Kaggle dataset ${nameKaggleDataset(dataset)}`,
          open: async () => createReadStream(zip),
        },
      ]);
    }
    return { dataset: { kind: 'kaggle', owner, slug }, version: String(version), files };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
