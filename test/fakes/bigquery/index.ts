export {
  type FakeBigQuery,
  type FakeBigQueryFault,
  type FakeBigQueryField,
  type FakeBigQueryJob,
  type FakeBigQueryOptions,
  type FakeBigQueryRequest,
  type FakeJobError,
  startFakeBigQuery,
} from './fake-bigquery-server';
