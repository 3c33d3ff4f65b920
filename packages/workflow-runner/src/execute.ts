import { randomUUID } from 'node:crypto';
import { basename, extname } from 'node:path';
import {
  type Assignment,
  type IterationSpec,
  reachableSteps,
  type Step,
  type Template,
  type Workflow,
} from './ast';
import { PUBSUB_PUBLISH, publishPubsubMessages } from './connectors/pubsub';
import { type ConnectorContext, ConnectorError, type ConnectorHandler } from './connectors/types';
import { errorTags, makeErrorMap, RaisedError, raise } from './errors';
import { type EvalContext, evaluate, listPosition, readKey } from './expression/evaluate';
import { requireBoolean } from './expression/operators';
import type { Expr } from './expression/parser';
import { performHttpCall } from './http-call';
import { DEFAULT_LIMITS, type Limits } from './limits';
import { type Clock, type RunOptions, realClock, writeLogToStderr } from './options';
import { backoffDelaySeconds, type RetryPolicy, resolveRetryPolicy } from './retry';
import { MemoryMeter, Scope } from './scope';
import { type BuiltinContext, builtinValue, findBuiltin } from './stdlib/index';
import { formatTimestamp } from './stdlib/time';
import { createTracer, type TraceEvent } from './trace';
import {
  cloneValue,
  type FunctionRef,
  toPlainValue,
  toWorkflowValue,
  typeName,
  type WfMap,
  type WfValue,
} from './values';

/** How a step (or step list) finished. `done` means "continue with the following step". */
type Outcome =
  | { kind: 'done' }
  | { kind: 'return'; value: WfValue }
  | { kind: 'end' }
  | { kind: 'break' }
  | { kind: 'continue' }
  | { kind: 'jump'; target: string };

const DONE: Outcome = { kind: 'done' };
/** Concurrent branches + iterations per parallel step (wf:quotas). */
const MAX_CONCURRENCY = 20;

/** Per subworkflow invocation: which subworkflow runs and how deep the call stack is. */
interface Frame {
  workflow: string;
  depth: number;
}

/** One execution of a workflow: owns the step counter, memory meter and runtime services. */
export class Execution {
  private stepCount = 0;
  /** Serializes assignments to shared variables: each one is atomic (wf:reference/syntax/parallel-steps). */
  private sharedWrites: Promise<unknown> = Promise.resolve();
  private readonly limits: Limits;
  private readonly meter: MemoryMeter;
  private readonly clock: Clock;
  private readonly env: Record<string, string>;
  private readonly connectors: Record<string, ConnectorHandler>;
  private readonly trace: ((event: TraceEvent) => void) | undefined;
  private readonly builtinContext: BuiltinContext;
  private readonly connectorContext: ConnectorContext;

  constructor(
    private readonly workflow: Workflow,
    private readonly options: RunOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.meter = new MemoryMeter(this.limits.memoryBytes);
    this.clock = options.clock ?? realClock;
    this.connectors = { [PUBSUB_PUBLISH]: publishPubsubMessages, ...options.connectors };
    this.trace = createTracer(options.trace);
    this.env = this.buildEnv();
    const log = options.log ?? writeLogToStderr;
    const writeLog = (severity: string, payload: unknown) =>
      log({ severity, payload, time: formatTimestamp(this.clock.now() / 1000) });
    this.builtinContext = {
      now: () => this.clock.now(),
      sleep: (ms) => this.clock.sleep(ms),
      log: (severity, payload) => writeLog(severity, toPlainValue(payload)),
      getEnv: (name) => (Object.hasOwn(this.env, name) ? this.env[name] : undefined),
      httpRequest: (method, args) =>
        performHttpCall(method, args, {
          routes: options.routes ?? [],
          tokenProvider: options.tokenProvider,
          responseLimitBytes: this.limits.httpResponseBytes,
        }),
    };
    this.connectorContext = {
      env: { ...options.env },
      now: () => this.clock.now(),
      log: writeLog,
      alertSink: options.alertSink,
      pubsubEmulatorHost: options.pubsubEmulatorHost ?? options.env?.['PUBSUB_EMULATOR_HOST'],
    };
  }

  /** Runs `main` with the runtime argument; resolves with its return value (null when none). */
  async run(argument: WfValue): Promise<WfValue> {
    const main = this.workflow.subworkflows.get('main')!;
    const args = main.params.length === 1 && argument !== undefined ? [argument] : [];
    return this.callSubworkflow('main', args, 0);
  }

  private buildEnv(): Record<string, string> {
    const user = this.options.env ?? {};
    for (const key of Object.keys(user)) {
      if (key === '' || key.startsWith('GOOGLE_') || key.startsWith('WORKFLOWS_')) {
        throw new Error(
          `invalid workflow env var name '${key}': must be non-empty and not start with GOOGLE_ or WORKFLOWS_`,
        );
      }
    }
    const fileName = this.workflow.fileName;
    const workflowId =
      this.options.workflowId ??
      (fileName ? basename(fileName, extname(fileName)).split('.')[0] : 'workflow');
    const projectId = this.options.projectId ?? 'local-project';
    return {
      GOOGLE_CLOUD_PROJECT_ID: projectId,
      GOOGLE_CLOUD_PROJECT_NUMBER: '000000000000',
      GOOGLE_CLOUD_LOCATION: this.options.location ?? 'us-central1',
      GOOGLE_CLOUD_WORKFLOW_ID: workflowId ?? 'workflow',
      GOOGLE_CLOUD_WORKFLOW_REVISION_ID: '000001-local',
      GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: this.options.executionId ?? randomUUID(),
      GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME: `workflows-local@${projectId}.iam.gserviceaccount.com`,
      ...user,
    };
  }

  // ---- subworkflows -------------------------------------------------------------------------------

  private async callSubworkflow(
    name: string,
    args: WfValue[] | WfMap,
    callerDepth: number,
  ): Promise<WfValue> {
    const sub = this.workflow.subworkflows.get(name);
    if (!sub) return raise('KeyError', `no subworkflow named '${name}'`);
    const frame: Frame = { workflow: name, depth: callerDepth + 1 };
    if (frame.depth > this.limits.callStackDepth) {
      raise('RecursionError', `call stack depth exceeded ${this.limits.callStackDepth} calling '${name}'`);
    }
    const scope = new Scope(this.meter);
    try {
      if (Array.isArray(args) && args.length > sub.params.length) {
        raise('TypeError', `'${name}' takes ${sub.params.length} argument(s), got ${args.length}`);
      }
      for (const [i, param] of sub.params.entries()) {
        const given = Array.isArray(args) ? args[i] : args.get(param.name);
        if (given !== undefined) scope.set(param.name, cloneValue(given));
        else if (param.default)
          scope.set(param.name, await this.evaluateTemplate(param.default, scope, frame));
        else raise('TypeError', `'${name}' is missing required argument '${param.name}'`);
      }
      const outcome = await this.runSteps(sub.steps, scope, frame);
      return outcome.kind === 'return' ? outcome.value : null;
    } finally {
      scope.release();
    }
  }

  private async callFunction(name: string, args: WfValue[] | WfMap, frame: Frame): Promise<WfValue> {
    const builtin = findBuiltin(name);
    if (builtin) {
      const positional = Array.isArray(args) ? args : builtin.params.map((param) => args.get(param));
      if (positional.length > builtin.params.length) {
        raise(
          'TypeError',
          `${name} takes at most ${builtin.params.length} argument(s), got ${positional.length}`,
        );
      }
      const required = builtin.required ?? builtin.params.length;
      for (let i = 0; i < required; i++) {
        if (positional[i] === undefined)
          raise('TypeError', `${name} is missing argument '${builtin.params[i]}'`);
      }
      return builtin.run(positional, this.builtinContext);
    }
    if (this.workflow.subworkflows.has(name)) return this.callSubworkflow(name, args, frame.depth);
    return raise('KeyError', `unknown function '${name}'`);
  }

  private async callConnector(name: string, args: WfValue, frame: Frame): Promise<WfValue> {
    const handler = this.connectors[name];
    if (!handler) return raise('KeyError', `no connector handler for '${name}' in ${frame.workflow}`);
    const plainArgs = toPlainValue(args);
    try {
      return toWorkflowValue(
        await handler((plainArgs ?? {}) as Record<string, unknown>, this.connectorContext),
      );
    } catch (error) {
      if (error instanceof RaisedError) throw error;
      if (error instanceof ConnectorError) {
        const extra = Object.fromEntries(
          Object.entries(error.extra).map(([k, v]) => [k, toWorkflowValue(v)]),
        );
        throw new RaisedError(makeErrorMap(error.tag as 'SystemError', error.message, extra));
      }
      throw new RaisedError(
        makeErrorMap('SystemError', `connector ${name} failed: ${(error as Error).message}`),
      );
    }
  }

  // ---- expressions --------------------------------------------------------------------------------

  private evalContext(scope: Scope, frame: Frame): EvalContext {
    return {
      getVariable: (name) => scope.get(name),
      isFunction: (name) => findBuiltin(name) !== undefined || this.workflow.subworkflows.has(name),
      callFunction: (name, args) => this.callFunction(name, args, frame),
      builtinValue,
    };
  }

  private async evaluateExpression(expr: Expr, scope: Scope, frame: Frame): Promise<WfValue> {
    return evaluate(expr, this.evalContext(scope, frame));
  }

  private async evaluateTemplate(template: Template, scope: Scope, frame: Frame): Promise<WfValue> {
    switch (template.kind) {
      case 'literal':
        return cloneValue(template.value);
      case 'expr':
        return cloneValue(await this.evaluateExpression(template.expr, scope, frame));
      case 'list': {
        const items: WfValue[] = [];
        for (const item of template.items) items.push(await this.evaluateTemplate(item, scope, frame));
        return items;
      }
      case 'map': {
        const map: WfMap = new Map();
        for (const entry of template.entries) {
          const key = await this.evaluateTemplate(entry.key, scope, frame);
          if (typeof key !== 'string') raise('TypeError', `map keys must be strings, got '${typeName(key)}'`);
          map.set(key, await this.evaluateTemplate(entry.value, scope, frame));
        }
        return map;
      }
    }
  }

  // ---- steps --------------------------------------------------------------------------------------

  /** Runs a step list from `resume` (an index path from `reachableSteps`), resolving jumps it can reach. */
  private async runSteps(steps: Step[], scope: Scope, frame: Frame, resume?: number[]): Promise<Outcome> {
    let index = resume?.[0] ?? 0;
    let inner = resume && resume.length > 1 ? resume.slice(1) : undefined;
    while (index < steps.length) {
      const outcome = await this.runStep(steps[index]!, scope, frame, inner);
      inner = undefined;
      if (outcome.kind === 'done') {
        index++;
        continue;
      }
      if (outcome.kind !== 'jump') return outcome;
      const path = reachableSteps(steps).get(outcome.target);
      if (!path) return outcome;
      index = path[0]!;
      inner = path.length > 1 ? path.slice(1) : undefined;
    }
    return DONE;
  }

  private async runStep(step: Step, scope: Scope, frame: Frame, resume?: number[]): Promise<Outcome> {
    if (step.synthetic) return this.executeStep(step, scope, frame, resume);
    this.countStep();
    const startedAt = this.clock.now();
    this.trace?.({
      phase: 'start',
      step: step.name,
      workflow: frame.workflow,
      start: new Date(startedAt).toISOString(),
    });
    try {
      const outcome = await this.executeStep(step, scope, frame, resume);
      this.emitTrace(step, frame, startedAt, outcome);
      return outcome;
    } catch (error) {
      this.emitTrace(step, frame, startedAt, undefined, error);
      throw error;
    }
  }

  private countStep(): void {
    this.stepCount++;
    if (this.stepCount > this.limits.steps) {
      raise(
        'ResourceLimitError',
        `step limit exceeded: more than ${this.limits.steps} steps in this execution`,
      );
    }
  }

  private emitTrace(step: Step, frame: Frame, startedAt: number, outcome?: Outcome, error?: unknown): void {
    if (!this.trace) return;
    const event: TraceEvent = {
      phase: 'end',
      step: step.name,
      workflow: frame.workflow,
      start: new Date(startedAt).toISOString(),
      durationMs: this.clock.now() - startedAt,
      outcome: 'ok',
    };
    if (error !== undefined) {
      event.outcome = 'error';
      event.error = error instanceof RaisedError ? (errorTags(error.value)[0] ?? 'raise') : 'SystemError';
    } else if (outcome?.kind === 'jump') {
      event.outcome = 'next';
      event.next = outcome.target;
    } else if (outcome && outcome.kind !== 'done') event.outcome = outcome.kind;
    this.trace(event);
  }

  private followNext(step: Step): Outcome {
    switch (step.next) {
      case undefined:
        return DONE;
      case 'end':
        return { kind: 'end' };
      case 'break':
        return { kind: 'break' };
      case 'continue':
        return { kind: 'continue' };
      default:
        return { kind: 'jump', target: step.next };
    }
  }

  private async executeStep(step: Step, scope: Scope, frame: Frame, resume?: number[]): Promise<Outcome> {
    switch (step.type) {
      case 'assign':
        for (const assignment of step.assignments) {
          if (scope.isSharedWrite(rootName(assignment.target)))
            await this.atomically(() => this.assign(assignment, scope, frame));
          else await this.assign(assignment, scope, frame);
        }
        return this.followNext(step);
      case 'call': {
        const result = await this.executeCall(step, scope, frame);
        if (step.result) scope.set(step.result, cloneValue(result));
        return this.followNext(step);
      }
      case 'switch':
        for (const condition of step.conditions) {
          const value = await this.evaluateTemplate(condition.condition, scope, frame);
          if (!requireBoolean(value, `switch condition in step '${step.name}'`)) continue;
          const outcome = await this.runStep(condition.body, scope, frame);
          return outcome.kind === 'done' ? this.followNext(step) : outcome;
        }
        return this.followNext(step);
      case 'for': {
        const outcome = await this.runLoop(step.loop, scope, frame);
        return outcome.kind === 'done' ? this.followNext(step) : outcome;
      }
      case 'parallel':
        await this.runParallel(step, scope, frame);
        return this.followNext(step);
      case 'try': {
        const outcome = await this.runTry(step, scope, frame);
        return outcome.kind === 'done' ? this.followNext(step) : outcome;
      }
      case 'raise':
        throw new RaisedError(await this.evaluateTemplate(step.value, scope, frame));
      case 'return':
        return { kind: 'return', value: await this.evaluateTemplate(step.value, scope, frame) };
      case 'steps': {
        const outcome = await this.runSteps(step.steps, scope, frame, resume);
        return outcome.kind === 'done' ? this.followNext(step) : outcome;
      }
      case 'next':
        return this.followNext(step);
    }
  }

  private async executeCall(
    step: Extract<Step, { type: 'call' }>,
    scope: Scope,
    frame: Frame,
  ): Promise<WfValue> {
    const args = step.args
      ? await this.evaluateTemplate(step.args, scope, frame)
      : new Map<string, WfValue>();
    if (step.target.startsWith('googleapis.')) return this.callConnector(step.target, args, frame);
    if (!Array.isArray(args) && !(args instanceof Map)) {
      return raise('TypeError', `args of '${step.target}' must be a map or a list`);
    }
    return this.callFunction(step.target, args, frame);
  }

  private atomically(action: () => Promise<void>): Promise<void> {
    const run = this.sharedWrites.then(action);
    this.sharedWrites = run.catch(() => {});
    return run;
  }

  /** Assigns to `x`, `m.key`, `m["key"]` or `list[i]`; nested writes copy the root value first. */
  private async assign(assignment: Assignment, scope: Scope, frame: Frame): Promise<void> {
    const value = await this.evaluateTemplate(assignment.value, scope, frame);
    const path: Array<string | WfValue> = [];
    let target = assignment.target;
    while (target.type === 'member' || target.type === 'index') {
      path.unshift(
        target.type === 'member' ? target.name : await this.evaluateExpression(target.index, scope, frame),
      );
      target = target.object;
    }
    if (target.type !== 'ident')
      return raise('TypeError', `invalid assignment target '${assignment.targetSource}'`);
    if (path.length === 0) {
      scope.set(target.name, value);
      return;
    }
    const current = scope.get(target.name);
    if (current === undefined) raise('KeyError', `variable '${target.name}' is not defined`);
    const root = cloneValue(current ?? null);
    let container: WfValue = root;
    for (const [i, key] of path.entries()) {
      const last = i === path.length - 1;
      if (container instanceof Map) {
        if (typeof key !== 'string')
          raise('TypeError', `map keys are strings, got '${typeName(key as WfValue)}'`);
        const name = key as string;
        if (last) container.set(name, value);
        else {
          // Intermediate maps are created on demand, as in `m.a.b: 1` on an empty map.
          if (!container.has(name)) container.set(name, new Map());
          container = readKey(container, name);
        }
      } else if (Array.isArray(container)) {
        const position = listPosition(container, key as WfValue);
        if (last) container[position] = value;
        else container = container[position]!;
      } else {
        raise('TypeError', `cannot assign into '${typeName(container)}' in '${assignment.targetSource}'`);
      }
    }
    scope.set(target.name, root);
  }

  private async iterationValues(loop: IterationSpec, scope: Scope, frame: Frame): Promise<WfValue[]> {
    if (loop.in) {
      const items = await this.evaluateTemplate(loop.in, scope, frame);
      if (!Array.isArray(items)) {
        return raise(
          'TypeError',
          `for 'in' expects a list, got '${typeName(items)}' (iterate maps with keys())`,
        );
      }
      return items;
    }
    const range = await this.evaluateTemplate(loop.range!, scope, frame);
    if (!Array.isArray(range) || range.length !== 2)
      return raise('TypeError', `for 'range' expects [start, end]`);
    const [start, end] = range as [WfValue, WfValue];
    if (
      (typeof start !== 'bigint' && typeof start !== 'number') ||
      (typeof end !== 'bigint' && typeof end !== 'number')
    ) {
      return raise('TypeError', `for 'range' bounds must be numbers`);
    }
    const values: WfValue[] = [];
    if (typeof start === 'bigint' && typeof end === 'bigint') {
      for (let value = start; value <= end; value++) values.push(value);
    } else {
      for (let value = Number(start); value <= Number(end); value++) values.push(value);
    }
    return values;
  }

  private async runLoop(loop: IterationSpec, scope: Scope, frame: Frame): Promise<Outcome> {
    const items = await this.iterationValues(loop, scope, frame);
    const loopScope = new Scope(this.meter, scope, loop.locals);
    try {
      for (const [index, item] of items.entries()) {
        loopScope.set(loop.value, cloneValue(item));
        if (loop.index) loopScope.set(loop.index, BigInt(index));
        const outcome = await this.runSteps(loop.steps, loopScope, frame);
        if (outcome.kind === 'break') break;
        if (outcome.kind !== 'done' && outcome.kind !== 'continue') return outcome;
      }
      return DONE;
    } finally {
      loopScope.release();
    }
  }

  private async runParallel(
    step: Extract<Step, { type: 'parallel' }>,
    scope: Scope,
    frame: Frame,
  ): Promise<void> {
    let limit = MAX_CONCURRENCY;
    if (step.concurrencyLimit) {
      const value = await this.evaluateTemplate(step.concurrencyLimit, scope, frame);
      if (typeof value !== 'bigint' || value < 1n)
        raise('ValueError', `concurrency_limit must be a positive integer`);
      limit = Math.min(Number(value), MAX_CONCURRENCY);
    }
    const tasks: Array<{ id: string; run: () => Promise<unknown> }> = [];
    if (step.branches) {
      for (const branch of step.branches) {
        tasks.push({
          id: branch.name,
          run: () => this.runIsolated(branch.steps, new Scope(this.meter, scope, branch.locals, true), frame),
        });
      }
    } else {
      const loop = step.loop!;
      const items = await this.iterationValues(loop, scope, frame);
      for (const [index, item] of items.entries()) {
        tasks.push({
          id: String(index),
          run: () => {
            const iterationScope = new Scope(this.meter, scope, loop.locals, true);
            iterationScope.set(loop.value, cloneValue(item));
            if (loop.index) iterationScope.set(loop.index, BigInt(index));
            return this.runIsolated(loop.steps, iterationScope, frame);
          },
        });
      }
    }
    // continueAll: every branch runs to completion; failures are collected (wf:reference/syntax/parallel-steps).
    const failures: Array<{ id: string; error: WfValue }> = [];
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++]!;
        try {
          await task.run();
        } catch (error) {
          if (!(error instanceof RaisedError)) throw error;
          failures.push({ id: task.id, error: error.value });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    if (failures.length > 0) {
      const ordered = tasks.flatMap((task) => failures.filter((failure) => failure.id === task.id));
      raise(
        'UnhandledBranchError',
        `UnhandledBranchError: ${ordered.length} of ${tasks.length} branches or iterations failed`,
        {
          branches: ordered.map(
            (failure) =>
              new Map<string, WfValue>([
                ['id', failure.id],
                ['error', failure.error],
              ]),
          ),
          truncated: false,
        },
      );
    }
  }

  private async runIsolated(steps: Step[], scope: Scope, frame: Frame): Promise<void> {
    try {
      // A branch ends at its last step, on `next: end`/`return`, or (parallel for) on continue/break.
      await this.runSteps(steps, scope, frame);
    } finally {
      scope.release();
    }
  }

  private async runTry(step: Extract<Step, { type: 'try' }>, scope: Scope, frame: Frame): Promise<Outcome> {
    let policy: RetryPolicy | undefined;
    let retries = 0;
    for (;;) {
      try {
        return await this.runSteps(step.body, scope, frame);
      } catch (error) {
        if (!(error instanceof RaisedError)) throw error;
        if (step.retry) {
          policy ??= resolveRetryPolicy(await this.evaluateTemplate(step.retry, scope, frame));
          if (retries < policy.maxRetries && (await this.shouldRetry(policy.predicate, error.value, frame))) {
            retries++;
            const divisor = this.options.fastRetries === true ? 1000 : Number(this.options.fastRetries || 1);
            await this.clock.sleep((backoffDelaySeconds(policy, retries) * 1000) / divisor);
            this.countStep();
            continue;
          }
        }
        if (!step.except) throw error;
        if (step.except.as) scope.set(step.except.as, cloneValue(error.value));
        return this.runSteps(step.except.steps, scope, frame);
      }
    }
  }

  private async shouldRetry(predicate: FunctionRef, error: WfValue, frame: Frame): Promise<boolean> {
    const verdict = await this.callFunction(predicate.name, [error], frame);
    return requireBoolean(verdict, `retry predicate '${predicate.name}'`);
  }
}

function rootName(target: Expr): string {
  let current = target;
  while (current.type === 'member' || current.type === 'index') current = current.object;
  return current.type === 'ident' ? current.name : '';
}
