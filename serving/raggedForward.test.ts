import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { disposeModel, forward, initModel, outputProjection, type Gpt2Model } from './gpt2.ts';
import { createKvBatch } from './kvCache.ts';
import { createLora, disposeLora, multiAdapterHook, type LoraAdapter } from './lora.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { hasRaggedAttention } from './raggedAttention.ts';
import { raggedForward } from './raggedForward.ts';
import { tf } from './tf.ts';
import { maxDiff } from './testing/maxDiff.ts';

// Heads of 6 take the kernel's JavaScript loops, heads of 8 its SIMD ones (wasmSimd.ts).
const TINY: Gpt2Config = { vocabSize: 23, nPositions: 32, nEmbd: 18, nLayer: 2, nHead: 3, layerNormEpsilon: 1e-5 };
const TINY_SIMD: Gpt2Config = { ...TINY, nEmbd: 24 };

/** Full recomputation of one sequence with gpt2.ts's forward: its last logits and every position's keys and values, (H, T, D) flattened. */
function alone(model: Gpt2Model, tokens: number[], adapter: LoraAdapter | null) {
  const hook = adapter ? multiAdapterHook([adapter], tokens.map(() => 0)) : undefined;
  const out = forward(model, [tokens], { present: true, ...(hook && { hook }) });
  hook?.dispose();
  const T = tokens.length;
  const logits = tf.tidy(() => tf.slice(out.logits, [0, T - 1, 0], [1, 1, -1]).dataSync());
  const k = out.present!.k.map((t) => t.dataSync());
  const v = out.present!.v.map((t) => t.dataSync());
  tf.dispose([out.logits, ...out.present!.k, ...out.present!.v]);
  return { logits, k, v };
}

describe('ragged forward', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it.each([
    ['6', TINY],
    ['8', TINY_SIMD],
  ])('cached sequences that continue and new prompts, in one pass with a LoRA adapter per row, give what each sequence gives alone, logits and cache (heads of %s)', (_, config) => {
    expect(hasRaggedAttention()).toBe(true);
    const D = config.nEmbd / config.nHead;
    const model = initModel(config, 11);
    const adapters = [0, 1].map((i) => createLora(config, { r: 4, alpha: 8, targets: ['c_attn', 'c_proj'], seed: 60 + i, randomB: 0.3 }));
    const [a, b] = adapters as [LoraAdapter, LoraAdapter];
    // Four sequences already cached (prefilled together, left-padded: a right-aligned cache); one leaves;
    // then one pass where two continue by one token, one by two, and two new prompts start.
    const prompts = [[1, 2, 3, 4, 5, 6], [21, 22, 1, 2], [7, 8], [9, 10, 11]];
    const owners = [a, a, null, b];
    const T = 6;
    const kv = createKvBatch<number>();
    {
      const leftPad = prompts.map((q) => T - q.length);
      const rows = prompts.flatMap((_, i) => new Array<number>(T).fill(owners[i] ? adapters.indexOf(owners[i]!) : -1));
      const hook = multiAdapterHook(adapters, rows);
      const out = forward(model, prompts.map((q, i) => [...new Array<number>(leftPad[i]!).fill(0), ...q]), { present: true, leftPad, hook });
      hook.dispose();
      out.logits.dispose();
      kv.join([0, 1, 2, 3], out.present!, prompts.map((q) => q.length));
    }
    kv.drop(new Set([1])); // held until the pass, which skips it
    const { slots } = kv.held()!;
    expect(slots).toEqual([0, 2, 3]);
    const seqs = [
      { tokens: [12], past: 6, row: slots[0], adapter: a, history: prompts[0]! },
      { tokens: [13, 14], past: 2, row: slots[1], adapter: null, history: prompts[2]! },
      { tokens: [15], past: 3, row: slots[2], adapter: b, history: prompts[3]! },
      { tokens: [16, 17, 18, 19], past: 0, adapter: b, history: [] },
      { tokens: [20], past: 0, adapter: a, history: [] },
    ];
    const rows = seqs.flatMap((s) => s.tokens.map(() => (s.adapter ? adapters.indexOf(s.adapter) : -1)));
    const hook = multiAdapterHook(adapters, rows);
    const projection = outputProjection(model);
    const stats = { baseMatmuls: 0 };
    const before = tf.memory().numTensors;
    const held = kv.held()!;
    const out = raggedForward(model, seqs, { cache: { k: held.k, v: held.v }, hook, stats, outputProjection: projection });
    hook.dispose();
    expect(tf.memory().numTensors).toBe(before + 1 + 2 * config.nLayer);
    expect(stats.baseMatmuls).toBe(4 * config.nLayer);
    expect(out.logits.shape).toEqual([5, 1, config.vocabSize]);
    const width = Math.max(...seqs.map((s) => s.past + s.tokens.length));
    expect(out.cache.k[0]!.shape).toEqual([5, config.nHead, width, D]);
    const logits = out.logits.dataSync();
    seqs.forEach((s, i) => {
      const full = [...s.history, ...s.tokens];
      const want = alone(model, full, s.adapter);
      const V = config.vocabSize;
      expect(maxDiff(logits.subarray(i * V, (i + 1) * V), want.logits), `logits of sequence ${i}`).toBeLessThan(1e-4);
      // The cache row: zeros, then the sequence's keys and values at every position, right-aligned.
      for (let l = 0; l < config.nLayer; l++) {
        for (const [got, ref] of [
          [out.cache.k[l]!, want.k[l]!],
          [out.cache.v[l]!, want.v[l]!],
        ] as const) {
          const row = tf.tidy(() => tf.slice(got, [i, 0, 0, 0], [1, -1, -1, -1]).dataSync());
          for (let hd = 0; hd < config.nHead; hd++) {
            const line = row.subarray(hd * width * D, (hd + 1) * width * D);
            const pad = width - full.length;
            expect(Array.from(line.subarray(0, pad * D)).every((x) => x === 0)).toBe(true);
            expect(maxDiff(line.subarray(pad * D), ref.subarray(hd * full.length * D, (hd + 1) * full.length * D)), `layer ${l}, sequence ${i}, head ${hd}`).toBeLessThan(1e-5);
          }
        }
      }
    });
    tf.dispose([out.logits, ...out.cache.k, ...out.cache.v, projection]);
    kv.dispose();
    adapters.forEach(disposeLora);
    disposeModel(model);
  });

  it('refuses what it cannot run: no sequence, an empty one, a past without a cache row, too many positions', () => {
    const model = initModel(TINY, 11);
    expect(() => raggedForward(model, [])).toThrow(/at least one sequence/);
    expect(() => raggedForward(model, [{ tokens: [], past: 0 }])).toThrow(/sequence 0 has no new tokens/);
    expect(() => raggedForward(model, [{ tokens: [1], past: 3 }])).toThrow(/sequence 0 has 3 past positions but no cache row \(row undefined, the cache has 0\)/);
    expect(() => raggedForward(model, [{ tokens: new Array<number>(33).fill(1), past: 0 }])).toThrow(/33 tokens is longer than the model's 32 positions/);
    disposeModel(model);
  });
});
