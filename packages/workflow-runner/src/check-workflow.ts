import {
  childStepLists,
  type IterationSpec,
  reachableSteps,
  type Step,
  type Subworkflow,
  type Template,
} from './ast';
import { PUBSUB_PUBLISH } from './connectors/pubsub';
import { WorkflowValidationError } from './errors';
import { dottedName, type Expr, walkExpression } from './expression/parser';
import type { Limits } from './limits';
import { builtinValue, findBuiltin, STDLIB_NAMESPACES } from './stdlib/index';

export interface CheckOptions {
  limits: Limits;
  /** Extra connector names; the Pub/Sub publish connector is always available. */
  connectors: Set<string>;
  fileName?: string;
}

/** A static variable scope: a subworkflow body, a `for` body or a parallel branch (wf:reference/syntax/variables). */
interface StaticScope {
  names: Set<string>;
  parent?: StaticScope;
  /** For branch scopes: parent variables the branch may write. */
  shared?: Set<string>;
}

/** A step list plus what kind of boundary it sits behind, for resolving `next`. */
interface ListFrame {
  steps: Step[];
  boundary?: 'for' | 'parallel-for' | 'branch';
}

/**
 * Deployment-time checks that need the whole workflow: unique step names, `next` targets, call targets
 * and their args, variable references (flow-insensitive, like Google's deploy check) and parallel
 * `shared` writes. Records loop/branch-local variables on the AST for the executor.
 * Returns the connector names the workflow calls.
 */
export function checkWorkflow(
  subworkflows: ReadonlyMap<string, Subworkflow>,
  options: CheckOptions,
): Set<string> {
  const connectorCalls = new Set<string>();
  for (const sub of subworkflows.values()) {
    new SubworkflowChecker(sub, subworkflows, options, connectorCalls).check();
  }
  return connectorCalls;
}

class SubworkflowChecker {
  private currentStep: { name: string; line: number } | undefined;

  constructor(
    private readonly sub: Subworkflow,
    private readonly subworkflows: ReadonlyMap<string, Subworkflow>,
    private readonly options: CheckOptions,
    private readonly connectorCalls: Set<string>,
  ) {}

  check(): void {
    this.checkUniqueNames();
    const scope: StaticScope = { names: new Set(this.sub.params.map((param) => param.name)) };
    for (const param of this.sub.params)
      if (param.default) this.checkTemplate(param.default, { names: new Set() });
    this.addDefinitions(this.sub.steps, scope);
    this.checkSteps(this.sub.steps, scope, [{ steps: this.sub.steps }], 0);
  }

  private checkUniqueNames(): void {
    const seen = new Set<string>();
    const visit = (steps: Step[]) => {
      for (const step of steps) {
        if (!step.synthetic) {
          if (seen.has(step.name))
            this.fail(`duplicate step name '${step.name}' in '${this.sub.name}'`, step);
          seen.add(step.name);
        }
        for (const child of childStepLists(step)) visit(child);
      }
    };
    visit(this.sub.steps);
  }

  /** Declares names first assigned in these steps (not inside nested for/parallel, which scope their own). */
  private addDefinitions(steps: Step[], scope: StaticScope): void {
    const define = (name: string, step: Step) => {
      if (scope.names.has(name)) return;
      const owner = findOwner(name, scope.parent);
      if (!owner) {
        scope.names.add(name);
        return;
      }
      // Writing an outer variable from a branch requires it to be listed in `shared`.
      let current: StaticScope | undefined = scope;
      while (current && current !== owner) {
        if (current.shared && !current.shared.has(name)) {
          this.fail(
            `variable '${name}' is defined outside the parallel step; list it in 'shared' to write it`,
            step,
          );
        }
        current = current.parent;
      }
    };
    const visit = (list: Step[]) => {
      for (const step of list) {
        if (step.type === 'assign') {
          for (const assignment of step.assignments) define(rootName(assignment.target), step);
        } else if (step.type === 'call' && step.result) define(step.result, step);
        else if (step.type === 'try' && step.except?.as) define(step.except.as, step);
        if (step.type === 'for' || step.type === 'parallel') continue;
        for (const child of childStepLists(step)) visit(child);
      }
    };
    visit(steps);
  }

  private checkSteps(steps: Step[], scope: StaticScope, chain: ListFrame[], parallelDepth: number): void {
    for (const step of steps) {
      const previous = this.currentStep;
      if (!step.synthetic || !this.currentStep) this.currentStep = { name: step.name, line: step.line };
      this.checkNext(step, chain);
      this.checkStep(step, scope, chain, parallelDepth);
      this.currentStep = previous;
    }
  }

  private checkStep(step: Step, scope: StaticScope, chain: ListFrame[], parallelDepth: number): void {
    switch (step.type) {
      case 'assign':
        for (const assignment of step.assignments) {
          this.checkExpression(assignment.target, scope);
          this.checkTemplate(assignment.value, scope);
        }
        return;
      case 'call':
        this.checkCall(step, scope);
        return;
      case 'switch':
        for (const condition of step.conditions) {
          this.checkTemplate(condition.condition, scope);
          this.checkSteps([condition.body], scope, [...chain, { steps: [condition.body] }], parallelDepth);
        }
        return;
      case 'for':
        this.checkIteration(step.loop, scope, chain, parallelDepth, undefined);
        return;
      case 'parallel': {
        if (parallelDepth + 1 > this.options.limits.parallelNestingDepth) {
          this.fail(`parallel steps nested deeper than ${this.options.limits.parallelNestingDepth}`, step);
        }
        for (const name of step.shared) {
          if (!findOwner(name, scope))
            this.fail(`shared variable '${name}' must be assigned before the parallel step`, step);
        }
        if (step.concurrencyLimit) this.checkTemplate(step.concurrencyLimit, scope);
        const shared = new Set(step.shared);
        if (step.loop) this.checkIteration(step.loop, scope, chain, parallelDepth + 1, shared);
        for (const branch of step.branches ?? []) {
          const branchScope: StaticScope = { names: new Set(), parent: scope, shared };
          this.addDefinitions(branch.steps, branchScope);
          branch.locals = branchScope.names;
          this.checkSteps(
            branch.steps,
            branchScope,
            [{ steps: branch.steps, boundary: 'branch' }],
            parallelDepth + 1,
          );
        }
        return;
      }
      case 'try':
        if (step.retry) this.checkTemplate(step.retry, scope);
        this.checkSteps(step.body, scope, [...chain, { steps: step.body }], parallelDepth);
        if (step.except)
          this.checkSteps(step.except.steps, scope, [...chain, { steps: step.except.steps }], parallelDepth);
        return;
      case 'raise':
      case 'return':
        this.checkTemplate(step.value, scope);
        return;
      case 'steps':
        this.checkSteps(step.steps, scope, [...chain, { steps: step.steps }], parallelDepth);
        return;
      case 'next':
        return;
    }
  }

  private checkIteration(
    loop: IterationSpec,
    scope: StaticScope,
    chain: ListFrame[],
    parallelDepth: number,
    shared: Set<string> | undefined,
  ): void {
    if (loop.in) this.checkTemplate(loop.in, scope);
    if (loop.range) this.checkTemplate(loop.range, scope);
    const loopScope: StaticScope = { names: new Set([loop.value]), parent: scope, shared };
    if (loop.index) loopScope.names.add(loop.index);
    this.addDefinitions(loop.steps, loopScope);
    loop.locals = loopScope.names;
    const frame: ListFrame = { steps: loop.steps, boundary: shared ? 'parallel-for' : 'for' };
    this.checkSteps(loop.steps, loopScope, shared ? [frame] : [...chain, frame], parallelDepth);
  }

  private checkNext(step: Step, chain: ListFrame[]): void {
    const target = step.next;
    if (target === undefined || target === 'end') return;
    if (target === 'break' || target === 'continue') {
      const inLoop = chain.some((frame) => frame.boundary === 'for' || frame.boundary === 'parallel-for');
      if (!inLoop) this.fail(`'next: ${target}' is only allowed inside a for loop`, step);
      return;
    }
    if (!chain.some((frame) => reachableSteps(frame.steps).has(target))) {
      this.fail(`next target '${target}' is not a step reachable from here`, step);
    }
  }

  private checkCall(step: Extract<Step, { type: 'call' }>, scope: StaticScope): void {
    const target = step.target;
    if (step.args) this.checkTemplate(step.args, scope);
    const named =
      step.args?.kind === 'map'
        ? step.args.entries.map((entry) =>
            entry.key.kind === 'literal' ? String(entry.key.value) : undefined,
          )
        : step.args?.kind === 'literal' && step.args.value instanceof Map
          ? [...step.args.value.keys()]
          : undefined;
    if (step.args && !named && !isList(step.args))
      this.fail(`args of '${target}' must be a map or a list`, step);
    const builtin = findBuiltin(target);
    const subworkflow = this.subworkflows.get(target);
    let params: string[];
    let required: string[];
    if (builtin) {
      params = builtin.params;
      required = builtin.params.slice(0, builtin.required ?? builtin.params.length);
    } else if (subworkflow) {
      params = subworkflow.params.map((param) => param.name);
      required = subworkflow.params.filter((param) => !param.default).map((param) => param.name);
    } else if (target.startsWith('googleapis.')) {
      if (target !== PUBSUB_PUBLISH && !this.options.connectors.has(target)) {
        this.fail(`unsupported connector '${target}' (no local handler is registered)`, step);
      }
      this.connectorCalls.add(target);
      return;
    } else if (target.startsWith('events.') || target.startsWith('experimental.')) {
      this.fail(`'${target}' is not supported by the local runner`, step);
    } else {
      this.fail(`unknown call target '${target}'`, step);
    }
    if (named) {
      for (const name of named) {
        if (name === undefined || !params.includes(name))
          this.fail(`'${target}' has no parameter '${name}'`, step);
      }
      for (const name of required) {
        if (!named.includes(name)) this.fail(`'${target}' requires argument '${name}'`, step);
      }
    } else if (required.length > 0 && !step.args) {
      this.fail(`'${target}' requires argument '${required[0]}'`, step);
    }
  }

  private checkTemplate(template: Template, scope: StaticScope): void {
    if (template.kind === 'expr') this.checkExpression(template.expr, scope);
    else if (template.kind === 'list') for (const item of template.items) this.checkTemplate(item, scope);
    else if (template.kind === 'map') {
      for (const entry of template.entries) {
        this.checkTemplate(entry.key, scope);
        this.checkTemplate(entry.value, scope);
      }
    }
  }

  private checkExpression(expr: Expr, scope: StaticScope): void {
    walkExpression(expr, (node) => {
      if (node.type === 'call') {
        const name = dottedName(node.callee);
        if (name === undefined || findOwner(name.split('.')[0]!, scope)) return true;
        const builtin = findBuiltin(name);
        if (builtin?.blocking) this.fail(`'${name}' is a blocking call and cannot be used in an expression`);
        if (!builtin && !this.subworkflows.has(name)) this.fail(`unknown function '${name}'`);
        for (const arg of node.args) this.checkExpression(arg, scope);
        return false;
      }
      if (node.type === 'ident' || node.type === 'member') {
        const name = dottedName(node);
        if (name === undefined) return true;
        const root = name.split('.')[0]!;
        if (findOwner(root, scope)) return false;
        if (builtinValue(name) !== undefined || findBuiltin(name) || this.subworkflows.has(name))
          return false;
        if (STDLIB_NAMESPACES.has(root)) this.fail(`unknown standard library member '${name}'`);
        this.fail(`symbol '${root}' is neither a variable nor a sub-workflow name`);
      }
      return true;
    });
  }

  private fail(reason: string, step?: { name: string; line: number }): never {
    const where = step ?? this.currentStep;
    throw new WorkflowValidationError(reason, where?.name, where?.line, this.options.fileName);
  }
}

function findOwner(name: string, scope: StaticScope | undefined): StaticScope | undefined {
  for (let current = scope; current; current = current.parent) if (current.names.has(name)) return current;
  return undefined;
}

function rootName(target: Expr): string {
  let current = target;
  while (current.type === 'member' || current.type === 'index') current = current.object;
  return current.type === 'ident' ? current.name : '';
}

function isList(template: Template): boolean {
  return template.kind === 'list' || (template.kind === 'literal' && Array.isArray(template.value));
}
