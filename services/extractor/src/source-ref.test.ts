import { describe, expect, test } from 'vitest';
import { parseSourceRef } from './source-ref';

describe('parseSourceRef', () => {
  test('the three schemes', () => {
    expect(parseSourceRef('sample')).toEqual({ kind: 'sample' });
    expect(parseSourceRef('local:/data/a b.csv')).toEqual({ kind: 'local', path: '/data/a b.csv' });
    expect(parseSourceRef('local:rel/x.zip')).toEqual({ kind: 'local', path: 'rel/x.zip' });
    expect(parseSourceRef('kaggle:vivek468/superstore-dataset-final')).toEqual({
      kind: 'kaggle',
      owner: 'vivek468',
      slug: 'superstore-dataset-final',
      version: undefined,
    });
    expect(parseSourceRef('kaggle:a_b.c/d-e/12')).toEqual({
      kind: 'kaggle',
      owner: 'a_b.c',
      slug: 'd-e',
      version: 12,
    });
  });

  test.each([
    'kaggle:https://www.kaggle.com/datasets/a/b',
    'kaggle:a',
    'kaggle:a/',
    'kaggle:/b',
    'kaggle:a/b/',
    'kaggle:a/b/v1',
    'kaggle:a/b/01',
    'kaggle:-a/b',
    'kaggle:a..b/c',
    'kaggle:a/b?x=1',
    'kaggle:a/b c',
    'local:',
    'local:  ',
    'Sample',
    'http://x',
  ])('rejects %j with a 400 naming it', (source) => {
    expect(() => parseSourceRef(source)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => parseSourceRef(source)).toThrow(JSON.stringify(source));
  });
});
