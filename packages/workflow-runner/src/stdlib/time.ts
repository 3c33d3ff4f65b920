import { raise } from '../errors';
import { type BuiltinRegistry, requireNumber, requireString } from './types';

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** Offset of `timeZone` from UTC at the given instant, in minutes. */
function offsetMinutes(epochMs: number, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(epochMs);
  } catch {
    return raise('ValueError', `time.format: unknown timezone '${timeZone}'`);
  }
  const name = parts.find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/** RFC 3339 text with microseconds when the instant has a fraction. */
export function formatTimestamp(seconds: number, timeZone = 'UTC'): string {
  const wholeMs = Math.floor(seconds * 1000);
  const micros = Math.round((seconds - Math.floor(seconds)) * 1e6);
  const offset = timeZone === 'UTC' || timeZone === 'Z' ? 0 : offsetMinutes(wholeMs, timeZone);
  const local = new Date(wholeMs + offset * 60_000);
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const fraction = micros === 0 ? '' : `.${pad(micros, 6)}`;
  const zone =
    offset === 0
      ? 'Z'
      : `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${date}T${time}${fraction}${zone}`;
}

/** `time.*` (wf:reference/stdlib/time): epoch seconds <-> RFC 3339 text. */
export const timeFunctions: BuiltinRegistry = {
  'time.format': {
    params: ['seconds', 'timezone'],
    required: 1,
    run: ([seconds, timezone]) =>
      formatTimestamp(
        Number(requireNumber('time.format', seconds)),
        timezone === undefined || timezone === null ? 'UTC' : requireString('time.format', timezone),
      ),
  },
  'time.parse': {
    params: ['value'],
    run: ([value]) => {
      const text = requireString('time.parse', value);
      const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(
        text,
      );
      const epochMs = match ? Date.parse(`${match[1]}T${match[2]}${match[4]!.toUpperCase()}`) : Number.NaN;
      if (!match || Number.isNaN(epochMs))
        return raise('ValueError', `time.parse: '${text}' is not RFC 3339`);
      const fraction = match[3] ? Number(`0.${match[3]}`) : 0;
      return epochMs / 1000 + fraction;
    },
  },
};
