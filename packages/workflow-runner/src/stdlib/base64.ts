import { raise } from '../errors';
import type { WfValue } from '../values';
import { type BuiltinRegistry, requireBytes, requireString } from './types';

function usesPadding(padding: WfValue | undefined): boolean {
  return padding === undefined || padding === null ? true : padding === true;
}

/** `base64.*` (wf:reference/stdlib/base64): bytes <-> standard base64 text. */
export const base64Functions: BuiltinRegistry = {
  'base64.encode': {
    params: ['data', 'padding'],
    required: 1,
    run: ([data, padding]) => {
      const encoded = Buffer.from(requireBytes('base64.encode', data)).toString('base64');
      return usesPadding(padding) ? encoded : encoded.replace(/=+$/, '');
    },
  },
  'base64.decode': {
    params: ['data', 'padding'],
    required: 1,
    run: ([data, padding]) => {
      const text = requireString('base64.decode', data);
      const valid = usesPadding(padding) ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9+/]*$/;
      if (!valid.test(text) || (usesPadding(padding) && text.length % 4 !== 0)) {
        return raise('ValueError', `base64.decode: invalid base64 data '${text.slice(0, 40)}'`);
      }
      return new Uint8Array(Buffer.from(text, 'base64'));
    },
  },
};
