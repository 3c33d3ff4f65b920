import { raise } from '../errors';
import { cloneValue, typeName, type WfMap, type WfValue } from '../values';
import { type BuiltinRegistry, requireMap, requireString } from './types';

function mergeNested(first: WfMap, second: WfMap): WfMap {
  const result = cloneValue(first) as WfMap;
  for (const [key, value] of second) {
    const existing = result.get(key);
    result.set(
      key,
      existing instanceof Map && value instanceof Map ? mergeNested(existing, value) : cloneValue(value),
    );
  }
  return result;
}

/** `map.*` (wf:reference/stdlib/map). */
export const mapFunctions: BuiltinRegistry = {
  'map.get': {
    params: ['map', 'keys'],
    // Returns null instead of raising KeyError when any key along the path is missing.
    run: ([map, keys]) => {
      const path = Array.isArray(keys) ? keys : [keys ?? null];
      let current: WfValue = map ?? null;
      for (const key of path) {
        if (typeof key !== 'string')
          return raise('TypeError', `map.get: keys must be strings, got '${typeName(key)}'`);
        if (!(current instanceof Map)) return null;
        current = current.get(key) ?? null;
      }
      return current;
    },
  },
  'map.merge': {
    params: ['first', 'second'],
    run: ([first, second]) => {
      const result = cloneValue(requireMap('map.merge', first)) as WfMap;
      for (const [key, value] of requireMap('map.merge', second)) result.set(key, cloneValue(value));
      return result;
    },
  },
  'map.merge_nested': {
    params: ['first', 'second'],
    run: ([first, second]) =>
      mergeNested(requireMap('map.merge_nested', first), requireMap('map.merge_nested', second)),
  },
  'map.delete': {
    params: ['map', 'key'],
    run: ([map, key]) => {
      const result = cloneValue(requireMap('map.delete', map)) as WfMap;
      result.delete(requireString('map.delete', key));
      return result;
    },
  },
};
