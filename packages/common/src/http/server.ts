/**
 * Starting a service and stopping it gracefully: on SIGTERM, SIGINT or the death of the `etl` process that
 * started it, stop accepting, finish in-flight work (within a drain time), release what it holds, exit.
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { Express } from 'express';
import { announceListening, claimScratchFolder, onParentGone } from '../lifecycle';
import type { Logger } from '../logging';

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export function startServer(app: Express, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}

export interface RunServiceOptions {
  /** Names the process's scratch folder in the temp dir: `etl-<name>-pid<pid>-…`. */
  name: string;
  app: Express;
  host: string;
  port: number;
  logger: Logger;
  /**
   * Releases what the service holds (leases, database handles...) after in-flight requests finish, or
   * once the drain time is up with some still running.
   */
  onShutdown?: () => Promise<void>;
  drainMs?: number;
}

/**
 * How long a stopping service waits for in-flight requests. Cloud Run and `etl` send SIGKILL 10 s after
 * SIGTERM: what the service holds must be released before that.
 */
export const SHUTDOWN_DRAIN_MS = 7_000;

/**
 * For a service's index.ts: take a per-process scratch folder (removing those of dead processes), listen,
 * log the URL, and stop on SIGTERM, SIGINT or the death of the `etl` process that started it. A startup
 * failure exits 1.
 */
export async function runService({
  name,
  app,
  host,
  port,
  logger,
  onShutdown,
  drainMs = SHUTDOWN_DRAIN_MS,
}: RunServiceOptions): Promise<RunningServer> {
  let running: RunningServer;
  let scratch: string;
  try {
    scratch = await claimScratchFolder({ parent: tmpdir(), service: name, logger });
    // os.tmpdir() reads TMPDIR on every call: every mkdtemp(tmpdir()) of this process (etl-load-*,
    // etl-transform-*, etl-unpack-*...) now lands in a folder the next start can attribute to us.
    process.env.TMPDIR = scratch;
    running = await startServer(app, host, port);
  } catch (error) {
    logger.fatal({ err: error }, `could not start on ${host}:${port}`);
    process.exit(1);
  }
  logger.info({ url: running.url, pid: process.pid, scratch }, 'listening');
  announceListening(running.url);
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    // A safety net: whatever hangs below, the process is gone before the SIGKILL.
    setTimeout(() => {
      logger.error('shutdown did not finish: exiting');
      logger.flush();
      process.exit(1);
    }, drainMs + 2_000).unref();
    const drained = await Promise.race([
      running.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), drainMs).unref()),
    ]);
    if (!drained) logger.warn(`in-flight requests still running after ${drainMs} ms: abandoning them`);
    try {
      await onShutdown?.();
      await rm(scratch, { recursive: true, force: true });
      logger.flush();
      process.exit(drained ? 0 : 1);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      logger.flush();
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  onParentGone(() => void stop('the etl process that started this service is gone'));
  return running;
}
