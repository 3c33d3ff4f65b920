/**
 * `etl run` on the services of a running `etl serve`: `etl serve` records them in `<data-dir>/serve.json`,
 * and a run on the same data dir uses them instead of starting its own, when they run the same code with
 * the same settings. A 100-row run then starts no process but its own: the services' start-up was ~0.9 s
 * of it, and warm services also answer faster (bench/RESULTS.md).
 *
 * Same code: each service runs the bundle build that is fresh now. Same settings: every variable the
 * services read (their config schemas) has the value it has in the run's environment; serve.json keeps a
 * digest of each, never the value, so a secret stays out of the file. Otherwise the run starts its own
 * services, and says why.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '@etl/common/lifecycle';
import { extractorConfigSchema } from '@etl/extractor/config';
import { loaderConfigSchema } from '@etl/loader/config';
import { transformerConfigSchema } from '@etl/transformer/config';
import { bundleBuild } from './service-bundles';
import { readLogTail, type ServiceExit } from './service-exit';
import { SERVICE_NAMES, type ServiceName, type ServiceSet } from './services';

const SERVE_FILE = 'serve.json';
const HEALTH_TIMEOUT_MS = 1_000;
const ALIVE_POLL_MS = 250;

/** Set for each service by whoever starts it, not taken from the environment. */
const SET_BY_STARTER = new Set(['ETL_DATA_DIR', 'HOST', 'PORT']);

/** The variables the services read, from their config schemas. */
const SERVICE_VARIABLES = [
  ...new Set(
    [extractorConfigSchema, transformerConfigSchema, loaderConfigSchema].flatMap((schema) =>
      Object.keys(schema.shape),
    ),
  ),
]
  .filter((name) => !SET_BY_STARTER.has(name))
  .sort();

interface ServeRecord {
  /** `etl serve`'s own pid. */
  pid: number;
  services: { name: ServiceName; url: string; pid: number; logFile: string; build?: number }[];
  /** Digest of each service variable set in the services' environment. */
  settings: Record<string, string>;
}

/** A digest of each service variable `env` sets: what serve.json keeps and a run compares. */
export function serviceSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of SERVICE_VARIABLES) {
    const value = env[name];
    if (value !== undefined) settings[name] = createHash('sha256').update(value).digest('hex').slice(0, 16);
  }
  return settings;
}

/**
 * Records `services` as this `etl serve`'s in `<dataDir>/serve.json` (written whole: a run never reads half
 * of it); the returned function removes the record, if it is still this process's.
 */
export async function recordServed(
  dataDir: string,
  services: ServiceSet,
  env: NodeJS.ProcessEnv,
): Promise<() => Promise<void>> {
  const file = path.join(dataDir, SERVE_FILE);
  const record: ServeRecord = {
    pid: process.pid,
    services: services.services.map(({ name, url, pid, logFile, build }) => ({
      name,
      url,
      pid,
      logFile,
      ...(build === undefined ? {} : { build }),
    })),
    settings: serviceSettings(env),
  };
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(record, null, 2)}\n`);
  await rename(partial, file);
  return async () => {
    const current = await readRecord(dataDir);
    if (current?.pid === process.pid) await rm(file, { force: true });
  };
}

async function readRecord(dataDir: string): Promise<ServeRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, SERVE_FILE), 'utf8')) as ServeRecord;
  } catch {
    return undefined;
  }
}

export type Served =
  | { services: ServiceSet; notUsed?: undefined }
  | { services?: undefined; notUsed?: string };

/**
 * The services of a running `etl serve` on `dataDir`, if a run with environment `env` can use them;
 * otherwise why not (`notUsed`), or nothing when no `etl serve` runs there.
 */
export async function servedServices(dataDir: string, env: NodeJS.ProcessEnv): Promise<Served> {
  const record = await readRecord(dataDir);
  if (!record || !isProcessAlive(record.pid)) return {};
  const serve = `etl serve (pid ${record.pid})`;
  const ours = serviceSettings(env);
  const differing = [...new Set([...Object.keys(ours), ...Object.keys(record.settings)])]
    .filter((name) => ours[name] !== record.settings[name])
    .sort();
  if (differing.length > 0)
    return { notUsed: `${serve} runs with another ${differing.join(', ')} than this run` };
  const byName = new Map(record.services.map((s) => [s.name, s]));
  for (const name of SERVICE_NAMES) {
    const service = byName.get(name);
    if (!service) return { notUsed: `${serve} has no ${name}` };
    const build = bundleBuild(name);
    if (service.build === undefined || build === undefined || service.build !== build)
      return { notUsed: `${serve} runs another build of the ${name} than the code now (restart it)` };
  }
  const services = SERVICE_NAMES.map((name) => byName.get(name)!);
  const unhealthy = (
    await Promise.all(services.map(async (s) => ((await isHealthy(s.url)) ? undefined : s.name)))
  ).filter(Boolean);
  if (unhealthy.length > 0) return { notUsed: `${serve}: ${unhealthy.join(', ')} did not answer /healthz` };
  return { services: attach(dataDir, services) };
}

/**
 * Of services gone by the same poll, the one that did not log its shutdown: when one dies, `etl serve`
 * stops the others, and each of those logs "shutting down" last. The one that died is the run's news.
 */
async function firstToStop(
  gone: ServeRecord['services'],
): Promise<ServeRecord['services'][number] | undefined> {
  const lastLines = await Promise.all(gone.map((s) => readLogTail(s.logFile, 1)));
  return gone.find((_, i) => !/ shutting down$/.test(lastLines[i]?.[0] ?? ''));
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/healthz', url), {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A ServiceSet over services another process started: `died` when one of them is gone (polled by pid; how
 * it ended is its starter's to know), and `stop` leaves them running.
 */
function attach(dataDir: string, services: ServeRecord['services']): ServiceSet {
  let poll: NodeJS.Timeout | undefined;
  const died = new Promise<ServiceExit>((resolve) => {
    poll = setInterval(async () => {
      const gone = services.filter((s) => !isProcessAlive(s.pid));
      if (gone.length === 0) return;
      clearInterval(poll);
      const first = (await firstToStop(gone)) ?? gone[0]!;
      resolve({ name: first.name, pid: first.pid, code: null, signal: null, logFile: first.logFile });
    }, ALIVE_POLL_MS);
    poll.unref();
  });
  return {
    urls: Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>,
    services,
    logDir: path.join(dataDir, 'logs'),
    died,
    stop: async () => clearInterval(poll),
  };
}
