import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { asReady } from './as-ready';

async function* produce(items: number[], ms: number, log: string[] = [], failAfter = Infinity) {
  try {
    for (const item of items) {
      await sleep(ms);
      if (item > failAfter) throw new Error(`item ${item} could not be made`);
      log.push(`made ${item}`);
      yield item;
    }
  } finally {
    log.push('closed');
  }
}

describe('asReady', () => {
  test('a slow consumer takes everything made meanwhile, in order; a fast one takes items one by one', async () => {
    const slow: number[][] = [];
    for await (const items of asReady(produce([2, 3, 4, 5, 6], 5), [1])) {
      slow.push(items);
      await sleep(30);
    }
    expect(slow.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(slow.length).toBeLessThan(6);
    const fast: number[][] = [];
    for await (const items of asReady(produce([1, 2, 3], 10))) fast.push(items);
    expect(fast).toEqual([[1], [2], [3]]);
  });

  test("the source's failure is thrown at the next take", async () => {
    const taken: number[] = [];
    const consume = async () => {
      for await (const items of asReady(produce([1, 2, 3, 4], 5, [], 2))) {
        taken.push(...items);
        await sleep(20);
      }
    };
    await expect(consume()).rejects.toThrow('item 3 could not be made');
    expect(taken).toEqual([1]);
  });

  test('a consumer that stops early stops and closes the source before it returns', async () => {
    const log: string[] = [];
    const consume = async () => {
      for await (const items of asReady(produce([1, 2, 3, 4, 5, 6], 5, log))) {
        if (items.includes(1)) throw new Error('the insert failed');
      }
    };
    await expect(consume()).rejects.toThrow('the insert failed');
    expect(log.at(-1)).toBe('closed');
    expect(log.filter((l) => l.startsWith('made')).length).toBeLessThan(6);
  });
});
