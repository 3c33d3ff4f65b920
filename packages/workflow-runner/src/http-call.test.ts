import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, runYaml, runYamlError } from './test-support';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];

/** A real HTTP server on 127.0.0.1:0 recording every request. */
async function startServer(handler: Handler): Promise<{
  url: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
}> {
  const requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> =
    [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

async function refusedUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

describe('http calls', () => {
  it('posts JSON with query and headers, and decodes the JSON response into {body, code, headers}', async () => {
    const server = await startServer((_req, res) => json(res, 201, { ok: true, n: 1, x: 1.5 }));
    const yaml = `
main:
  params: [base]
  steps:
    - post:
        call: http.post
        args:
          url: \${base + "/items"}
          query:
            page: 2
            tag: ["a", "b"]
          headers:
            X-Test: "yes"
          body:
            name: "widget"
            count: 3
          auth:
            type: OIDC
        result: r
    - done:
        return:
          - \${r.code}
          - \${r.body}
          - \${r.headers["content-type"]}
`;
    expect(await runYaml(yaml, server.url)).toEqual([201, { ok: true, n: 1, x: 1.5 }, 'application/json']);
    const [request] = server.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/items?page=2&tag=a&tag=b');
    expect(request!.headers['x-test']).toBe('yes');
    expect(request!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(request!.body)).toEqual({ name: 'widget', count: 3 });
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('supports http.get/put/patch/delete/request, text bodies and a token provider', async () => {
    const server = await startServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`${req.method} ok`);
    });
    const yaml = `
main:
  params: [base]
  steps:
    - g:
        call: http.get
        args: {url: "\${base}", auth: {type: OAuth2}}
        result: g
    - p:
        call: http.put
        args: {url: "\${base}", body: "x"}
        result: p
    - pa:
        call: http.patch
        args: {url: "\${base}"}
        result: pa
    - d:
        call: http.delete
        args: {url: "\${base}"}
        result: d
    - r:
        call: http.request
        args: {url: "\${base}", method: "OPTIONS"}
        result: r
    - done:
        return: [\${g.body}, \${p.body}, \${pa.body}, \${d.body}, \${r.body}]
`.replace(
      'return: [${g.body}, ${p.body}, ${pa.body}, ${d.body}, ${r.body}]',
      'return: ["${g.body}", "${p.body}", "${pa.body}", "${d.body}", "${r.body}"]',
    );
    const result = await runYaml(yaml, server.url, {
      tokenProvider: (request) => `token-for-${request.type}`,
    });
    expect(result).toEqual(['GET ok', 'PUT ok', 'PATCH ok', 'DELETE ok', 'OPTIONS ok']);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer token-for-OAuth2');
  });

  it('raises HttpError with code, headers and decoded body for status >= 400, without retrying', async () => {
    const server = await startServer((_req, res) => json(res, 400, { error: 'bad input' }));
    const yaml = `
main:
  params: [base]
  steps:
    - call_it:
        try:
          call: http.post
          args: {url: "\${base}", body: {}}
        retry: \${http.default_retry}
`;
    const error = await runYamlError(yaml, server.url);
    expect(error).toMatchObject({ tags: ['HttpError'], code: 400, body: { error: 'bad input' } });
    expect(error.message).toBe('HTTP server responded with error code 400');
    expect(error.headers['content-type']).toBe('application/json');
    expect(server.requests).toHaveLength(1);
  });

  it('raises TimeoutError when the server hangs past timeout', async () => {
    const server = await startServer(() => {});
    const yaml =
      'main:\n  params: [base]\n  steps:\n    - slow:\n        call: http.get\n        args: {url: "${base}", timeout: 0.2}\n';
    const started = Date.now();
    expect((await runYamlError(yaml, server.url)).tags).toEqual(['TimeoutError']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects timeouts above 1800 s', async () => {
    const yaml =
      'main:\n  params: [base]\n  steps:\n    - slow:\n        call: http.get\n        args: {url: "${base}", timeout: 1801}\n';
    expect((await runYamlError(yaml, 'http://127.0.0.1:1')).tags).toEqual(['ValueError']);
  });

  it('raises ConnectionFailedError for a refused port', async () => {
    const yaml =
      'main:\n  params: [base]\n  steps:\n    - c:\n        call: http.get\n        args: {url: "${base}"}\n';
    expect((await runYamlError(yaml, await refusedUrl())).tags).toEqual(['ConnectionFailedError']);
  });

  it('raises ConnectionError when the connection breaks mid-response', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const yaml =
      'main:\n  params: [base]\n  steps:\n    - c:\n        call: http.get\n        args: {url: "${base}"}\n';
    expect((await runYamlError(yaml, server.url)).tags).toEqual(['ConnectionError']);
  });

  it('rewrites URL prefixes with routes', async () => {
    const server = await startServer((_req, res) => json(res, 200, 'routed'));
    const yaml =
      '- c:\n    call: http.get\n    args:\n      url: https://service-abc.a.run.app/v1/thing\n    result: r\n- d:\n    return: ${r.body}\n';
    const result = await runYaml(yaml, undefined, {
      routes: [{ from: 'https://service-abc.a.run.app', to: server.url }],
    });
    expect(result).toBe('routed');
    expect(server.requests[0]!.url).toBe('/v1/thing');
  });
});

describe('retry', () => {
  it('retries 503 twice then succeeds: exactly three calls, delays from the backoff', async () => {
    let calls = 0;
    const server = await startServer((_req, res) => {
      calls++;
      if (calls <= 2) json(res, 503, { error: 'busy' });
      else json(res, 200, { ok: true });
    });
    const yaml = `
main:
  params: [base]
  steps:
    - call_it:
        try:
          call: http.post
          args: {url: "\${base}", body: {}}
          result: r
        retry:
          predicate: \${http.default_retry_predicate}
          max_retries: 5
          backoff:
            initial_delay: 2
            max_delay: 60
            multiplier: 2
    - done:
        return: \${r.body}
`;
    const clock = createFakeClock();
    expect(await runYaml(yaml, server.url, { clock })).toEqual({ ok: true });
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([2000, 4000]);
  });

  it('gives up after max_retries, then except sees the last error; delays are capped by max_delay', async () => {
    const server = await startServer((_req, res) => json(res, 503, {}));
    const yaml = `
main:
  params: [base]
  steps:
    - call_it:
        try:
          call: http.get
          args: {url: "\${base}"}
        retry:
          predicate: \${http.default_retry_predicate}
          max_retries: 4
          backoff: {initial_delay: 1, max_delay: 5, multiplier: 3}
        except:
          as: e
          steps:
            - out:
                return: \${e.code}
`;
    const clock = createFakeClock();
    expect(await runYaml(yaml, server.url, { clock })).toBe(503);
    expect(server.requests).toHaveLength(5);
    expect(clock.sleeps).toEqual([1000, 3000, 5000, 5000]);
  });

  it('uses http.default_retry (5 retries, default backoff) and fastRetries shrinks the waits', async () => {
    const server = await startServer((_req, res) => json(res, 429, {}));
    const yaml =
      'main:\n  params: [base]\n  steps:\n    - c:\n        try:\n          call: http.get\n          args: {url: "${base}"}\n        retry: ${http.default_retry}\n';
    const clock = createFakeClock();
    expect((await runYamlError(yaml, server.url, { clock, fastRetries: true })).code).toBe(429);
    expect(server.requests).toHaveLength(6);
    expect(clock.sleeps).toEqual([1, 1.25, 1.5625, 1.953125, 2.44140625]);
  });

  it('non-idempotent policy does not retry 502, default does not retry 500', async () => {
    const server = await startServer((req, res) => json(res, req.url === '/502' ? 502 : 500, {}));
    const yaml = `
main:
  params: [url]
  steps:
    - c:
        try:
          call: http.post
          args: {url: "\${url}", body: {}}
        retry: \${http.default_retry_non_idempotent}
`;
    const clock = createFakeClock();
    expect((await runYamlError(yaml, `${server.url}/502`, { clock })).code).toBe(502);
    expect(
      (await runYamlError(yaml.replace('_non_idempotent', ''), `${server.url}/500`, { clock })).code,
    ).toBe(500);
    expect(server.requests).toHaveLength(2);
  });

  it('retries connection failures with a subworkflow predicate', async () => {
    const yaml = `
main:
  params: [url]
  steps:
    - c:
        try:
          call: http.get
          args: {url: "\${url}"}
        retry:
          predicate: \${only_connection_failures}
          max_retries: 2
          backoff: {initial_delay: 10, max_delay: 10, multiplier: 1}
only_connection_failures:
  params: [e]
  steps:
    - check:
        return: \${"ConnectionFailedError" in e.tags}
`;
    const clock = createFakeClock();
    expect((await runYamlError(yaml, await refusedUrl(), { clock })).tags).toEqual(['ConnectionFailedError']);
    expect(clock.sleeps).toEqual([10_000, 10_000]);
  });
});
