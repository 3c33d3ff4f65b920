/**
 * The formats of dates and times written as integers (Unix times, and Excel serial dates below), apart from
 * the inference so that a profile is validated without loading it (and DuckDB with it).
 *
 * Integer Unix times, as event logs write them (`1672531200`, `1433221332117` in milliseconds): the
 * formats a TIMESTAMP plan may have instead of a strptime one, with microseconds per unit. A column is read
 * so when its name says time and every sampled value is a time from 2000 to 2100 in one unit (`integerTimes`).
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

/**
 * Excel's serial dates, as a workbook's date cells become when exported as plain numbers (`44927` is
 * 2023-01-01): days since 1899-12-30. The format a DATE plan may have instead of a strptime one; read so from
 * 1970 to 2100 only, where a date-named integer column is not a day of the month, a week or a count.
 */
export const EXCEL_SERIAL = 'excel_serial';
/** The first and last serials `excelSerialExpression` reads: 1970-01-01 and 2099-12-31. */
export const EXCEL_SERIAL_RANGE: readonly [number, number] = [25_569, 73_050];
