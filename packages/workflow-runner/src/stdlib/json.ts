import { raise } from '../errors';
import { encodeJson, parseJson } from '../json-codec';
import { typeName, type WfValue } from '../values';
import type { BuiltinRegistry } from './types';

function indentOf(indent: WfValue | undefined): number | undefined {
  if (indent === undefined || indent === null || indent === false) return undefined;
  if (indent === true) return 2;
  if (typeof indent === 'bigint' && indent >= 0n) return Number(indent);
  return raise('TypeError', `json.encode: indent must be a boolean or a non-negative integer`);
}

/** `json.*` (wf:reference/stdlib/json). `encode` yields bytes, `encode_to_string` a string. */
export const jsonFunctions: BuiltinRegistry = {
  'json.decode': {
    params: ['data'],
    run: ([data]) => {
      if (data instanceof Uint8Array) return parseJson(new TextDecoder().decode(data));
      if (typeof data === 'string') return parseJson(data);
      return raise('TypeError', `json.decode: expected bytes or string, got '${typeName(data ?? null)}'`);
    },
  },
  'json.encode': {
    params: ['data', 'indent'],
    required: 1,
    run: ([data, indent]) => new TextEncoder().encode(encodeJson(data ?? null, indentOf(indent))),
  },
  'json.encode_to_string': {
    params: ['data', 'indent'],
    required: 1,
    run: ([data, indent]) => encodeJson(data ?? null, indentOf(indent)),
  },
};
