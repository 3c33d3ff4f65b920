/**
 * The Workflow Executions API through `@google-cloud/workflows` (`ExecutionsClient`): start an execution
 * of the deployed workflow, read one, list the latest, and wait for one to end with backoff.
 *
 * Transport: the client's REST mode (`fallback: true`, HTTP/1.1 + JSON), in the cloud and against a
 * local endpoint alike, so the path tests exercise is the path users run. Its default, gRPC, cannot
 * reach a plain HTTP fake. With WORKFLOWS_API_ENDPOINT (`http://host:port`) the client gets
 * `apiEndpoint` + `port` + `protocol: 'http'` and a fixed-token auth client (no Application Default
 * Credentials lookup); otherwise Application Default Credentials.
 */
import {
  InvalidRequestError,
  NotFoundError,
  PipelineError,
  UpstreamError,
  UpstreamUnavailableError,
} from '@etl/common/errors';
import { fixedTokenAuthClient } from '@etl/common/warehouse/bigquery';
import { ExecutionsClient, protos } from '@google-cloud/workflows';
import type { CloudConfig } from './cloud-config';
import { type ExecutionLinks, executionLinks } from './links';

type Execution = protos.google.cloud.workflows.executions.v1.IExecution;
const ExecutionState = protos.google.cloud.workflows.executions.v1.Execution.State;

export type ExecutionStateName = 'QUEUED' | 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'UNAVAILABLE';
const FINAL_STATES = new Set<string>(['SUCCEEDED', 'FAILED', 'CANCELLED', 'UNAVAILABLE']);

/** The argument `etl run` hands to the workflow; the same shape goes to the deployed one. */
export interface RunArgument {
  source?: string;
  run_id?: string;
  force?: boolean;
  options?: Record<string, unknown>;
}

/** What the CLI prints about an execution (`--json`): plain JSON, times as ISO strings. */
export interface ExecutionView {
  name: string;
  id: string;
  state: ExecutionStateName | string;
  startTime: string | null;
  endTime: string | null;
  /** Steps running right now (Execution.status.currentSteps), `routine.step`. */
  currentSteps: string[];
  argument: unknown;
  /** The workflow's return value (SUCCEEDED only). */
  result: unknown;
  /** FAILED/CANCELLED: the raised error (payload parsed when it is JSON) and where it was raised. */
  error: { payload: unknown; context: string; step?: string } | null;
  links: ExecutionLinks;
}

export class Executions {
  readonly client: ExecutionsClient;
  readonly parent: string;

  constructor(
    readonly config: CloudConfig,
    client?: ExecutionsClient,
  ) {
    this.client = client ?? createExecutionsClient(config);
    this.parent = this.client.workflowPath(config.project, config.region, config.workflow);
  }

  /** Full resource name from an execution id or name. */
  nameOf(execution: string): string {
    return execution.includes('/') ? execution : `${this.parent}/executions/${execution}`;
  }

  async start(argument: RunArgument): Promise<ExecutionView> {
    const text = JSON.stringify(argument);
    const [execution] = await this.call(`start an execution of ${this.parent}`, () =>
      this.client.createExecution({ parent: this.parent, execution: { argument: text } }),
    );
    return this.view(execution);
  }

  async get(execution: string): Promise<ExecutionView> {
    const name = this.nameOf(execution);
    const [found] = await this.call(`read execution ${name}`, () => this.client.getExecution({ name }));
    return this.view(found);
  }

  /** The most recent executions, newest first (the API's order). */
  async latest(count = 1): Promise<ExecutionView[]> {
    const [executions] = await this.call(`list executions of ${this.parent}`, () =>
      this.client.listExecutions(
        { parent: this.parent, pageSize: count, view: 'FULL' },
        { autoPaginate: false },
      ),
    );
    return executions.slice(0, count).map((execution) => this.view(execution));
  }

  /**
   * Polls until the execution is in a final state: first after `initialDelayMs`, then each wait
   * `multiplier` times longer up to `maxDelayMs`. `onChange` sees every change of state or current step.
   */
  async wait(
    execution: string,
    options: {
      initialDelayMs?: number;
      maxDelayMs?: number;
      multiplier?: number;
      timeoutMs?: number;
      onChange?: (view: ExecutionView) => void;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ): Promise<ExecutionView> {
    const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const started = Date.now();
    let delay = options.initialDelayMs ?? 1000;
    let last = '';
    for (;;) {
      const view = await this.get(execution);
      const shown = `${view.state} ${view.currentSteps.join(',')}`;
      if (shown !== last) options.onChange?.(view);
      last = shown;
      if (FINAL_STATES.has(view.state)) return view;
      if (options.timeoutMs !== undefined && Date.now() - started + delay > options.timeoutMs) {
        throw new UpstreamUnavailableError(
          `execution ${view.name} still ${view.state} after ${Math.round((Date.now() - started) / 1000)} s; ` +
            `follow it with: etl cloud status ${view.id}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * (options.multiplier ?? 1.5), options.maxDelayMs ?? 10_000);
    }
  }

  view(execution: Execution): ExecutionView {
    const name = execution.name ?? '';
    const id = name.split('/').at(-1) ?? '';
    const argument = parseJson(execution.argument);
    const runId =
      argument && typeof argument === 'object' && 'run_id' in argument ? String(argument.run_id) : undefined;
    const error = execution.error
      ? {
          payload: parseJson(execution.error.payload),
          context: execution.error.context ?? '',
          ...(execution.error.stackTrace?.elements?.[0]?.step
            ? { step: execution.error.stackTrace.elements[0].step }
            : {}),
        }
      : null;
    return {
      name,
      id,
      state: stateName(execution.state),
      startTime: isoTime(execution.startTime),
      endTime: isoTime(execution.endTime),
      currentSteps: (execution.status?.currentSteps ?? []).map((s) => `${s.routine ?? ''}.${s.step ?? ''}`),
      argument,
      result: parseJson(execution.result),
      error,
      links: executionLinks(
        {
          project: this.config.project,
          region: this.config.region,
          workflow: this.config.workflow,
          executionId: id,
        },
        runId ?? (id || undefined),
      ),
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Client errors as PipelineErrors that say what was tried. In REST mode a failed call is a GaxiosError
   * whose `status` is the HTTP status and whose message is Google's JSON error body; gRPC-style errors
   * carry a numeric gRPC `code`. Both are mapped.
   */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof PipelineError) throw error;
      const { status, code } = error as { status?: unknown; code?: unknown };
      const message = `could not ${what}: ${apiErrorMessage(error)}`;
      const options = { cause: error };
      if (status === 404 || code === 5) throw new NotFoundError(message, options);
      if (status === 401 || status === 403 || code === 7 || code === 16) {
        throw new UpstreamError(
          `${message} (check the caller's roles/workflows.invoker on the workflow, or gcloud auth application-default login)`,
          options,
          'PERMISSION_DENIED',
        );
      }
      if (status === 400 || code === 3) throw new InvalidRequestError(message, options);
      const transient =
        status === 429 ||
        (typeof status === 'number' && status >= 500) ||
        code === 4 ||
        code === 8 ||
        code === 14 ||
        (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)$/.test(code));
      if (transient) throw new UpstreamUnavailableError(message, options);
      throw new UpstreamError(message, options);
    }
  }
}

/** Google's `{error: {message}}` when the message is that JSON body, else the message. */
function apiErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the message as it is
  }
  return message;
}

export function createExecutionsClient(config: CloudConfig): ExecutionsClient {
  if (!config.apiEndpoint) return new ExecutionsClient({ fallback: true, projectId: config.project });
  const url = new URL(config.apiEndpoint);
  const protocol = url.protocol.replace(':', '');
  return new ExecutionsClient({
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (protocol === 'http' ? 80 : 443)),
    protocol,
    projectId: config.project,
    authClient: fixedTokenAuthClient(),
  });
}

function stateName(state: Execution['state']): string {
  if (typeof state === 'number') return ExecutionState[state] ?? String(state);
  return state ?? 'STATE_UNSPECIFIED';
}

function isoTime(time: Execution['startTime']): string | null {
  if (!time || time.seconds === null || time.seconds === undefined) return null;
  const millis = Number(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}

function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
