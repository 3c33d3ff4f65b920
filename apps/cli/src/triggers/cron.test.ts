import { describe, expect, test } from 'vitest';
import { CronSyntaxError, matches, nextFireTime, parseCron } from './cron';
import { runSchedule, type ScheduleEvent, type SchedulerClock } from './scheduler';

const next = (expression: string, after: string) =>
  nextFireTime(parseCron(expression), new Date(after), 'utc').toISOString();

describe('nextFireTime (UTC)', () => {
  test.each([
    ['* * * * *', '2024-01-01T00:00:00Z', '2024-01-01T00:01:00.000Z'],
    ['* * * * *', '2024-01-01T00:00:59.999Z', '2024-01-01T00:01:00.000Z'],
    ['*/15 * * * *', '2024-01-01T10:07:00Z', '2024-01-01T10:15:00.000Z'],
    ['0 6 * * *', '2024-01-01T06:00:00Z', '2024-01-02T06:00:00.000Z'],
    ['0 6 * * *', '2024-12-31T07:00:00Z', '2025-01-01T06:00:00.000Z'],
    ['30 2 * * mon', '2024-01-01T03:00:00Z', '2024-01-08T02:30:00.000Z'], // 2024-01-01 is a Monday
    ['0 9 * * 1-5', '2024-01-05T10:00:00Z', '2024-01-08T09:00:00.000Z'], // Friday evening -> Monday
    ['0 0 * * 7', '2024-01-01T00:00:00Z', '2024-01-07T00:00:00.000Z'], // 7 = Sunday
    ['0 0 1 * *', '2024-01-15T00:00:00Z', '2024-02-01T00:00:00.000Z'],
    ['0 0 31 * *', '2024-04-01T00:00:00Z', '2024-05-31T00:00:00.000Z'], // April has no 31st
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // the next leap day
    ['0 12 1 jan,jul *', '2024-02-01T00:00:00Z', '2024-07-01T12:00:00.000Z'],
    ['5/20 8-18/5 * * *', '2024-01-01T08:46:00Z', '2024-01-01T13:05:00.000Z'],
    // Day of month and day of week both restricted: either matches (Vixie cron).
    ['0 6 13 * fri', '2024-09-01T00:00:00Z', '2024-09-06T06:00:00.000Z'],
    ['0 6 13 * fri', '2024-09-07T00:00:00Z', '2024-09-13T06:00:00.000Z'],
  ])('%s after %s is %s', (expression, after, expected) => {
    expect(next(expression, after)).toBe(expected);
  });

  test('matches at whole minutes', () => {
    const schedule = parseCron('0 6 * * *');
    expect(matches(schedule, new Date('2024-01-01T06:00:30Z'), 'utc')).toBe(true);
    expect(matches(schedule, new Date('2024-01-01T06:01:00Z'), 'utc')).toBe(false);
  });

  test.each([
    ['* * * *', /expected 5 cron fields .* found 4/],
    ['60 * * * *', /minute field "60" .*60 is outside 0-59/],
    ['* * * 13 *', /month field "13"/],
    ['*/0 * * * *', /step must be 1 or more/],
    ['5-1 * * * *', /range 5-1 runs backwards/],
    ['* * * * funday', /expected a number, found "funday"/],
    ['', /found 0/],
  ])('refuses %j', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronSyntaxError);
    expect(() => parseCron(expression)).toThrow(message);
  });

  test('an expression that never fires is an error, not a hang', () => {
    expect(() => next('0 0 30 2 *', '2024-01-01T00:00:00Z')).toThrow(/never fires/);
  });
});

/** A clock that jumps to the end of every sleep; jobs advance it by their duration. */
function fakeClock(start: string): SchedulerClock & { advance(ms: number): void } {
  let now = Date.parse(start);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('runSchedule', () => {
  test('every minute: fires at each whole minute, one run at a time, runNow first', async () => {
    const clock = fakeClock('2024-01-01T00:00:30Z');
    const fired: string[] = [];
    let running = 0;
    const runs = await runSchedule({
      schedule: parseCron('* * * * *'),
      zone: 'utc',
      clock,
      runNow: true,
      maxRuns: 3,
      job: async (at) => {
        expect(++running).toBe(1);
        fired.push(at.toISOString());
        clock.advance(10_000);
        running--;
      },
    });
    expect(runs).toBe(3);
    expect(fired).toEqual([
      '2024-01-01T00:00:30.000Z',
      '2024-01-01T00:01:00.000Z',
      '2024-01-01T00:02:00.000Z',
    ]);
  });

  test('a run longer than the interval: the fire times it covered are skipped and reported, never queued', async () => {
    const clock = fakeClock('2024-01-01T00:00:00Z');
    const events: ScheduleEvent[] = [];
    const fired: string[] = [];
    await runSchedule({
      schedule: parseCron('*/5 * * * *'),
      zone: 'utc',
      clock,
      maxRuns: 2,
      onEvent: (event) => events.push(event),
      job: async (at) => {
        fired.push(at.toISOString());
        if (fired.length === 1) clock.advance(12 * 60_000); // 00:05 -> 00:17: 00:10 and 00:15 pass
        if (fired.length === 2) throw new Error('boom');
      },
    });
    expect(fired).toEqual(['2024-01-01T00:05:00.000Z', '2024-01-01T00:20:00.000Z']);
    expect(events).toContainEqual({ type: 'missed', count: 2, until: new Date('2024-01-01T00:20:00Z') });
    // A failing run is reported and the schedule goes on.
    expect(events.find((e) => e.type === 'run-error')).toMatchObject({ run: 2, error: new Error('boom') });
  });

  test('stops when aborted while waiting', async () => {
    const controller = new AbortController();
    const clock: SchedulerClock = {
      now: () => Date.parse('2024-01-01T00:00:00Z'),
      sleep: async () => controller.abort(),
    };
    expect(
      await runSchedule({
        schedule: parseCron('0 0 * * *'),
        clock,
        signal: controller.signal,
        job: async () => {},
      }),
    ).toBe(0);
  });
});
