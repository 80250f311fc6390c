import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { forward, initModel, outputProjection, parameterCount, type Gpt2Model } from './gpt2.ts';
import { createKvBatch } from './kvCache.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf } from './tf.ts';
import { maxDiff } from './testing/maxDiff.ts';

const TINY: Gpt2Config = { vocabSize: 23, nPositions: 32, nEmbd: 16, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 };

/** GPT-2 in plain float64 loops, written from the paper's definitions, independent of gpt2.ts's tensor code. */
function referenceLogits(model: Gpt2Model, ids: number[]): number[][] {
  const c = model.config;
  const get = (n: string) => Array.from(model.params.get(n)!.dataSync());
  const C = c.nEmbd;
  const H = c.nHead;
  const D = C / H;
  const T = ids.length;
  const mat = (w: number[], rows: number, cols: number) => (i: number, j: number) => w[i * cols + j]!;
  const linear = (x: number[][], name: string, inW: number, outW: number) => {
    const w = mat(get(`${name}.weight`), inW, outW);
    const b = get(`${name}.bias`);
    return x.map((row) => Array.from({ length: outW }, (_, j) => row.reduce((s, xi, i) => s + xi * w(i, j), b[j]!)));
  };
  const ln = (x: number[][], name: string) => {
    const g = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    return x.map((row) => {
      const mean = row.reduce((s, v) => s + v, 0) / row.length;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
      return row.map((v, i) => ((v - mean) / Math.sqrt(variance + c.layerNormEpsilon)) * g[i]! + b[i]!);
    });
  };
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const wte = mat(get('wte.weight'), c.vocabSize, C);
  const wpe = mat(get('wpe.weight'), c.nPositions, C);
  let x = ids.map((id, t) => Array.from({ length: C }, (_, j) => wte(id, j) + wpe(t, j)));
  for (let l = 0; l < c.nLayer; l++) {
    const qkv = linear(ln(x, `h.${l}.ln_1`), `h.${l}.attn.c_attn`, C, 3 * C);
    const att: number[][] = Array.from({ length: T }, () => new Array<number>(C).fill(0));
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = qkv[t]!.slice(h * D, h * D + D);
        const scores = Array.from({ length: t + 1 }, (_, s) => q.reduce((acc, qi, i) => acc + qi * qkv[s]![C + h * D + i]!, 0) / Math.sqrt(D));
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) for (let i = 0; i < D; i++) att[t]![h * D + i]! += (e[s]! / sum) * qkv[s]![2 * C + h * D + i]!;
      }
    }
    const proj = linear(att, `h.${l}.attn.c_proj`, C, C);
    x = x.map((row, t) => row.map((v, j) => v + proj[t]![j]!));
    const up = linear(ln(x, `h.${l}.ln_2`), `h.${l}.mlp.c_fc`, C, 4 * C).map((r) => r.map(gelu));
    const down = linear(up, `h.${l}.mlp.c_proj`, 4 * C, C);
    x = x.map((row, t) => row.map((v, j) => v + down[t]![j]!));
  }
  const out = ln(x, 'ln_f');
  return out.map((row) => Array.from({ length: c.vocabSize }, (_, v) => row.reduce((s, xi, j) => s + xi * wte(v, j), 0)));
}

/** Random weights larger than GPT-2's init, so that attention is far from uniform and mistakes show. */
function scrambled(seed: number): Gpt2Model {
  const m = initModel(TINY, seed);
  let s = seed * 100;
  for (const [name, t] of m.params) {
    m.params.set(name, tf.randomNormal(t.shape, 0, name.includes('ln_') ? 0.5 : 0.3, 'float32', ++s));
    t.dispose();
  }
  return m;
}

describe('gpt2', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('computes the same logits as a plain-loop GPT-2', () => {
    const model = scrambled(1);
    const ids = [3, 17, 0, 22, 5, 5, 9];
    const { logits } = forward(model, [ids]);
    expect(logits.shape).toEqual([1, ids.length, TINY.vocabSize]);
    const ref = referenceLogits(model, ids).flat();
    expect(maxDiff(logits.dataSync(), ref)).toBeLessThan(1e-3);
    // The same with the output projection made once.
    const projection = outputProjection(model);
    const again = forward(model, [ids], { outputProjection: projection }).logits;
    expect(maxDiff(again.dataSync(), logits.dataSync())).toBeLessThan(1e-5);
    expect(() => forward(model, [ids], { outputProjection: logits.reshape([ids.length, TINY.vocabSize]) as tf.Tensor2D })).toThrow(/outputProjection is \[7, 23\], expected wteᵀ \[16, 23\]/);
    tf.dispose([logits, again, projection]);
  });

  it('counts parameters as GPT-2 small has them', () => {
    expect(parameterCount({ vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 })).toBe(124_439_808);
  });

  it('decoding with the KV cache gives the logits of full recomputation', () => {
    const model = scrambled(2);
    const prompt = [1, 2, 3, 4];
    const kv = createKvBatch<string>();
    const pre = forward(model, [prompt], { present: true });
    kv.join(['row'], pre.present!, [prompt.length]);
    const ids = [...prompt];
    let next = argmaxLast(pre.logits);
    pre.logits.dispose();
    for (let step = 0; step < 8; step++) {
      ids.push(next);
      const inc = forward(model, [[next]], { past: kv.past(), extend: true });
      kv.advance(inc.extended!, 1);
      const full = forward(model, [ids]);
      const lastFull = full.logits.slice([0, ids.length - 1, 0], [1, 1, -1]);
      expect(maxDiff(inc.logits.dataSync(), lastFull.dataSync())).toBeLessThan(1e-4);
      next = argmaxLast(inc.logits);
      for (const t of [inc.logits, full.logits, lastFull]) t.dispose();
    }
    expect(kv.lengths).toEqual([ids.length]);
    kv.dispose();
  });

  it('right-padded prompts share a prefill: the real positions get the logits they get alone', () => {
    const model = scrambled(3);
    const prompts = [[5, 6, 7, 8, 9], [10], [11, 12, 13]];
    const T = 5;
    const padded = prompts.map((p) => [...p, ...new Array<number>(T - p.length).fill(0)]);
    const pre = forward(model, padded, { logitsAt: prompts.map((p) => p.length - 1) });
    prompts.forEach((p, b) => {
      const ref = referenceLogits(model, p).at(-1)!;
      const row = pre.logits.slice([b, 0, 0], [1, 1, -1]);
      expect(maxDiff(row.dataSync(), ref)).toBeLessThan(1e-3);
      row.dispose();
    });
    pre.logits.dispose();
  });

  it('rows of different lengths share decode steps in one batched cache, and rows leave and join between steps', () => {
    const model = scrambled(3);
    const before = tf.memory().numTensors;
    const kv = createKvBatch<number>();
    const seqs = new Map<number, number[]>(); // row id → its tokens so far
    /** Left-padded prefill of `prompts` (ids from `firstId`), joining the cache; checks each row's last logits. */
    const prefill = (prompts: number[][], firstId: number) => {
      const T = Math.max(...prompts.map((p) => p.length));
      const leftPad = prompts.map((p) => T - p.length);
      const tokens = prompts.map((p, b) => [...new Array<number>(leftPad[b]!).fill(0), ...p]);
      const out = forward(model, tokens, { present: true, leftPad, logitsAt: prompts.map(() => T - 1) });
      expectLast(out.logits, prompts);
      const ids = prompts.map((_, b) => firstId + b);
      kv.join(ids, out.present!, prompts.map((p) => p.length));
      ids.forEach((id, b) => seqs.set(id, [...prompts[b]!]));
      out.logits.dispose();
    };
    /** Every row of the cache gets one more token, and its logits must be full recomputation's. */
    const decode = (step: number) => {
      const next = kv.rows.map((id) => (id * 7 + step) % TINY.vocabSize);
      const out = forward(model, next.map((t) => [t]), { past: kv.past(), extend: true });
      kv.advance(out.extended!, 1);
      kv.rows.forEach((id, b) => seqs.get(id)!.push(next[b]!));
      expectLast(out.logits, kv.rows.map((id) => seqs.get(id)!));
      out.logits.dispose();
    };
    const expectLast = (logits: tf.Tensor, rows: number[][]) => {
      rows.forEach((ids, b) => {
        const full = forward(model, [ids]);
        const want = full.logits.slice([0, ids.length - 1, 0], [1, 1, -1]);
        const got = logits.slice([b, 0, 0], [1, 1, -1]);
        expect(maxDiff(got.dataSync(), want.dataSync()), `row ${b} (${ids.length} tokens)`).toBeLessThan(1e-4);
        tf.dispose([full.logits, want, got]);
      });
    };

    prefill([[5, 6, 7, 8, 9], [10], [11, 12, 13]], 0); // rows 0, 1, 2
    decode(0);
    decode(1);
    kv.drop(new Set([1])); // a middle row leaves
    expect(kv.rows).toEqual([0, 2]);
    decode(2);
    prefill([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [4]], 10); // a prompt longer than the cache, and a short one
    expect(kv.rows).toEqual([0, 2, 10, 11]);
    decode(3);
    decode(4);
    for (let i = 0; i < 14; i++) decode(5 + i);
    prefill([[3]], 20);
    decode(19);
    expect(kv.lengths).toEqual([25, 23, 27, 18, 2]);
    expect(kv.paddedPositions()).toBe(5 * 27);
    // The longest row leaves, the next is 2 shorter: the padding stays (no copy); then the rest leave but
    // one 25 shorter: the cache drops that padding.
    kv.drop(new Set([10]));
    expect(kv.paddedPositions()).toBe(4 * 27);
    decode(20);
    kv.drop(new Set([0, 2, 11]));
    expect(kv.rows).toEqual([20]);
    expect(kv.lengths).toEqual([3]);
    expect(kv.paddedPositions()).toBe(3);
    decode(21);
    expect(kv.past()!.k[0]!.shape).toEqual([1, TINY.nHead, 4, TINY.nEmbd / TINY.nHead]);
    kv.drop(new Set([20]));
    expect(kv.past()).toBeUndefined();
    kv.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses sequences longer than the model and ragged rows, saying why', () => {
    const model = scrambled(4);
    expect(() => forward(model, [new Array<number>(33).fill(1)])).toThrow(/33 tokens is longer than the model's 32 positions/);
    expect(() => forward(model, [[1, 2], [3]])).toThrow(/same number of tokens/);
  });
});

function argmaxLast(logits: tf.Tensor): number {
  const v = logits.shape[2]!;
  const data = logits.dataSync();
  const last = data.subarray(data.length - v);
  let best = 0;
  for (let i = 1; i < v; i++) if (last[i]! > last[best]!) best = i;
  return best;
}
