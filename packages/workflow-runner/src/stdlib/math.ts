import { raise } from '../errors';
import { checkInt } from '../expression/operators';
import { type BuiltinRegistry, requireNumber } from './types';

/** `math.*` (wf:reference/stdlib/math); results keep the int/double type of their inputs. */
export const mathFunctions: BuiltinRegistry = {
  'math.abs': {
    params: ['x'],
    run: ([x]) => {
      const value = requireNumber('math.abs', x);
      return typeof value === 'bigint' ? checkInt(value < 0n ? -value : value) : Math.abs(value);
    },
  },
  'math.floor': {
    params: ['x'],
    run: ([x]) => {
      const value = requireNumber('math.floor', x);
      if (typeof value === 'bigint') return value;
      if (!Number.isFinite(value)) return raise('ValueError', `math.floor: cannot floor ${value}`);
      return checkInt(BigInt(Math.floor(value)));
    },
  },
  'math.max': {
    params: ['x', 'y'],
    run: ([x, y]) => {
      const a = requireNumber('math.max', x);
      const b = requireNumber('math.max', y);
      if (a >= b) return a;
      return b;
    },
  },
  'math.min': {
    params: ['x', 'y'],
    run: ([x, y]) => {
      const a = requireNumber('math.min', x);
      const b = requireNumber('math.min', y);
      if (a <= b) return a;
      return b;
    },
  },
};
