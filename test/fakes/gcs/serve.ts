/**
 * The fake GCS server as a local emulator:
 *   pnpm exec tsx test/fakes/gcs/serve.ts --port 4443 --bucket etl-dev [--bucket another]
 * then run the services with ETL_MODE=gcp GCS_API_ENDPOINT=http://127.0.0.1:4443 ETL_BUCKET=etl-dev.
 * Objects live in memory until the process stops.
 */
import { parseArgs } from 'node:util';
import { startFakeGcs } from './fake-gcs-server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4443' },
    host: { type: 'string', default: '127.0.0.1' },
    bucket: { type: 'string', multiple: true, default: ['etl-dev'] },
  },
});
const gcs = await startFakeGcs({ buckets: values.bucket, port: Number(values.port), host: values.host });
console.log(`fake GCS listening on ${gcs.url} with bucket(s) ${values.bucket.join(', ')}`);
const stop = () => void gcs.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
