import { describe, expect, test } from 'vitest';
import { rerunArgument, runRequestOf } from './rerun';

const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('rerunArgument', () => {
  test('console / Scheduler argument: same run id, source, force and options', () => {
    expect(
      rerunArgument(
        {
          source: 'kaggle:acme/sales',
          run_id: 'r-1',
          force: true,
          options: { table: 'orders' },
          resume_from: 'load',
        },
        'exec-1',
      ),
    ).toEqual({ run_id: 'r-1', source: 'kaggle:acme/sales', force: true, options: { table: 'orders' } });
  });

  test('no run_id: the workflow used the execution id, so the re-run names it', () => {
    expect(rerunArgument({ source: 'sample' }, 'exec-2', 'transform')).toEqual({
      run_id: 'exec-2',
      source: 'sample',
      resume_from: 'transform',
    });
    expect(rerunArgument(null, 'exec-3')).toEqual({ run_id: 'exec-3' });
  });

  test('Eventarc GCS event: the object becomes a gs:// source', () => {
    const event = { data: { bucket: 'inbox', name: 'drops/2024-01.csv', size: '12' }, type: 'x' };
    expect(rerunArgument(event, 'exec-4')).toEqual({
      run_id: 'exec-4',
      source: 'gs://inbox/drops/2024-01.csv',
    });
  });

  test('Eventarc Pub/Sub message: the decoded run request', () => {
    const message = { data: { message: { data: base64({ source: 'kaggle:acme/sales', run_id: 'r-5' }) } } };
    expect(runRequestOf(message)).toEqual({ source: 'kaggle:acme/sales', run_id: 'r-5' });
    expect(rerunArgument(message, 'exec-5')).toEqual({ run_id: 'r-5', source: 'kaggle:acme/sales' });
  });

  test('refuses an argument that is not an object', () => {
    expect(() => rerunArgument('"text"', 'exec-6')).toThrow(/JSON object/);
  });
});
