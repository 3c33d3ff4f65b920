/**
 * Query results as plain JSON for every warehouse: bigint as a number when it is exact (else a string),
 * dates as ISO strings, bytes as base64, BigQuery's `{value}` wrappers (TIMESTAMP, DATE) unwrapped to their
 * string, and NUMERIC (Big.js) as a number when exact, else its decimal text.
 */
import type { Row } from './warehouse';

export function toJsonSafeRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = toJsonSafe(value);
  return out;
}

function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  // BigQuery NUMERIC/BIGNUMERIC cells arrive as Big.js objects: a number when exact, else the decimal text.
  if (value && typeof value === 'object' && value.constructor?.name === 'Big') {
    const text = String(value);
    return String(Number(text)) === text ? Number(text) : text;
  }
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value && typeof value === 'object') {
    const wrapped = (value as { value?: unknown }).value;
    if (typeof wrapped === 'string' && Object.keys(value).length === 1) return wrapped;
    return toJsonSafeRow(value as Record<string, unknown>);
  }
  return value;
}
