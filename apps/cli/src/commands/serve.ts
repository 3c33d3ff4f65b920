import { parseArgs } from 'node:util';
import { resolveDataDir } from '../args';
import { startServices } from '../services';

export const serveUsage =
  'etl serve [--port N] [--host H] [--data-dir DIR]   (ports N, N+1, N+2; default 8081)';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const services = await startServices({
    dataDir: resolveDataDir(values['data-dir']),
    basePort: Number(values.port),
    host: values.host,
  });
  for (const s of services.services) process.stdout.write(`${s.name.padEnd(12)} ${s.url}\n`);
  process.stdout.write(`logs in ${services.logDir}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    for (const s of services.services) s.child.once('exit', () => resolve());
  });
  await services.stop();
  return 0;
}
