import { raise } from '../errors';
import { FunctionRef, typeName, type WfMap, type WfValue } from '../values';
import { applyBinary, applyUnary, requireBoolean } from './operators';
import { dottedName, type Expr } from './parser';

/** What an expression can see: variables, functions (stdlib and subworkflows) and named built-in values. */
export interface EvalContext {
  /** Value of a variable, or undefined when no such variable exists. */
  getVariable(name: string): WfValue | undefined;
  /** True for stdlib functions and subworkflows callable by this dotted name. */
  isFunction(name: string): boolean;
  callFunction(name: string, args: WfValue[]): Promise<WfValue>;
  /** Built-in named values such as `http.default_retry`, or undefined. */
  builtinValue(name: string): WfValue | undefined;
}

export async function evaluate(expr: Expr, ctx: EvalContext): Promise<WfValue> {
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'ident':
      return resolveName(expr.name, ctx);
    case 'member': {
      const name = dottedName(expr);
      // `http.default_retry` is a namespace path, unless its root is a variable (e.g. `e.code`).
      if (name !== undefined && ctx.getVariable(name.split('.')[0]!) === undefined)
        return resolveName(name, ctx);
      return readKey(await evaluate(expr.object, ctx), expr.name);
    }
    case 'index':
      return readIndex(await evaluate(expr.object, ctx), await evaluate(expr.index, ctx));
    case 'call': {
      const args: WfValue[] = [];
      for (const arg of expr.args) args.push(await evaluate(arg, ctx));
      const name = dottedName(expr.callee);
      if (name !== undefined && ctx.isFunction(name)) return ctx.callFunction(name, args);
      const callee = await evaluate(expr.callee, ctx);
      if (callee instanceof FunctionRef) return ctx.callFunction(callee.name, args);
      return raise('TypeError', `'${typeName(callee)}' value is not callable`);
    }
    case 'unary':
      return applyUnary(expr.op, await evaluate(expr.operand, ctx));
    case 'binary': {
      const left = await evaluate(expr.left, ctx);
      if (expr.op === 'and' || expr.op === 'or') {
        // Short-circuit, so guards like `"k" in m and m.k > 1` are safe.
        const leftBool = requireBoolean(left, expr.op);
        if (expr.op === 'and' ? !leftBool : leftBool) return leftBool;
        return requireBoolean(await evaluate(expr.right, ctx), expr.op);
      }
      return applyBinary(expr.op, left, await evaluate(expr.right, ctx));
    }
    case 'list': {
      const items: WfValue[] = [];
      for (const item of expr.items) items.push(await evaluate(item, ctx));
      return items;
    }
    case 'map': {
      const map: WfMap = new Map();
      for (const entry of expr.entries) {
        const key = await evaluate(entry.key, ctx);
        if (typeof key !== 'string') raise('TypeError', `map keys must be strings, got '${typeName(key)}'`);
        map.set(key, await evaluate(entry.value, ctx));
      }
      return map;
    }
  }
}

function resolveName(name: string, ctx: EvalContext): WfValue {
  const variable = ctx.getVariable(name);
  if (variable !== undefined) return variable;
  const builtin = ctx.builtinValue(name);
  if (builtin !== undefined) return builtin;
  if (ctx.isFunction(name)) return new FunctionRef(name, name.includes('.') ? 'builtin' : 'subworkflow');
  return raise('KeyError', `symbol '${name}' is neither a variable nor a sub-workflow name`);
}

export function readKey(target: WfValue, key: string): WfValue {
  if (!(target instanceof Map))
    return raise('TypeError', `cannot read key '${key}' of '${typeName(target)}'`);
  const value = target.get(key);
  if (value === undefined) return raise('KeyError', `key not found: ${key}`);
  return value;
}

export function readIndex(target: WfValue, key: WfValue): WfValue {
  if (target instanceof Map) {
    if (typeof key !== 'string') return raise('TypeError', `map keys are strings, got '${typeName(key)}'`);
    return readKey(target, key);
  }
  if (Array.isArray(target)) {
    const position = listPosition(target, key);
    return target[position]!;
  }
  return raise('TypeError', `'${typeName(target)}' is not subscriptable`);
}

/** Validates a list index: an int within bounds (no negative indexing). */
export function listPosition(list: WfValue[], key: WfValue): number {
  if (typeof key !== 'bigint')
    return raise('TypeError', `list indices must be integers, got '${typeName(key)}'`);
  if (key < 0n || key >= BigInt(list.length)) {
    return raise('IndexError', `list index ${key} out of range (length ${list.length})`);
  }
  return Number(key);
}
