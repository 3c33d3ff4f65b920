import type { Expr } from './expression/parser';
import type { WfValue } from './values';

/** A YAML value whose leaves may be `${...}` expressions (map keys too, as in WS `dictionary`). */
export type Template =
  | { kind: 'literal'; value: WfValue }
  | { kind: 'expr'; expr: Expr; source: string }
  | { kind: 'list'; items: Template[] }
  | { kind: 'map'; entries: Array<{ key: Template; value: Template }> };

interface StepBase {
  name: string;
  line: number;
  /** `next:` target: a step name, `end`, `break` or `continue`. */
  next?: string;
  /** True for bodies synthesized from a `try:` map or a switch condition; they share the parent's name. */
  synthetic?: boolean;
}

export interface Assignment {
  /** `x`, `m.key`, `m["key"]` or `list[i]`, parsed as an expression. */
  target: Expr;
  targetSource: string;
  value: Template;
  line: number;
}

export interface IterationSpec {
  value: string;
  index?: string;
  in?: Template;
  range?: Template;
  steps: Step[];
  line: number;
  /** Variables owned by one iteration (loop vars and names first created inside); set by the checker. */
  locals?: Set<string>;
}

export interface Branch {
  name: string;
  steps: Step[];
  line: number;
  /** Variables local to the branch; set by the checker. */
  locals?: Set<string>;
}

export interface SwitchCondition {
  condition: Template;
  /** What runs when the condition holds (next/steps/assign/call/return/raise), as a step body. */
  body: Step;
  line: number;
}

export type Step =
  | (StepBase & { type: 'assign'; assignments: Assignment[] })
  | (StepBase & { type: 'call'; target: string; args?: Template; result?: string })
  | (StepBase & { type: 'switch'; conditions: SwitchCondition[] })
  | (StepBase & { type: 'for'; loop: IterationSpec })
  | (StepBase & {
      type: 'parallel';
      shared: string[];
      concurrencyLimit?: Template;
      branches?: Branch[];
      loop?: IterationSpec;
    })
  | (StepBase & { type: 'try'; body: Step[]; retry?: Template; except?: { as?: string; steps: Step[] } })
  | (StepBase & { type: 'raise'; value: Template })
  | (StepBase & { type: 'return'; value: Template })
  | (StepBase & { type: 'steps'; steps: Step[] })
  | (StepBase & { type: 'next' });

export interface Param {
  name: string;
  default?: Template;
}

export interface Subworkflow {
  name: string;
  params: Param[];
  steps: Step[];
  line: number;
}

/** A loaded and validated workflow, ready for `runWorkflow`. Treat it as opaque. */
export interface Workflow {
  readonly fileName?: string;
  readonly subworkflows: ReadonlyMap<string, Subworkflow>;
  /** `googleapis.*` call targets used, checked against the connectors available at run time. */
  readonly connectorCalls: ReadonlySet<string>;
}

/**
 * Where each step name can be reached from a step list: directly, or inside plain nested `steps:`
 * blocks (the path of indexes), which is how `next` may jump into a nested block.
 */
const reachCache = new WeakMap<Step[], Map<string, number[]>>();

export function reachableSteps(steps: Step[]): Map<string, number[]> {
  let reach = reachCache.get(steps);
  if (!reach) {
    reach = new Map();
    for (const [i, step] of steps.entries()) {
      if (!reach.has(step.name)) reach.set(step.name, [i]);
      if (step.type === 'steps') {
        for (const [name, path] of reachableSteps(step.steps))
          if (!reach.has(name)) reach.set(name, [i, ...path]);
      }
    }
    reachCache.set(steps, reach);
  }
  return reach;
}

/** Visits every step, nested ones included, with the chain of enclosing steps. */
export function forEachStep(steps: Step[], visit: (step: Step) => void): void {
  for (const step of steps) {
    visit(step);
    for (const child of childStepLists(step)) forEachStep(child, visit);
  }
}

export function childStepLists(step: Step): Step[][] {
  switch (step.type) {
    case 'steps':
      return [step.steps];
    case 'for':
      return [step.loop.steps];
    case 'parallel':
      return step.branches ? step.branches.map((branch) => branch.steps) : step.loop ? [step.loop.steps] : [];
    case 'try':
      return step.except ? [step.body, step.except.steps] : [step.body];
    case 'switch':
      return step.conditions.map((condition) => [condition.body]);
    default:
      return [];
  }
}
