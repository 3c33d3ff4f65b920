/**
 * `first`, then the items of `source`, handed on as arrays of all those that arrived since the previous
 * array was taken. `source` is pulled as fast as it gives items, whether or not they are taken: a
 * producer (a conversion) runs ahead of its consumer (an insert), which takes the backlog in one go.
 * A failure of `source` is thrown at the next take, with the items before it dropped. When the consumer
 * stops early, `source` is stopped after its item in progress, and closed.
 */
export async function* asReady<T>(source: AsyncIterable<T>, first: T[] = []): AsyncGenerator<T[]> {
  const ready = [...first];
  let done = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wake = () => {};
  const pulling = (async () => {
    try {
      for await (const item of source) {
        ready.push(item);
        wake();
        if (stopped) break;
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wake();
    }
  })();
  try {
    for (;;) {
      if (ready.length === 0 && !done && !failure) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure) throw failure.error;
      if (ready.length > 0) yield ready.splice(0);
      else if (done) return;
    }
  } finally {
    stopped = true;
    await pulling;
  }
}
