/**
 * Test harness for fault, security and load tests: the three real services as child processes (the way
 * `etl run` and Cloud Run run them), each restartable on the SAME port after a kill, the real workflow in
 * the local runner against them, and a tiny TCP proxy that can swallow requests or responses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDbWarehouse } from '@etl/common/warehouse';
import { type AlertRecord, runWorkflowFile, WorkflowExecutionError } from '@etl/workflow-runner';
import type { TableSummary } from '../../apps/cli/src/run-pipeline';
import { listeningUrl } from '../../apps/cli/src/services';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const WORKFLOW_FILE = path.join(REPO_ROOT, 'workflows/etl.workflows.yaml');
export const SERVICE_NAMES = ['extractor', 'transformer', 'loader'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const STARTUP_TIMEOUT_MS = 60_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 60_000, intervalMs = 20 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * A stage's scratch folder (`etl-load-*`, `etl-transform-*`) under `parent`: services make them inside
 * their per-process folder (`etl-<service>-pid<pid>-*`), one level down.
 */
export async function findScratchFolder(parent: string, prefix: string): Promise<string | undefined> {
  for (const own of await readdir(parent).catch(() => [])) {
    const found = (await readdir(path.join(parent, own)).catch(() => [])).find((name) =>
      name.startsWith(prefix),
    );
    if (found) return path.join(parent, own, found);
  }
  return undefined;
}

/** A free loopback port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One service as a child process on a fixed port: `kill` it any way, `restart` it on the same port. */
export class ServiceProcess {
  child!: ChildProcess;
  url = '';
  /** Every process started for this service, first to last. */
  readonly pids: number[] = [];
  private readonly log: WriteStream;

  private constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly wrap: readonly string[] = [],
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  static async start(
    name: ServiceName,
    options: {
      dataDir: string;
      port?: number;
      env?: Record<string, string>;
      /** A command the service runs under, e.g. `unshare ... sh -c '...; exec "$@"' sh`. */
      wrap?: readonly string[];
    },
  ): Promise<ServiceProcess> {
    const logDir = path.join(options.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const service = new ServiceProcess(
      name,
      options.port ?? (await freePort()),
      { ...options.env, ETL_DATA_DIR: options.dataDir },
      path.join(logDir, `${name}.log`),
      options.wrap,
    );
    await service.spawn();
    return service;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process again on the same port (retrying while the old socket is still being released). */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running (pid ${this.child.pid})`);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.spawn();
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(200);
      }
    }
  }

  /** Sends `signal` and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
  }

  /** SIGTERM (graceful), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    this.child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Promise<void> {
    const entry = path.join(REPO_ROOT, 'services', this.name, 'src', 'index.ts');
    const command = [...this.wrap, process.execPath, '--import', 'tsx', entry];
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    if (child.pid) this.pids.push(child.pid);
    child.stderr!.on('data', (chunk: Buffer) => this.log.write(chunk));
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name} did not start within ${STARTUP_TIMEOUT_MS} ms; see ${this.logFile}`));
      }, STARTUP_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited during startup (${signal ?? `code ${code}`}); see ${this.logFile}`),
        );
      };
      child.once('exit', onExit);
      lines.on('line', (line) => {
        this.log.write(`${line}\n`);
        const url = listeningUrl(line);
        if (url) {
          clearTimeout(timer);
          child.off('exit', onExit);
          this.url = url;
          resolve();
        }
      });
    });
  }
}

/** SIGKILLs `service` as soon as `check` holds (polled every 5 ms): a kill in the middle of some work. */
export async function killWhen(
  service: ServiceProcess,
  what: string,
  check: () => Promise<unknown> | unknown,
): Promise<void> {
  await waitFor(what, check, { timeoutMs: 180_000, intervalMs: 5 });
  await service.kill('SIGKILL');
}

export interface Stack {
  dataDir: string;
  services: Record<ServiceName, ServiceProcess>;
  urls: Record<ServiceName, string>;
  stop(): Promise<void>;
}

/** The three services on loopback, with `env` (per service: `perService`) on top of the test's environment. */
export async function startStack(
  dataDir: string,
  env: Record<string, string> = {},
  perService: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Stack> {
  const started = await Promise.all(
    SERVICE_NAMES.map((name) =>
      ServiceProcess.start(name, { dataDir, env: { ...env, ...perService[name] } }),
    ),
  );
  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<ServiceName, ServiceProcess>;
  return {
    dataDir,
    services,
    get urls() {
      return Object.fromEntries(started.map((s) => [s.name, s.url])) as Record<ServiceName, string>;
    },
    stop: async () => {
      await Promise.all(started.map((s) => s.stop()));
    },
  };
}

export interface RunResult {
  status: 'succeeded' | 'skipped' | 'failed';
  tables: TableSummary[];
  /** The workflow's error map when it failed. */
  error?: { code?: number; message?: string; tags?: string[]; body?: unknown };
  alerts: AlertRecord[];
}

export interface RunEtlOptions {
  urls: Record<ServiceName, string>;
  runId: string;
  source: string;
  force?: boolean;
  options?: Record<string, unknown>;
  /** A different workflow file (e.g. a copy with a short timeout). */
  workflowFile?: string;
  /** Divides the workflow's retry waits (2, 4, 8, 16, 32 s); default 4. */
  fastRetries?: number;
  /** Extra workflow env (TABLEAU_REFRESH, ...). */
  env?: Record<string, string>;
  /** Where alerts are appended as JSON lines, as `etl run` does. */
  alertsFile?: string;
}

/** Runs the ETL workflow in the local runner, as `etl run` does; a failed execution resolves as `failed`. */
export async function runEtl(options: RunEtlOptions): Promise<RunResult> {
  const alerts: AlertRecord[] = [];
  const argument = {
    source: options.source,
    run_id: options.runId,
    force: options.force ?? false,
    options: options.options ?? {},
  };
  try {
    const result = (await runWorkflowFile(options.workflowFile ?? WORKFLOW_FILE, argument, {
      env: {
        EXTRACTOR_URL: options.urls.extractor,
        TRANSFORMER_URL: options.urls.transformer,
        LOADER_URL: options.urls.loader,
        ALERT_TOPIC: 'projects/local/topics/etl-alerts',
        ML_INSIGHTS: 'false',
        ...options.env,
      },
      fastRetries: options.fastRetries ?? 4,
      log: () => {},
      alertSink: async (record: AlertRecord) => {
        alerts.push(record);
        if (options.alertsFile) {
          const previous = await readFile(options.alertsFile, 'utf8').catch(() => '');
          await writeFile(options.alertsFile, `${previous}${JSON.stringify(record)}\n`);
        }
      },
    })) as { status: RunResult['status']; tables: TableSummary[] };
    return { status: result.status, tables: result.tables, alerts };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionError)) throw error;
    return { status: 'failed', tables: [], error: error.error as RunResult['error'], alerts };
  }
}

/** Reads the embedded warehouse of a data dir (opened per query, as the services do). */
export function localWarehouse(dataDir: string): DuckDbWarehouse {
  return new DuckDbWarehouse({ file: path.join(dataDir, 'warehouse.duckdb') });
}

/** Row count, distinct-row count and run ids of a table: the no-duplicate check every fault test ends with. */
export async function tableFacts(
  warehouse: { query(sql: string): Promise<Record<string, unknown>[]> },
  table: string,
  distinctColumns = '* EXCLUDE (_source, _run_id, _loaded_at, _source_version)',
): Promise<{ rows: number; distinct: number; runIds: string[] }> {
  const [counts] = await warehouse.query(
    `SELECT (SELECT count(*) FROM ${table}) AS n, (SELECT count(*) FROM (SELECT DISTINCT ${distinctColumns} FROM ${table})) AS d`,
  );
  const runIds = await warehouse.query(`SELECT DISTINCT _run_id FROM ${table} ORDER BY 1`);
  return {
    rows: Number(counts?.n),
    distinct: Number(counts?.d),
    runIds: runIds.map((r) => String(r._run_id)),
  };
}

export type ProxyMode = 'forward' | 'blackhole' | 'swallow-response';

/**
 * A TCP proxy in front of a service. `forward` pipes both ways; `blackhole` accepts and reads the request
 * but never forwards or answers it (a hung service); `swallow-response` forwards the request, lets the
 * service do the work, and drops its answer (a lost response). `modes` is consumed one connection at a
 * time; after it runs out, connections are forwarded.
 */
export class TcpProxy {
  readonly connections: ProxyMode[] = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: () => number,
    readonly modes: ProxyMode[],
  ) {}

  static async start(target: () => number, modes: ProxyMode[] = []): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, target, modes);
    server.on('connection', (client) => proxy.handle(client));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private handle(client: net.Socket): void {
    const mode = this.modes.shift() ?? 'forward';
    this.connections.push(mode);
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    if (mode === 'blackhole') {
      client.resume();
      return;
    }
    const upstream = net.connect(this.target(), '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      if (mode === 'forward') client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    if (mode === 'forward') upstream.pipe(client);
    else upstream.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
