/**
 * Runtime representation of Workflows values. Ints are `bigint` (64-bit) and doubles are `number`, so
 * `1` and `1.0` stay distinguishable as the language requires; maps are `Map` to keep insertion order.
 */
export type WfMap = Map<string, WfValue>;
export type WfList = WfValue[];
export type WfValue = null | boolean | bigint | number | string | Uint8Array | WfList | WfMap | FunctionRef;

/** A reference to a callable (stdlib function or subworkflow) used as a value, e.g. a retry predicate. */
export class FunctionRef {
  constructor(
    readonly name: string,
    readonly kind: 'builtin' | 'subworkflow',
  ) {}
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export function isMap(value: WfValue | undefined): value is WfMap {
  return value instanceof Map;
}

export function isList(value: WfValue | undefined): value is WfList {
  return Array.isArray(value);
}

export function isBytes(value: WfValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function isNumber(value: WfValue | undefined): value is bigint | number {
  return typeof value === 'bigint' || typeof value === 'number';
}

/** The type names returned by `get_type()`. */
export function typeName(value: WfValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'string') return 'string';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Map) return 'map';
  return 'function';
}

/** Deep copy, because Workflows assignment has value semantics (`b: ${a}` then `b.x: 1` leaves `a` alone). */
export function cloneValue(value: WfValue): WfValue {
  if (Array.isArray(value)) return value.map(cloneValue);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, cloneValue(v)]));
  return value;
}

export function valuesEqual(a: WfValue, b: WfValue): boolean {
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
    return Number(a) === Number(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => valuesEqual(item, b[i] ?? null));
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, item] of a) {
      if (!b.has(key) || !valuesEqual(item, b.get(key) ?? null)) return false;
    }
    return true;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  if (a instanceof FunctionRef && b instanceof FunctionRef) return a.name === b.name;
  return a === b;
}

/** Text form used by `string()` and by `+` concatenation. */
export function formatScalar(value: bigint | number | boolean | string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/** Approximate serialized size in bytes, used for the 512 KB variable-memory limit. */
export function sizeOfValue(value: WfValue): number {
  if (value === null || typeof value === 'boolean') return 4;
  if (typeof value === 'bigint' || typeof value === 'number') return 8;
  if (typeof value === 'string') return Buffer.byteLength(value) + 2;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + sizeOfValue(item) + 1, 2);
  if (value instanceof Map) {
    let size = 2;
    for (const [key, item] of value) size += Buffer.byteLength(key) + 4 + sizeOfValue(item);
    return size;
  }
  return value.name.length;
}

/** Converts plain JS data (e.g. a parsed `--args` JSON) into Workflows values; integral numbers become ints. */
export function toWorkflowValue(input: unknown): WfValue {
  if (input === null || input === undefined) return null;
  if (typeof input === 'boolean' || typeof input === 'string' || typeof input === 'bigint') return input;
  if (typeof input === 'number') return Number.isInteger(input) ? BigInt(input) : input;
  if (input instanceof Uint8Array) return input;
  if (input instanceof FunctionRef) return input;
  if (Array.isArray(input)) return input.map(toWorkflowValue);
  if (input instanceof Map) return new Map([...input].map(([k, v]) => [String(k), toWorkflowValue(v)]));
  if (typeof input === 'object') {
    return new Map(Object.entries(input).map(([k, v]) => [k, toWorkflowValue(v)]));
  }
  throw new TypeError(`cannot convert ${typeof input} to a workflow value`);
}

/**
 * Converts Workflows values back to plain JS: maps become objects, ints become numbers when they are
 * safe integers (bigint otherwise), bytes stay `Uint8Array`.
 */
export function toPlainValue(value: WfValue): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(toPlainValue);
  if (value instanceof Map) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of value) result[key] = toPlainValue(item);
    return result;
  }
  if (value instanceof FunctionRef) return value.name;
  return value;
}

/** `JSON.stringify` for plain results that may hold bigints (printed as JSON numbers) or bytes. */
export function stringifyPlain(value: unknown, indent?: number): string {
  const marker = '@@workflow-int@@';
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item === 'bigint') return `${marker}${item}`;
      if (item instanceof Uint8Array) return Buffer.from(item).toString('base64');
      return item;
    },
    indent,
  );
  return text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}
