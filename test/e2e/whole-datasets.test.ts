/**
 * Whole datasets through the real `etl run --source local:PATH` (embedded services, DuckDB): many files,
 * nested zips, gzip, Parquet, JSON lines, a two-sheet workbook and non-table files. Each distinct table
 * file becomes one warehouse table named `<dataset>_<stem>`, part files with one header
 * become one table, and files that hold no table are listed in `skippedFiles`. The fixtures are look-alikes
 * of Kaggle downloads written by test/fixtures/datasets/kaggle-shapes.ts, which counts their rows as it
 * writes them: the counts asserted here never come from the product.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { limitTableName } from '../fixtures/datasets/fixture-support';
import {
  type DatasetFixture,
  excelTwoSheets,
  gzippedCsv,
  jsonLines,
  monthlyParts,
  parquetFile,
  rossmannFolder,
  twoDatasetsWithTrain,
  walmartCompetitionZip,
  zipWithDocs,
} from '../fixtures/datasets/kaggle-shapes';
import { type CliResult, etl, parseJsonStdout } from './cli';

interface TableSummary {
  name: string;
  rowsIn: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  files?: string[];
}

interface Summary {
  status: string;
  datasetVersion: string | null;
  tables: TableSummary[];
  skippedFiles?: Array<{ name: string; reason: string }>;
  tablesNotInVersion?: Array<{ name: string; rows: number; version: string | null }>;
  error?: unknown;
}

interface Loaded {
  result: CliResult;
  summary: Summary;
}

/** The ML stage is another issue: these runs stop after the load. */
const ENV = { ML_INSIGHTS: 'false' };
/** A run starts three services and takes several seconds; a query, about one. */
const TIMEOUT = 180_000;

let fixturesRoot: string;
beforeAll(async () => {
  fixturesRoot = await mkdtemp(path.join(tmpdir(), 'etl-e2e-datasets-'));
});
afterAll(async () => {
  await rm(fixturesRoot, { recursive: true, force: true });
});

async function runEtl(source: string, dataDir: string): Promise<Loaded> {
  const result = await etl(['run', '--json', '--source', `local:${source}`, '--data-dir', dataDir], ENV);
  return { result, summary: parseJsonStdout<Summary>(result) };
}

/** The summary's table `name`, or a failure naming the tables it has. */
function summaryTable(summary: Summary, name: string): TableSummary {
  const table = summary.tables.find((t) => t.name === name);
  if (!table) {
    throw new Error(
      `expected table ${name} in the run summary, found [${summary.tables.map((t) => t.name).join(', ')}]`,
    );
  }
  return table;
}

/** `count(*)` of each table in one `etl query`, keyed by table. */
async function countRows(dataDir: string, tables: string[]): Promise<Record<string, number>> {
  const sql = tables.map((t) => `SELECT '${t}' AS name, count(*)::INT AS n FROM "${t}"`).join(' UNION ALL ');
  const result = await etl(['query', '--json', '--data-dir', dataDir, sql], ENV);
  expect(result.code, result.stderr).toBe(0);
  const rows = parseJsonStdout<Array<{ name: string; n: number }>>(result);
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

/** The last part of a name in the dataset: `data/sales.csv` -> `sales.csv`, `__MACOSX/._sales.csv` -> `._sales.csv`. */
function baseName(name: string): string {
  return name.split('/').at(-1)!;
}

/**
 * A table file as the summary may name it: the base name (`train.csv.zip/train.csv` -> `train.csv`), `.gz`
 * dropped (a gzip member is named without it: `transactions.csv.gz` -> `transactions.csv`), `#sheet` kept.
 */
function tableFileName(name: string): string {
  return baseName(name).replace(/\.gz(?=#|$)/i, '');
}

function outcome({ result, summary }: Loaded): string {
  return `run ${summary.status} (exit ${result.code}): ${JSON.stringify(summary.error ?? null)}\nstderr:\n${result.stderr}`;
}

/**
 * The tests every dataset shares, against one data dir and one run (made by whichever test comes first):
 * the exact table names, rowsIn per table against the fixture's own count, the warehouse counts, and
 * skippedFiles.
 */
function describeDataset(
  title: string,
  build: (dir: string) => Promise<DatasetFixture>,
  expectedTables: string[],
): void {
  describe(title, () => {
    let fixture: DatasetFixture;
    let dataDir: string;
    let loaded: Promise<Loaded> | undefined;
    const load = (): Promise<Loaded> => {
      loaded ??= runEtl(fixture.path, dataDir);
      return loaded;
    };

    beforeAll(async () => {
      fixture = await build(await mkdtemp(path.join(fixturesRoot, 'src-')));
      dataDir = await mkdtemp(path.join(tmpdir(), 'etl-e2e-datasets-data-'));
    });
    afterAll(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    test(
      `loads as exactly the tables ${expectedTables.join(', ')}`,
      async () => {
        // Guards the fixture itself (a test bug, not a product one, if this fails).
        expect(Object.keys(fixture.tables).sort()).toEqual([...expectedTables].sort());
        const run = await load();
        expect(run.summary.status, outcome(run)).toBe('succeeded');
        expect(run.result.code, outcome(run)).toBe(0);
        expect(run.summary.tables.map((t) => t.name).sort()).toEqual([...expectedTables].sort());
      },
      TIMEOUT,
    );

    test(
      'rowsIn per table equals the rows written, and rowsIn = rowsLoaded + rowsQuarantined + rowsDuplicate',
      async () => {
        const { summary } = await load();
        const tables = expectedTables.map((name) => summaryTable(summary, name));
        expect(Object.fromEntries(tables.map((t) => [t.name, t.rowsIn]))).toEqual(
          Object.fromEntries(expectedTables.map((name) => [name, fixture.tables[name]!.rowsIn])),
        );
        for (const t of tables) {
          expect(t.rowsLoaded + t.rowsQuarantined + t.rowsDuplicate, t.name).toBe(t.rowsIn);
          // `files` is optional; when present it names exactly this table's files (or sheets).
          if (t.files !== undefined) {
            expect(t.files.map(tableFileName).sort(), t.name).toEqual(
              fixture.tables[t.name]!.files.map(tableFileName).sort(),
            );
          }
        }
      },
      TIMEOUT,
    );

    test(
      'the warehouse holds rowsLoaded rows per table and rowsQuarantined in <table>_rejects',
      async () => {
        const { summary } = await load();
        const tables = expectedTables.map((name) => summaryTable(summary, name));
        const counts = await countRows(dataDir, [
          ...expectedTables,
          ...expectedTables.map((name) => `${name}_rejects`),
        ]);
        const expected: Record<string, number> = {};
        for (const t of tables) {
          expected[t.name] = t.rowsLoaded;
          expected[`${t.name}_rejects`] = t.rowsQuarantined;
        }
        expect(counts).toEqual(expected);
      },
      TIMEOUT,
    );

    test(
      'skippedFiles lists every file that holds no table (with a reason) and no table file',
      async () => {
        const { summary } = await load();
        expect(
          Array.isArray(summary.skippedFiles),
          `skippedFiles: ${JSON.stringify(summary.skippedFiles)}`,
        ).toBe(true);
        const skipped = summary.skippedFiles ?? [];
        for (const name of fixture.skipped) {
          const entry = skipped.find((s) => baseName(s.name) === baseName(name));
          expect(entry, `${name} in skippedFiles ${JSON.stringify(skipped)}`).toBeDefined();
          expect(entry!.reason.trim(), `reason for ${name}`).not.toBe('');
        }
        const tableFiles = new Set(
          Object.values(fixture.tables).flatMap((t) => t.files.map((f) => tableFileName(f).split('#')[0]!)),
        );
        expect(skipped.filter((s) => tableFiles.has(tableFileName(s.name)))).toEqual([]);
      },
      TIMEOUT,
    );
  });
}

const WALMART = 'walmart_recruiting_store_sales_forecasting';

test('the long-name rule: 46 characters, _, 8 hex of sha256, at most 55 so <name>_rejects fits 63', () => {
  const name = limitTableName(`${WALMART}_sample_submission`);
  expect(name).toMatch(/^walmart_recruiting_store_sales_forecasting_sam_[0-9a-f]{8}$/);
  expect(name.length).toBe(55);
  expect(limitTableName(`${WALMART}_features`)).toBe(`${WALMART}_features`);
});

describeDataset(
  'Walmart competition zip: stores.csv and nested train/features/test/sampleSubmission .csv.zip',
  walmartCompetitionZip,
  [
    `${WALMART}_features`,
    limitTableName(`${WALMART}_sample_submission`),
    `${WALMART}_stores`,
    `${WALMART}_test`,
    `${WALMART}_train`,
  ],
);

describeDataset('Rossmann folder: three differently-headed, quoted-header CSVs', rossmannFolder, [
  'rossmann_store',
  'rossmann_test',
  'rossmann_train',
]);

describeDataset('monthly part files with one header are one table; stores.csv is another', monthlyParts, [
  'shop_monthly_sales',
  'shop_monthly_stores',
]);

describeDataset('a gzipped CSV on its own (Favorita transactions.csv.gz)', gzippedCsv, ['transactions']);

describeDataset('a Parquet file on its own (Favorita oil.parquet, NULL prices)', parquetFile, ['oil']);

describeDataset('a JSON lines file on its own (missing keys, a nested object)', jsonLines, ['orders']);

describeDataset('a workbook with two differently-headed sheets (Online Retail.xlsx)', excelTwoSheets, [
  'online_retail_countries',
  'online_retail_invoices',
]);

describeDataset(
  'a zip with one table among a README, an image, a notebook and __MACOSX metadata',
  zipWithDocs,
  ['shop_export_sales'],
);

describe('two datasets that both hold train.csv load side by side', () => {
  let dataDir: string;
  let fixtures: Awaited<ReturnType<typeof twoDatasetsWithTrain>>;
  beforeAll(async () => {
    fixtures = await twoDatasetsWithTrain(await mkdtemp(path.join(fixturesRoot, 'two-')));
    dataDir = await mkdtemp(path.join(tmpdir(), 'etl-e2e-datasets-data-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test(
    'store-demand/ gives store_demand_train, then black-friday/ gives black_friday_train and leaves it unchanged',
    async () => {
      const { storeDemand, blackFriday } = fixtures;
      expect(Object.keys(storeDemand.tables)).toEqual(['store_demand_train']);
      expect(Object.keys(blackFriday.tables)).toEqual(['black_friday_train']);
      const demandRows = storeDemand.tables['store_demand_train']!.rowsIn;
      const fridayRows = blackFriday.tables['black_friday_train']!.rowsIn;

      const first = await runEtl(storeDemand.path, dataDir);
      expect(first.summary.status, outcome(first)).toBe('succeeded');
      expect(first.summary.tables.map((t) => t.name)).toEqual(['store_demand_train']);
      const demand = summaryTable(first.summary, 'store_demand_train');
      expect(demand.rowsIn).toBe(demandRows);
      expect(demand.rowsLoaded + demand.rowsQuarantined + demand.rowsDuplicate).toBe(demand.rowsIn);
      expect(await countRows(dataDir, ['store_demand_train'])).toEqual({
        store_demand_train: demand.rowsLoaded,
      });

      const second = await runEtl(blackFriday.path, dataDir);
      expect(second.summary.status, outcome(second)).toBe('succeeded');
      expect(second.summary.tables.map((t) => t.name)).toEqual(['black_friday_train']);
      const friday = summaryTable(second.summary, 'black_friday_train');
      expect(friday.rowsIn).toBe(fridayRows);
      expect(friday.rowsLoaded + friday.rowsQuarantined + friday.rowsDuplicate).toBe(friday.rowsIn);
      expect(await countRows(dataDir, ['store_demand_train', 'black_friday_train'])).toEqual({
        store_demand_train: demand.rowsLoaded,
        black_friday_train: friday.rowsLoaded,
      });
    },
    2 * TIMEOUT,
  );
});

describe('a file that leaves the dataset in its next version', () => {
  let dataDir: string;
  let fixture: DatasetFixture;
  beforeAll(async () => {
    fixture = await rossmannFolder(await mkdtemp(path.join(fixturesRoot, 'leaving-')));
    dataDir = await mkdtemp(path.join(tmpdir(), 'etl-e2e-datasets-data-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test(
    'its table keeps the rows of the version that had it, and the summary names the table',
    async () => {
      const first = await runEtl(fixture.path, dataDir);
      expect(first.summary.status, outcome(first)).toBe('succeeded');
      expect(first.summary.tablesNotInVersion).toBeUndefined();
      const loaded = summaryTable(first.summary, 'rossmann_test').rowsLoaded;

      await rm(path.join(fixture.path, 'test.csv'));
      const second = await runEtl(fixture.path, dataDir);
      expect(second.summary.status, outcome(second)).toBe('succeeded');
      expect(second.summary.tables.map((t) => t.name).sort()).toEqual(['rossmann_store', 'rossmann_train']);
      expect(second.summary.tablesNotInVersion).toEqual([
        { name: 'rossmann_test', rows: loaded, version: first.summary.datasetVersion },
      ]);
      expect(await countRows(dataDir, ['rossmann_test'])).toEqual({ rossmann_test: loaded });
    },
    2 * TIMEOUT,
  );
});
