import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Schema,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type FakeBigQuery, startFakeBigQuery } from '../../../../test/fakes/bigquery/fake-bigquery-server';
import { type FakeGcs, startFakeGcs } from '../../../../test/fakes/gcs/fake-gcs-server';
import { writeArrowTable } from '../arrow';
import { baseConfigSchema, parseConfig } from '../config';
import {
  DataRejectedError,
  InvalidRequestError,
  PipelineError,
  QueryBytesLimitError,
  QueryTimeoutError,
} from '../errors';
import { GcsBlobStore } from '../storage/gcs-blob-store';
import { arrowToBigQuerySchema } from './arrow-to-bigquery-schema';
import { BigQueryWarehouse, dollarToNamed } from './bigquery-warehouse';
import { createWarehouse } from './create-warehouse';
import {
  amountRoles,
  expectedAfterReload,
  failLoadAfterRecording,
  loadAndReload,
} from './table-metadata-test-support';
import type { LoadRequest } from './warehouse';

let gcs: FakeGcs;
let bq: FakeBigQuery;
let warehouse: BigQueryWarehouse;

beforeEach(async () => {
  gcs = await startFakeGcs({ buckets: ['etl'] });
  bq = await startFakeBigQuery({ gcs, projectId: 'test-project', datasets: ['sales'] });
  const store = new GcsBlobStore({
    bucket: 'etl',
    projectId: 'test-project',
    apiEndpoint: gcs.url,
    retry: { maxRetries: 3, maxRetryDelayMs: 1000, retryDelayMultiplier: 0.01 },
  });
  warehouse = new BigQueryWarehouse({
    projectId: 'test-project',
    dataset: 'sales',
    location: 'US',
    apiEndpoint: bq.url,
    store,
    retry: { maxRetries: 3, maxRetryDelayMs: 10 },
    poll: { initialDelayMs: 2, maxDelayMs: 10 },
  });
});
afterEach(async () => {
  await warehouse.close();
  await bq.close();
  await gcs.close();
});

function orders(amounts: number[], extra?: string[]): Uint8Array {
  const columns: Record<string, Vector> = { amount: vectorFromArray(amounts, new Float64()) };
  if (extra) columns.note = vectorFromArray(extra, new Utf8());
  return writeArrowTable(new Table(columns));
}

function request(arrow: Uint8Array, overrides: Partial<LoadRequest> = {}): LoadRequest {
  return {
    tables: [{ table: 'orders', arrow }],
    source: 'kaggle/demo/sales',
    runId: 'run-1',
    sourceVersion: 'v1',
    loadedAt: new Date('2026-01-02T03:04:05Z'),
    ...overrides,
  };
}

const jobInserts = () => bq.requests.filter((r) => r.kind === 'jobs.insert');
const loadJobs = () => [...bq.jobs.values()].filter((j) => j.configuration.load);
const scriptJobs = () =>
  [...bq.jobs.values()].filter((j) => j.configuration.query?.query.includes('BEGIN TRANSACTION'));

describe('BigQueryWarehouse (against the fake BigQuery and GCS servers)', () => {
  test('a local Arrow file is staged in Parquet parts, loaded by one job in row order, the parts dropped', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bq-parts-'));
    try {
      const file = path.join(dir, 'orders.arrow');
      const parts = [1, 2, 3].map(
        (k) => new Table({ amount: vectorFromArray([k * 10, k * 10 + 1], new Float64()) }),
      );
      await writeFile(file, writeArrowTable(new Table(parts.flatMap((t) => t.batches))));
      const small = new BigQueryWarehouse({
        projectId: 'test-project',
        dataset: 'sales',
        apiEndpoint: bq.url,
        store: new GcsBlobStore({ bucket: 'etl', projectId: 'test-project', apiEndpoint: gcs.url }),
        partRows: 2,
        poll: { initialDelayMs: 2, maxDelayMs: 10 },
      });
      const [result] = await small.load({
        ...request(orders([])),
        tables: [{ table: 'orders', arrow: { path: file } }],
      });
      expect(result).toEqual({ table: 'orders', rowsLoaded: 6, rowsReplaced: 0 });
      const [load] = loadJobs();
      expect(load?.configuration.load?.sourceUris).toEqual(
        [0, 1, 2].map((i) => `gs://etl/staging/run-1/orders/part-0000${i}.parquet`),
      );
      const rows = await small.query('SELECT amount FROM orders ORDER BY amount');
      expect(rows.map((r) => r['amount'])).toEqual([10, 11, 20, 21, 30, 31]);
      expect([...gcs.objects.keys()].filter((k) => k.includes('staging/'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing dataset is a typed error naming it, and nothing is loaded', async () => {
    const missing = new BigQueryWarehouse({
      projectId: 'test-project',
      dataset: 'no_such_dataset',
      location: 'US',
      apiEndpoint: bq.url,
      store: new GcsBlobStore({ bucket: 'etl', projectId: 'test-project', apiEndpoint: gcs.url }),
      retry: { maxRetries: 1, maxRetryDelayMs: 10 },
      poll: { initialDelayMs: 2, maxDelayMs: 10 },
    });
    const failure = missing.load(request(orders([1, 2])));
    await expect(failure).rejects.toBeInstanceOf(PipelineError);
    await expect(failure).rejects.toThrow(/no_such_dataset/);
    expect(scriptJobs()).toEqual([]);
  });

  test('first load: Parquet staged, loaded with an explicit schema, merged with lineage, staging dropped', async () => {
    const [result] = await warehouse.load(request(orders([1, 2, 3])));
    expect(result).toEqual({ table: 'orders', rowsLoaded: 3, rowsReplaced: 0 });

    const [load] = loadJobs();
    expect(load?.jobId).toMatch(/^etl_load_run_1_orders_[0-9a-f]{12}$/);
    expect(load?.configuration.load).toMatchObject({
      sourceUris: ['gs://etl/staging/run-1/orders/part-00000.parquet'],
      sourceFormat: 'PARQUET',
      writeDisposition: 'WRITE_TRUNCATE',
      destinationTable: { projectId: 'test-project', datasetId: 'sales', tableId: 'orders__stage_run_1' },
      schema: { fields: [{ name: 'amount', type: 'FLOAT', mode: 'NULLABLE' }] },
    });
    expect(load?.outputRows).toBe(3);
    expect(scriptJobs()).toHaveLength(1);
    expect(scriptJobs()[0]?.jobId).toMatch(/^etl_replace_run_1_[0-9a-f]{12}$/);

    const rows = await warehouse.query(
      'SELECT amount, _source, _run_id, _loaded_at, _source_version FROM orders ORDER BY amount',
    );
    expect(rows[0]).toEqual({
      amount: 1,
      _source: 'kaggle/demo/sales',
      _run_id: 'run-1',
      _loaded_at: '2026-01-02T03:04:05.000Z',
      _source_version: 'v1',
    });
    // The target has the data columns plus the lineage columns; the stage table and object are gone; the
    // load is recorded in _etl_tables.
    expect(await bq.tables('sales')).toEqual(['_etl_tables', 'orders']);
    expect([...gcs.objects.keys()].filter((k) => k.includes('staging/'))).toEqual([]);
  });

  test('a new target table is created partitioned and clustered as the profile says', async () => {
    const table = new Table({
      order_date: vectorFromArray([19000, 19001], new DateDay()),
      region: vectorFromArray(['West', 'East'], new Utf8()),
      amount: vectorFromArray([1, 2], new Float64()),
    });
    await warehouse.load(
      request(writeArrowTable(table), {
        tables: [
          {
            table: 'orders',
            arrow: writeArrowTable(table),
            partitionBy: 'order_date',
            clusterBy: ['region'],
          },
        ],
      }),
    );
    const inserts = bq.requests.filter((r) => r.kind === 'tables.insert');
    const created = inserts
      .map((r) => r.body as Record<string, unknown>)
      .find((b) => JSON.stringify(b).includes('"orders"'));
    expect(created).toMatchObject({
      timePartitioning: { type: 'DAY', field: 'order_date' },
      clustering: { fields: ['region'] },
    });
  });

  test('loading the same source again replaces its rows instead of appending', async () => {
    await warehouse.load(request(orders([1, 2, 3])));
    const [again] = await warehouse.load(request(orders([4, 5, 6]), { runId: 'run-2' }));
    expect(again).toEqual({ table: 'orders', rowsLoaded: 3, rowsReplaced: 3 });
    expect(
      await warehouse.query('SELECT COUNT(*) AS n, MAX(_run_id) AS run, SUM(amount) AS total FROM orders'),
    ).toEqual([{ n: 3, run: 'run-2', total: 15 }]);
  });

  test('different sources share a table without touching each other', async () => {
    await warehouse.load(request(orders([1, 2])));
    const [other] = await warehouse.load(
      request(orders([5]), { source: 'kaggle/other/sales', runId: 'run-2' }),
    );
    expect(other?.rowsReplaced).toBe(0);
    expect(
      await warehouse.query('SELECT _source, COUNT(*) AS n FROM orders GROUP BY _source ORDER BY _source'),
    ).toEqual([
      { _source: 'kaggle/demo/sales', n: 2 },
      { _source: 'kaggle/other/sales', n: 1 },
    ]);
  });

  test('all tables of a request are replaced in one transaction (one script job)', async () => {
    const results = await warehouse.load(
      request(orders([1]), {
        tables: [
          { table: 'orders', arrow: orders([1, 2]) },
          { table: 'returns', arrow: orders([3]) },
        ],
      }),
    );
    expect(results.map((r) => [r.table, r.rowsLoaded])).toEqual([
      ['orders', 2],
      ['returns', 1],
    ]);
    expect(scriptJobs()).toHaveLength(1);
    expect(scriptJobs()[0]?.configuration.query?.query).toMatch(
      /BEGIN TRANSACTION;[\s\S]*orders[\s\S]*returns[\s\S]*COMMIT TRANSACTION;/,
    );
  });

  test("each loaded table is recorded in _etl_tables in the load's script, replacing the dataset's row", async () => {
    const { source, loadedAt } = request(new Uint8Array());
    const rows = await loadAndReload(warehouse, { source, loadedAt });
    expect(scriptJobs()).toHaveLength(3);
    expect(rows).toEqual(expectedAfterReload(source, 'FLOAT', '2026-01-02 03:04:05+00'));
  });

  test('a script that fails leaves the previous _etl_tables rows', async () => {
    const { error, rows } = await failLoadAfterRecording(warehouse, request(new Uint8Array()));
    expect(error).toBeInstanceOf(PipelineError);
    expect(rows).toEqual([
      ['orders', 'run-1', amountRoles('amount')],
      ['returns', 'run-1', null],
    ]);
  });

  test('a retried load (same run and input) never loads twice: the jobs are adopted', async () => {
    const first = await warehouse.load(request(orders([1, 2, 3])));
    const second = await warehouse.load(request(orders([1, 2, 3])));
    expect(second).toEqual(first);
    // Two jobs in total, each inserted twice: the second insert answered 409 and the job was adopted.
    expect(bq.jobs.size).toBe(2);
    expect(jobInserts().map((r) => r.status)).toEqual([200, 200, 409, 409]);
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: 3 }]);
  });

  test('a jobs.insert whose response is lost is retried by the client, answered 409 and adopted', async () => {
    bq.inject({ kind: 'loseResponse', method: 'POST', path: /\/jobs\?/, times: 1 });
    const [result] = await warehouse.load(request(orders([1, 2])));
    expect(result).toEqual({ table: 'orders', rowsLoaded: 2, rowsReplaced: 0 });
    expect(loadJobs()).toHaveLength(1);
    expect(jobInserts().map((r) => r.status)).toEqual([0, 409, 200]);
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: 2 }]);
  });

  test('a 503 storm on jobs.insert is retried by the client', async () => {
    bq.inject({ kind: 'status', status: 503, method: 'POST', path: /\/jobs\?/, times: 2 });
    await warehouse.load(request(orders([1])));
    expect(jobInserts().map((r) => r.status)).toEqual([503, 503, 200, 200]);
    expect(bq.jobs.size).toBe(2);
  });

  test('row errors of a load job are surfaced naming the table and the job; old rows stay', async () => {
    await warehouse.load(request(orders([1, 2])));
    bq.inject({
      kind: 'loadErrors',
      table: 'orders__stage_run_2',
      errors: [
        {
          reason: 'invalid',
          message: 'Error while reading data, error message: row 3: amount is not a FLOAT',
        },
        { reason: 'invalid', message: 'row 7: amount is not a FLOAT' },
      ],
    });
    const failed = warehouse.load(request(orders([9]), { runId: 'run-2' }));
    await expect(failed).rejects.toThrow(DataRejectedError);
    await expect(failed).rejects.toThrow(
      /job etl_load_run_2_orders_[0-9a-f]{12} for orders failed: invalid: .*row 3.*; invalid: row 7/,
    );
    expect(await warehouse.query('SELECT COUNT(*) AS n, MAX(_run_id) AS run FROM orders')).toEqual([
      { n: 2, run: 'run-1' },
    ]);
  });

  test('a job that failed transiently is retried under a fresh id when the call is retried', async () => {
    bq.inject({
      kind: 'loadErrors',
      errors: [{ reason: 'backendError', message: 'Backend error, try again' }],
    });
    const first = warehouse.load(request(orders([1, 2])));
    await expect(first).rejects.toMatchObject({ status: 503, retryable: true });
    await expect(first).rejects.toThrow(/backendError: Backend error/);
    const [result] = await warehouse.load(request(orders([1, 2])));
    expect(result?.rowsLoaded).toBe(2);
    expect(
      loadJobs().map((j) => [j.jobId.replace(/_[0-9a-f]{12}/, '_<hash>'), j.errors ? 'failed' : 'ok']),
    ).toEqual([
      ['etl_load_run_1_orders_<hash>', 'failed'],
      ['etl_load_run_1_orders_<hash>_a1', 'ok'],
    ]);
  });

  test('a column new in a later load is added to the target table', async () => {
    await warehouse.load(request(orders([1])));
    await warehouse.load(request(orders([2], ['hi']), { source: 'kaggle/other/sales', runId: 'run-2' }));
    expect(await warehouse.query('SELECT amount, note FROM orders ORDER BY amount')).toEqual([
      { amount: 1, note: null },
      { amount: 2, note: 'hi' },
    ]);
  });

  test('an INT64 column receiving fractions is widened to FLOAT64 before the replace, never rounded', async () => {
    const quantities = (values: bigint[] | number[], type: Int64 | Float64) =>
      writeArrowTable(new Table({ quantity: vectorFromArray(values, type) }));
    await warehouse.load(request(quantities([1n, 2n], new Int64())));
    await warehouse.load(request(quantities([2.5, 5.5], new Float64()), { runId: 'run-2' }));
    expect(await warehouse.query('SELECT quantity FROM orders ORDER BY quantity')).toEqual([
      { quantity: 2.5 },
      { quantity: 5.5 },
    ]);
    const [column] = await warehouse.query(
      "SELECT data_type FROM INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'orders' AND column_name = 'quantity'",
    );
    expect(column).toEqual({ data_type: 'FLOAT64' });
  });

  test('a type change that would be lossy is refused before any object is staged or job runs', async () => {
    const days = writeArrowTable(
      new Table({ amount: vectorFromArray([new Date('2024-01-02T00:00:00Z')], new DateDay()) }),
    );
    await warehouse.load(request(days));
    const jobsBefore = bq.jobs.size;
    const load = warehouse.load(request(orders([1.5]), { runId: 'run-2' }));
    await expect(load).rejects.toMatchObject({
      status: 422,
      code: 'SCHEMA_CHANGED',
      message: expect.stringMatching(/column amount is DATE in the warehouse, the load's values are FLOAT/),
    });
    expect(bq.jobs.size).toBe(jobsBefore);
    expect([...gcs.objects.keys()].filter((k) => k.includes('staging/run-2'))).toEqual([]);
    expect(await warehouse.query('SELECT count(*) AS n, max(_run_id) AS run FROM orders')).toEqual([
      { n: 1, run: 'run-1' },
    ]);
  });

  test('every mapped Arrow type round-trips through a load', async () => {
    const table = new Table({
      id: vectorFromArray([1n, 2n], new Int64()),
      price: vectorFromArray([1.5, 2.25], new Float64()),
      name: vectorFromArray(['a', 'b'], new Utf8()),
      day: vectorFromArray(
        [new Date('2026-01-02T00:00:00Z'), new Date('2026-01-03T00:00:00Z')],
        new DateDay(),
      ),
      ordered_at: vectorFromArray(
        [Date.parse('2026-01-02T03:04:05Z'), Date.parse('2026-01-03T03:04:05Z')],
        new TimestampMicrosecond('UTC'),
      ),
      paid: vectorFromArray([true, false], new Bool()),
      rung_at: vectorFromArray([47_280_000_000n, 37_740_250_000n], new TimeMicrosecond()),
    });
    await warehouse.load(
      request(writeArrowTable(table), { tables: [{ table: 'typed', arrow: writeArrowTable(table) }] }),
    );
    expect(loadJobs()[0]?.configuration.load?.schema?.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:INTEGER',
      'price:FLOAT',
      'name:STRING',
      'day:DATE',
      'ordered_at:TIMESTAMP',
      'paid:BOOLEAN',
      'rung_at:TIME',
    ]);
    expect(
      await warehouse.query('SELECT id, price, name, day, ordered_at, paid, rung_at FROM typed ORDER BY id'),
    ).toEqual([
      {
        id: 1,
        price: 1.5,
        name: 'a',
        day: '2026-01-02',
        ordered_at: '2026-01-02T03:04:05.000Z',
        paid: true,
        rung_at: '13:08:00',
      },
      {
        id: 2,
        price: 2.25,
        name: 'b',
        day: '2026-01-03',
        ordered_at: '2026-01-03T03:04:05.000Z',
        paid: false,
        rung_at: '10:29:00.250000',
      },
    ]);
  });

  test('column names in other scripts (BigQuery flexible column names) load and read back', async () => {
    const table = new Table({
      дата: vectorFromArray(['2026-01-02'], new Utf8()),
      销售额: vectorFromArray([12.5], new Float64()),
      주문_일자: vectorFromArray(['x'], new Utf8()),
    });
    await warehouse.load(
      request(writeArrowTable(table), { tables: [{ table: 'unicode', arrow: writeArrowTable(table) }] }),
    );
    expect(loadJobs()[0]?.configuration.load?.schema?.fields.map((f) => f.name)).toEqual([
      'дата',
      '销售额',
      '주문_일자',
    ]);
    expect(await warehouse.query('SELECT `дата`, `销售额`, `주문_일자` FROM unicode')).toEqual([
      { дата: '2026-01-02', 销售额: 12.5, 주문_일자: 'x' },
    ]);
  });

  test('query binds $n parameters (as in DuckDB) and named parameters', async () => {
    await warehouse.load(request(orders([1, 2, 3])));
    expect(
      await warehouse.query('SELECT COUNT(*) AS n FROM orders WHERE amount > $1 AND _source = $2', [
        1,
        'kaggle/demo/sales',
      ]),
    ).toEqual([{ n: 2 }]);
    expect(
      await warehouse.query('SELECT COUNT(*) AS n FROM orders WHERE amount < @max', [{ max: 3 }]),
    ).toEqual([{ n: 2 }]);
    expect(dollarToNamed("SELECT '$1' AS a, $1 AS b, `$2` FROM t WHERE x = $12")).toBe(
      "SELECT '$1' AS a, @p1 AS b, `$2` FROM t WHERE x = @p12",
    );
  });

  test('every query job carries maximumBytesBilled and jobTimeoutMs (defaults: 10 GiB, 30 s)', async () => {
    await warehouse.load(request(orders([1, 2, 3])));
    await warehouse.query('SELECT COUNT(*) AS n FROM orders WHERE amount > $1', [1]);
    const [job] = [...bq.jobs.values()].filter((j) => j.configuration.query?.query.includes('amount > @p1'));
    expect(job?.configuration).toMatchObject({
      query: { maximumBytesBilled: String(10 * 1024 ** 3) },
      jobTimeoutMs: '30000',
    });
    // The load's own jobs are not capped: a cap there would fail a load half-way.
    expect(scriptJobs()[0]?.configuration.query?.maximumBytesBilled).toBeUndefined();
  });

  test('a query over the bytes-billed cap is a 413 naming the cap and its variable', async () => {
    const capped = new BigQueryWarehouse({
      projectId: 'test-project',
      dataset: 'sales',
      apiEndpoint: bq.url,
      store: new GcsBlobStore({ bucket: 'etl', projectId: 'test-project', apiEndpoint: gcs.url }),
      queryLimits: { maxBytesBilled: 20 * 1024 * 1024 },
    });
    await warehouse.load(request(orders([1, 2, 3])));
    bq.inject({ kind: 'bytesBilled', bytes: 3 * 1024 ** 3, query: 'FROM orders' });
    const failure = capped.query('SELECT SUM(amount) AS total FROM orders');
    await expect(failure).rejects.toBeInstanceOf(QueryBytesLimitError);
    await expect(failure).rejects.toMatchObject({
      status: 413,
      code: 'QUERY_BYTES_LIMIT',
      retryable: false,
      message: expect.stringMatching(/more than the cap of 20971520 bytes \(BIGQUERY_MAX_BYTES_BILLED\)/),
    });
    // The same query under the cap (BigQuery's 10 MB minimum bill) runs.
    expect(await capped.query('SELECT SUM(amount) AS total FROM orders')).toEqual([{ total: 6 }]);
  });

  test('a query past its timeout is cancelled by BigQuery: a 504 naming the timeout and its variable', async () => {
    const quick = new BigQueryWarehouse({
      projectId: 'test-project',
      dataset: 'sales',
      apiEndpoint: bq.url,
      store: new GcsBlobStore({ bucket: 'etl', projectId: 'test-project', apiEndpoint: gcs.url }),
      queryLimits: { timeoutMs: 1000 },
    });
    bq.inject({ kind: 'delay', ms: 5000 });
    const started = Date.now();
    const failure = quick.query('SELECT 1 AS one');
    await expect(failure).rejects.toBeInstanceOf(QueryTimeoutError);
    await expect(failure).rejects.toMatchObject({
      status: 504,
      code: 'QUERY_TIMEOUT',
      message: expect.stringMatching(/ran longer than 1000 ms \(BIGQUERY_QUERY_TIMEOUT_MS\)/),
    });
    expect(Date.now() - started).toBeLessThan(4000); // cancelled at the timeout, not after the delay
  });

  test('invalid table names and unmappable columns are rejected before anything is staged', async () => {
    await expect(
      warehouse.load(
        request(orders([1]), { tables: [{ table: 'orders`; DROP TABLE x; --', arrow: orders([1]) }] }),
      ),
    ).rejects.toThrow(InvalidRequestError);
    const nested = new Table({ tags: vectorFromArray([[1, 2]], new List(new Field('item', new Int32()))) });
    await expect(warehouse.load(request(writeArrowTable(nested)))).rejects.toThrow(
      /column tags of table orders has Arrow type List/,
    );
    expect(gcs.objects.size).toBe(0);
    expect(bq.jobs.size).toBe(0);
  });
});

describe('arrowToBigQuerySchema', () => {
  test('maps the transformer types and rejects lineage-name collisions', () => {
    const schema = new Schema([
      new Field('a', new Int64()),
      new Field('b', new Float64()),
      new Field('c', new Utf8()),
      new Field('d', new DateDay()),
      new Field('e', new TimestampMicrosecond()),
      new Field('f', new Bool()),
      new Field('g', new TimeMicrosecond()),
    ]);
    expect(arrowToBigQuerySchema('t', schema).map((f) => f.type)).toEqual([
      'INTEGER',
      'FLOAT',
      'STRING',
      'DATE',
      'TIMESTAMP',
      'BOOLEAN',
      'TIME',
    ]);
    expect(() => arrowToBigQuerySchema('t', new Schema([new Field('_source', new Utf8())]))).toThrow(
      /collides with a lineage column/,
    );
    expect(() => arrowToBigQuerySchema('t', new Schema([new Field('bad name', new Utf8())]))).toThrow(
      /not a valid BigQuery column name/,
    );
  });
});

describe('createWarehouse in gcp mode', () => {
  test('builds a BigQueryWarehouse from config, pointed at the fakes with a fixed-token client', async () => {
    const config = parseConfig(baseConfigSchema, {
      ETL_MODE: 'gcp',
      GCP_PROJECT: 'test-project',
      GCP_REGION: 'US',
      ETL_BUCKET: 'etl',
      BIGQUERY_DATASET: 'sales',
      GCS_API_ENDPOINT: gcs.url,
      BIGQUERY_API_ENDPOINT: bq.url,
    });
    const fromConfig = await createWarehouse({
      ...config,
      BIGQUERY_MAX_BYTES_BILLED: 50 * 1024 * 1024,
      BIGQUERY_QUERY_TIMEOUT_MS: 12_000,
    });
    expect(fromConfig).toBeInstanceOf(BigQueryWarehouse);
    expect(fromConfig.location).toBe('bigquery://test-project/sales');
    expect(fromConfig.dialect.name).toBe('bigquery');
    expect((fromConfig as BigQueryWarehouse).queryLimits).toEqual({
      maxBytesBilled: 50 * 1024 * 1024,
      timeoutMs: 12_000,
    });
    expect(await fromConfig.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(bq.requests.at(-1)?.authorization).toMatch(/^Bearer /);
  });

  test('the query limits are config with defaults; a cap under 10 MiB is refused', () => {
    const base = { ETL_MODE: 'gcp', GCP_PROJECT: 'p', ETL_BUCKET: 'etl', BIGQUERY_DATASET: 'd' };
    expect(parseConfig(baseConfigSchema, base)).toMatchObject({
      BIGQUERY_MAX_BYTES_BILLED: 10 * 1024 ** 3,
      BIGQUERY_QUERY_TIMEOUT_MS: 30_000,
    });
    expect(() => parseConfig(baseConfigSchema, { ...base, BIGQUERY_MAX_BYTES_BILLED: '1000' })).toThrow(
      /BIGQUERY_MAX_BYTES_BILLED/,
    );
  });

  test('gcp mode without its settings fails at config time, naming them', () => {
    expect(() => parseConfig(baseConfigSchema, { ETL_MODE: 'gcp' })).toThrow(
      /GCP_PROJECT: required when ETL_MODE=gcp[\s\S]*ETL_BUCKET[\s\S]*BIGQUERY_DATASET/,
    );
  });
});
