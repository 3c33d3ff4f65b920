import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { makeErrorMap, RaisedError, raise } from './errors';
import { encodeJson, parseJson } from './json-codec';
import { HTTP_TIMEOUT_DEFAULT_SECONDS, HTTP_TIMEOUT_MAX_SECONDS } from './limits';
import { formatScalar, isNumber, typeName, type WfMap, type WfValue } from './values';

/** Rewrites URLs starting with `from` to start with `to` instead (first match wins). */
export interface Route {
  from: string;
  to: string;
}

/** What the `auth` argument asked for, passed to an optional token provider. */
export interface AuthRequest {
  type: 'OIDC' | 'OAuth2';
  url: string;
  audience?: string;
  scopes?: string[];
}

export type TokenProvider = (request: AuthRequest) => string | Promise<string>;

export interface HttpCallOptions {
  routes: Route[];
  tokenProvider?: TokenProvider;
  responseLimitBytes: number;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

export function applyRoutes(url: string, routes: Route[]): string {
  const route = routes.find((candidate) => url.startsWith(candidate.from));
  return route ? route.to + url.slice(route.from.length) : url;
}

function buildUrl(base: string, query: WfValue | undefined): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return raise('ValueError', `invalid URL '${base}'`);
  }
  if (query === undefined || query === null) return url;
  if (!(query instanceof Map))
    return raise('TypeError', `http query must be a map, got '${typeName(query)}'`);
  for (const [key, value] of query) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string' && typeof item !== 'boolean' && !isNumber(item)) {
        raise('TypeError', `http query value for '${key}' must be a scalar or a list of scalars`);
      }
      url.searchParams.append(key, formatScalar(item));
    }
  }
  return url;
}

function buildHeaders(headers: WfValue | undefined): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (!(headers instanceof Map))
    return raise('TypeError', `http headers must be a map, got '${typeName(headers)}'`);
  const result: Record<string, string> = {};
  for (const [key, value] of headers) {
    if (typeof value !== 'string' && typeof value !== 'boolean' && !isNumber(value)) {
      raise('TypeError', `http header '${key}' must be a string`);
    }
    result[key] = formatScalar(value);
  }
  return result;
}

function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Body encoding per wf:reference/stdlib/http/request: explicit Content-Type governs, else bytes or JSON. */
function encodeBody(body: WfValue | undefined, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  const contentType = findHeader(headers, 'content-type');
  if (contentType === undefined) {
    if (body instanceof Uint8Array) {
      headers['Content-Type'] = 'application/octet-stream';
      return Buffer.from(body);
    }
    headers['Content-Type'] = 'application/json; charset=utf-8';
    return Buffer.from(encodeJson(body));
  }
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (/application\/x-www-form-urlencoded/i.test(contentType) && body instanceof Map) {
    const form = new URLSearchParams();
    for (const [key, value] of body) form.append(key, typeof value === 'string' ? value : encodeJson(value));
    return Buffer.from(form.toString());
  }
  if (typeof body === 'string' && !/json/i.test(contentType)) return Buffer.from(body);
  return Buffer.from(encodeJson(body));
}

function timeoutMs(timeout: WfValue | undefined): number {
  if (timeout === undefined || timeout === null) return HTTP_TIMEOUT_DEFAULT_SECONDS * 1000;
  if (!isNumber(timeout)) return raise('TypeError', `http timeout must be a number of seconds`);
  const seconds = Number(timeout);
  if (seconds <= 0 || seconds > HTTP_TIMEOUT_MAX_SECONDS) {
    return raise(
      'ValueError',
      `http timeout must be in (0, ${HTTP_TIMEOUT_MAX_SECONDS}] seconds, got ${seconds}`,
    );
  }
  return seconds * 1000;
}

async function authorize(
  auth: WfValue | undefined,
  url: string,
  headers: Record<string, string>,
  tokenProvider: TokenProvider | undefined,
): Promise<void> {
  if (auth === undefined || auth === null) return;
  if (!(auth instanceof Map)) return raise('TypeError', `http auth must be a map`);
  const type = auth.get('type');
  if (type !== 'OIDC' && type !== 'OAuth2')
    return raise('ValueError', `http auth type must be OIDC or OAuth2`);
  // Locally, auth is accepted and ignored unless a token provider is plugged in.
  if (!tokenProvider || findHeader(headers, 'authorization') !== undefined) return;
  const audience = auth.get('audience');
  const scopeValue = auth.get('scopes') ?? auth.get('scope');
  const scopes = Array.isArray(scopeValue)
    ? scopeValue.filter((item): item is string => typeof item === 'string')
    : typeof scopeValue === 'string'
      ? [scopeValue]
      : undefined;
  const token = await tokenProvider({
    type,
    url,
    audience: typeof audience === 'string' ? audience : type === 'OIDC' ? url : undefined,
    scopes,
  });
  headers['Authorization'] = `Bearer ${token}`;
}

function headersToMap(headers: IncomingHttpHeaders): WfMap {
  const map: WfMap = new Map();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

function decodeBody(raw: Buffer, contentType: string | undefined): WfValue {
  if (raw.length === 0) return contentType === undefined ? null : '';
  const text = () => new TextDecoder('utf-8', { fatal: true }).decode(raw);
  if (contentType && /json/i.test(contentType)) {
    try {
      return parseJson(raw.toString('utf8'));
    } catch {
      return raw.toString('utf8');
    }
  }
  try {
    return text();
  } catch {
    return new Uint8Array(raw);
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one request and classifies failures as the documented tags: never connected
 * (`ConnectionFailedError`), broken after connecting (`ConnectionError`), or too slow (`TimeoutError`).
 */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  limitMs: number,
  maxBytes: number,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    let connected = false;
    let settled = false;
    const finish = (error: RaisedError | undefined, response?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(response!);
    };
    const request = transport.request(url, { method, headers, agent: false });
    const timer = setTimeout(() => {
      finish(
        new RaisedError(
          makeErrorMap('TimeoutError', `HTTP request to ${url.href} timed out after ${limitMs / 1000} s`),
        ),
      );
      request.destroy();
    }, limitMs);
    request.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const tag = connected ? 'ConnectionError' : 'ConnectionFailedError';
      finish(
        new RaisedError(
          makeErrorMap(tag, `HTTP request to ${url.href} failed: ${error.code ?? error.message}`),
        ),
      );
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(
            new RaisedError(
              makeErrorMap('ResourceLimitError', `HTTP response from ${url.href} exceeds ${maxBytes} bytes`),
            ),
          );
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('aborted', () =>
        finish(
          new RaisedError(
            makeErrorMap('ConnectionError', `connection to ${url.href} broke while reading the response`),
          ),
        ),
      );
      response.on('error', (error) =>
        finish(
          new RaisedError(
            makeErrorMap('ConnectionError', `connection to ${url.href} broke: ${error.message}`),
          ),
        ),
      );
      response.on('end', () => {
        if (!response.complete) {
          finish(
            new RaisedError(
              makeErrorMap('ConnectionError', `connection to ${url.href} broke while reading the response`),
            ),
          );
          return;
        }
        finish(undefined, {
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        });
      });
    });
    request.end(body);
  });
}

/** Executes `http.get|post|put|patch|delete|request` with named arguments; returns `{body, code, headers}`. */
export async function performHttpCall(
  fixedMethod: string | undefined,
  args: Map<string, WfValue>,
  options: HttpCallOptions,
): Promise<WfMap> {
  const rawUrl = args.get('url');
  if (typeof rawUrl !== 'string') return raise('TypeError', `http: 'url' must be a string`);
  const method = fixedMethod ?? args.get('method');
  if (typeof method !== 'string' || !METHODS.includes(method.toUpperCase())) {
    return raise('ValueError', `http.request: method must be one of ${METHODS.join(', ')}`);
  }
  const url = buildUrl(applyRoutes(rawUrl, options.routes), args.get('query'));
  const headers = buildHeaders(args.get('headers'));
  const limitMs = timeoutMs(args.get('timeout'));
  await authorize(args.get('auth'), rawUrl, headers, options.tokenProvider);
  const body = encodeBody(args.get('body'), headers);
  const response = await send(url, method.toUpperCase(), headers, body, limitMs, options.responseLimitBytes);
  const headerMap = headersToMap(response.headers);
  const contentType = response.headers['content-type'];
  const decoded = decodeBody(response.body, contentType);
  if (response.status >= 400) {
    raise('HttpError', `HTTP server responded with error code ${response.status}`, {
      code: BigInt(response.status),
      headers: headerMap,
      body: decoded,
    });
  }
  return new Map<string, WfValue>([
    ['body', decoded],
    ['code', BigInt(response.status)],
    ['headers', headerMap],
  ]);
}
