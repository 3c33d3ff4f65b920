/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), the dialect Cloud Scheduler
 * and Vixie cron share: `*`, lists (`1,15`), ranges (`1-5`), steps (`*\/15`, `8-18/2`, `5/10`), month and
 * day names (`jan`, `mon-fri`), 0 or 7 for Sunday. As in Vixie cron, when both day-of-month and
 * day-of-week are restricted a day matches if EITHER does (`0 6 1 * mon` = the 1st and every Monday).
 * Times are evaluated in the process's local time zone, or UTC.
 */

export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly daysOfWeek: ReadonlySet<number>;
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

export type CronTimeZone = 'local' | 'utc';

export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronSyntaxError';
  }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** First value the names map to (1 for months, 0 for days). */
  namesFrom?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  // 7 is Sunday too; folded into 0 below.
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    throw new CronSyntaxError(
      `expected 5 cron fields (minute hour day-of-month month day-of-week), found ${parts[0] === '' ? 0 : parts.length} in ${JSON.stringify(expression)}`,
    );
  }
  const [minutes, hours, daysOfMonth, months, rawDays] = parts.map((part, i) =>
    parseField(part, FIELDS[i]!, expression),
  );
  const daysOfWeek = new Set([...rawDays!].map((d) => d % 7));
  return {
    expression,
    minutes: minutes!,
    hours: hours!,
    daysOfMonth: daysOfMonth!,
    months: months!,
    daysOfWeek,
    dayOfMonthRestricted: !parts[2]!.startsWith('*'),
    dayOfWeekRestricted: !parts[4]!.startsWith('*'),
  };
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  const fail = (why: string): never => {
    throw new CronSyntaxError(
      `${spec.name} field ${JSON.stringify(text)} of ${JSON.stringify(expression)}: ${why}`,
    );
  };
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '')
      fail(`expected VALUE, A-B, * or X/STEP, found ${JSON.stringify(item)}`);
    const step = stepText === undefined ? 1 : toNumber(stepText, fail);
    if (stepText !== undefined && step < 1) fail(`step must be 1 or more, found ${stepText}`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.name === 'day of week' ? 6 : spec.max;
    } else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      from = toValue(a!, spec, fail);
      to = toValue(b!, spec, fail);
      if (from > to) fail(`range ${range} runs backwards`);
    } else {
      from = toValue(range!, spec, fail);
      // `5/10` = from 5 to the end, every 10.
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function toNumber(text: string, fail: (why: string) => never): number {
  if (!/^\d+$/.test(text)) fail(`expected a number, found ${JSON.stringify(text)}`);
  return Number(text);
}

function toValue(text: string, spec: FieldSpec, fail: (why: string) => never): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + (spec.namesFrom ?? 0) : toNumber(text, fail);
  if (value < spec.min || value > spec.max) fail(`${value} is outside ${spec.min}-${spec.max}`);
  return value;
}

/** Whether the schedule fires at the (whole) minute of `date`. */
export function matches(schedule: CronSchedule, date: Date, zone: CronTimeZone = 'local'): boolean {
  const t = fieldsOf(date, zone);
  return (
    schedule.minutes.has(t.minute) &&
    schedule.hours.has(t.hour) &&
    schedule.months.has(t.month) &&
    dayMatches(schedule, t.day, t.weekday)
  );
}

function dayMatches(schedule: CronSchedule, day: number, weekday: number): boolean {
  const byMonth = schedule.daysOfMonth.has(day);
  const byWeek = schedule.daysOfWeek.has(weekday);
  if (schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted) return byMonth || byWeek;
  return byMonth && byWeek;
}

function fieldsOf(date: Date, zone: CronTimeZone) {
  return zone === 'utc'
    ? {
        minute: date.getUTCMinutes(),
        hour: date.getUTCHours(),
        day: date.getUTCDate(),
        month: date.getUTCMonth() + 1,
        weekday: date.getUTCDay(),
      }
    : {
        minute: date.getMinutes(),
        hour: date.getHours(),
        day: date.getDate(),
        month: date.getMonth() + 1,
        weekday: date.getDay(),
      };
}

const MINUTE = 60_000;
/** Far enough for any satisfiable expression (`0 0 29 2 *` waits up to 8 years across a non-leap century). */
const SEARCH_LIMIT_MINUTES = 9 * 366 * 24 * 60;

/** The first fire time strictly after `after`, at a whole minute. */
export function nextFireTime(schedule: CronSchedule, after: Date, zone: CronTimeZone = 'local'): Date {
  let t = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < SEARCH_LIMIT_MINUTES; ) {
    const date = new Date(t);
    const f = fieldsOf(date, zone);
    // Skip whole days and hours that cannot match instead of testing each minute.
    if (!schedule.months.has(f.month) || !dayMatches(schedule, f.day, f.weekday)) {
      const skip = 24 * 60 - (f.hour * 60 + f.minute);
      t += skip * MINUTE;
      i += skip;
      continue;
    }
    if (!schedule.hours.has(f.hour)) {
      t += (60 - f.minute) * MINUTE;
      i += 60 - f.minute;
      continue;
    }
    if (schedule.minutes.has(f.minute)) return date;
    t += MINUTE;
    i++;
  }
  throw new CronSyntaxError(`${JSON.stringify(schedule.expression)} never fires (e.g. February 30th)`);
}
