/**
 * A small, honest fake of the Cloud Storage JSON API, for tests and as a local emulator: the paths
 * `@google-cloud/storage` 7.x uses with `apiEndpoint` (multipart upload, resumable upload as one PUT or
 * as chunks answered 308 + Range, upload status queries, `alt=media` downloads with `x-goog-hash`, object
 * metadata, paginated listing, delete), generations (reads of a named generation: only the live one
 * exists, as without object versioning) with `ifGenerationMatch` / `ifGenerationNotMatch`
 * preconditions (412), checksums computed from the bytes (a client-sent crc32c or md5 that does not match
 * is refused with 400), 404 for a missing bucket or object as GCS words them, and injectable faults: the
 * next N requests matching a method/path (or each one with a probability, seeded) answer an error status,
 * have their connection destroyed after part of the request body arrived, or are handled and their
 * response lost.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type ArmedFault, armFault, loseResponse, type RequestFaultMatch, takeRequestFault } from '../faults';
import { listen } from '../http';
import { crc32c } from './crc32c';

export interface FakeGcsObject {
  bucket: string;
  name: string;
  data: Buffer;
  contentType: string;
  generation: number;
  created: Date;
  updated: Date;
  /** Custom metadata (`metadata.metadata` in the JSON API). */
  metadata?: Record<string, string>;
}

/**
 * `path` is matched against the path and query string (`/upload/storage/v1/b/b/o?uploadType=...`); see
 * RequestFaultMatch for `times`, `probability` and `seed`.
 */
export interface FakeGcsFault extends RequestFaultMatch {
  /** Answer with this status and a GCS-shaped JSON error (429, 403, 500, 503, ...). */
  status?: number;
  /** Destroy the connection once this many bytes of the request body have arrived (0: before any). */
  destroyAfterBytes?: number;
  /** Handle the request (an upload completes, a delete happens), then destroy the connection instead of answering. */
  loseResponse?: boolean;
  /** Runs just before the matched request is handled (e.g. overwrites an object between a listing and a read). */
  beforeHandle?: () => void;
}

export interface FakeGcsRequest {
  method: string;
  /** Path and query string as received. */
  path: string;
  /** `upload`, `download`, `metadata`, `list`, `delete`, `bucket`, `status` (upload status query), or `other`. */
  kind: string;
  bodyBytes: number;
  contentRange?: string;
  /** Status answered; 0 when the connection was destroyed. */
  status: number;
}

export interface FakeGcsOptions {
  buckets: string[];
  /** Largest page `objects.list` answers (a client's `maxResults` can only lower it). Default 1000. */
  listPageSize?: number;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface FakeGcs {
  url: string;
  requests: FakeGcsRequest[];
  /** Every stored object, keyed `bucket/name`. */
  objects: Map<string, FakeGcsObject>;
  /** Adds a fault; faults are consumed in the order added. */
  inject(fault: FakeGcsFault): void;
  /** Bytes of an object, or undefined. */
  read(bucket: string, name: string): Buffer | undefined;
  close(): Promise<void>;
}

interface UploadSession {
  bucket: string;
  name: string;
  contentType: string;
  metadata?: Record<string, string>;
  preconditions: URLSearchParams;
  received: Buffer[];
  receivedBytes: number;
  done?: FakeGcsObject;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: 'invalid',
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  412: 'conditionNotMet',
  429: 'rateLimitExceeded',
  500: 'backendError',
  503: 'backendError',
};

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  reason = REASONS[status] ?? 'error',
) {
  sendJson(res, status, {
    error: { code: status, message, errors: [{ domain: 'global', reason, message }] },
  });
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

function resource(o: FakeGcsObject): Record<string, unknown> {
  const id = `${o.bucket}/${o.name}/${o.generation}`;
  return {
    kind: 'storage#object',
    id,
    selfLink: `/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
    name: o.name,
    bucket: o.bucket,
    generation: String(o.generation),
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.data.length),
    md5Hash: md5(o.data),
    crc32c: crc32c(o.data),
    etag: Buffer.from(id).toString('base64'),
    timeCreated: o.created.toISOString(),
    updated: o.updated.toISOString(),
    ...(o.metadata ? { metadata: o.metadata } : {}),
  };
}

/** Reads the request body; with `destroyAfter`, destroys the socket once that many bytes arrived. */
function readBody(req: IncomingMessage, destroyAfter?: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let destroyed = false;
    const destroy = () => {
      destroyed = true;
      req.socket.destroy();
      resolve(undefined);
    };
    if (destroyAfter === 0) return destroy();
    req.on('data', (chunk: Buffer) => {
      if (destroyed) return;
      chunks.push(chunk);
      length += chunk.length;
      if (destroyAfter !== undefined && length >= destroyAfter) destroy();
    });
    req.on('end', () => {
      if (destroyed) return;
      if (destroyAfter !== undefined) return destroy();
      resolve(Buffer.concat(chunks, length));
    });
    req.on('error', (error) => (destroyed ? resolve(undefined) : reject(error)));
  });
}

/** Splits a multipart/related body into its JSON metadata part and its media part. */
function parseMultipart(
  body: Buffer,
  contentType: string,
): { metadata: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new HttpError(400, 'multipart upload without a boundary', 'invalid');
  const text = body.toString('latin1');
  const parts = text
    .split(`--${boundary}`)
    .slice(1)
    .filter((part) => !part.startsWith('--') && part.includes('\r\n\r\n'));
  if (parts.length !== 2)
    throw new HttpError(400, `expected 2 multipart parts, found ${parts.length}`, 'invalid');
  const payload = (part: string) =>
    part.slice(part.indexOf('\r\n\r\n') + 4, part.endsWith('\r\n') ? -2 : undefined);
  return {
    metadata: JSON.parse(payload(parts[0]!)) as Record<string, unknown>,
    media: Buffer.from(payload(parts[1]!), 'latin1'),
  };
}

function classify(method: string, url: URL): string {
  if (url.pathname.startsWith('/upload/')) return 'upload';
  if (/^\/storage\/v1\/b\/[^/]+\/o\/.+$/.test(url.pathname)) {
    return method === 'DELETE' ? 'delete' : url.searchParams.get('alt') === 'media' ? 'download' : 'metadata';
  }
  if (/^\/storage\/v1\/b\/[^/]+\/o$/.test(url.pathname)) return 'list';
  if (/^\/storage\/v1\/b\/[^/]+$/.test(url.pathname)) return 'bucket';
  return 'other';
}

export async function startFakeGcs(options: FakeGcsOptions): Promise<FakeGcs> {
  const buckets = new Set(options.buckets);
  const objects = new Map<string, FakeGcsObject>();
  const sessions = new Map<string, UploadSession>();
  const requests: FakeGcsRequest[] = [];
  const faults: ArmedFault<FakeGcsFault>[] = [];
  const pageSize = options.listPageSize ?? 1000;
  let generation = 1_700_000_000_000_000;

  const requireBucket = (bucket: string) => {
    if (!buckets.has(bucket)) throw new HttpError(404, 'The specified bucket does not exist.', 'notFound');
  };

  /** Generation preconditions, checked against the object currently stored under the name. */
  const checkPreconditions = (bucket: string, name: string, query: URLSearchParams) => {
    const current = objects.get(`${bucket}/${name}`);
    const currentGeneration = current ? String(current.generation) : '0';
    const match = query.get('ifGenerationMatch');
    const notMatch = query.get('ifGenerationNotMatch');
    if (
      (match !== null && match !== currentGeneration) ||
      (notMatch !== null && notMatch === currentGeneration)
    ) {
      throw new HttpError(
        412,
        'At least one of the pre-conditions you specified did not hold.',
        'conditionNotMet',
      );
    }
  };

  /** A client may send checksums (metadata fields or `x-goog-hash`); a mismatch is refused, as GCS does. */
  const verifyHashes = (data: Buffer, sent: { crc32c?: unknown; md5Hash?: unknown }) => {
    if (typeof sent.crc32c === 'string' && sent.crc32c !== crc32c(data)) {
      throw new HttpError(
        400,
        `Provided CRC32C "${sent.crc32c}" doesn't match calculated CRC32C "${crc32c(data)}".`,
        'invalid',
      );
    }
    if (typeof sent.md5Hash === 'string' && sent.md5Hash !== md5(data)) {
      throw new HttpError(
        400,
        `Provided MD5 hash "${sent.md5Hash}" doesn't match calculated MD5 hash.`,
        'invalid',
      );
    }
  };

  const hashHeader = (header: string | string[] | undefined) => {
    const out: { crc32c?: string; md5Hash?: string } = {};
    for (const part of String(header ?? '').split(',')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'crc32c') out.crc32c = v.join('=');
      if (k === 'md5') out.md5Hash = v.join('=');
    }
    return out;
  };

  const store = (
    bucket: string,
    name: string,
    data: Buffer,
    contentType: string,
    metadata?: Record<string, string>,
  ): FakeGcsObject => {
    const now = new Date();
    const previous = objects.get(`${bucket}/${name}`);
    const object: FakeGcsObject = {
      bucket,
      name,
      data,
      contentType,
      generation: ++generation,
      created: previous?.created ?? now,
      updated: now,
      ...(metadata ? { metadata } : {}),
    };
    objects.set(`${bucket}/${name}`, object);
    return object;
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
    record: FakeGcsRequest,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const query = url.searchParams;
    let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m) {
      const bucket = decodeURIComponent(m[1]!);
      const uploadType = query.get('uploadType');
      if (method === 'POST' && uploadType === 'multipart') {
        requireBucket(bucket);
        const { metadata, media } = parseMultipart(body, String(req.headers['content-type'] ?? ''));
        const name = String(metadata.name ?? query.get('name') ?? '');
        if (!name) throw new HttpError(400, 'Required parameter: name', 'required');
        checkPreconditions(bucket, name, query);
        verifyHashes(media, metadata);
        const object = store(
          bucket,
          name,
          media,
          String(metadata.contentType ?? 'application/octet-stream'),
          metadata.metadata as Record<string, string> | undefined,
        );
        return sendJson(res, 200, resource(object));
      }
      if (method === 'POST' && uploadType === 'resumable' && !query.has('upload_id')) {
        requireBucket(bucket);
        const metadata =
          body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        const name = String(query.get('name') ?? metadata.name ?? '');
        if (!name) throw new HttpError(400, 'Required parameter: name', 'required');
        checkPreconditions(bucket, name, query);
        const id = randomUUID();
        sessions.set(id, {
          bucket,
          name,
          contentType: String(
            req.headers['x-upload-content-type'] ?? metadata.contentType ?? 'application/octet-stream',
          ),
          ...(metadata.metadata ? { metadata: metadata.metadata as Record<string, string> } : {}),
          preconditions: new URLSearchParams(query),
          received: [],
          receivedBytes: 0,
        });
        const location = `http://${req.headers.host}${url.pathname}?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
        res.writeHead(200, { location, 'content-length': '0' });
        return void res.end();
      }
      if (method === 'PUT' && query.has('upload_id')) {
        const session = sessions.get(query.get('upload_id')!);
        if (!session) throw new HttpError(404, 'No such upload session.', 'notFound');
        return putResumable(req, res, session, body, record);
      }
      throw new HttpError(400, `unsupported upload ${method} uploadType=${uploadType}`, 'invalid');
    }

    m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    if (m) {
      const bucket = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      requireBucket(bucket);
      const object = objects.get(`${bucket}/${name}`);
      if (!object) throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
      // A read or delete of a named generation: without object versioning only the live one exists.
      const wanted = query.get('generation');
      if (wanted !== null && wanted !== String(object.generation)) {
        throw new HttpError(404, `No such object: ${bucket}/${name}#${wanted}`, 'notFound');
      }
      checkPreconditions(bucket, name, query);
      if (method === 'DELETE') {
        objects.delete(`${bucket}/${name}`);
        res.writeHead(204);
        return void res.end();
      }
      if (method !== 'GET') throw new HttpError(405, `method ${method} not supported on objects`, 'invalid');
      if (query.get('alt') === 'media') {
        res.writeHead(200, {
          'content-type': object.contentType,
          'content-length': String(object.data.length),
          'x-goog-hash': `crc32c=${crc32c(object.data)},md5=${md5(object.data)}`,
          'x-goog-generation': String(object.generation),
          'x-goog-stored-content-length': String(object.data.length),
        });
        return void res.end(object.data);
      }
      return sendJson(res, 200, resource(object));
    }

    m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m && method === 'GET') {
      const bucket = decodeURIComponent(m[1]!);
      requireBucket(bucket);
      const prefix = query.get('prefix') ?? '';
      const after = query.get('pageToken')
        ? Buffer.from(query.get('pageToken')!, 'base64url').toString()
        : '';
      const max = Math.min(pageSize, Number(query.get('maxResults') ?? pageSize) || pageSize);
      const matching = [...objects.values()]
        .filter((o) => o.bucket === bucket && o.name.startsWith(prefix) && o.name > after)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const page = matching.slice(0, max);
      const more = matching.length > max;
      return sendJson(res, 200, {
        kind: 'storage#objects',
        ...(page.length > 0 ? { items: page.map(resource) } : {}),
        ...(more ? { nextPageToken: Buffer.from(page.at(-1)!.name).toString('base64url') } : {}),
      });
    }

    m = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname);
    if (m && method === 'GET') {
      const bucket = decodeURIComponent(m[1]!);
      requireBucket(bucket);
      return sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'US' });
    }
    throw new HttpError(501, `fake GCS does not implement ${method} ${url.pathname}`, 'notImplemented');
  };

  /**
   * One PUT of a resumable session. A Content-Range of `bytes star/total` asks for the status (308 + Range
   * of what arrived); `bytes A-B/star` is a chunk (308 + Range); `bytes A-star/total`, `bytes A-star/star`
   * or `bytes A-B/N` with B = N-1 finishes the upload (200 + the object resource).
   */
  const putResumable = (
    req: IncomingMessage,
    res: ServerResponse,
    session: UploadSession,
    body: Buffer,
    record: FakeGcsRequest,
  ) => {
    const range = String(req.headers['content-range'] ?? '');
    record.contentRange = range;
    const incomplete = () => {
      const headers: Record<string, string> =
        session.receivedBytes > 0 ? { range: `bytes=0-${session.receivedBytes - 1}` } : {};
      res.writeHead(308, { ...headers, 'content-length': '0' });
      res.end();
    };
    if (session.done) return sendJson(res, 200, resource(session.done));
    const status = /^bytes \*\/(\*|\d+)$/.exec(range);
    if (status) {
      record.kind = 'status';
      return incomplete();
    }
    const m = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(range);
    if (!m) throw new HttpError(400, `invalid Content-Range ${JSON.stringify(range)}`, 'invalid');
    const first = Number(m[1]);
    if (first > session.receivedBytes) {
      throw new HttpError(
        400,
        `upload chunk starts at byte ${first} but the session holds only ${session.receivedBytes} bytes`,
        'invalid',
      );
    }
    // A chunk that overlaps what the session already holds is trimmed, as GCS does.
    const fresh = body.subarray(session.receivedBytes - first);
    session.received.push(fresh);
    session.receivedBytes += fresh.length;
    const total = m[3] === '*' ? undefined : Number(m[3]);
    const final = m[2] === '*' || (total !== undefined && Number(m[2]) + 1 === total);
    if (!final) return incomplete();
    if (total !== undefined && total !== session.receivedBytes) {
      throw new HttpError(
        400,
        `upload declared ${total} bytes but ${session.receivedBytes} arrived`,
        'invalid',
      );
    }
    const data = Buffer.concat(session.received, session.receivedBytes);
    verifyHashes(data, hashHeader(req.headers['x-goog-hash']));
    checkPreconditions(session.bucket, session.name, session.preconditions);
    session.done = store(session.bucket, session.name, data, session.contentType, session.metadata);
    session.received = [];
    return sendJson(res, 200, resource(session.done));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-gcs');
    const method = req.method ?? 'GET';
    const path = `${url.pathname}${url.search}`;
    const record: FakeGcsRequest = { method, path, kind: classify(method, url), bodyBytes: 0, status: 0 };
    requests.push(record);
    const fault = takeRequestFault(faults, method, path);
    if (fault?.loseResponse) loseResponse(res);
    fault?.beforeHandle?.();
    try {
      const body = await readBody(req, fault?.destroyAfterBytes);
      if (body === undefined) return; // connection destroyed by a fault
      record.bodyBytes = body.length;
      if (fault?.status) {
        record.status = fault.status;
        return sendError(res, fault.status, `injected fault: ${fault.status}`);
      }
      await handle(req, res, url, body, record);
      record.status = fault?.loseResponse ? 0 : res.statusCode;
    } catch (error) {
      if (error instanceof HttpError) {
        record.status = error.status;
        return sendError(res, error.status, error.message, error.reason);
      }
      record.status = 500;
      sendError(res, 500, String(error));
    }
  });
  const url = await listen(server, options);

  return {
    url,
    requests,
    objects,
    inject(fault) {
      faults.push(armFault(fault));
    },
    read(bucket, name) {
      return objects.get(`${bucket}/${name}`)?.data;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
