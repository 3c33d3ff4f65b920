/**
 * Starts the three services as child processes on loopback, the way Cloud Run runs them: each its own
 * process, configured only by environment variables, started from its bundle (./service-bundles). Their JSON logs go straight to
 * <data-dir>/logs/<service>.log (not through this process, so they outlive it), and each has an IPC
 * channel to this process: it announces its URL there, and stops when the channel closes, i.e. when this
 * process dies, however it died.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { isListeningMessage } from '@etl/common/lifecycle';
import { workspaceRoot } from '@etl/common/workspace-root';
import { type ServiceEntry, serviceEntries } from './service-bundles';
import { readLogTail, type ServiceExit } from './service-exit';

export const SERVICE_NAMES = ['extractor', 'transformer', 'loader'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const REPO_ROOT = workspaceRoot(import.meta.dirname);
const STARTUP_TIMEOUT_MS = 30_000;

export interface RunningService {
  name: ServiceName;
  url: string;
  pid: number;
  logFile: string;
  /** The build of the bundle it runs (`bundleBuild`); none when it runs from source. */
  build?: number;
}

interface StartedService extends RunningService {
  child: ChildProcess;
}

export interface ServiceSet {
  urls: Record<ServiceName, string>;
  services: RunningService[];
  logDir: string;
  /** Settles with the first service that exits on its own (not through `stop`). */
  died: Promise<ServiceExit>;
  /** Stops the services this set started (none when it uses those of `etl serve`). */
  stop(): Promise<void>;
}

export interface StartServicesOptions {
  dataDir: string;
  /** Port of the extractor; the transformer and loader take the next two. 0 picks free ports. */
  basePort?: number;
  host?: string;
  /** Extra environment for every service (LOG_LEVEL, limits, ...). */
  env?: Record<string, string>;
  /** Told when the service bundles are built first (./service-bundles). */
  onProgress?: (line: string) => void;
}

export async function startServices(options: StartServicesOptions): Promise<ServiceSet> {
  const logDir = path.join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const entries = await serviceEntries(SERVICE_NAMES, options.onProgress);
  const started = await Promise.allSettled(
    SERVICE_NAMES.map((name, i) =>
      startService(
        name,
        entries[name]!,
        {
          ...options.env,
          ETL_DATA_DIR: options.dataDir,
          HOST: options.host ?? '127.0.0.1',
          PORT: String(options.basePort ? options.basePort + i : 0),
        },
        logDir,
      ),
    ),
  );
  const services = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let stopping = false;
  const stop = () => {
    stopping = true;
    return stopServices(services);
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  const died = new Promise<ServiceExit>((resolve) => {
    for (const { name, child, logFile } of services)
      child.once('exit', (code, signal) => {
        if (!stopping) resolve({ name, pid: child.pid ?? 0, code, signal, logFile });
      });
  });
  const urls = Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>;
  return { urls, services, logDir, died, stop };
}

function startService(
  name: ServiceName,
  entry: ServiceEntry,
  env: Record<string, string>,
  logDir: string,
): Promise<StartedService> {
  const logFile = path.join(logDir, `${name}.log`);
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, entry.args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log, 'ipc'],
    });
  } finally {
    closeSync(log); // the child has its own copy
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${STARTUP_TIMEOUT_MS} ms; see ${logFile}`));
    }, STARTUP_TIMEOUT_MS);
    const onExit = async (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      const tail = await readLogTail(logFile, 5);
      reject(
        new Error(
          `${name} exited during startup (${signal ?? `code ${code}`}); last lines of ${logFile}:\n  ${tail.join('\n  ')}`,
        ),
      );
    };
    child.once('exit', onExit);
    child.on('message', (message) => {
      if (!isListeningMessage(message)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({
        name,
        url: message.url,
        pid: child.pid ?? 0,
        logFile,
        child,
        ...(entry.build === undefined ? {} : { build: entry.build }),
      });
    });
  });
}

/** The URL a service's JSON log line `listening` announces, if the line is one. */
export function listeningUrl(line: string): string | undefined {
  try {
    const record = JSON.parse(line) as { message?: unknown; url?: unknown };
    return record.message === 'listening' && typeof record.url === 'string' ? record.url : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM (graceful: in-flight work finishes), then SIGKILL after a grace period. */
async function stopServices(services: StartedService[]): Promise<void> {
  await Promise.all(
    services.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
