import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { disposeModel, forward, initModel } from './gpt2.ts';
import { adapterHook, createLora, disposeLora, type LoraAdapter } from './lora.ts';
import { createLoraStack } from './loraStack.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf } from './tf.ts';
import { maxDiff } from './testing/maxDiff.ts';

const TINY: Gpt2Config = { vocabSize: 19, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

describe('lora stack', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('keeps the stack across passes: reuses it, appends adapters that join, rebuilds when dead slots pile up; each row gets its own adapter throughout', () => {
    const model = initModel(TINY, 5);
    const ads = Array.from({ length: 6 }, (_, i) => createLora(TINY, { r: 4, alpha: 8, targets: i % 2 ? ['c_attn', 'c_proj'] : ['c_attn', 'c_fc'], seed: 30 + i, randomB: 0.3 }));
    const alone = new Map<string, Float32Array>();
    const expected = (token: number, ad: LoraAdapter | null): Float32Array => {
      const key = `${token}:${ad ? ads.indexOf(ad) : -1}`;
      if (!alone.has(key)) {
        const l = forward(model, [[token]], ad ? { hook: adapterHook(ad) } : {}).logits;
        alone.set(key, l.dataSync() as Float32Array);
        l.dispose();
      }
      return alone.get(key)!;
    };
    const before = tf.memory().numTensors;
    const stack = createLoraStack({ slack: 2, kernel: false });
    /** One pass over rows with these adapters; every row must match its adapter alone. */
    const pass = (rows: (LoraAdapter | null)[]) => {
      const tokens = rows.map((_, i) => [i + 1]);
      const hook = stack.hook(rows);
      const logits = forward(model, tokens, { hook }).logits;
      hook.dispose();
      rows.forEach((ad, i) => {
        const mine = logits.slice([i, 0, 0], [1, -1, -1]);
        expect(maxDiff(mine.dataSync(), expected(i + 1, ad)), `row ${i}`).toBeLessThan(1e-5);
        mine.dispose();
      });
      logits.dispose();
    };
    const [a, b, c, d, e, f] = ads as [LoraAdapter, LoraAdapter, LoraAdapter, LoraAdapter, LoraAdapter, LoraAdapter];
    pass([a, b, null, a]); // first stack: a, b
    expect(stack.stats()).toMatchObject({ rebuilds: 1, appends: 0, slots: 2, width: 8 });
    pass([b, a, a, null]); // same adapters, other rows: reused
    expect(stack.stats()).toMatchObject({ rebuilds: 1, reuses: 1, slots: 2 });
    pass([a, b, c]); // c joins: appended
    expect(stack.stats()).toMatchObject({ rebuilds: 1, appends: 1, slots: 3, width: 12 });
    pass([c, d]); // a and b left (dead slots), d joins: 16 columns ≤ 2 × 8 live, appended
    expect(stack.stats()).toMatchObject({ rebuilds: 1, appends: 2, slots: 4, width: 16 });
    pass([e, f]); // 24 columns > 2 × 8 live: rebuilt from e and f alone
    expect(stack.stats()).toMatchObject({ rebuilds: 2, appends: 2, slots: 2, width: 8 });
    pass([f, f, f]); // one adapter: plain LoRA, the stack untouched
    expect(stack.stats()).toMatchObject({ rebuilds: 2, single: 1, slots: 2 });
    pass([e, f, null]);
    expect(stack.stats()).toMatchObject({ rebuilds: 2, reuses: 2 });
    stack.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ads.forEach(disposeLora);
    disposeModel(model);
  });

  it('the stack holds copies: an adapter disposed (evicted) after it was stacked does not break later passes', () => {
    const model = initModel(TINY, 6);
    const keep = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 40, randomB: 0.3 });
    const gone = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 41, randomB: 0.3 });
    const other = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 42, randomB: 0.3 });
    const stack = createLoraStack({ slack: 4, kernel: false });
    stack.hook([keep, gone]).dispose();
    disposeLora(gone);
    const hook = stack.hook([keep, other]); // `gone` sits in a dead slot
    const logits = forward(model, [[1], [2]], { hook }).logits;
    hook.dispose();
    const ref = forward(model, [[2]], { hook: adapterHook(other) }).logits;
    const row = logits.slice([1, 0, 0], [1, -1, -1]);
    expect(maxDiff(row.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    tf.dispose([logits, ref, row]);
    stack.dispose();
    disposeLora(keep);
    disposeLora(other);
    disposeModel(model);
  });
});

describe('lora stack with the segmented LoRA kernel', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('serves every pass with an adapter through the kernel, stacking nothing, and gives what the stack and plain LoRA give', () => {
    const model = initModel(TINY, 7);
    const ads = Array.from({ length: 4 }, (_, i) => createLora(TINY, { r: [2, 4, 8, 12][i]!, alpha: 8, targets: i % 2 ? ['c_attn', 'c_proj'] : ['c_attn', 'c_fc'], seed: 50 + i, randomB: 0.3 }));
    const [a, b, c, d] = ads as [LoraAdapter, LoraAdapter, LoraAdapter, LoraAdapter];
    const before = tf.memory().numTensors;
    const withKernel = createLoraStack();
    const withStack = createLoraStack({ kernel: false });
    const logitsOf = (stack: ReturnType<typeof createLoraStack>, rows: (LoraAdapter | null)[], T: number) => {
      const flat = rows.flatMap((ad) => new Array<LoraAdapter | null>(T).fill(ad));
      const hook = stack.hook(flat);
      const logits = forward(model, rows.map((_, i) => Array.from({ length: T }, (_, t) => (i * 3 + t) % TINY.vocabSize)), { hook }).logits;
      hook.dispose();
      const data = logits.dataSync();
      logits.dispose();
      return data;
    };
    for (const [rows, T] of [
      [[a, b, null, c, d, a], 1],
      [[d, c], 3],
      [[b, b, b], 2],
    ] as const) {
      expect(maxDiff(logitsOf(withKernel, [...rows], T), logitsOf(withStack, [...rows], T))).toBeLessThan(1e-5);
    }
    expect(withKernel.stats()).toMatchObject({ kernel: 3, rebuilds: 0, appends: 0, slots: 0, width: 0 });
    logitsOf(withKernel, [null, null], 2); // no adapter: no term at all
    expect(withKernel.stats()).toMatchObject({ kernel: 3, single: 1 });
    expect(withStack.stats()).toMatchObject({ single: 1 }); // [b, b, b]: plain LoRA
    withKernel.dispose();
    withStack.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ads.forEach(disposeLora);
    disposeModel(model);
  });
});
