import { raise } from '../errors';
import { typeName, type WfValue } from '../values';

/** Services a stdlib function may use; supplied by the executor so tests can swap the clock. */
export interface BuiltinContext {
  /** Current time in epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
  log(severity: string, payload: WfValue): void;
  getEnv(name: string): string | undefined;
  /** Executes an `http.*` call with named arguments. */
  httpRequest(method: string | undefined, args: Map<string, WfValue>): Promise<WfValue>;
}

export type BuiltinArgs = Array<WfValue | undefined>;

export interface BuiltinFunction {
  /** Parameter names, in positional order; named call-step `args` map onto them. */
  params: string[];
  /** How many leading params are required (default: all). */
  required?: number;
  /** Blocking calls (HTTP, sleep, log) may only be used in `call` steps, not inside expressions. */
  blocking?: boolean;
  run(args: BuiltinArgs, ctx: BuiltinContext): WfValue | Promise<WfValue>;
}

export type BuiltinRegistry = Record<string, BuiltinFunction>;

/** Argument checkers shared by the stdlib modules; failures are the documented TypeError. */
export function requireString(fn: string, value: WfValue | undefined): string {
  if (typeof value !== 'string')
    raise('TypeError', `${fn}: expected string, got '${typeName(value ?? null)}'`);
  return value;
}

export function requireInt(fn: string, value: WfValue | undefined): bigint {
  if (typeof value !== 'bigint')
    raise('TypeError', `${fn}: expected integer, got '${typeName(value ?? null)}'`);
  return value;
}

export function requireNumber(fn: string, value: WfValue | undefined): bigint | number {
  if (typeof value !== 'bigint' && typeof value !== 'number') {
    raise('TypeError', `${fn}: expected number, got '${typeName(value ?? null)}'`);
  }
  return value;
}

export function requireList(fn: string, value: WfValue | undefined): WfValue[] {
  if (!Array.isArray(value)) raise('TypeError', `${fn}: expected list, got '${typeName(value ?? null)}'`);
  return value;
}

export function requireMap(fn: string, value: WfValue | undefined): Map<string, WfValue> {
  if (!(value instanceof Map)) raise('TypeError', `${fn}: expected map, got '${typeName(value ?? null)}'`);
  return value;
}

export function requireBytes(fn: string, value: WfValue | undefined): Uint8Array {
  if (!(value instanceof Uint8Array))
    raise('TypeError', `${fn}: expected bytes, got '${typeName(value ?? null)}'`);
  return value;
}

export function requireBoolean(fn: string, value: WfValue | undefined): boolean {
  if (typeof value !== 'boolean')
    raise('TypeError', `${fn}: expected boolean, got '${typeName(value ?? null)}'`);
  return value;
}
