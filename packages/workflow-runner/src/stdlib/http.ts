import type { WfValue } from '../values';
import type { BuiltinFunction, BuiltinRegistry } from './types';

const COMMON = ['url', 'headers', 'query', 'auth', 'timeout', 'private_service_name', 'ca_certificate'];

function httpFunction(method: string | undefined, params: string[]): BuiltinFunction {
  return {
    params,
    required: 1,
    blocking: true,
    run: (args, ctx) => {
      const named = new Map<string, WfValue>();
      params.forEach((param, i) => {
        const value = args[i];
        if (value !== undefined) named.set(param, value);
      });
      return ctx.httpRequest(method, named);
    },
  };
}

/** `http.*` call targets (wf:reference/stdlib/http); only usable in `call` steps. */
export const httpFunctions: BuiltinRegistry = {
  'http.get': httpFunction('GET', COMMON),
  'http.delete': httpFunction('DELETE', [...COMMON, 'body']),
  'http.post': httpFunction('POST', [...COMMON, 'body']),
  'http.put': httpFunction('PUT', [...COMMON, 'body']),
  'http.patch': httpFunction('PATCH', [...COMMON, 'body']),
  'http.request': httpFunction(undefined, ['url', 'method', ...COMMON.slice(1), 'body']),
};
