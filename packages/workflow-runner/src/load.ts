import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type {
  Assignment,
  Branch,
  IterationSpec,
  Param,
  Step,
  Subworkflow,
  SwitchCondition,
  Template,
  Workflow,
} from './ast';
import { checkWorkflow } from './check-workflow';
import { WorkflowValidationError } from './errors';
import { ExpressionSyntaxError } from './expression/lexer';
import { type Expr, parseExpression } from './expression/parser';
import { DEFAULT_LIMITS, type Limits } from './limits';
import type { WfValue } from './values';

export interface LoadOptions {
  /** Shown in error messages. */
  fileName?: string;
  /** Connector names (`googleapis.*`) available besides the built-in Pub/Sub publish. */
  connectors?: Iterable<string>;
  /** Override documented limits (tests only). */
  limits?: Partial<Limits>;
}

const STEP_KEYS = new Set([
  'assign',
  'call',
  'args',
  'result',
  'next',
  'switch',
  'for',
  'parallel',
  'raise',
  'try',
  'retry',
  'except',
  'return',
  'steps',
]);
const ACTIONS = ['assign', 'call', 'switch', 'for', 'parallel', 'raise', 'try', 'return', 'steps'] as const;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXPRESSION = /^\$\{([\s\S]*)\}$/;

type YamlNode = Node | null;

/** Parses and validates Workflows YAML (or JSON) source; nothing runs until the whole file is valid. */
export function loadWorkflow(source: string, options: LoadOptions = {}): Workflow {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, {
    lineCounter,
    intAsBigInt: true,
    uniqueKeys: true,
    prettyErrors: false,
  });
  const fileName = options.fileName;
  const firstError = doc.errors[0];
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new WorkflowValidationError(
      `invalid YAML: ${firstError.message.split('\n')[0]}`,
      undefined,
      line,
      fileName,
    );
  }
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const loader = new Loader(doc, lineCounter, limits, fileName);
  const subworkflows = loader.loadDocument();
  const connectorCalls = checkWorkflow(subworkflows, {
    limits,
    connectors: new Set(options.connectors ?? []),
    fileName,
  });
  return { fileName, subworkflows, connectorCalls };
}

class Loader {
  private currentStep: string | undefined;

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly limits: Limits,
    private readonly fileName: string | undefined,
  ) {}

  loadDocument(): Map<string, Subworkflow> {
    const root = this.doc.contents;
    const subworkflows = new Map<string, Subworkflow>();
    if (isSeq(root)) {
      subworkflows.set('main', {
        name: 'main',
        params: [],
        steps: this.loadSteps(root),
        line: this.lineOf(root),
      });
    } else if (isMap(root)) {
      for (const [key, value, keyNode] of this.entries(root)) {
        if (!NAME.test(key)) this.fail(`invalid subworkflow name '${key}'`, keyNode);
        subworkflows.set(key, this.loadSubworkflow(key, value, keyNode));
      }
      if (!subworkflows.has('main')) this.fail(`missing 'main' workflow`, root);
    } else {
      this.fail('expected a list of steps or a map with a main workflow', root);
    }
    return subworkflows;
  }

  private loadSubworkflow(name: string, node: YamlNode, keyNode: YamlNode): Subworkflow {
    if (!isMap(node)) return this.fail(`subworkflow '${name}' must be a map with steps`, keyNode);
    const params: Param[] = [];
    let steps: Step[] | undefined;
    for (const [key, value, keyNodeInner] of this.entries(node)) {
      if (key === 'params') params.push(...this.loadParams(name, value));
      else if (key === 'steps') steps = this.loadSteps(value);
      else this.fail(`unknown key '${key}' in subworkflow '${name}' (expected params, steps)`, keyNodeInner);
    }
    if (!steps) return this.fail(`subworkflow '${name}' has no steps`, keyNode);
    if (name === 'main' && params.length > 1)
      this.fail(`main accepts at most one parameter, got ${params.length}`, node);
    return { name, params, steps, line: this.lineOf(keyNode) };
  }

  private loadParams(owner: string, node: YamlNode): Param[] {
    if (!isSeq(node)) return this.fail(`params of '${owner}' must be a list`, node);
    return node.items.map((item) => {
      if (isScalar(item) && typeof item.value === 'string' && NAME.test(item.value))
        return { name: item.value };
      if (isMap(item) && item.items.length === 1) {
        const [[name, value]] = this.entries(item) as [[string, YamlNode, YamlNode]];
        if (NAME.test(name)) return { name, default: this.template(value) };
      }
      return this.fail(`invalid parameter in '${owner}' (expected a name or name: default)`, item as Node);
    });
  }

  private loadSteps(node: YamlNode): Step[] {
    if (!isSeq(node) || node.items.length === 0) return this.fail('expected a non-empty list of steps', node);
    return node.items.map((item) => {
      if (!isMap(item) || item.items.length !== 1) {
        return this.fail('each step must be a map with exactly one key (the step name)', item as Node);
      }
      const [[name, body, keyNode]] = this.entries(item) as [[string, YamlNode, YamlNode]];
      if (!NAME.test(name)) this.fail(`invalid step name '${name}'`, keyNode);
      const previous = this.currentStep;
      this.currentStep = name;
      const step = this.loadStepBody(name, body, this.lineOf(keyNode));
      this.currentStep = previous;
      return step;
    });
  }

  private loadStepBody(name: string, node: YamlNode, line: number, synthetic = false): Step {
    if (!isMap(node)) return this.fail('step body must be a map', node, line);
    const fields = new Map<string, { value: YamlNode; keyNode: YamlNode }>();
    for (const [key, value, keyNode] of this.entries(node)) {
      if (!STEP_KEYS.has(key)) this.fail(`unknown step key '${key}'`, keyNode);
      fields.set(key, { value, keyNode });
    }
    const actions = ACTIONS.filter((action) => fields.has(action));
    if (actions.length > 1) this.fail(`a step can have only one of ${actions.join(', ')}`, node);
    for (const [dependent, required] of [
      ['args', 'call'],
      ['result', 'call'],
      ['retry', 'try'],
      ['except', 'try'],
    ]) {
      if (fields.has(dependent!) && !fields.has(required!)) {
        this.fail(`'${dependent}' requires '${required}'`, fields.get(dependent!)!.keyNode);
      }
    }
    const base = {
      name,
      line,
      synthetic: synthetic || undefined,
      next: this.loadNext(fields.get('next')?.value),
    };
    const field = (key: string) => fields.get(key)!.value;
    const action = actions[0];
    if ((action === 'return' || action === 'raise') && base.next !== undefined) {
      this.fail(`'next' cannot be combined with '${action}'`, fields.get('next')!.keyNode);
    }
    switch (action) {
      case 'assign':
        return { ...base, type: 'assign', assignments: this.loadAssignments(field('assign')) };
      case 'call':
        return {
          ...base,
          type: 'call',
          target: this.stringValue(field('call'), 'call target'),
          args: fields.has('args') ? this.template(field('args')) : undefined,
          result: fields.has('result') ? this.nameValue(field('result'), 'result') : undefined,
        };
      case 'switch':
        return { ...base, type: 'switch', conditions: this.loadSwitch(name, field('switch')) };
      case 'for':
        return { ...base, type: 'for', loop: this.loadIteration(field('for'), 'for') };
      case 'parallel':
        return { ...base, type: 'parallel', ...this.loadParallel(field('parallel')) };
      case 'try':
        return { ...base, type: 'try', ...this.loadTry(name, field('try'), fields) };
      case 'raise':
        return { ...base, type: 'raise', value: this.template(field('raise')) };
      case 'return':
        return { ...base, type: 'return', value: this.template(field('return')) };
      case 'steps':
        return { ...base, type: 'steps', steps: this.loadSteps(field('steps')) };
      default:
        if (base.next === undefined)
          this.fail('step has no action (assign, call, switch, ...) and no next', node);
        return { ...base, type: 'next' };
    }
  }

  private loadNext(node: YamlNode | undefined): string | undefined {
    if (node === undefined) return undefined;
    const target = this.stringValue(node, 'next');
    if (!NAME.test(target)) this.fail(`invalid next target '${target}'`, node);
    return target;
  }

  private loadAssignments(node: YamlNode): Assignment[] {
    if (!isSeq(node) || node.items.length === 0) return this.fail('assign expects a non-empty list', node);
    if (node.items.length > this.limits.assignmentsPerStep) {
      this.fail(`too many assignments: ${node.items.length} (limit ${this.limits.assignmentsPerStep})`, node);
    }
    return node.items.map((item) => {
      if (!isMap(item) || item.items.length !== 1) {
        return this.fail('each assignment must be a single-key map (target: value)', item as Node);
      }
      const [[targetSource, value, keyNode]] = this.entries(item) as [[string, YamlNode, YamlNode]];
      return {
        target: this.loadTarget(targetSource, keyNode),
        targetSource,
        value: this.template(value),
        line: this.lineOf(keyNode),
      };
    });
  }

  private loadTarget(source: string, node: YamlNode): Expr {
    const expr = this.parse(source, node);
    const isTarget = (candidate: Expr): boolean =>
      candidate.type === 'ident' ||
      (candidate.type === 'member' && isTarget(candidate.object)) ||
      (candidate.type === 'index' && isTarget(candidate.object));
    if (!isTarget(expr)) this.fail(`invalid assignment target '${source}'`, node);
    return expr;
  }

  private loadSwitch(name: string, node: YamlNode): SwitchCondition[] {
    if (!isSeq(node) || node.items.length === 0)
      return this.fail('switch expects a non-empty list of conditions', node);
    if (node.items.length > this.limits.conditionsPerSwitch) {
      this.fail(
        `too many switch conditions: ${node.items.length} (limit ${this.limits.conditionsPerSwitch})`,
        node,
      );
    }
    return node.items.map((item) => {
      if (!isMap(item)) return this.fail('switch condition must be a map', item as Node);
      const conditionPair = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'condition');
      if (!conditionPair) return this.fail(`switch entry without 'condition'`, item);
      // The rest of the entry is a step body (next, steps, assign, call, return, raise...).
      const rest = item.clone() as typeof item;
      rest.items = item.items.filter((pair) => pair !== conditionPair);
      const line = this.lineOf(item);
      const body =
        rest.items.length === 0
          ? this.fail(`switch condition needs next, steps or another action`, item)
          : this.loadStepBody(name, rest, line, true);
      return { condition: this.template(conditionPair.value as YamlNode), body, line };
    });
  }

  private loadIteration(node: YamlNode, kind: string): IterationSpec {
    if (!isMap(node)) return this.fail(`${kind} expects a map`, node);
    const spec: Partial<IterationSpec> = { line: this.lineOf(node) };
    for (const [key, value, keyNode] of this.entries(node)) {
      if (key === 'value') spec.value = this.nameValue(value, 'for value');
      else if (key === 'index') spec.index = this.nameValue(value, 'for index');
      else if (key === 'in') spec.in = this.template(value);
      else if (key === 'range') spec.range = this.loadRange(value);
      else if (key === 'steps') spec.steps = this.loadSteps(value);
      else this.fail(`unknown key '${key}' in for (expected value, index, in, range, steps)`, keyNode);
    }
    if (!spec.value) this.fail(`for requires 'value'`, node);
    if (!spec.steps) this.fail(`for requires 'steps'`, node);
    if ((spec.in === undefined) === (spec.range === undefined))
      this.fail(`for requires exactly one of 'in' or 'range'`, node);
    if (spec.in?.kind === 'literal' && !Array.isArray(spec.in.value))
      this.fail(`for 'in' must be a list or an expression`, node);
    return spec as IterationSpec;
  }

  private loadRange(node: YamlNode): Template {
    const range = this.template(node);
    const isValid =
      range.kind === 'expr' ||
      ((range.kind === 'list' || (range.kind === 'literal' && Array.isArray(range.value))) &&
        (range.kind === 'list' ? range.items.length : (range.value as WfValue[]).length) === 2);
    if (!isValid) this.fail(`for 'range' must be [start, end] or a single \${[start, end]} expression`, node);
    return range;
  }

  private loadParallel(node: YamlNode): {
    shared: string[];
    concurrencyLimit?: Template;
    branches?: Branch[];
    loop?: IterationSpec;
  } {
    if (!isMap(node)) return this.fail('parallel expects a map', node);
    const result: {
      shared: string[];
      concurrencyLimit?: Template;
      branches?: Branch[];
      loop?: IterationSpec;
    } = {
      shared: [],
    };
    for (const [key, value, keyNode] of this.entries(node)) {
      if (key === 'shared') {
        if (!isSeq(value)) this.fail(`'shared' must be a list of variable names`, value);
        result.shared = (value as { items: YamlNode[] }).items.map((item) =>
          this.nameValue(item, 'shared variable'),
        );
      } else if (key === 'concurrency_limit') result.concurrencyLimit = this.template(value);
      else if (key === 'exception_policy') {
        const policy = this.stringValue(value, 'exception_policy');
        if (policy !== 'continueAll')
          this.fail(`unsupported exception_policy '${policy}' (only continueAll)`, value);
      } else if (key === 'branches') result.branches = this.loadBranches(value);
      else if (key === 'for') result.loop = this.loadIteration(value, 'parallel for');
      else this.fail(`unknown key '${key}' in parallel`, keyNode);
    }
    if ((result.branches === undefined) === (result.loop === undefined)) {
      this.fail(`parallel requires exactly one of 'branches' or 'for'`, node);
    }
    return result;
  }

  private loadBranches(node: YamlNode): Branch[] {
    if (!isSeq(node)) return this.fail('branches must be a list', node);
    if (node.items.length < 2 || node.items.length > this.limits.maxBranches) {
      this.fail(`parallel needs 2 to ${this.limits.maxBranches} branches, got ${node.items.length}`, node);
    }
    return node.items.map((item) => {
      if (!isMap(item) || item.items.length !== 1)
        return this.fail('each branch must be a single-key map', item as Node);
      const [[name, body, keyNode]] = this.entries(item) as [[string, YamlNode, YamlNode]];
      if (!isMap(body)) return this.fail(`branch '${name}' must contain steps`, keyNode);
      const entries = this.entries(body);
      const stepsEntry = entries.find(([key]) => key === 'steps');
      if (!stepsEntry || entries.length !== 1)
        this.fail(`branch '${name}' must contain only 'steps'`, keyNode);
      return { name, steps: this.loadSteps(stepsEntry![1]), line: this.lineOf(keyNode) };
    });
  }

  private loadTry(
    name: string,
    node: YamlNode,
    fields: Map<string, { value: YamlNode; keyNode: YamlNode }>,
  ): { body: Step[]; retry?: Template; except?: { as?: string; steps: Step[] } } {
    if (!isMap(node)) return this.fail('try expects a step body or steps', node);
    const line = this.lineOf(node);
    const body = this.loadStepBody(name, node, line, true);
    const retryNode = fields.get('retry')?.value;
    const exceptNode = fields.get('except')?.value;
    let except: { as?: string; steps: Step[] } | undefined;
    if (exceptNode !== undefined) {
      if (!isMap(exceptNode)) return this.fail('except expects a map with as and steps', exceptNode);
      let as: string | undefined;
      let steps: Step[] | undefined;
      for (const [key, value, keyNode] of this.entries(exceptNode)) {
        if (key === 'as') as = this.nameValue(value, 'except as');
        else if (key === 'steps') steps = this.loadSteps(value);
        else this.fail(`unknown key '${key}' in except (expected as, steps)`, keyNode);
      }
      if (!steps) return this.fail(`except requires 'steps'`, exceptNode);
      except = { as, steps };
    }
    return {
      body: body.type === 'steps' && body.next === undefined ? body.steps : [body],
      retry: retryNode === undefined ? undefined : this.loadRetry(retryNode),
      except,
    };
  }

  private loadRetry(node: YamlNode): Template {
    const retry = this.template(node);
    if (retry.kind === 'expr') return retry;
    if (retry.kind !== 'map') return this.fail('retry expects a policy expression or a map', node);
    const keys = retry.entries.map((entry) => (entry.key.kind === 'literal' ? entry.key.value : null));
    for (const key of keys) {
      if (key !== 'predicate' && key !== 'max_retries' && key !== 'backoff') {
        this.fail(`unknown key '${String(key)}' in retry (expected predicate, max_retries, backoff)`, node);
      }
    }
    if (!keys.includes('predicate')) this.fail(`retry requires 'predicate'`, node);
    if (!keys.includes('max_retries')) this.fail(`retry requires 'max_retries'`, node);
    return retry;
  }

  /** Converts a YAML value into a template, parsing `${...}` strings (values and map keys). */
  private template(node: YamlNode): Template {
    if (node === null) return { kind: 'literal', value: null };
    if (isAlias(node)) return this.template(node.resolve(this.doc) as YamlNode);
    if (isScalar(node)) {
      const value = node.value;
      if (typeof value === 'string') {
        const match = EXPRESSION.exec(value);
        if (match) return { kind: 'expr', expr: this.parse(match[1]!, node), source: value };
        return { kind: 'literal', value };
      }
      if (value === null || value === undefined) return { kind: 'literal', value: null };
      if (typeof value === 'boolean' || typeof value === 'bigint' || typeof value === 'number') {
        return { kind: 'literal', value };
      }
      return this.fail(`unsupported YAML scalar ${String(value)}`, node);
    }
    if (isSeq(node)) {
      const items = node.items.map((item) => this.template(item as YamlNode));
      if (items.every((item) => item.kind === 'literal')) {
        return { kind: 'literal', value: items.map((item) => (item as { value: WfValue }).value) };
      }
      return { kind: 'list', items };
    }
    if (isMap(node)) {
      return {
        kind: 'map',
        entries: node.items.map((pair) => ({
          key: this.mapKey(pair.key as YamlNode),
          value: this.template(pair.value as YamlNode),
        })),
      };
    }
    return this.fail('unsupported YAML node', node);
  }

  /** Literal map keys are strings even when YAML reads `1: 10` as an int (WS `iterate_map`). */
  private mapKey(node: YamlNode): Template {
    const key = this.template(node);
    if (key.kind !== 'literal' || typeof key.value === 'string') return key;
    if (key.value === null || typeof key.value === 'object')
      return this.fail('map keys must be scalars', node);
    return { kind: 'literal', value: String(key.value) };
  }

  private parse(source: string, node: YamlNode): Expr {
    if (source.length > this.limits.expressionLength) {
      this.fail(
        `expression is ${source.length} characters long (limit ${this.limits.expressionLength})`,
        node,
      );
    }
    try {
      return parseExpression(source);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError)
        return this.fail(`invalid expression: ${error.message}`, node);
      throw error;
    }
  }

  private entries(node: YamlNode): Array<[string, YamlNode, YamlNode]> {
    if (!isMap(node)) return this.fail('expected a map', node);
    return node.items.map((pair) => {
      const key = pair.key as YamlNode;
      if (!isScalar(key) || typeof key.value !== 'string') return this.fail('map keys must be strings', key);
      return [key.value, pair.value as YamlNode, key];
    });
  }

  private stringValue(node: YamlNode, what: string): string {
    if (!isScalar(node) || typeof node.value !== 'string') return this.fail(`${what} must be a string`, node);
    return node.value;
  }

  private nameValue(node: YamlNode, what: string): string {
    const value = this.stringValue(node, what);
    if (!NAME.test(value)) this.fail(`${what} must be a plain variable name, got '${value}'`, node);
    return value;
  }

  private lineOf(node: YamlNode | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 0 : this.lineCounter.linePos(offset).line;
  }

  private fail(reason: string, node: YamlNode | undefined, line?: number): never {
    throw new WorkflowValidationError(reason, this.currentStep, line ?? this.lineOf(node), this.fileName);
  }
}
