import { raise } from '../errors';
import { formatScalar, INT64_MAX, INT64_MIN, isNumber, typeName, valuesEqual, type WfValue } from '../values';
import type { BinaryOp } from './parser';

/** Ints are 64-bit; leaving that range is an error rather than a silent wrap. */
export function checkInt(value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX)
    raise('ValueError', `integer overflow: ${value} is outside 64 bits`);
  return value;
}

function operandError(op: string, left: WfValue, right: WfValue): never {
  return raise(
    'TypeError',
    `unsupported operand types for ${op}: '${typeName(left)}' and '${typeName(right)}'`,
  );
}

function isConcatenable(value: WfValue): value is string | bigint | number | boolean {
  return typeof value === 'string' || typeof value === 'boolean' || isNumber(value);
}

/** `+` per the implicit-conversion table of wf:reference/syntax/datatypes (int + string concatenates). */
function add(left: WfValue, right: WfValue): WfValue {
  if (typeof left === 'bigint' && typeof right === 'bigint') return checkInt(left + right);
  if (isNumber(left) && isNumber(right)) return Number(left) + Number(right);
  const hasString = typeof left === 'string' || typeof right === 'string';
  if (hasString && isConcatenable(left) && isConcatenable(right))
    return formatScalar(left) + formatScalar(right);
  return operandError('+', left, right);
}

function arithmetic(op: '-' | '*', left: WfValue, right: WfValue): WfValue {
  if (typeof left === 'bigint' && typeof right === 'bigint')
    return checkInt(op === '-' ? left - right : left * right);
  if (isNumber(left) && isNumber(right)) {
    return op === '-' ? Number(left) - Number(right) : Number(left) * Number(right);
  }
  return operandError(op, left, right);
}

function divide(op: '/' | '//' | '%', left: WfValue, right: WfValue): WfValue {
  if (!isNumber(left) || !isNumber(right)) return operandError(op, left, right);
  if (Number(right) === 0) raise('ZeroDivisionError', `division by zero in ${op}`);
  if (op === '/') return Number(left) / Number(right);
  if (typeof left === 'bigint' && typeof right === 'bigint') {
    // Floor semantics (rounding towards negative infinity), so `%` takes the sign of the divisor.
    let quotient = left / right;
    if (left % right !== 0n && left < 0n !== right < 0n) quotient -= 1n;
    return op === '//' ? checkInt(quotient) : left - right * quotient;
  }
  const quotient = Math.floor(Number(left) / Number(right));
  return op === '//' ? quotient : Number(left) - Number(right) * quotient;
}

function compare(op: '<' | '<=' | '>' | '>=', left: WfValue, right: WfValue): boolean {
  let order: number;
  if (isNumber(left) && isNumber(right)) {
    const [a, b] =
      typeof left === 'bigint' && typeof right === 'bigint' ? [left, right] : [Number(left), Number(right)];
    order = a < b ? -1 : a > b ? 1 : 0;
  } else if (typeof left === 'string' && typeof right === 'string') {
    order = left < right ? -1 : left > right ? 1 : 0;
  } else return operandError(op, left, right);
  if (op === '<') return order < 0;
  if (op === '<=') return order <= 0;
  if (op === '>') return order > 0;
  return order >= 0;
}

function contains(left: WfValue, right: WfValue): boolean {
  if (right instanceof Map) {
    if (typeof left !== 'string')
      return raise('TypeError', `map keys are strings, got '${typeName(left)}' for in`);
    return right.has(left);
  }
  if (Array.isArray(right)) return right.some((item) => valuesEqual(item, left));
  return operandError('in', left, right);
}

export function requireBoolean(value: WfValue, what: string): boolean {
  if (typeof value !== 'boolean') raise('TypeError', `${what} expects a boolean, got '${typeName(value)}'`);
  return value;
}

/** Applies a (non short-circuit) binary operator to evaluated operands. */
export function applyBinary(op: Exclude<BinaryOp, 'and' | 'or'>, left: WfValue, right: WfValue): WfValue {
  switch (op) {
    case '+':
      return add(left, right);
    case '-':
    case '*':
      return arithmetic(op, left, right);
    case '/':
    case '//':
    case '%':
      return divide(op, left, right);
    case '==':
      return valuesEqual(left, right);
    case '!=':
      return !valuesEqual(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, left, right);
    case 'in':
      return contains(left, right);
  }
}

export function applyUnary(op: '-' | 'not', operand: WfValue): WfValue {
  if (op === 'not') return !requireBoolean(operand, 'not');
  if (typeof operand === 'bigint') return checkInt(-operand);
  if (typeof operand === 'number') return -operand;
  return raise('TypeError', `bad operand type for unary -: '${typeName(operand)}'`);
}
