import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  DateDay,
  Float64,
  Int64,
  Table,
  tableFromArrays,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DUCKDB_ROW_GROUP_ROWS, writeArrowTable } from '../arrow';
import { DataRejectedError, InvalidRequestError } from '../errors';
import { createLogger } from '../logging';
import { DuckDbWarehouse } from './duckdb-warehouse';
import {
  amountRoles,
  expectedAfterReload,
  failLoadAfterRecording,
  loadAndReload,
} from './table-metadata-test-support';
import type { LoadRequest } from './warehouse';

let dir: string;
let warehouse: DuckDbWarehouse;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'warehouse-'));
  warehouse = new DuckDbWarehouse({ file: path.join(dir, 'warehouse.duckdb') });
});
afterEach(async () => {
  await warehouse.close();
  await rm(dir, { recursive: true, force: true });
});

function orders(amounts: number[], extra?: string[]): Uint8Array {
  const columns: Record<string, Vector> = {
    amount: vectorFromArray(amounts, new Float64()),
  };
  if (extra) columns.note = vectorFromArray(extra, new Utf8());
  return writeArrowTable(new Table(columns));
}

/** `columns` DOUBLE columns c0..c<n> of `rows` rows. */
function wide(columns: number, rows: number): Uint8Array {
  const arrays = Array.from({ length: columns }, (_, c) => [`c${c}`, new Float64Array(rows).fill(c)]);
  return writeArrowTable(tableFromArrays(Object.fromEntries(arrays)));
}

/** Run run-2: its first table is fine, its second is no Arrow file, so it fails inside its transaction. */
function loadFailingAtItsSecondTable(): LoadRequest {
  return request(orders([9]), {
    tables: [
      { table: 'orders', arrow: orders([9]) },
      { table: 'orders_rejects', arrow: new Uint8Array([1, 2, 3]) },
    ],
    runId: 'run-2',
  });
}

function request(arrow: Uint8Array, overrides: Partial<LoadRequest> = {}): LoadRequest {
  return {
    tables: [{ table: 'orders', arrow }],
    source: 'local/demo/sales',
    runId: 'run-1',
    sourceVersion: 'v1',
    loadedAt: new Date('2026-01-02T03:04:05Z'),
    ...overrides,
  };
}

describe('DuckDbWarehouse', () => {
  test('a table of many record batches is loaded in parts, every row once and in order', async () => {
    const batches = [[1, 2, 3], [4], [], [5, 6], [7, 8, 9, 10]].map(
      (amounts) => new Table({ amount: vectorFromArray(amounts, new Float64()) }),
    );
    const table = batches[0]!.concat(...batches.slice(1));
    const parted = new DuckDbWarehouse({ file: path.join(dir, 'parted.duckdb'), partRows: 2 });
    const [result] = await parted.load(request(writeArrowTable(table)));
    expect(result).toEqual({ table: 'orders', rowsLoaded: 10, rowsReplaced: 0 });
    const rows = await parted.query('SELECT amount FROM orders ORDER BY rowid');
    expect(rows.map((r) => r['amount'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test("a load in batches that are no row group's size leaves only the last row group partly filled", async () => {
    // The transformer's batches are ~131k rows; a part of one left a partly filled row group behind each
    // insert, which the next read-write opening's checkpoint rewrote (seconds at 1M rows).
    const sizes = Array.from({ length: 8 }, () => 131_500);
    const batches = sizes.map((n) => new Table({ amount: vectorFromArray(new Float64Array(n).fill(1)) }));
    await warehouse.load(request(writeArrowTable(batches[0]!.concat(...batches.slice(1)))));
    const [groups] = await warehouse.query(
      "SELECT count(DISTINCT row_group_id)::INT AS n FROM pragma_storage_info('orders')",
    );
    expect(groups).toEqual({ n: Math.ceil((8 * 131_500) / DUCKDB_ROW_GROUP_ROWS) });
  });

  test('loads rows with lineage columns', async () => {
    const [result] = await warehouse.load(request(orders([1, 2, 3])));
    expect(result).toEqual({ table: 'orders', rowsLoaded: 3, rowsReplaced: 0 });
    const rows = await warehouse.query(
      'SELECT amount, _source, _run_id, _source_version FROM orders ORDER BY amount',
    );
    expect(rows[0]).toEqual({
      amount: 1,
      _source: 'local/demo/sales',
      _run_id: 'run-1',
      _source_version: 'v1',
    });
  });

  test('loading the same source again replaces its rows instead of appending', async () => {
    await warehouse.load(request(orders([1, 2, 3])));
    const [again] = await warehouse.load(request(orders([1, 2, 3]), { runId: 'run-2' }));
    expect(again).toEqual({ table: 'orders', rowsLoaded: 3, rowsReplaced: 3 });
    expect(await warehouse.query('SELECT count(*)::INT AS n, max(_run_id) AS run FROM orders')).toEqual([
      { n: 3, run: 'run-2' },
    ]);
  });

  test('different sources share a table without touching each other', async () => {
    await warehouse.load(request(orders([1, 2])));
    await warehouse.load(request(orders([5]), { source: 'local/other/sales' }));
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM orders')).toEqual([{ n: 3 }]);
  });

  test('a failed load leaves the previous rows in place', async () => {
    await warehouse.load(request(orders([1, 2])));
    const broken = loadFailingAtItsSecondTable();
    await expect(warehouse.load(broken)).rejects.toThrow();
    expect(await warehouse.query('SELECT count(*)::INT AS n, max(_run_id) AS run FROM orders')).toEqual([
      { n: 2, run: 'run-1' },
    ]);
  });

  test('a column new in a later load is added', async () => {
    await warehouse.load(request(orders([1])));
    await warehouse.load(request(orders([2], ['hi']), { source: 'local/other/sales' }));
    expect(await warehouse.query('SELECT amount, note FROM orders ORDER BY amount')).toEqual([
      { amount: 1, note: null },
      { amount: 2, note: 'hi' },
    ]);
  });

  test('a whole-number column receiving fractions is widened, never rounded', async () => {
    const quantities = (values: bigint[] | number[], type: Int64 | Float64) =>
      writeArrowTable(new Table({ quantity: vectorFromArray(values, type) }));
    await warehouse.load(request(quantities([1n, 2n], new Int64())));
    await warehouse.load(request(quantities([2.5, 5.5], new Float64()), { runId: 'run-2' }));
    expect(await warehouse.query('SELECT quantity FROM orders ORDER BY quantity')).toEqual([
      { quantity: 2.5 },
      { quantity: 5.5 },
    ]);
    const [column] = await warehouse.query(
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'quantity'",
    );
    expect(column).toEqual({ data_type: 'DOUBLE' });
  });

  test('values that would need a lossy cast are refused with SCHEMA_CHANGED before anything is written', async () => {
    const days = writeArrowTable(
      new Table({ amount: vectorFromArray([new Date('2024-01-02T00:00:00Z')], new DateDay()) }),
    );
    await warehouse.load(request(days));
    const load = warehouse.load(request(orders([1.5]), { runId: 'run-2' }));
    await expect(load).rejects.toThrow(DataRejectedError);
    await expect(load).rejects.toMatchObject({
      code: 'SCHEMA_CHANGED',
      message: expect.stringMatching(
        /column amount is DATE in the warehouse, the load's values are DOUBLE; nothing was loaded\. .*a table of its own: etl run --table NAME/,
      ),
    });
    expect(await warehouse.query('SELECT count(*)::INT AS n, max(_run_id) AS run FROM orders')).toEqual([
      { n: 1, run: 'run-1' },
    ]);
  });

  test("each loaded table is recorded in _etl_tables with its columns and roles, replacing the dataset's row", async () => {
    const { source, loadedAt } = request(new Uint8Array());
    const rows = await loadAndReload(warehouse, { source, loadedAt });
    expect(rows).toEqual(expectedAfterReload(source, 'DOUBLE', '2026-01-02 03:04:05+00'));
  });

  test('a load that fails inside its transaction leaves the previous _etl_tables rows', async () => {
    const { error, rows } = await failLoadAfterRecording(warehouse, request(new Uint8Array()));
    expect(error).toBeInstanceOf(Error);
    // The second table fails after the first one's row was written in the same transaction.
    expect(String(error)).toMatch(/table returns cannot take this load/);
    expect(rows).toEqual([
      ['orders', 'run-1', amountRoles('amount')],
      ['returns', 'run-1', null],
    ]);
  });

  test('a value the table cannot hold (a narrower column made by hand) is 422 naming the table, not a 500', async () => {
    await warehouse.query(
      'CREATE TABLE orders (quantity INTEGER, _source VARCHAR, _run_id VARCHAR, _loaded_at TIMESTAMPTZ, _source_version VARCHAR)',
    );
    const big = writeArrowTable(new Table({ quantity: vectorFromArray([5_000_000_000n], new Int64()) }));
    await expect(warehouse.load(request(big))).rejects.toMatchObject({
      status: 422,
      code: 'LOAD_CONVERSION_FAILED',
      message: expect.stringMatching(/^table orders cannot hold a value of this load: .*nothing was loaded$/),
    });
    expect(await warehouse.query('SELECT count(*)::INT AS n FROM orders')).toEqual([{ n: 0 }]);
  });

  test('a wide table is inserted on one thread: 300 columns fit in 128 MB, where two threads ran out', async () => {
    const limited = new DuckDbWarehouse({
      file: path.join(dir, 'wide.duckdb'),
      settings: { memory_limit: '128MB', threads: '2' },
    });
    const [result] = await limited.load(
      request(wide(300, 3_000), { tables: [{ table: 'wide', arrow: wide(300, 3_000) }] }),
    );
    expect(result).toEqual({ table: 'wide', rowsLoaded: 3_000, rowsReplaced: 0 });
  });

  test('a load beyond WAREHOUSE_MEMORY_LIMIT is a 413 naming the limit, and the previous rows stay', async () => {
    const limited = new DuckDbWarehouse({
      file: path.join(dir, 'small.duckdb'),
      settings: { memory_limit: '64MB' },
    });
    const load = (rows: number) =>
      limited.load(request(wide(300, rows), { tables: [{ table: 'wide', arrow: wide(300, rows) }] }));
    await load(10);
    await expect(load(3_000)).rejects.toMatchObject({
      status: 413,
      code: 'WAREHOUSE_MEMORY_LIMIT_EXCEEDED',
      message: expect.stringMatching(
        /needs more memory than its limit \(WAREHOUSE_MEMORY_LIMIT = 64MB\).*nothing was written/,
      ),
    });
    expect(await limited.query('SELECT count(*)::INT AS n, min(c299) AS c FROM wide')).toEqual([
      { n: 10, c: 299 },
    ]);
  });

  test('query answers a DATE as YYYY-MM-DD (as BigQuery does), a TIMESTAMP as an ISO instant and a TIME as HH:MM:SS', async () => {
    const rows = await warehouse.query(
      "SELECT DATE '2023-02-01' AS day, TIMESTAMP '2023-02-01 13:45:00' AS at, CAST(NULL AS DATE) AS none, TIME '07:06:11' AS rung, TIME '23:59:59.25' AS late",
    );
    expect(rows).toEqual([
      {
        day: '2023-02-01',
        at: '2023-02-01T13:45:00.000Z',
        none: null,
        rung: '07:06:11',
        late: '23:59:59.250000',
      },
    ]);
  });

  test('an invalid table name is rejected before it reaches SQL', async () => {
    await expect(
      warehouse.load(
        request(orders([1]), { tables: [{ table: 'orders"; DROP TABLE x; --', arrow: orders([1]) }] }),
      ),
    ).rejects.toThrow(InvalidRequestError);
  });
});

describe('DuckDbWarehouse.session', () => {
  test("a session's operations share one opening; anyone else's wait for its end", async () => {
    const events: string[] = [];
    const session = warehouse.session(async () => {
      // A temporary table lives as long as the connection: the next query sees it only on the same one.
      await warehouse.query('CREATE TEMP TABLE opened AS SELECT 1 AS x');
      events.push('session: created');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await warehouse.load(request(orders([1, 2])));
      const rows = await warehouse.query('SELECT x FROM opened');
      events.push('session: read');
      return rows;
    });
    const outside = warehouse.query('SELECT count(*)::INT AS n FROM orders').then((rows) => {
      events.push('outside');
      return rows;
    });
    expect(await session).toEqual([{ x: 1 }]);
    expect(await outside).toEqual([{ n: 2 }]);
    expect(events).toEqual(['session: created', 'session: read', 'outside']);
    // Closed with the session: the next operation opens the file afresh.
    await expect(warehouse.query('SELECT x FROM opened')).rejects.toThrow(/opened/);
  });

  test('during a read-only session another process reads the file; during a read-write one it is locked out', async () => {
    await warehouse.load(request(orders([1, 2, 3])));
    const file = path.join(dir, 'warehouse.duckdb');
    // Another process, as `etl query` or the insights app opens the warehouse: read-only.
    const readElsewhere = () =>
      promisify(execFile)(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { DuckDBInstance } from '@duckdb/node-api';
           const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: 'READ_ONLY' });
           const rows = await (await db.connect()).runAndReadAll('SELECT count(*)::INT FROM orders');
           process.stdout.write(String(rows.getRows()[0][0]));`,
        ],
        { cwd: import.meta.dirname },
      ).then(
        ({ stdout }) => stdout,
        (error: { stderr?: string }) => `failed: ${error.stderr}`,
      );
    const during = (readOnly: boolean) =>
      warehouse.session(
        async () => {
          await warehouse.query('SELECT count(*) FROM orders');
          return readElsewhere();
        },
        { readOnly },
      );
    expect(await during(true)).toBe('3');
    expect(await during(false)).toMatch(/failed: .*lock/is);
    await expect(
      warehouse.session(() => warehouse.load(request(orders([4]))), { readOnly: true }),
    ).rejects.toThrow(/read-only/i);
  });

  test('a load failing inside a session is rolled back there, and the session goes on', async () => {
    await warehouse.load(request(orders([1, 2])));
    const broken = loadFailingAtItsSecondTable();
    const after = await warehouse.session(async () => {
      await expect(warehouse.load(broken)).rejects.toThrow();
      await warehouse.load(request(orders([5, 6, 7]), { runId: 'run-3' }));
      return warehouse.query('SELECT count(*)::INT AS n, max(_run_id) AS run FROM orders');
    });
    expect(after).toEqual([{ n: 3, run: 'run-3' }]);
  });
});

describe('a write-ahead log DuckDB cannot replay', () => {
  test('regression: every open failed ("Failure while replaying WAL", 500 on every load); now the WAL is moved aside with a warning and the warehouse reopens at its last checkpoint', async () => {
    const file = path.join(dir, 'warehouse.duckdb');
    await warehouse.load(request(orders([1, 2, 3])));
    // Rows committed to the WAL only (no checkpoint at close), as when a checkpoint cannot write on a full disk.
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    await connection.run('PRAGMA disable_checkpoint_on_shutdown');
    await connection.run("INSERT INTO orders (amount, _source) SELECT range, 'wal-only' FROM range(20000)");
    connection.closeSync();
    instance.closeSync();
    // The log is damaged in the middle (a torn write); DuckDB's checksums refuse it.
    const wal = `${file}.wal`;
    const { size } = await stat(wal);
    const handle = await open(wal, 'r+');
    await handle.write(Buffer.alloc(64, 0xff), 0, 64, Math.floor(size / 2));
    await handle.close();

    const lines: string[] = [];
    const logger = createLogger({
      name: 'test',
      level: 'warn',
      destination: { write: (line: string) => lines.push(line) },
    });
    const recovering = new DuckDbWarehouse({ file, logger });
    const rows = await recovering.query(
      'SELECT count(*) AS n, count(*) FILTER (WHERE _source = $1) AS wal FROM orders',
      ['wal-only'],
    );
    expect(rows).toEqual([{ n: 3, wal: 0 }]);
    const aside = (await readdir(dir)).filter((name) => name.startsWith('warehouse.duckdb.wal.unreadable-'));
    expect(aside).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      severity: 'WARNING',
      wal,
      movedTo: path.join(dir, aside[0]!),
    });
    expect(lines[0]).toMatch(
      /could not be replayed; moved it to .* and reopened the database at its last checkpoint/,
    );
    // Loads work again.
    await recovering.load(request(orders([4, 5]), { runId: 'run-2' }));
    expect(await recovering.query('SELECT count(*) AS n FROM orders')).toEqual([{ n: 2 }]);
  });
});
