/**
 * A small fake of the Workflow Executions API (v1, REST/JSON): what `@google-cloud/workflows`'
 * `ExecutionsClient` sends in its REST mode (`fallback: true`) with `apiEndpoint` + `port` +
 * `protocol: 'http'`. An execution really runs: the fake executes the workflow YAML in the project's local
 * runner (`@etl/workflow-runner`), with the given env (e.g. stage URLs pointing at stub services), so the
 * states, result and error an execution reports are the ones the real definition produces.
 *
 *   POST /v1/projects/P/locations/L/workflows/W/executions      create (argument: JSON string, max 32 KB)
 *   GET  /v1/projects/P/locations/L/workflows/W/executions      list, newest first (pageSize, pageToken, view)
 *   GET  /v1/projects/P/locations/L/workflows/W/executions/ID   get
 *   POST /v1/projects/P/locations/L/workflows/W/executions/ID:cancel
 *
 * Execution resource as the API returns it: `state` ACTIVE -> SUCCEEDED | FAILED | CANCELLED, `result`
 * (JSON string) when SUCCEEDED, `error {payload (JSON string of the raised value), context, stackTrace}`
 * when FAILED, `status.currentSteps [{routine, step}]` while ACTIVE. Errors are Google's JSON error shape.
 * Not modelled: QUEUED (no concurrency quota), callLogLevel, labels beyond echoing them, real Cloud Logging.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { type RunOptions, runWorkflowFile, WorkflowExecutionError } from '@etl/workflow-runner';
import { listen } from '../http';

export interface FakeExecution {
  name: string;
  id: string;
  state: 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  argument: string;
  result?: string;
  error?: {
    payload: string;
    context: string;
    stackTrace: { elements: Array<{ step: string; routine: string }> };
  };
  startTime: string;
  endTime?: string;
  currentSteps: Array<{ routine: string; step: string }>;
  /** Settles when the execution has ended. */
  done: Promise<void>;
}

export interface FakeWorkflowsRequest {
  method: string;
  path: string;
  body?: unknown;
  status: number;
  authorization?: string;
}

export interface FakeWorkflowsOptions {
  /** The workflow definition every execution runs. */
  workflowFile: string;
  projectId?: string;
  location?: string;
  workflowId?: string;
  /** Options for the local runner: env (stage URLs), alertSink, pubsubEmulatorHost, fastRetries, ... */
  runOptions?: Omit<RunOptions, 'executionId' | 'projectId' | 'location' | 'workflowId' | 'trace'>;
  port?: number;
  host?: string;
}

export interface FakeWorkflows {
  url: string;
  /** `projects/P/locations/L/workflows/W`. */
  parent: string;
  requests: FakeWorkflowsRequest[];
  executions: Map<string, FakeExecution>;
  close(): Promise<void>;
}

const ARGUMENT_LIMIT = 32 * 1024;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly grpcStatus: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

export async function startFakeWorkflows(options: FakeWorkflowsOptions): Promise<FakeWorkflows> {
  const projectId = options.projectId ?? 'test';
  const location = options.location ?? 'europe-west1';
  const workflowId = options.workflowId ?? 'etl';
  const parent = `projects/${projectId}/locations/${location}/workflows/${workflowId}`;
  const requests: FakeWorkflowsRequest[] = [];
  const executions = new Map<string, FakeExecution>();

  const resource = (execution: FakeExecution, view = 'FULL') => {
    const basic = {
      name: execution.name,
      state: execution.state,
      startTime: execution.startTime,
      ...(execution.endTime ? { endTime: execution.endTime } : {}),
      workflowRevisionId: '000001-fake',
    };
    if (view === 'BASIC') return basic;
    return {
      ...basic,
      argument: execution.argument,
      ...(execution.result === undefined ? {} : { result: execution.result }),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.state === 'ACTIVE' ? { status: { currentSteps: execution.currentSteps } } : {}),
      callLogLevel: 'LOG_ERRORS_ONLY',
    };
  };

  const start = (text: string): FakeExecution => {
    if (Buffer.byteLength(text) > ARGUMENT_LIMIT) {
      throw new ApiError(400, 'INVALID_ARGUMENT', `argument is larger than ${ARGUMENT_LIMIT} bytes`);
    }
    let argument: unknown = null;
    try {
      argument = text ? JSON.parse(text) : null;
    } catch (error) {
      throw new ApiError(400, 'INVALID_ARGUMENT', `argument is not valid JSON: ${(error as Error).message}`);
    }
    const id = randomUUID();
    const execution: FakeExecution = {
      name: `${parent}/executions/${id}`,
      id,
      state: 'ACTIVE',
      argument: text,
      startTime: new Date().toISOString(),
      currentSteps: [],
      done: Promise.resolve(),
    };
    const stack: Array<{ routine: string; step: string }> = [];
    let lastStarted: { routine: string; step: string } | undefined;
    execution.done = runWorkflowFile(options.workflowFile, argument, {
      ...options.runOptions,
      executionId: id,
      projectId,
      location,
      workflowId,
      trace: (event) => {
        if (event.phase === 'start') {
          lastStarted = { routine: event.workflow, step: event.step };
          stack.push(lastStarted);
        } else stack.pop();
        execution.currentSteps = stack.slice(-1);
      },
    })
      .then(
        (result) => {
          if (execution.state !== 'ACTIVE') return;
          execution.state = 'SUCCEEDED';
          execution.result = JSON.stringify(result ?? null);
        },
        (error: unknown) => {
          if (execution.state !== 'ACTIVE') return;
          execution.state = 'FAILED';
          const value = error instanceof WorkflowExecutionError ? error.error : { message: String(error) };
          const payload = JSON.stringify(value);
          const where = lastStarted ?? { routine: 'main', step: '' };
          execution.error = {
            payload,
            context: `RuntimeError: ${payload}\nin step "${where.step}", routine "${where.routine}"`,
            stackTrace: { elements: [where] },
          };
        },
      )
      .finally(() => {
        execution.endTime ??= new Date().toISOString();
        execution.currentSteps = [];
      });
    executions.set(id, execution);
    return execution;
  };

  const handle = (method: string, url: URL, body: Record<string, unknown>): [number, unknown] => {
    const prefix = `/v1/${parent}/executions`;
    const path = url.pathname;
    if (!path.startsWith('/v1/projects/')) throw new ApiError(404, 'NOT_FOUND', `no route ${path}`);
    if (!path.startsWith(prefix)) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Resource '${path.slice(4).replace(/\/executions.*$/, '')}' was not found`,
      );
    }
    const rest = path.slice(prefix.length);
    if (rest === '' && method === 'POST') {
      const argument = body.argument === undefined ? '' : String(body.argument);
      return [200, resource(start(argument))];
    }
    if (rest === '' && method === 'GET') {
      // Newest first, as the API orders them (creation order reversed: start times can tie).
      const ordered = [...executions.values()].reverse();
      const size = Number(url.searchParams.get('pageSize') || 100);
      const offset = Number(url.searchParams.get('pageToken') || 0);
      const page = ordered.slice(offset, offset + size);
      const view = url.searchParams.get('view') ?? 'BASIC';
      return [
        200,
        {
          executions: page.map((e) => resource(e, view)),
          ...(offset + size < ordered.length ? { nextPageToken: String(offset + size) } : {}),
        },
      ];
    }
    const match = /^\/([^/:]+)(:cancel)?$/.exec(rest);
    const execution = match ? executions.get(match[1]!) : undefined;
    if (!execution) throw new ApiError(404, 'NOT_FOUND', `Resource '${path.slice(4)}' was not found`);
    if (match![2] && method === 'POST') {
      if (execution.state !== 'ACTIVE') {
        throw new ApiError(400, 'FAILED_PRECONDITION', `execution ${execution.id} is not active`);
      }
      execution.state = 'CANCELLED';
      execution.endTime = new Date().toISOString();
      return [200, resource(execution)];
    }
    if (!match![2] && method === 'GET')
      return [200, resource(execution, url.searchParams.get('view') ?? 'FULL')];
    throw new ApiError(405, 'UNIMPLEMENTED', `${method} ${path} is not supported`);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-workflows');
    const method = req.method ?? 'GET';
    const record: FakeWorkflowsRequest = { method, path: `${url.pathname}${url.search}`, status: 0 };
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    requests.push(record);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      if (text) record.body = body;
      const [status, payload] = handle(method, url, body);
      record.status = status;
      send(res, status, payload);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 500;
      const grpcStatus = error instanceof ApiError ? error.grpcStatus : 'INTERNAL';
      record.status = status;
      send(res, status, { error: { code: status, message: (error as Error).message, status: grpcStatus } });
    }
  });
  const url = await listen(server, options);
  return {
    url,
    parent,
    requests,
    executions,
    async close() {
      await Promise.allSettled([...executions.values()].map((e) => e.done));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
