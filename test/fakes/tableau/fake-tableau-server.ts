/**
 * A small, honest fake of the Tableau REST API (JSON flavour), for tests: the calls the loader's
 * TableauClient makes, answered as Tableau answers them.
 *
 *   POST /api/{ver}/auth/signin                       PAT credentials -> token, site LUID, user LUID
 *   POST /api/{ver}/auth/signout                      204
 *   GET  /api/{ver}/sites/{site}/datasources?filter=name:eq:NAME
 *   POST /api/{ver}/sites/{site}/datasources/{id}/refresh   202 + job, or 409 409093 when one is queued
 *   POST /api/{ver}/sites/{site}/workbooks/{id}/refresh     the same for a workbook
 *   GET  /api/{ver}/sites/{site}/jobs?filter=jobType:eq:refresh_extracts,status:eq:Pending|InProgress
 *   GET  /api/{ver}/sites/{site}/jobs/{id}            job; finishCode once it has been polled enough
 *
 * Signed-in calls need `X-Tableau-Auth` with a live token (else 401 401002) and the site LUID of the
 * session in the path. Errors are `{"error":{"summary","detail","code"}}`. Faults: the session expiring
 * after some polls, a refresh already queued (409093, with the existing job listed or not), jobs
 * finishing with finishCode 1, and Query Jobs refused (403).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, readBody } from '../http';

export interface FakeTableauContent {
  id: string;
  name: string;
  project?: string;
}

export interface FakeTableauFaults {
  /** After this many job polls in all, every live token expires once: the next signed-in call gets 401002. */
  expireSessionAfterPolls?: number;
  /**
   * The next `times` refresh requests find a refresh of their target already queued: the fake creates
   * that job (Pending) and answers 409 409093. `listed: false` hides it from Query Jobs; `finishAfterConflict`
   * makes it finish (success) right after the 409, as when it ends between the refresh and the job lookup.
   */
  alreadyQueued?: { times: number; listed?: boolean; finishAfterConflict?: boolean };
  /** The next `times` jobs created finish with finishCode 1 and this note. */
  failJobs?: { times: number; note?: string };
  /** Query Jobs answers 403 (a token that may not list jobs). */
  forbidJobList?: boolean;
}

export interface FakeTableauOptions {
  tokenName: string;
  tokenSecret: string;
  /** Site contentUrl the PAT belongs to; '' = the default site. */
  site?: string;
  siteId?: string;
  datasources?: FakeTableauContent[];
  workbooks?: FakeTableauContent[];
  /** Polls a job answers "running" before it finishes. Default 2. */
  pollsUntilDone?: number;
  faults?: FakeTableauFaults;
}

export interface FakeTableauJob {
  id: string;
  kind: 'datasource' | 'workbook';
  targetId: string;
  targetName: string;
  createdAt: string;
  polls: number;
  finishCode?: 0 | 1 | 2;
  /** Finishes with finishCode 1 and `note`. */
  fails: boolean;
  note?: string;
  /** Visible to Query Jobs. */
  listed: boolean;
}

export interface FakeTableauRequest {
  method: string;
  /** Path without the query string, e.g. /api/3.22/sites/<site>/jobs/<id>. */
  path: string;
  query: string;
  /** Whether an X-Tableau-Auth header was sent (its value is never recorded). */
  authenticated: boolean;
  status: number;
  tableauCode?: string;
}

export interface FakeTableau {
  url: string;
  siteId: string;
  requests: FakeTableauRequest[];
  jobs: Map<string, FakeTableauJob>;
  /** Sign-ins that succeeded. */
  signIns: () => number;
  /** Every session token handed out, for tests that check none leaks into logs or errors. */
  issuedTokens: () => string[];
  setFaults(faults: FakeTableauFaults): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly summary: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function sendJson(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeTableau(options: FakeTableauOptions): Promise<FakeTableau> {
  const site = options.site ?? '';
  const siteId = options.siteId ?? randomUUID();
  const userId = randomUUID();
  const pollsUntilDone = options.pollsUntilDone ?? 2;
  const tokens = new Set<string>();
  const issued: string[] = [];
  const jobs = new Map<string, FakeTableauJob>();
  const requests: FakeTableauRequest[] = [];
  let faults: FakeTableauFaults = structuredClone(options.faults ?? {});
  let polls = 0;
  let signIns = 0;
  const content = {
    datasource: options.datasources ?? [],
    workbook: options.workbooks ?? [],
  };

  const createJob = (kind: 'datasource' | 'workbook', target: FakeTableauContent, listed = true) => {
    const job: FakeTableauJob = {
      id: randomUUID(),
      kind,
      targetId: target.id,
      targetName: target.name,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      polls: 0,
      fails: false,
      listed,
    };
    if (faults.failJobs && faults.failJobs.times > 0) {
      faults.failJobs.times--;
      job.fails = true;
      job.note = faults.failJobs.note ?? 'Refresh failed: could not connect to BigQuery';
    }
    jobs.set(job.id, job);
    return job;
  };

  const jobJson = (job: FakeTableauJob) => {
    const running = job.finishCode === undefined;
    return {
      id: job.id,
      mode: 'Asynchronous',
      type: 'RefreshExtract',
      progress: running ? (job.polls === 0 ? '0' : '50') : '100',
      createdAt: job.createdAt,
      ...(job.polls > 0 ? { startedAt: job.createdAt } : {}),
      ...(running ? {} : { completedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }),
      ...(running ? {} : { finishCode: String(job.finishCode) }),
      extractRefreshJob: {
        ...(job.note && !running ? { notes: job.note } : {}),
        [job.kind]: { id: job.targetId, name: job.targetName },
      },
    };
  };

  const activeJobOf = (kind: string, id: string) =>
    [...jobs.values()].find((j) => j.kind === kind && j.targetId === id && j.finishCode === undefined);

  const handle = async (req: IncomingMessage, res: ServerResponse, entry: FakeTableauRequest) => {
    const body = await readBody(req);
    const match = /^\/api\/(\d+\.\d+)(\/.*)$/.exec(entry.path);
    if (!match) throw new HttpError(404, '404000', 'Resource Not Found', `no API at ${entry.path}`);
    const route = match[2]!;

    if (req.method === 'POST' && route === '/auth/signin') {
      let credentials: Record<string, unknown> = {};
      try {
        credentials = (JSON.parse(body) as { credentials?: Record<string, unknown> }).credentials ?? {};
      } catch {
        throw new HttpError(400, '400000', 'Bad Request', 'The request body is not valid JSON.');
      }
      const askedSite = (credentials.site as { contentUrl?: string } | undefined)?.contentUrl ?? '';
      if (
        credentials.personalAccessTokenName !== options.tokenName ||
        credentials.personalAccessTokenSecret !== options.tokenSecret ||
        askedSite !== site
      ) {
        throw new HttpError(401, '401001', 'Signin Error', 'Error signing in to Tableau Server');
      }
      const token = `${randomUUID().replaceAll('-', '')}|${randomUUID()}`;
      tokens.add(token);
      issued.push(token);
      signIns++;
      return sendJson(res, 200, {
        credentials: { site: { id: siteId, contentUrl: site }, user: { id: userId }, token },
      });
    }

    const token = req.headers['x-tableau-auth'];
    if (typeof token !== 'string' || !tokens.has(token)) {
      throw new HttpError(
        401,
        '401002',
        'Unauthorized Access',
        'Invalid authentication credentials were provided.',
      );
    }
    if (req.method === 'POST' && route === '/auth/signout') {
      tokens.delete(token);
      return sendJson(res, 204);
    }

    const siteMatch = /^\/sites\/([^/]+)(\/.*)$/.exec(route);
    if (!siteMatch) throw new HttpError(404, '404000', 'Resource Not Found', `no route ${route}`);
    if (siteMatch[1] !== siteId) {
      throw new HttpError(404, '404000', 'Site Not Found', `Site '${siteMatch[1]}' could not be found.`);
    }
    const rest = siteMatch[2]!;
    const query = new URLSearchParams(entry.query);
    const filters = (query.get('filter') ?? '').split(',').filter(Boolean);

    if (req.method === 'GET' && rest === '/datasources') {
      const byName = filters.find((f) => f.startsWith('name:eq:'))?.slice('name:eq:'.length);
      const found = content.datasource.filter((d) => byName === undefined || d.name === byName);
      return sendJson(res, 200, {
        pagination: { pageNumber: '1', pageSize: '100', totalAvailable: String(found.length) },
        datasources: {
          datasource: found.map((d) => ({
            id: d.id,
            name: d.name,
            project: { name: d.project ?? 'default' },
          })),
        },
      });
    }

    const refresh = /^\/(datasources|workbooks)\/([^/]+)\/refresh$/.exec(rest);
    if (req.method === 'POST' && refresh) {
      const kind = refresh[1] === 'datasources' ? 'datasource' : 'workbook';
      const id = decodeURIComponent(refresh[2]!);
      const target = content[kind].find((c) => c.id === id);
      if (!target) {
        throw new HttpError(
          404,
          kind === 'datasource' ? '404011' : '404006',
          'Resource Not Found',
          `${kind === 'datasource' ? 'Datasource' : 'Workbook'} '${id}' could not be found.`,
        );
      }
      if (faults.alreadyQueued && faults.alreadyQueued.times > 0) {
        faults.alreadyQueued.times--;
        if (!activeJobOf(kind, id)) createJob(kind, target, faults.alreadyQueued.listed ?? true);
      }
      const active = activeJobOf(kind, id);
      if (active) {
        if (faults.alreadyQueued?.finishAfterConflict) active.finishCode = 0;
        throw new HttpError(
          409,
          '409093',
          'Resource Conflict',
          `Job for '${target.name}' is already queued. Not queuing a duplicate.`,
        );
      }
      const job = createJob(kind, target);
      return sendJson(res, 202, { job: jobJson(job) });
    }

    if (req.method === 'GET' && rest === '/jobs') {
      if (faults.forbidJobList) {
        throw new HttpError(403, '403000', 'Forbidden', 'Only administrators can query jobs.');
      }
      const status = filters.find((f) => f.startsWith('status:eq:'))?.slice('status:eq:'.length);
      const listed = [...jobs.values()]
        .filter((j) => j.listed)
        .map((j) => ({ job: j, status: statusOf(j) }))
        .filter((j) => status === undefined || j.status === status);
      return sendJson(res, 200, {
        pagination: { pageNumber: '1', pageSize: '100', totalAvailable: String(listed.length) },
        backgroundJobs: {
          backgroundJob: listed.map(({ job, status: s }) => ({
            id: job.id,
            status: s,
            createdAt: job.createdAt,
            priority: '50',
            jobType: 'refresh_extracts',
            title: job.targetName,
            subtitle: job.kind === 'datasource' ? 'Data Source' : 'Workbook',
          })),
        },
      });
    }

    const jobMatch = /^\/jobs\/([^/]+)$/.exec(rest);
    if (req.method === 'GET' && jobMatch) {
      const job = jobs.get(decodeURIComponent(jobMatch[1]!));
      if (!job)
        throw new HttpError(404, '404005', 'Resource Not Found', `Job '${jobMatch[1]}' could not be found.`);
      polls++;
      if (faults.expireSessionAfterPolls !== undefined && polls > faults.expireSessionAfterPolls) {
        faults.expireSessionAfterPolls = undefined;
        tokens.clear();
        throw new HttpError(
          401,
          '401002',
          'Unauthorized Access',
          'Invalid authentication credentials were provided.',
        );
      }
      if (job.finishCode === undefined) {
        job.polls++;
        if (job.polls > pollsUntilDone) job.finishCode = job.fails ? 1 : 0;
      }
      return sendJson(res, 200, { job: jobJson(job) });
    }

    throw new HttpError(405, '405000', 'Method Not Allowed', `${req.method} ${rest} is not supported`);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: FakeTableauRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      authenticated: typeof req.headers['x-tableau-auth'] === 'string',
      status: 0,
    };
    requests.push(entry);
    handle(req, res, entry)
      .then(() => {
        entry.status = res.statusCode;
      })
      .catch((error: unknown) => {
        if (error instanceof HttpError) {
          entry.status = error.status;
          entry.tableauCode = error.code;
          sendJson(res, error.status, {
            error: { summary: error.summary, detail: error.detail, code: error.code },
          });
          return;
        }
        entry.status = 500;
        sendJson(res, 500, {
          error: { summary: 'Internal Server Error', detail: String(error), code: '500000' },
        });
      });
  });
  const url = await listen(server);

  return {
    url,
    siteId,
    requests,
    jobs,
    signIns: () => signIns,
    issuedTokens: () => [...issued],
    setFaults(next) {
      faults = structuredClone(next);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function statusOf(job: FakeTableauJob): string {
  if (job.finishCode === undefined) return job.polls === 0 ? 'Pending' : 'InProgress';
  return ['Success', 'Failed', 'Cancelled'][job.finishCode]!;
}
