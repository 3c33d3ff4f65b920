/** Starting a service and stopping it gracefully: on SIGTERM stop accepting, finish in-flight work, exit 0. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
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
  app: Express;
  host: string;
  port: number;
  logger: Logger;
  /** Releases what the service holds (database handles...) after in-flight requests finish. */
  onShutdown?: () => Promise<void>;
}

/** For a service's index.ts: listen, log the URL, handle SIGTERM/SIGINT; a startup failure exits 1. */
export async function runService({
  app,
  host,
  port,
  logger,
  onShutdown,
}: RunServiceOptions): Promise<RunningServer> {
  let running: RunningServer;
  try {
    running = await startServer(app, host, port);
  } catch (error) {
    logger.fatal({ err: error }, `could not listen on ${host}:${port}`);
    process.exit(1);
  }
  logger.info({ url: running.url }, 'listening');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await running.close();
      await onShutdown?.();
      logger.flush();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      logger.flush();
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return running;
}
