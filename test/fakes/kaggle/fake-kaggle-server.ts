/**
 * A small, honest fake of the Kaggle API, for tests: the same wire protocol as the official CLI
 * (POST /v1/datasets.DatasetApiService/{Method}, JSON camelCase, Bearer or Basic auth), GetDataset and
 * DownloadDataset (302 to a signed storage URL serving a real zip, with Content-Length, Accept-Ranges and
 * Range support), 401/404 as Kaggle answers them, and injectable faults: 429 with Retry-After, 503, a
 * JSON error in a 200 body, and a connection dropped half-way through a download.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import yazl from 'yazl';
import { listen, readBody } from '../http';

export type FakeKaggleFiles = Record<string, Buffer | string>;

export interface FakeKaggleDataset {
  version: number;
  files: FakeKaggleFiles;
}

export interface FakeKaggleFaults {
  /** The next `times` API calls answer 429 with this Retry-After header (seconds or an HTTP date). */
  rateLimit?: { times: number; retryAfter: string };
  /** The next `times` API calls answer 503. */
  unavailable?: { times: number };
  /** The next `times` API calls answer 200 with `{code, message}` in the body, as Kaggle sometimes does. */
  errorInBody?: { times: number; code: number; message: string };
  /** The next `times` storage downloads send `afterBytes` (default: half) of the zip, then cut the connection. */
  dropDownload?: { times: number; afterBytes?: number };
}

export interface FakeKaggleOptions {
  /** Keyed by `owner/slug`. */
  datasets: Record<string, FakeKaggleDataset>;
  /** Accepted as `Authorization: Bearer <token>`. */
  token?: string;
  /** Accepted as HTTP Basic `username:key`. */
  username?: string;
  key?: string;
  faults?: FakeKaggleFaults;
}

export interface FakeKaggleRequest {
  /** `GetDataset`, `DownloadDataset`, other API method names, or `storage`. */
  method: string;
  path: string;
  auth: 'bearer' | 'basic' | 'none' | 'other';
  /** Request body of API calls, as parsed JSON. */
  body?: unknown;
  range?: string;
  status: number;
}

export interface FakeKaggle {
  url: string;
  requests: FakeKaggleRequest[];
  /** Publishes version `version` of `owner/slug` (with new files, or the current ones) and makes it current. */
  setVersion(ref: string, version: number, files?: FakeKaggleFiles): void;
  setFaults(faults: FakeKaggleFaults): void;
  close(): Promise<void>;
}

const API_PREFIX = '/v1/datasets.DatasetApiService/';
// Fixed timestamps make the zips byte-for-byte stable.
const ZIP_MTIME = new Date('2024-01-01T00:00:00Z');

function buildZip(files: FakeKaggleFiles): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, { mtime: ZIP_MTIME });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startFakeKaggle(options: FakeKaggleOptions): Promise<FakeKaggle> {
  const history = new Map<string, Map<number, FakeKaggleFiles>>();
  const current = new Map<string, number>();
  for (const [ref, dataset] of Object.entries(options.datasets)) {
    history.set(ref, new Map([[dataset.version, dataset.files]]));
    current.set(ref, dataset.version);
  }
  const zips = new Map<string, Promise<Buffer>>();
  const signed = new Map<string, { ref: string; version: number }>();
  const requests: FakeKaggleRequest[] = [];
  let faults: FakeKaggleFaults = structuredClone(options.faults ?? {});

  const zipOf = (ref: string, version: number): Promise<Buffer> => {
    const cacheKey = `${ref}@${version}`;
    let zip = zips.get(cacheKey);
    if (!zip) {
      zip = buildZip(history.get(ref)!.get(version)!);
      zips.set(cacheKey, zip);
    }
    return zip;
  };

  const authOf = (req: IncomingMessage): { kind: FakeKaggleRequest['auth']; ok: boolean } => {
    const header = req.headers.authorization ?? '';
    const open = options.token === undefined && options.username === undefined;
    if (header.startsWith('Bearer ')) {
      return { kind: 'bearer', ok: open || header.slice(7) === options.token };
    }
    if (header.startsWith('Basic ')) {
      const [username, ...key] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      const ok =
        open ||
        (options.username !== undefined && username === options.username && key.join(':') === options.key);
      return { kind: 'basic', ok };
    }
    return { kind: header ? 'other' : 'none', ok: open };
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    entry: FakeKaggleRequest,
  ): Promise<void> => {
    const method = entry.method;
    const text = await readBody(req);
    try {
      entry.body = text ? JSON.parse(text) : {};
    } catch {
      entry.status = 400;
      return sendJson(res, 400, { code: 400, message: 'Invalid JSON body' });
    }
    const auth = authOf(req);
    entry.auth = auth.kind;
    if (req.method !== 'POST') {
      entry.status = 405;
      return sendJson(res, 405, { code: 405, message: 'Method not allowed' });
    }
    if (!auth.ok) {
      entry.status = 401;
      return sendJson(res, 401, { code: 401, message: 'Unauthenticated' });
    }
    if (faults.rateLimit && faults.rateLimit.times > 0) {
      faults.rateLimit.times--;
      entry.status = 429;
      return sendJson(
        res,
        429,
        { code: 429, message: 'TooManyRequests' },
        { 'Retry-After': faults.rateLimit.retryAfter },
      );
    }
    if (faults.unavailable && faults.unavailable.times > 0) {
      faults.unavailable.times--;
      entry.status = 503;
      return sendJson(res, 503, {
        error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' },
      });
    }
    if (faults.errorInBody && faults.errorInBody.times > 0) {
      faults.errorInBody.times--;
      entry.status = 200;
      return sendJson(res, 200, { code: faults.errorInBody.code, message: faults.errorInBody.message });
    }
    const body = entry.body as { ownerSlug?: unknown; datasetSlug?: unknown; datasetVersionNumber?: unknown };
    const ref = `${String(body.ownerSlug)}/${String(body.datasetSlug)}`;
    const versions = history.get(ref);
    const notFound = () => {
      entry.status = 404;
      sendJson(res, 404, { code: 404, message: `Dataset ${ref} not found` });
    };
    if (!versions) return notFound();
    const currentVersion = current.get(ref)!;

    if (method === 'GetDataset') {
      const files = versions.get(currentVersion)!;
      entry.status = 200;
      return sendJson(res, 200, {
        ref,
        title: `Fake ${ref}`,
        currentVersionNumber: currentVersion,
        totalBytes: Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0),
        lastUpdated: '2024-01-01T00:00:00Z',
        url: `https://www.kaggle.com/datasets/${ref}`,
        licenseName: 'CC0-1.0',
        isPrivate: false,
        versions: [...versions.keys()].map((versionNumber) => ({
          versionNumber,
          creationDate: '2024-01-01T00:00:00Z',
          status: 'READY',
          versionNotes: '',
        })),
        files: [],
      });
    }
    if (method === 'DownloadDataset') {
      const version =
        body.datasetVersionNumber === undefined ? currentVersion : Number(body.datasetVersionNumber);
      if (!versions.has(version)) return notFound();
      const signature = randomBytes(12).toString('hex');
      signed.set(signature, { ref, version });
      const slug = String(body.datasetSlug);
      const location = `${fake.url}/storage/${ref}/${version}/${slug}.zip?signature=${signature}`;
      entry.status = 302;
      return sendJson(res, 302, { url: location }, { Location: location });
    }
    entry.status = 404;
    return sendJson(res, 404, { code: 404, message: `Unknown method ${method}` });
  };

  const handleStorage = async (
    req: IncomingMessage,
    res: ServerResponse,
    entry: FakeKaggleRequest,
  ): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const grant = signed.get(url.searchParams.get('signature') ?? '');
    entry.auth = authOf(req).kind;
    if (!grant || req.method !== 'GET') {
      entry.status = 403;
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      return void res.end('<Error><Code>AccessDenied</Code></Error>');
    }
    const zip = await zipOf(grant.ref, grant.version);
    let start = 0;
    let end = zip.length - 1;
    const range = req.headers.range;
    entry.range = range;
    const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (range && (!match || Number(match[1]) >= zip.length)) {
      entry.status = 416;
      res.writeHead(416, { 'Content-Range': `bytes */${zip.length}` });
      return void res.end();
    }
    if (match) {
      start = Number(match[1]);
      end = match[2] ? Math.min(Number(match[2]), zip.length - 1) : zip.length - 1;
    }
    entry.status = match ? 206 : 200;
    res.writeHead(entry.status, {
      'Content-Type': 'application/zip',
      'Content-Length': end - start + 1,
      'Accept-Ranges': 'bytes',
      ...(match ? { 'Content-Range': `bytes ${start}-${end}/${zip.length}` } : {}),
    });
    const body = zip.subarray(start, end + 1);
    if (faults.dropDownload && faults.dropDownload.times > 0) {
      faults.dropDownload.times--;
      const sent = Math.min(body.length - 1, faults.dropDownload.afterBytes ?? Math.floor(body.length / 2));
      res.write(body.subarray(0, sent), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const entry: FakeKaggleRequest = {
      method: path.startsWith(API_PREFIX)
        ? path.slice(API_PREFIX.length)
        : path.startsWith('/storage/')
          ? 'storage'
          : '?',
      path,
      auth: 'none',
      status: 0,
    };
    requests.push(entry);
    const handler = entry.method === 'storage' ? handleStorage : entry.method === '?' ? undefined : handleApi;
    if (!handler) {
      entry.status = 404;
      return sendJson(res, 404, { code: 404, message: `no route ${req.method} ${path}` });
    }
    handler(req, res, entry).catch((error: unknown) => {
      entry.status = 500;
      if (!res.headersSent) sendJson(res, 500, { code: 500, message: String(error) });
      else res.destroy();
    });
  });

  const url = await listen(server);

  const fake: FakeKaggle = {
    url,
    requests,
    setVersion(ref, version, files) {
      const versions = history.get(ref);
      const previous = versions?.get(current.get(ref)!);
      const next = files ?? previous;
      if (!next) throw new Error(`fake Kaggle: no files for new dataset ${ref}`);
      if (versions) versions.set(version, next);
      else history.set(ref, new Map([[version, next]]));
      current.set(ref, version);
    },
    setFaults(next) {
      faults = structuredClone(next);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return fake;
}
