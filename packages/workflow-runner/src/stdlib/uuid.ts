import { randomUUID } from 'node:crypto';
import type { BuiltinRegistry } from './types';

/** `uuid.generate()` (wf:reference/stdlib/uuid): a random version-4 UUID. */
export const uuidFunctions: BuiltinRegistry = {
  'uuid.generate': { params: [], run: () => randomUUID() },
};
