import { createHash, createHmac } from 'node:crypto';
import { raise } from '../errors';
import type { WfValue } from '../values';
import { type BuiltinRegistry, requireBytes, requireString } from './types';

const ALGORITHMS: Record<string, string> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
};

function algorithmOf(fn: string, value: WfValue | undefined): string {
  const name = requireString(fn, value);
  return ALGORITHMS[name] ?? raise('ValueError', `${fn}: unsupported algorithm '${name}'`);
}

/** `hash.*` (wf:reference/stdlib/hash): digests returned as bytes. */
export const hashFunctions: BuiltinRegistry = {
  'hash.compute_checksum': {
    params: ['data', 'algorithm'],
    run: ([data, algorithm]) =>
      new Uint8Array(
        createHash(algorithmOf('hash.compute_checksum', algorithm))
          .update(requireBytes('hash.compute_checksum', data))
          .digest(),
      ),
  },
  'hash.compute_hmac': {
    params: ['key', 'data', 'algorithm'],
    run: ([key, data, algorithm]) =>
      new Uint8Array(
        createHmac(algorithmOf('hash.compute_hmac', algorithm), requireBytes('hash.compute_hmac', key))
          .update(requireBytes('hash.compute_hmac', data))
          .digest(),
      ),
  },
};
