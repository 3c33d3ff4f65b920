import { raise } from '../errors';
import type { WfValue } from '../values';
import { type BuiltinRegistry, requireNumber, requireString } from './types';

const SEVERITIES = [
  'DEFAULT',
  'DEBUG',
  'INFO',
  'NOTICE',
  'WARNING',
  'ERROR',
  'CRITICAL',
  'ALERT',
  'EMERGENCY',
];

/** `sys.*` (wf:reference/stdlib/sys). */
export const sysFunctions: BuiltinRegistry = {
  'sys.now': { params: [], run: (_args, ctx) => ctx.now() / 1000 },
  'sys.sleep': {
    params: ['seconds'],
    blocking: true,
    run: async ([seconds], ctx) => {
      const value = Number(requireNumber('sys.sleep', seconds));
      if (value < 0) raise('ValueError', `sys.sleep: seconds must be >= 0, got ${value}`);
      await ctx.sleep(value * 1000);
      return null;
    },
  },
  'sys.log': {
    params: ['data', 'severity', 'text', 'json', 'timestamp'],
    required: 0,
    blocking: true,
    run: ([data, severity, text, json], ctx) => {
      // Exactly one payload field, else TypeError (wf:reference/stdlib/sys/log).
      const payloads = [data, text, json].filter((value) => value !== undefined);
      if (payloads.length !== 1) raise('TypeError', `sys.log: expected exactly one of data, text or json`);
      const level =
        severity === undefined || severity === null ? 'DEFAULT' : requireString('sys.log', severity);
      if (!SEVERITIES.includes(level)) raise('ValueError', `sys.log: unknown severity '${level}'`);
      ctx.log(level, payloads[0] as WfValue);
      return null;
    },
  },
  'sys.get_env': {
    params: ['name', 'default'],
    required: 1,
    run: ([name, fallback], ctx) => {
      const value = ctx.getEnv(requireString('sys.get_env', name));
      if (value !== undefined) return value;
      if (fallback === undefined || fallback === null) return null;
      return requireString('sys.get_env', fallback);
    },
  },
};
