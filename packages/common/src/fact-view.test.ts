import { describe, expect, test } from 'vitest';
import { decideRelations, factViewFrom, keyCheckSql, relationCandidates, type ViewTable } from './fact-view';
import { type ColumnInfo, inferRoles } from './roles';
import { bigQueryDialect, duckDbDialect } from './warehouse/dialect';

const LINEAGE: ColumnInfo[] = [
  { name: '_source', type: 'VARCHAR' },
  { name: '_run_id', type: 'VARCHAR' },
  { name: '_loaded_at', type: 'TIMESTAMP WITH TIME ZONE' },
];

function table(name: string, columns: Record<string, string>): ViewTable {
  const list = [...Object.entries(columns).map(([n, type]) => ({ name: n, type })), ...LINEAGE];
  return { name, columns: list, roles: inferRoles(list) };
}

/** Walmart's files as loaded: weekly sales, dated features per store, one row per store. */
const train = table('walmart_train', {
  store: 'INTEGER',
  dept: 'INTEGER',
  date: 'DATE',
  weekly_sales: 'DOUBLE',
  is_holiday: 'BOOLEAN',
});
const features = table('walmart_features', {
  store: 'INTEGER',
  date: 'DATE',
  temperature: 'DOUBLE',
  is_holiday: 'BOOLEAN',
});
const stores = table('walmart_stores', {
  store: 'INTEGER',
  type: 'VARCHAR',
  size: 'INTEGER',
  size_outlier: 'BOOLEAN',
});

const unique = (candidate: number, rows = 45) => ({
  candidate,
  row_count: rows,
  distinct_keys: rows,
  keyed_rows: rows,
});

describe('relationCandidates', () => {
  test('Walmart: stores may lend its type on store; the dated features table is no dimension table', () => {
    const { candidates, notJoined } = relationCandidates(train, [features, stores, train]);
    // size is a number of the store, not a dimension, size_outlier the transformer's flag; store is the key.
    expect(candidates).toEqual([{ table: 'walmart_stores', keys: ['store'], dimensions: ['type'] }]);
    expect(notJoined).toEqual([
      {
        table: 'walmart_features',
        reason: 'walmart_features is dated (event time date), so it is not a dimension table',
      },
    ]);
  });

  test('a key needs the same name and kind on both sides; a name the fact table has is not lent', () => {
    const textStore = table('store_names', { store: 'VARCHAR', city: 'VARCHAR' });
    const sameNames = table('holidays', { is_holiday: 'BOOLEAN', label: 'VARCHAR' });
    const nothingNew = table('store_depts', { store: 'INTEGER', dept: 'INTEGER' });
    const { candidates, notJoined } = relationCandidates(train, [textStore, sameNames, nothingNew]);
    expect(candidates).toEqual([]);
    expect(notJoined.map((n) => n.reason)).toEqual([
      'store_names shares no integer or text column of the same name and kind with walmart_train (same names: store)',
      'holidays shares no integer or text column of the same name and kind with walmart_train (same names: is_holiday)',
      'store_depts has no dimension column that walmart_train does not already have',
    ]);
  });
});

describe('decideRelations', () => {
  const { candidates } = relationCandidates(train, [stores]);

  test('a key unique and never NULL in the related table joins it', () => {
    expect(decideRelations('walmart_train', candidates, [unique(0)])).toEqual({
      relations: [{ table: 'walmart_stores', key: 'store', dimensions: ['type'] }],
      notJoined: [],
    });
  });

  test.each([
    [
      { candidate: 0, row_count: 46, distinct_keys: 45, keyed_rows: 46 },
      'store is not unique (46 rows, 45 distinct values)',
    ],
    [{ candidate: 0, row_count: 46, distinct_keys: 45, keyed_rows: 45 }, 'store is NULL in 1 of 46 rows'],
    [{ candidate: 0, row_count: 0, distinct_keys: 0, keyed_rows: 0 }, 'store has no rows'],
  ])('a key that is not certain is not joined: %o', (row, why) => {
    expect(decideRelations('walmart_train', candidates, [row])).toEqual({
      relations: [],
      notJoined: [
        {
          table: 'walmart_stores',
          reason: `walmart_stores has no key certain to match one row per row of walmart_train: ${why}`,
        },
      ],
    });
  });

  test('a column two tables lend is lent by the first only', () => {
    const regions = table('store_regions', { store: 'INTEGER', type: 'VARCHAR' });
    const both = relationCandidates(train, [stores, regions]).candidates;
    expect(decideRelations('walmart_train', both, [unique(0), unique(1)])).toEqual({
      relations: [{ table: 'walmart_stores', key: 'store', dimensions: ['type'] }],
      notJoined: [
        { table: 'store_regions', reason: 'store_regions lends no column another table does not lend' },
      ],
    });
  });
});

describe('SQL', () => {
  const relations = [{ table: 'walmart_stores', key: 'store', dimensions: ['type'] }];

  test('the key check counts rows, distinct and non-NULL keys of the dataset', () => {
    const { candidates } = relationCandidates(train, [stores]);
    expect(keyCheckSql(bigQueryDialect, candidates)?.replace(/\s+/g, ' ')).toBe(
      'SELECT 0 AS candidate, count(*) AS row_count, count(DISTINCT `store`) AS distinct_keys, count(`store`) AS keyed_rows FROM `walmart_stores` WHERE _source = $1',
    );
    expect(keyCheckSql(bigQueryDialect, [])).toBeUndefined();
  });

  test('the fact table alone unless a lent dimension is used; then a LEFT JOIN on the key and the dataset', () => {
    expect(factViewFrom(duckDbDialect, train, relations, ['store'])).toBe('"walmart_train"');
    expect(factViewFrom(bigQueryDialect, train, relations, ['store', 'type'])).toBe(
      '(SELECT f.*, r0.`type` FROM `walmart_train` AS f LEFT JOIN `walmart_stores` AS r0 ON r0.`store` = f.`store` AND r0._source = f._source) AS fact_view',
    );
  });

  test('an event log reads only its sales rows, alone and joined', () => {
    const events = table('events', {
      event_time: 'TIMESTAMP',
      event_type: 'VARCHAR',
      store: 'INTEGER',
      price: 'DOUBLE',
    });
    const sales = {
      column: 'event_type',
      mode: 'only' as const,
      values: ['purchase'],
      rows: 4,
      otherRows: 40,
      evidence: '',
    };
    const log = { ...events, roles: { ...events.roles, sales } };
    expect(factViewFrom(duckDbDialect, log, relations, [])).toBe(
      `(SELECT * FROM "events" WHERE "event_type" IN ('purchase')) AS "events"`,
    );
    expect(factViewFrom(bigQueryDialect, log, relations, ['type'])).toBe(
      "(SELECT f.*, r0.`type` FROM (SELECT * FROM `events` WHERE `event_type` IN ('purchase')) AS f LEFT JOIN `walmart_stores` AS r0 ON r0.`store` = f.`store` AND r0._source = f._source) AS fact_view",
    );
  });
});
