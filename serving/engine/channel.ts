// A one-consumer async queue: the engine pushes a request's tokens as it makes them, and the caller
// reads them with `for await`. Items wait in memory until read (at most max_tokens of them).

export interface Channel<T> extends AsyncIterable<T> {
  push(item: T): void;
  /** No more items: the reader's loop ends after those already pushed. */
  end(): void;
  /** The reader's loop throws `error` after the items already pushed. */
  fail(error: unknown): void;
}

export function createChannel<T>(): Channel<T> {
  const items: T[] = [];
  let closed: { error?: unknown; failed: boolean } | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  return {
    push(item) {
      if (closed) return;
      items.push(item);
      notify();
    },
    end() {
      closed ??= { failed: false };
      notify();
    },
    fail(error) {
      closed ??= { failed: true, error };
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift()!;
          continue;
        }
        if (closed) {
          if (closed.failed) throw closed.error;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
