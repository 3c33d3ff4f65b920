import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '@etl/common/http';
import { createLogger } from '@etl/common/logging';
import { LocalBlobStore } from '@etl/common/storage';
import { createWarehouse } from '@etl/common/warehouse';
import { createInsightsApp } from '@etl/insights/app';
import { resolveDataDir, UsageError } from '../args';

export const insightsUsage =
  'etl insights [--port N] [--host H] [--data-dir DIR]   (the insights web app; default port 8090)';

/** Starts the insights app in this process on the local warehouse (read-only) and blobs; Ctrl-C stops. */
export async function insightsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port expects an integer 0-65535, got ${JSON.stringify(values.port)}`);
  }
  const dataDir = resolveDataDir(values['data-dir']);
  const logger = createLogger({ name: 'insights', level: values['log-level'] });
  // Read-only: the app never writes, and loads from other processes are not blocked longer than a query.
  const warehouse = await createWarehouse({ ETL_MODE: 'local', ETL_DATA_DIR: dataDir }, { readOnly: true });
  const app = createInsightsApp({
    warehouse,
    store: new LocalBlobStore(path.join(dataDir, 'blobs')),
    logger,
  });
  const running = await startServer(app, values.host, port);
  process.stdout.write(
    `insights     ${running.url}/  (ML insights: ${running.url}/ml)\ndata from ${dataDir}; Ctrl-C stops\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  await warehouse.close();
  return 0;
}
