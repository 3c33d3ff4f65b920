/**
 * The fake GCS and BigQuery servers together, as local emulators (load jobs read the fake bucket):
 *   pnpm exec tsx test/fakes/bigquery/serve.ts --gcs-port 4443 --bigquery-port 9050 \
 *     --project demo --bucket etl-dev --dataset sales
 * then run the services with
 *   ETL_MODE=gcp GCP_PROJECT=demo ETL_BUCKET=etl-dev BIGQUERY_DATASET=sales \
 *   GCS_API_ENDPOINT=http://127.0.0.1:4443 BIGQUERY_API_ENDPOINT=http://127.0.0.1:9050
 * Everything lives in memory (and a temporary DuckDB file) until the process stops.
 */
import { parseArgs } from 'node:util';
import { startFakeGcs } from '../gcs/fake-gcs-server';
import { startFakeBigQuery } from './fake-bigquery-server';

const { values } = parseArgs({
  options: {
    'gcs-port': { type: 'string', default: '4443' },
    'bigquery-port': { type: 'string', default: '9050' },
    host: { type: 'string', default: '127.0.0.1' },
    project: { type: 'string', default: 'demo' },
    bucket: { type: 'string', multiple: true, default: ['etl-dev'] },
    dataset: { type: 'string', multiple: true, default: ['sales'] },
    location: { type: 'string', default: 'US' },
  },
});
const gcs = await startFakeGcs({
  buckets: values.bucket,
  port: Number(values['gcs-port']),
  host: values.host,
});
const bigquery = await startFakeBigQuery({
  gcs,
  projectId: values.project,
  datasets: values.dataset,
  location: values.location,
  port: Number(values['bigquery-port']),
  host: values.host,
});
console.log(`fake GCS on ${gcs.url} (buckets ${values.bucket.join(', ')})`);
console.log(
  `fake BigQuery on ${bigquery.url} (project ${values.project}, datasets ${values.dataset.join(', ')})`,
);
const stop = () => void Promise.all([bigquery.close(), gcs.close()]).then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
