import { parseArgs } from 'node:util';
import { resolveDataDir } from '../args';
import { recordServed } from '../served-services';
import { ServiceDiedError, type ServiceExit } from '../service-exit';
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
  const dataDir = resolveDataDir(values['data-dir']);
  const services = await startServices({
    dataDir,
    basePort: Number(values.port),
    host: values.host,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  for (const s of services.services) process.stdout.write(`${s.name.padEnd(12)} ${s.url} (pid ${s.pid})\n`);
  const unrecord = await recordServed(dataDir, services, process.env);
  process.stdout.write(
    `logs in ${services.logDir}; etl run on ${dataDir} uses these services; Ctrl-C stops\n`,
  );
  const died = await new Promise<ServiceExit | undefined>((resolve) => {
    process.once('SIGINT', () => resolve(undefined));
    process.once('SIGTERM', () => resolve(undefined));
    void services.died.then(resolve);
  });
  await unrecord();
  await services.stop();
  if (!died) return 0;
  process.stderr.write(`etl serve: ${(await ServiceDiedError.from(died)).message}\n`);
  return 1;
}
