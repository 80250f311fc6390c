import { describe, expect, it } from 'vitest';
import { ingestFinalized, type IngestBatch, type IngestSettings, type IngestSplit } from './ingest.ts';

interface FakeBlock {
  height: number;
  logs: number;
}

/**
 * A chain of blocks with `logsAt(h)` logs each, whose splits resolve when `release()` is called (or at
 * once with `auto`), recording every range asked for and the most requests in flight at a time.
 */
function fakeSource(opts: { top: number; logsAt: (h: number) => number; auto?: boolean; failAt?: number }) {
  const ranges: [number, number][] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let top = opts.top;
  return {
    ranges,
    get maxInFlight() {
      return maxInFlight;
    },
    setTop(h: number) {
      top = h;
    },
    /** Resolves every split asked for so far. */
    release() {
      for (const w of waiting.splice(0)) w();
    },
    source: {
      getFinalizedHeight: async () => top,
      getSplit: (range: { from: number; to: number }): Promise<IngestSplit<FakeBlock>> => {
        ranges.push([range.from, range.to]);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise((resolve, reject) => {
          const done = () => {
            inFlight--;
            if (opts.failAt !== undefined && range.from <= opts.failAt && opts.failAt <= range.to) {
              reject(new Error(`block ${opts.failAt} is not available`));
              return;
            }
            const blocks: FakeBlock[] = [];
            for (let h = range.from; h <= range.to; h++) blocks.push({ height: h, logs: opts.logsAt(h) });
            resolve({ blocks, logs: blocks.reduce((a, b) => a + b.logs, 0) });
          };
          if (opts.auto) setImmediate(done);
          else waiting.push(done);
        });
      },
    },
  };
}

async function collect(gen: AsyncGenerator<IngestBatch<FakeBlock>>): Promise<IngestBatch<FakeBlock>[]> {
  const out: IngestBatch<FakeBlock>[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const heights = (batches: IngestBatch<FakeBlock>[]) => batches.flatMap((b) => b.blocks.map((x) => x.height));
const logsOf = (b: IngestBatch<FakeBlock>) => b.blocks.reduce((a, x) => a + x.logs, 0);
const tick = () => new Promise((r) => setImmediate(r));

describe('ingestFinalized()', () => {
  it('delivers every block once and in order, in splits that start at one block and grow toward targetLogs', async () => {
    const chain = fakeSource({ top: 40, logsAt: () => 1000, auto: true });
    const settings: IngestSettings = { targetLogs: 3000, maxSplitBlocks: 10, prefetch: 1, maxBatchLogs: 3000, maxBatchBlocks: 100 };
    const batches = await collect(ingestFinalized(chain.source, [{ range: { from: 5 }, request: null }], true, settings));
    expect(heights(batches)).toEqual(Array.from({ length: 36 }, (_, i) => 5 + i));
    // 1 block, then at most doubling, until 3 blocks make the 3000 logs aimed at.
    expect(chain.ranges.slice(0, 5)).toEqual([
      [5, 5],
      [6, 7],
      [8, 10],
      [11, 13],
      [14, 16],
    ]);
    expect(batches.every((b) => logsOf(b) <= 3000)).toBe(true);
    expect(batches.at(-1)!.isHead).toBe(true);
    expect(batches.slice(0, -1).every((b) => !b.isHead)).toBe(true);
  });

  it('fetches ahead while the consumer is busy: at most `prefetch` requests at once, and about one batch waiting', async () => {
    const chain = fakeSource({ top: 1000, logsAt: () => 1 });
    const gen = ingestFinalized(chain.source, [{ range: { from: 1 }, request: null }], true, {
      targetLogs: 10,
      maxSplitBlocks: 10,
      prefetch: 2,
      maxBatchLogs: 1000,
      maxBatchBlocks: 50,
    });
    const first = gen.next();
    for (let i = 0; i < 20; i++) {
      await tick();
      chain.release();
    }
    const batch = (await first).value as IngestBatch<FakeBlock>;
    expect(batch.blocks[0]!.height).toBe(1);
    // The consumer took one batch and is "writing": fetching goes on without it, up to the buffer's limit.
    for (let i = 0; i < 20; i++) {
      await tick();
      chain.release();
    }
    const fetched = chain.ranges.at(-1)![1];
    const taken = batch.blocks.at(-1)!.height;
    expect(fetched).toBeGreaterThan(taken);
    expect(fetched - taken).toBeLessThanOrEqual(50 + 10); // one batch of blocks, plus the split that crossed the line
    expect(chain.maxInFlight).toBe(2);
    await gen.return(undefined);
  });

  it('merges the splits that have arrived into one batch, within maxBatchBlocks and maxBatchLogs', async () => {
    const chain = fakeSource({ top: 100, logsAt: (h) => (h === 60 ? 500 : 1) });
    const gen = ingestFinalized(chain.source, [{ range: { from: 1 }, request: null }], true, {
      targetLogs: 5,
      maxSplitBlocks: 5,
      prefetch: 4,
      maxBatchLogs: 100,
      maxBatchBlocks: 20,
    });
    const drive = async () => {
      for (let i = 0; i < 40; i++) {
        await tick();
        chain.release();
      }
    };
    const first = gen.next();
    await drive();
    const batches: IngestBatch<FakeBlock>[] = [(await first).value as IngestBatch<FakeBlock>];
    // The consumer is away (writing) while splits arrive; then it takes them, up to the limits.
    for (;;) {
      await drive();
      const pending = gen.next();
      let settled = false;
      void pending.finally(() => (settled = true));
      while (!settled) await drive(); // splits the generator asks for now must arrive too
      const r = await pending;
      if (r.done) break;
      batches.push(r.value);
    }
    expect(heights(batches)).toEqual(Array.from({ length: 100 }, (_, i) => 1 + i));
    // 56–60 holds the 500-log block: over maxBatchLogs, it goes alone, and the splits after it start
    // small again (the logs-per-block estimate jumped), so 61–79 is the most whole splits within 20 blocks.
    expect(batches.map((b) => `${b.blocks[0]!.height}–${b.blocks.at(-1)!.height}`)).toEqual([
      '1–1', '2–20', '21–40', '41–55', '56–60', '61–79', '80–99', '100–100',
    ]);
  });

  it('waits for new final blocks until the end of the range when not stopping at the head', async () => {
    const chain = fakeSource({ top: 10, logsAt: () => 1, auto: true });
    const gen = ingestFinalized(chain.source, [{ range: { from: 1, to: 25 }, request: null }], false, { headPollIntervalMs: 5, maxSplitBlocks: 4 });
    const all = collect(gen);
    await new Promise((r) => setTimeout(r, 50));
    chain.setTop(30);
    const batches = await all;
    expect(heights(batches)).toEqual(Array.from({ length: 25 }, (_, i) => 1 + i));
    expect(chain.ranges.every(([, to]) => to <= 25)).toBe(true);
  });

  it('stops at the finalized head when asked to, and hands out nothing past it', async () => {
    const chain = fakeSource({ top: 7, logsAt: () => 2, auto: true });
    const batches = await collect(ingestFinalized(chain.source, [{ range: { from: 3 }, request: null }], true));
    expect(heights(batches)).toEqual([3, 4, 5, 6, 7]);
    expect(batches.at(-1)!.isHead).toBe(true);
  });

  it('passes a failed split’s error on after the batches before it', async () => {
    const chain = fakeSource({ top: 50, logsAt: () => 1, auto: true, failAt: 23 });
    const gen = ingestFinalized(chain.source, [{ range: { from: 1 }, request: null }], true, { maxSplitBlocks: 4, prefetch: 1, maxBatchBlocks: 4 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const b of gen) seen.push(...b.blocks.map((x) => x.height));
      })(),
    ).rejects.toThrow('block 23 is not available');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => 1 + i));
    expect(Math.max(...seen)).toBeLessThan(23);
  });
});
