/**
 * A small Tableau REST API client (JSON flavour) for one job: refresh an extract after a load and wait for
 * it. Sign in with a personal access token, refresh a data source (by LUID or by name) or a workbook,
 * poll the job with backoff until it has a finishCode, sign out.
 *
 * - Every call after sign-in carries `X-Tableau-Auth` and addresses the site by its LUID.
 * - A 401 on a signed-in call (401002: session expired, or invalidated by another sign-in with the same
 *   PAT) signs in again once and repeats the call, so a long poll survives a session timeout.
 * - 409093 ("Job for ... is already queued. Not queuing a duplicate."; TSC `DUPLICATE_EXTRACT_JOB_CODE`)
 *   is not a failure: the client looks for the queued or running refresh job of the same target and
 *   follows it. Tableau does not say which job it is, so it lists refresh jobs (Query Jobs) and reads each
 *   one's target; if none is found (the job just finished, or the token may not list jobs) it asks for the
 *   refresh once more, and if that is refused the same way it reports `queued` without a job.
 * - The token secret and the session token never appear in a log line or an error message: messages built
 *   from Tableau's replies pass through `redact`, and requests are never logged with their headers.
 *
 * A client holds one session: create one per refresh (the loader does, per request), never share one
 * between concurrent calls.
 */
import { NotFoundError, PipelineError, UpstreamError, UpstreamUnavailableError } from '@etl/common/errors';
import type { Logger } from '@etl/common/logging';

/** Tableau's error code for a refresh of a target that already has a refresh queued. */
export const DUPLICATE_EXTRACT_JOB_CODE = '409093';
/** Tableau's error code for an expired or invalidated session token. */
export const SESSION_EXPIRED_CODE = '401002';

export type TableauContentKind = 'datasource' | 'workbook';

/** What to refresh: a data source or workbook by LUID, or a data source by name. */
export type TableauTarget = { kind: TableauContentKind; id: string } | { kind: 'datasource'; name: string };

export interface TableauPollOptions {
  /** First wait between job polls; grows x1.5 per poll. Default 1 s. */
  initialDelayMs?: number;
  /** Longest wait between polls. Default 15 s. */
  maxDelayMs?: number;
  /** How long to wait for the job in all. Default 15 min. */
  timeoutMs?: number;
}

export interface TableauClientOptions {
  /** e.g. https://10ax.online.tableau.com (no /api suffix). */
  serverUrl: string;
  apiVersion?: string;
  /** Site contentUrl; '' is the default site on Tableau Server. */
  site?: string;
  tokenName: string;
  tokenSecret: string;
  poll?: TableauPollOptions;
  /** Timeout of one HTTP request. Default 60 s. */
  requestTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

export interface TableauJob {
  id: string;
  type?: string;
  progress?: number;
  createdAt?: string;
  startedAt?: string;
  completedAt?: string;
  /** 0 success, 1 failed, 2 cancelled (3 completed, per TSC); undefined while the job runs. */
  finishCode?: number;
  /** The data source or workbook the job refreshes, when Tableau says. */
  resource?: { kind: TableauContentKind; id: string; name?: string };
  notes: string[];
}

export interface TableauRefreshResult {
  status: 'refreshed' | 'queued';
  target: { kind: TableauContentKind; id: string; name?: string };
  /** The finished job; absent when status is `queued`. */
  job?: TableauJob;
  /** The refresh was already queued (409093) and the client followed the existing job. */
  adopted: boolean;
  reason?: string;
}

export interface RefreshExtractOptions {
  /** Overrides `poll.timeoutMs` for this call. */
  timeoutMs?: number;
}

interface Session {
  token: string;
  siteId: string;
}

interface TableauErrorInfo {
  code?: string;
  summary?: string;
  detail?: string;
}

type Json = Record<string, unknown>;

const FINISHED_OK = new Set([0, 3]);
const REDACTED = '[redacted]';

export class TableauClient {
  readonly serverUrl: string;
  readonly apiVersion: string;
  readonly site: string;
  readonly #tokenName: string;
  readonly #tokenSecret: string;
  readonly #poll: Required<TableauPollOptions>;
  readonly #requestTimeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: Logger | undefined;
  #session: Session | undefined;

  constructor(options: TableauClientOptions) {
    this.serverUrl = options.serverUrl.replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? '3.22';
    this.site = options.site ?? '';
    this.#tokenName = options.tokenName;
    this.#tokenSecret = options.tokenSecret;
    this.#poll = {
      initialDelayMs: options.poll?.initialDelayMs ?? 1000,
      maxDelayMs: options.poll?.maxDelayMs ?? 15_000,
      timeoutMs: options.poll?.timeoutMs ?? 15 * 60_000,
    };
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#logger = options.logger;
  }

  /** Signs in, refreshes the target's extract, waits for the job, signs out. */
  async refreshExtract(
    target: TableauTarget,
    options: RefreshExtractOptions = {},
  ): Promise<TableauRefreshResult> {
    const logger = this.#logger;
    const deadline = Date.now() + (options.timeoutMs ?? this.#poll.timeoutMs);
    await this.signIn();
    try {
      const resolved = 'id' in target ? target : await this.findDatasourceByName(target.name);
      for (let attempt = 1; ; attempt++) {
        const started = await this.startRefresh(resolved.kind, resolved.id);
        if (started.job) {
          logger?.info({ jobId: started.job.id, target: resolved }, 'Tableau extract refresh queued');
          const job = await this.waitForJob(started.job.id, deadline);
          return { status: 'refreshed', target: resolved, job, adopted: false };
        }
        logger?.info({ target: resolved }, 'Tableau says a refresh of the target is already queued (409093)');
        const existing = await this.findActiveRefreshJob(resolved.kind, resolved.id);
        if (existing) {
          logger?.info({ jobId: existing.id }, 'following the refresh job that was already queued');
          const job = await this.waitForJob(existing.id, deadline);
          return { status: 'refreshed', target: resolved, job, adopted: true };
        }
        if (attempt === 2) {
          const reason =
            `Tableau already has a refresh of ${describeTarget(resolved)} queued (409093) and the job ` +
            'could not be found among the queued and running refresh jobs, so it was not followed';
          logger?.warn({ target: resolved }, reason);
          return { status: 'queued', target: resolved, adopted: false, reason };
        }
      }
    } finally {
      await this.signOut();
    }
  }

  /** POST /auth/signin with the personal access token; keeps the session token and the site LUID. */
  async signIn(): Promise<void> {
    const body = {
      credentials: {
        personalAccessTokenName: this.#tokenName,
        personalAccessTokenSecret: this.#tokenSecret,
        site: { contentUrl: this.site },
      },
    };
    const reply = await this.#send('POST', '/auth/signin', 'sign-in', { body, auth: false });
    const credentials = asObject(reply.credentials);
    const token = asString(credentials.token);
    const siteId = asString(asObject(credentials.site).id);
    if (!token || !siteId) {
      throw new UpstreamError(
        `Tableau sign-in at ${this.serverUrl} answered 200 without credentials.token and credentials.site.id`,
        {},
        'TABLEAU_UNEXPECTED_REPLY',
      );
    }
    this.#session = { token, siteId };
    this.#logger?.info(
      { siteId, userId: asString(asObject(credentials.user).id), site: this.site },
      'signed in to Tableau',
    );
  }

  /** POST /auth/signout; best effort (a failure is logged, never thrown). */
  async signOut(): Promise<void> {
    if (!this.#session) return;
    try {
      await this.#send('POST', '/auth/signout', 'sign-out', { retryOnExpiry: false });
    } catch (error) {
      this.#logger?.warn(
        { error: this.#redact(errorText(error)) },
        'Tableau sign-out failed; the session expires anyway',
      );
    } finally {
      this.#session = undefined;
    }
  }

  /** Looks the data source up by exact name (Query Data Sources with a name filter). */
  async findDatasourceByName(name: string): Promise<{ kind: 'datasource'; id: string; name: string }> {
    const filter = `name:eq:${name}`;
    const reply = await this.#send(
      'GET',
      `${this.#sitePath()}/datasources?filter=${encodeURIComponent(filter)}&pageSize=100`,
      `data source lookup by name ${JSON.stringify(name)}`,
    );
    const found = toArray(asObject(reply.datasources).datasource)
      .map(asObject)
      .filter((d) => asString(d.name) === name);
    if (found.length === 0) {
      throw new NotFoundError(
        `expected a published data source named ${JSON.stringify(name)} on Tableau site ${this.#siteLabel()}, ` +
          'found none: publish it (docs/cloud-adapters.md) or set TABLEAU_DATASOURCE_ID',
        {},
        'TABLEAU_DATASOURCE_NOT_FOUND',
      );
    }
    if (found.length > 1) {
      const projects = found.map((d) => asString(asObject(d.project).name) ?? '?').join(', ');
      throw new UpstreamError(
        `expected one data source named ${JSON.stringify(name)} on Tableau site ${this.#siteLabel()}, found ` +
          `${found.length} (projects ${projects}): set TABLEAU_DATASOURCE_ID to the one to refresh`,
        {},
        'TABLEAU_DATASOURCE_AMBIGUOUS',
      );
    }
    const id = asString(found[0]!.id)!;
    this.#logger?.info({ datasourceId: id, name }, 'found the Tableau data source by name');
    return { kind: 'datasource', id, name };
  }

  /** POST .../{datasources|workbooks}/{id}/refresh: the queued job, or `{}` when one is already queued. */
  async startRefresh(kind: TableauContentKind, id: string): Promise<{ job?: TableauJob }> {
    try {
      const reply = await this.#send(
        'POST',
        `${this.#sitePath()}/${kind}s/${encodeURIComponent(id)}/refresh`,
        `refresh of ${kind} ${id}`,
        { body: {} },
      );
      return { job: parseJob(reply.job) };
    } catch (error) {
      if (error instanceof TableauHttpError && error.tableauCode === DUPLICATE_EXTRACT_JOB_CODE) return {};
      throw error;
    }
  }

  /** GET .../jobs/{id}. */
  async getJob(jobId: string): Promise<TableauJob> {
    const reply = await this.#send(
      'GET',
      `${this.#sitePath()}/jobs/${encodeURIComponent(jobId)}`,
      `job ${jobId}`,
    );
    return parseJob(reply.job);
  }

  /**
   * The pending or in-progress extract refresh job of a target, or undefined when there is none or jobs
   * cannot be listed (Query Jobs may be refused to a non-administrator's token: logged, not thrown).
   */
  async findActiveRefreshJob(kind: TableauContentKind, id: string): Promise<TableauJob | undefined> {
    const candidates: string[] = [];
    for (const status of ['InProgress', 'Pending']) {
      const filter = `jobType:eq:refresh_extracts,status:eq:${status}`;
      let reply: Json;
      try {
        reply = await this.#send(
          'GET',
          `${this.#sitePath()}/jobs?filter=${encodeURIComponent(filter)}&pageSize=100`,
          `list of ${status} refresh jobs`,
        );
      } catch (error) {
        if (
          error instanceof TableauHttpError &&
          (error.tableauStatus === 403 || error.tableauStatus === 400)
        ) {
          this.#logger?.warn({ error: error.message }, 'cannot list Tableau jobs to find the queued refresh');
          return undefined;
        }
        throw error;
      }
      for (const job of toArray(asObject(reply.backgroundJobs).backgroundJob).map(asObject)) {
        const jobId = asString(job.id);
        if (jobId && !candidates.includes(jobId)) candidates.push(jobId);
      }
    }
    for (const jobId of candidates) {
      const job = await this.getJob(jobId);
      if (job.finishCode === undefined && job.resource?.kind === kind && job.resource.id === id) return job;
    }
    return undefined;
  }

  /** Polls the job with backoff until it has a finishCode; success returns it, anything else throws. */
  async waitForJob(jobId: string, deadline: number): Promise<TableauJob> {
    let delay = this.#poll.initialDelayMs;
    for (;;) {
      const job = await this.getJob(jobId);
      if (job.finishCode !== undefined) return checkFinished(job);
      this.#logger?.debug({ jobId, progress: job.progress }, 'Tableau job still running');
      if (Date.now() + delay > deadline) {
        throw new UpstreamUnavailableError(
          `Tableau job ${jobId} (extract refresh) had not finished when the refresh timeout ran out ` +
            `(progress ${job.progress ?? 0}%); a retry follows the same job`,
          { details: { jobId } },
          'TABLEAU_REFRESH_TIMEOUT',
        );
      }
      await this.#sleep(delay);
      delay = Math.min(Math.round(delay * 1.5), this.#poll.maxDelayMs);
    }
  }

  #sitePath(): string {
    if (!this.#session) throw new Error('TableauClient: sign in first');
    return `/sites/${this.#session.siteId}`;
  }

  #siteLabel(): string {
    return this.site === '' ? '(default site)' : JSON.stringify(this.site);
  }

  /** Replaces the token secret and the session token wherever they occur in a text. */
  #redact(text: string): string {
    let out = text;
    for (const secret of [this.#tokenSecret, this.#session?.token]) {
      if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /** One HTTP call. A 401 on a signed-in call signs in again once and repeats it. */
  async #send(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    options: { body?: unknown; auth?: boolean; retryOnExpiry?: boolean } = {},
  ): Promise<Json> {
    const auth = options.auth ?? true;
    const url = `${this.serverUrl}/api/${this.apiVersion}${path}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) headers['X-Tableau-Auth'] = this.#session?.token ?? '';
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.#requestTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new UpstreamUnavailableError(
        `could not reach Tableau at ${this.serverUrl} for the ${what}: ${this.#redact(errorText(error))}`,
        {},
        'TABLEAU_UNAVAILABLE',
      );
    }
    if (response.ok) {
      if (text.trim() === '') return {};
      try {
        return asObject(JSON.parse(text));
      } catch {
        throw new UpstreamError(
          `expected JSON from Tableau for the ${what}, got ${response.headers.get('content-type') ?? 'no content type'}`,
          {},
          'TABLEAU_UNEXPECTED_REPLY',
        );
      }
    }
    const info = parseTableauError(text);
    if (response.status === 401 && auth && (options.retryOnExpiry ?? true)) {
      // 401002 is the documented code; any 401 on a signed-in call means the session is gone.
      this.#logger?.info(
        { tableauCode: info.code, what },
        'Tableau session expired or was replaced (401); signing in again',
      );
      await this.signIn();
      return this.#send(method, path, what, { ...options, retryOnExpiry: false });
    }
    throw this.#httpError(response.status, info, what);
  }

  #httpError(status: number, info: TableauErrorInfo, what: string): TableauHttpError {
    const said = [info.code, info.summary, info.detail].filter(Boolean).join(' ');
    const message = this.#redact(
      `Tableau answered ${status} to the ${what} at ${this.serverUrl}${said ? `: ${said}` : ''}`,
    );
    const details = { tableauStatus: status, tableauCode: info.code };
    if (status === 401) {
      return new TableauHttpError(
        status,
        info.code,
        424,
        false,
        `${message}; check TABLEAU_TOKEN_NAME / TABLEAU_TOKEN_SECRET (a PAT unused for 15 days expires)`,
        details,
        'TABLEAU_SIGN_IN_FAILED',
      );
    }
    if (status === 403) {
      return new TableauHttpError(
        status,
        info.code,
        424,
        false,
        message,
        details,
        'TABLEAU_PERMISSION_DENIED',
      );
    }
    if (status === 404) {
      return new TableauHttpError(status, info.code, 404, false, message, details, 'TABLEAU_NOT_FOUND');
    }
    if (status === 429) {
      return new TableauHttpError(status, info.code, 429, true, message, details, 'TABLEAU_RATE_LIMITED');
    }
    if (status >= 500 || status === 408) {
      return new TableauHttpError(status, info.code, 503, true, message, details, 'TABLEAU_UNAVAILABLE');
    }
    return new TableauHttpError(status, info.code, 424, false, message, details, 'TABLEAU_ERROR');
  }
}

/** An HTTP error from Tableau, mapped to the pipeline's status classes; keeps Tableau's status and code. */
export class TableauHttpError extends PipelineError {
  constructor(
    readonly tableauStatus: number,
    readonly tableauCode: string | undefined,
    status: number,
    retryable: boolean,
    message: string,
    details: unknown,
    code: string,
  ) {
    super(code, status, retryable, message, { details });
  }
}

/** Job finished: 0/3 returns it; 1 failed and 2 cancelled throw with Tableau's notes. */
function checkFinished(job: TableauJob): TableauJob {
  if (job.finishCode !== undefined && FINISHED_OK.has(job.finishCode)) return job;
  const on = job.resource ? ` of ${describeTarget(job.resource)}` : '';
  const notes = job.notes.length > 0 ? `: ${job.notes.join('; ')}` : '';
  const details = { jobId: job.id, finishCode: job.finishCode, notes: job.notes };
  if (job.finishCode === 1) {
    throw new UpstreamError(
      `Tableau extract refresh job ${job.id}${on} failed (finishCode 1)${notes}`,
      { details },
      'TABLEAU_REFRESH_FAILED',
    );
  }
  if (job.finishCode === 2) {
    throw new UpstreamError(
      `Tableau extract refresh job ${job.id}${on} was cancelled (finishCode 2)${notes}`,
      { details },
      'TABLEAU_REFRESH_CANCELLED',
    );
  }
  throw new UpstreamError(
    `expected finishCode 0, 1 or 2 for Tableau job ${job.id}, got ${job.finishCode}`,
    { details },
    'TABLEAU_UNEXPECTED_REPLY',
  );
}

function describeTarget(target: { kind: TableauContentKind; id: string; name?: string }): string {
  return `${target.kind === 'datasource' ? 'data source' : 'workbook'} ${target.name ? `${JSON.stringify(target.name)} ` : ''}(${target.id})`;
}

function parseJob(value: unknown): TableauJob {
  const job = asObject(value);
  const id = asString(job.id);
  if (!id) {
    throw new UpstreamError(
      'expected a job with an id from Tableau, got none',
      {},
      'TABLEAU_UNEXPECTED_REPLY',
    );
  }
  const refresh = asObject(job.extractRefreshJob);
  let resource: TableauJob['resource'];
  for (const kind of ['datasource', 'workbook'] as const) {
    const item = asObject(refresh[kind]);
    const itemId = asString(item.id);
    if (itemId)
      resource = { kind, id: itemId, ...(asString(item.name) ? { name: asString(item.name) } : {}) };
  }
  const notes: string[] = [];
  const refreshNotes = asString(refresh.notes);
  if (refreshNotes) notes.push(refreshNotes);
  for (const note of toArray(asObject(job.statusNotes).statusNote).map(asObject)) {
    const text = asString(note.text) ?? asString(note.value);
    if (text) notes.push(text);
  }
  return {
    id,
    type: asString(job.type),
    progress: asNumber(job.progress),
    createdAt: asString(job.createdAt),
    startedAt: asString(job.startedAt),
    completedAt: asString(job.completedAt),
    finishCode: asNumber(job.finishCode),
    resource,
    notes,
  };
}

/** `{"error":{"code","summary","detail"}}`, or the XML `<error code=".."><summary>..</summary><detail>..`. */
export function parseTableauError(text: string): TableauErrorInfo {
  try {
    const error = asObject(asObject(JSON.parse(text)).error);
    return { code: asString(error.code), summary: asString(error.summary), detail: asString(error.detail) };
  } catch {
    const code = /<error[^>]*\scode="([^"]*)"/.exec(text)?.[1];
    const summary = /<summary>([\s\S]*?)<\/summary>/.exec(text)?.[1];
    const detail = /<detail>([\s\S]*?)<\/detail>/.exec(text)?.[1];
    return { code, summary, detail };
  }
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** Tableau's JSON renders a one-element list as an object or an array, and an empty one as nothing. */
function toArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
