/**
 * `pnpm test:load`: each service as a child process (as on Cloud Run), under concurrent requests with
 * autocannon. Measures request rate and p99 latency for /healthz, for a repeated transform of one runId
 * (the idempotent manifest answer), for distinct small transforms (real work), and for the extractor's
 * and loader's idempotent answers, while sampling each process's RSS. Timing-based: not part of
 * `pnpm test` or CI. Prints a Markdown table and the machine it ran on; docs/reliability.md holds a copy.
 *
 *   pnpm test:load [--duration SECONDS] [--runs N]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type ServiceName, ServiceProcess } from '../chaos/harness';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, runs: { type: 'string', default: '150' } },
});
const DURATION = Number(values.duration);
const DISTINCT_RUNS = Number(values.runs);
const JSON_HEADERS = { 'content-type': 'application/json' };

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Samples a process's RSS every 200 ms while `work` runs. */
async function withRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number; after: number }> {
  const before = rssMiB(pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 200);
  try {
    const result = await work();
    return { result, before, peak: Math.max(peak, rssMiB(pid)), after: rssMiB(pid) };
  } finally {
    clearInterval(timer);
  }
}

interface Row {
  service: ServiceName;
  scenario: string;
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rss: string;
}

const rows: Row[] = [];

async function measure(
  service: ServiceProcess,
  scenario: string,
  options: Parameters<typeof autocannon>[0],
): Promise<void> {
  const { result, before, peak, after } = await withRss(service.child.pid!, () => autocannon(options));
  const ok = result.statusCodeStats['200']?.count ?? 0;
  rows.push({
    service: service.name,
    scenario,
    connections: options.connections ?? 10,
    requests: result.requests.total,
    // Completed requests over the wall time (autocannon's per-second average rounds slow runs to 0 or 1).
    rps: Math.round((result.requests.total / Math.max(result.duration, 0.001)) * 10) / 10,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + (result.requests.total - ok),
    rss: `${before} → peak ${peak} → ${after}`,
  });
  console.error(`${service.name} ${scenario}: ${JSON.stringify(rows.at(-1))}`);
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'etl-load-'));
  // info, as deployed: one log line per request is part of the cost measured.
  const env = { LOG_LEVEL: 'info' };
  const services = {
    extractor: await ServiceProcess.start('extractor', { dataDir, env }),
    transformer: await ServiceProcess.start('transformer', { dataDir, env: { ...env, DUCKDB_THREADS: '1' } }),
    loader: await ServiceProcess.start('loader', { dataDir, env }),
  };
  try {
    // Inputs: one run fully done (for the idempotent answers), and DISTINCT_RUNS extracted small runs.
    await post(`${services.extractor.url}/v1/extract`, {
      runId: 'load-0',
      source: 'sample',
      sample: { rows: 200, seed: 1 },
    });
    await post(`${services.transformer.url}/v1/transform`, { runId: 'load-0' });
    await post(`${services.loader.url}/v1/load`, { runId: 'load-0' });
    for (let i = 1; i <= DISTINCT_RUNS; i++) {
      await post(`${services.extractor.url}/v1/extract`, {
        runId: `load-${i}`,
        source: 'sample',
        sample: { rows: 200, seed: i },
      });
    }

    for (const service of Object.values(services)) {
      await measure(service, 'GET /healthz', {
        url: `${service.url}/healthz`,
        connections: 50,
        duration: DURATION,
      });
    }
    await measure(services.extractor, 'POST /v1/extract, same runId (stored manifest)', {
      url: `${services.extractor.url}/v1/extract`,
      connections: 20,
      duration: DURATION,
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ runId: 'load-0', source: 'sample', sample: { rows: 200, seed: 1 } }),
    });
    await measure(services.transformer, 'POST /v1/transform, same runId (stored manifest)', {
      url: `${services.transformer.url}/v1/transform`,
      connections: 20,
      duration: DURATION,
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ runId: 'load-0' }),
    });
    await measure(services.loader, 'POST /v1/load, same runId (stored manifest)', {
      url: `${services.loader.url}/v1/load`,
      connections: 20,
      duration: DURATION,
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ runId: 'load-0' }),
    });
    for (const connections of [1, 4, 8]) {
      let next = 0;
      const first = Math.floor(((connections === 1 ? 0 : connections === 4 ? 1 : 2) * DISTINCT_RUNS) / 3) + 1;
      const count = Math.floor(DISTINCT_RUNS / 3);
      await measure(services.transformer, `POST /v1/transform, distinct 200-row runs`, {
        url: `${services.transformer.url}/v1/transform`,
        connections,
        amount: count,
        timeout: 120,
        requests: [
          {
            method: 'POST',
            path: '/v1/transform',
            headers: JSON_HEADERS,
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ runId: `load-${first + next++}` }),
            }),
          },
        ],
      });
    }
  } finally {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }

  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`,
  );
  console.log(
    `load average at the end (1, 5, 15 min): ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  console.log('');
  console.log(
    '| service | scenario | connections | requests | req/s | p50 ms | p99 ms | non-200 | RSS MiB (before → peak → after) |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.service} | ${r.scenario} | ${r.connections} | ${r.requests} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.rss} |`,
    );
  }
}

await main();
