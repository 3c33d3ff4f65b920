/**
 * Integer Unix times, as event logs write them (`1672531200`, `1433221332117` in milliseconds): the
 * formats a TIMESTAMP plan may have instead of a strptime one, with microseconds per unit. A column is read
 * so when its name says time and every sampled value is a time from 2000 to 2100 in one unit (`integerTimes`).
 * Apart from the inference, so that a profile is validated without loading it (and DuckDB with it).
 */
export const EPOCH_FORMATS = { unix_seconds: 1_000_000, unix_milliseconds: 1_000 } as const;
export type EpochFormat = keyof typeof EPOCH_FORMATS;
const EPOCH_FROM = Date.UTC(2000, 0, 1) * 1_000;
const EPOCH_TO = Date.UTC(2100, 0, 1) * 1_000;

export const isEpochFormat = (format: string | undefined): format is EpochFormat =>
  format !== undefined && Object.hasOwn(EPOCH_FORMATS, format);

/** The first and last instants, in `format`'s unit, that `epochExpression` reads. */
export function epochRange(format: EpochFormat): [number, number] {
  return [EPOCH_FROM / EPOCH_FORMATS[format], EPOCH_TO / EPOCH_FORMATS[format] - 1];
}

/** `a Unix time in seconds from 2000 to 2100`: what a column of `format` holds, for reasons and messages. */
export const describeEpoch = (format: EpochFormat): string =>
  `a Unix time in ${format === 'unix_seconds' ? 'seconds' : 'milliseconds'} from 2000 to 2100`;
