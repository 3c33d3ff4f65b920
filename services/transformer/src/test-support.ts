/** Test inputs written exactly as the extractor writes them: raw objects plus the extract manifest. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readArrowTable } from '@etl/common/arrow';
import type { ExtractResponse, TableFormat } from '@etl/common/contracts';
import { createSilentLogger } from '@etl/common/logging';
import { LocalBlobStore, manifestKey, putJson, rawKey } from '@etl/common/storage';
import type { Table } from 'apache-arrow';
import type { TransformDeps } from './transformer';

export interface TestStore {
  root: string;
  store: LocalBlobStore;
  deps: TransformDeps;
  cleanup(): Promise<void>;
}

export async function createTestStore(): Promise<TestStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'transformer-test-'));
  const store = new LocalBlobStore(path.join(root, 'blobs'));
  return {
    root,
    store,
    deps: {
      store,
      logger: createSilentLogger(),
      tempDir: root,
      duckdb: { threads: 2, memoryLimit: '1GB' },
      profilesDir: path.join(root, 'profiles'),
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Writes `profiles/<name>.yaml` into the test store's profiles folder. */
export async function writeProfile(t: TestStore, name: string, yaml: string): Promise<void> {
  const dir = t.deps.profilesDir!;
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.yaml`), yaml);
}

/** Writes `files` under runs/<runId>/raw/ and the extract manifest listing them, in the given order. */
export async function writeExtractedRun(
  store: LocalBlobStore,
  runId: string,
  files: Record<string, string | Uint8Array>,
): Promise<ExtractResponse> {
  const listed: ExtractResponse['files'] = [];
  for (const [name, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const key = rawKey(runId, name);
    await store.put(key, bytes);
    listed.push({
      name,
      key,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      format: formatOf(name),
    });
  }
  const manifest: ExtractResponse = {
    runId,
    source: 'local:/data/in',
    dataset: { id: 'local/test/sales', version: 'v1', previousVersion: null, changed: true },
    files: listed,
    skippedFiles: [],
    manifestKey: manifestKey(runId, 'extract'),
  };
  await putJson(store, manifest.manifestKey, manifest);
  return manifest;
}

/** The format the extractor gives a file of this name. */
function formatOf(name: string): TableFormat {
  if (/\.(json|jsonl|ndjson)$/i.test(name)) return 'json';
  if (/\.(parquet|pq)$/i.test(name)) return 'parquet';
  if (/\.(xlsx|xlsm)$/i.test(name)) return 'xlsx';
  return 'delimited';
}

export async function readTable(store: LocalBlobStore, key: string): Promise<Table> {
  return readArrowTable(await store.get(key), key);
}

/** Rows as plain objects (BigInt -> number, Date columns -> ISO date strings) for readable assertions. */
export function rowsOf(table: Table): Record<string, unknown>[] {
  const dateColumns = new Set(
    table.schema.fields.filter((f) => String(f.type).startsWith('Date')).map((f) => f.name),
  );
  return table.toArray().map((row: { toJSON(): Record<string, unknown> }) =>
    Object.fromEntries(
      Object.entries(row.toJSON()).map(([name, value]) => {
        if (typeof value === 'bigint') return [name, Number(value)];
        if (dateColumns.has(name) && typeof value === 'number')
          return [name, new Date(value).toISOString().slice(0, 10)];
        return [name, value];
      }),
    ),
  );
}

const legacyTables = new Map<string, Map<string, number[]>>();

/**
 * `text` in a legacy encoding (`gb18030`, `shift_jis`, `windows-1251`, ...), for fixtures: Node can decode
 * these but not encode them, so each character's bytes are found by decoding every one- and two-byte sequence.
 */
export function encodeLegacy(text: string, encoding: string): Buffer {
  let table = legacyTables.get(encoding);
  if (!table) {
    const found = new Map<string, number[]>();
    const decoder = new TextDecoder(encoding, { fatal: true });
    const add = (bytes: number[]) => {
      try {
        const char = decoder.decode(Uint8Array.from(bytes));
        if ([...char].length === 1 && !found.has(char)) found.set(char, bytes);
      } catch {
        // not a whole character in this encoding
      }
    };
    for (let a = 0x80; a <= 0xff; a++) add([a]);
    for (let a = 0x81; a <= 0xfe; a++) for (let b = 0x40; b <= 0xfe; b++) add([a, b]);
    legacyTables.set(encoding, found);
    table = found;
  }
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x80) bytes.push(code);
    else {
      const encoded = table.get(char);
      if (!encoded) throw new Error(`${JSON.stringify(char)} has no ${encoding} bytes`);
      bytes.push(...encoded);
    }
  }
  return Buffer.from(bytes);
}
