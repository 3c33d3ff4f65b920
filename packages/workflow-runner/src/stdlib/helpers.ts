import { raise } from '../errors';
import { checkInt } from '../expression/operators';
import { formatScalar, isNumber, typeName } from '../values';
import { type BuiltinRegistry, requireBoolean, requireMap } from './types';

/** Expression helpers without a namespace (wf:reference/stdlib/expression-helpers). */
export const helperFunctions: BuiltinRegistry = {
  default: {
    params: ['value', 'default_value'],
    run: ([value, fallback]) => (value === undefined || value === null ? (fallback ?? null) : value),
  },
  keys: { params: ['map'], run: ([map]) => [...requireMap('keys', map).keys()] },
  len: {
    params: ['value'],
    run: ([value]) => {
      if (typeof value === 'string') return BigInt([...value].length);
      if (Array.isArray(value)) return BigInt(value.length);
      if (value instanceof Map) return BigInt(value.size);
      if (value instanceof Uint8Array) return BigInt(value.length);
      return raise('TypeError', `len: expected string, list or map, got '${typeName(value ?? null)}'`);
    },
  },
  int: {
    params: ['value'],
    run: ([value]) => {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) return raise('ValueError', `int: cannot convert ${value}`);
        return checkInt(BigInt(Math.trunc(value)));
      }
      if (typeof value === 'string') {
        const text = value.trim();
        if (/^[+-]?\d+$/.test(text)) return checkInt(BigInt(text));
        if (text !== '' && Number.isFinite(Number(text))) return checkInt(BigInt(Math.trunc(Number(text))));
        return raise('ValueError', `int: cannot convert string '${value}' to integer`);
      }
      return raise('TypeError', `int: expected string or double, got '${typeName(value ?? null)}'`);
    },
  },
  double: {
    params: ['value'],
    run: ([value]) => {
      if (isNumber(value)) return Number(value);
      if (typeof value === 'string') {
        const parsed = Number(value.trim());
        if (value.trim() === '' || Number.isNaN(parsed)) {
          return raise('ValueError', `double: cannot convert string '${value}' to double`);
        }
        return parsed;
      }
      return raise('TypeError', `double: expected string or integer, got '${typeName(value ?? null)}'`);
    },
  },
  string: {
    params: ['value'],
    run: ([value]) => {
      if (typeof value === 'string' || typeof value === 'boolean' || isNumber(value))
        return formatScalar(value);
      return raise(
        'TypeError',
        `string: expected integer, double or boolean, got '${typeName(value ?? null)}'`,
      );
    },
  },
  get_type: { params: ['value'], run: ([value]) => typeName(value ?? null) },
  if: {
    params: ['condition', 'if_true', 'if_false'],
    run: ([condition, ifTrue, ifFalse]) => (requireBoolean('if', condition) ? ifTrue : ifFalse) ?? null,
  },
};
