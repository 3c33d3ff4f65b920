import type { WfValue } from '../values';
import { base64Functions } from './base64';
import { hashFunctions } from './hash';
import { helperFunctions } from './helpers';
import { httpFunctions } from './http';
import { jsonFunctions } from './json';
import { listFunctions } from './list';
import { mapFunctions } from './map';
import { mathFunctions } from './math';
import { retryFunctions, retryValues } from './retry';
import { sysFunctions } from './sys';
import { textFunctions } from './text';
import { timeFunctions } from './time';
import type { BuiltinFunction, BuiltinRegistry } from './types';
import { uuidFunctions } from './uuid';

export type { BuiltinContext, BuiltinFunction } from './types';

const STDLIB: BuiltinRegistry = {
  ...helperFunctions,
  ...listFunctions,
  ...mapFunctions,
  ...textFunctions,
  ...jsonFunctions,
  ...base64Functions,
  ...mathFunctions,
  ...timeFunctions,
  ...sysFunctions,
  ...uuidFunctions,
  ...hashFunctions,
  ...retryFunctions,
  ...httpFunctions,
};

export function findBuiltin(name: string): BuiltinFunction | undefined {
  return Object.hasOwn(STDLIB, name) ? STDLIB[name] : undefined;
}

export function builtinValue(name: string): WfValue | undefined {
  return Object.hasOwn(retryValues, name) ? retryValues[name]!() : undefined;
}

/** Namespaces of the standard library, so `http.default_retry` is not mistaken for a variable `http`. */
export const STDLIB_NAMESPACES = new Set(
  [...Object.keys(STDLIB), ...Object.keys(retryValues)]
    .filter((name) => name.includes('.'))
    .map((name) => name.split('.')[0]!),
);
