/**
 * Stand-ins for the extractor, transformer and loader: one real `node:http` server on 127.0.0.1 that
 * answers /v1/extract, /v1/transform, /v1/load, /v1/analyze and /v1/refresh with canned JSON shaped like the
 * contracts in packages/common/src/contracts.ts, and records every request it receives.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EXTRACT = '/v1/extract';
export const TRANSFORM = '/v1/transform';
export const LOAD = '/v1/load';
export const REFRESH = '/v1/refresh';
export const ANALYZE = '/v1/analyze';

export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON request body, parsed. */
  body: Record<string, unknown>;
}

/** A scripted answer: a status with a JSON body, or `drop` to cut the connection without answering. */
export type StubAnswer = { status: number; body: unknown } | 'drop';

export interface StubServices {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  requests: StubRequest[];
  /** Number of requests received on `path`. */
  calls(path: string): number;
  /** Request bodies received on `path`, in order. */
  bodies(path: string): Array<Record<string, unknown>>;
  /** Queues answers for the next calls to `path`; once they are used up, `path` answers its canned 200. */
  answer(path: string, ...answers: StubAnswer[]): void;
  close(): Promise<void>;
}

export interface TableCounts {
  name: string;
  files: string[];
  rowsIn: number;
  rowsOut: number;
  rowsQuarantined: number;
  rowsDuplicate: number;
  stagedKey: string;
  quarantineKey: string;
}

export const DATASET = { id: 'kaggle/acme/sales', version: '7', previousVersion: '6', changed: true };

export function extractResponse(runId: string, source: string, dataset: Partial<typeof DATASET> = {}) {
  return {
    runId,
    source,
    dataset: { ...DATASET, ...dataset },
    files: [],
    skippedFiles: [{ name: 'README.md', reason: 'documentation' }],
    manifestKey: `runs/${runId}/manifest/extract.json`,
  };
}

export function tableCounts(runId: string, name: string, rowsIn: number): TableCounts {
  const rowsQuarantined = Math.floor(rowsIn / 50);
  const rowsDuplicate = Math.floor(rowsIn / 100);
  return {
    name,
    files: [`${name}.csv`],
    rowsIn,
    rowsOut: rowsIn - rowsQuarantined - rowsDuplicate,
    rowsQuarantined,
    rowsDuplicate,
    stagedKey: `runs/${runId}/staged/${name}.arrow`,
    quarantineKey: `runs/${runId}/quarantine/${name}.arrow`,
  };
}

export function transformResponse(runId: string, tables: TableCounts[], maxRejectRate = 0.1) {
  const rowsIn = tables.reduce((sum, table) => sum + table.rowsIn, 0);
  const rejected = tables.reduce((sum, table) => sum + table.rowsQuarantined, 0);
  return {
    runId,
    tables,
    quality: { passed: true, rejectRate: rowsIn === 0 ? 0 : rejected / rowsIn, maxRejectRate },
    skippedFiles: [{ name: 'README.md', reason: 'documentation' }],
    reportKey: `runs/${runId}/reports/transform.json`,
    manifestKey: `runs/${runId}/manifest/transform.json`,
  };
}

/** The loader loads what the transformer staged: one row per table, rowsLoaded = rowsOut. */
export function loadResponse(runId: string, tables: TableCounts[]) {
  return {
    runId,
    warehouse: 'duckdb',
    dataset: { id: DATASET.id, version: DATASET.version },
    tables: tables.map((table) => ({ name: table.name, rowsLoaded: table.rowsOut, rowsReplaced: 0 })),
    loadedAt: '2024-01-01T00:00:00.000Z',
    manifestKey: `runs/${runId}/manifest/load.json`,
  };
}

/** The services' error body, `{error: {code, message, retryable}}` (DESIGN.md, service contracts). */
export function errorAnswer(status: number, code: string, message: string, details?: unknown): StubAnswer {
  const retryable = status === 429 || status === 503;
  return {
    status,
    body: { error: { code, message, retryable, ...(details === undefined ? {} : { details }) } },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts the stub on `port` (0 picks a free one). */
export async function startStubServices(port = 0): Promise<StubServices> {
  const requests: StubRequest[] = [];
  const queues = new Map<string, StubAnswer[]>();
  // What the last successful transform staged, so that load answers with the same tables.
  let staged: TableCounts[] = [];

  const canned = (path: string, body: Record<string, unknown>): StubAnswer => {
    const runId = String(body['runId']);
    switch (path) {
      case EXTRACT:
        return { status: 200, body: extractResponse(runId, String(body['source'])) };
      case TRANSFORM: {
        const table = typeof body['table'] === 'string' ? body['table'] : 'sales';
        const maxRejectRate = typeof body['maxRejectRate'] === 'number' ? body['maxRejectRate'] : 0.1;
        return {
          status: 200,
          body: transformResponse(runId, [tableCounts(runId, table, 1000)], maxRejectRate),
        };
      }
      case LOAD:
        return { status: 200, body: loadResponse(runId, staged) };
      case REFRESH:
        return { status: 200, body: { runId, refreshed: ['sales'] } };
      case ANALYZE:
        return { status: 200, body: { runId, tables: [{ name: 'ml_forecast', rowsLoaded: 12 }] } };
      default:
        return errorAnswer(404, 'NOT_FOUND', `no route ${path}`);
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const path = new URL(req.url ?? '/', 'http://stub').pathname;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const answer = queues.get(path)?.shift() ?? canned(path, body);
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      if (path === TRANSFORM && answer.status === 200) {
        staged = (answer.body as { tables: TableCounts[] }).tables;
      }
      send(res, answer.status, answer.body);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls: (path) => requests.filter((request) => request.path === path).length,
    bodies: (path) => requests.filter((request) => request.path === path).map((request) => request.body),
    answer: (path, ...answers) => queues.set(path, [...(queues.get(path) ?? []), ...answers]),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A 127.0.0.1 port nothing listens on (yet): connecting to it is refused. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
