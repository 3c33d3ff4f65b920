import { cloneValue } from '../values';
import { type BuiltinRegistry, requireList } from './types';

/** `list.*` (wf:reference/stdlib/list). Both return new lists; the input is not modified. */
export const listFunctions: BuiltinRegistry = {
  'list.concat': {
    params: ['objs', 'val'],
    run: ([objs, val]) => [...requireList('list.concat', objs).map(cloneValue), cloneValue(val ?? null)],
  },
  'list.prepend': {
    params: ['objs', 'val'],
    run: ([objs, val]) => [cloneValue(val ?? null), ...requireList('list.prepend', objs).map(cloneValue)],
  },
};
