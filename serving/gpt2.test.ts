import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { forward, initModel, parameterCount, type Gpt2Model } from './gpt2.ts';
import { appendPresent, disposePast, emptySequence, stackPast, type SequenceKv } from './kvCache.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf } from './tf.ts';

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

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

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
    logits.dispose();
  });

  it('counts parameters as GPT-2 small has them', () => {
    expect(parameterCount({ vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 })).toBe(124_439_808);
  });

  it('decoding with the KV cache gives the logits of full recomputation', () => {
    const model = scrambled(2);
    const prompt = [1, 2, 3, 4];
    let seq: SequenceKv = emptySequence();
    const pre = forward(model, [prompt], { present: true });
    seq = appendPresent([seq], pre.present!, [prompt.length])[0]!;
    const ids = [...prompt];
    let next = argmaxLast(pre.logits);
    pre.logits.dispose();
    for (let step = 0; step < 8; step++) {
      ids.push(next);
      const past = stackPast([seq], TINY.nLayer, TINY.nHead, TINY.nEmbd / TINY.nHead);
      const inc = forward(model, [[next]], { past, present: true });
      disposePast(past);
      seq = appendPresent([seq], inc.present!, [1])[0]!;
      const full = forward(model, [ids]);
      const lastFull = full.logits.slice([0, ids.length - 1, 0], [1, 1, -1]);
      expect(maxDiff(inc.logits.dataSync(), lastFull.dataSync())).toBeLessThan(1e-4);
      next = argmaxLast(inc.logits);
      for (const t of [inc.logits, full.logits, lastFull]) t.dispose();
    }
    expect(seq.length).toBe(ids.length);
  });

  it('rows of different lengths share a decode step, and right-padded prompts share a prefill', () => {
    const model = scrambled(3);
    const prompts = [[5, 6, 7, 8, 9], [10], [11, 12, 13]];
    const T = 5;
    const padded = prompts.map((p) => [...p, ...new Array<number>(T - p.length).fill(0)]);
    const before = tf.memory().numTensors;
    const pre = forward(model, padded, { present: true, logitsAt: prompts.map((p) => p.length - 1) });
    let seqs = appendPresent(prompts.map(emptySequence), pre.present!, prompts.map((p) => p.length));
    const nextTokens = [7, 3, 19];
    const past = stackPast(seqs, TINY.nLayer, TINY.nHead, TINY.nEmbd / TINY.nHead);
    const step = forward(model, nextTokens.map((t) => [t]), { past, present: true });
    disposePast(past);
    seqs = appendPresent(seqs, step.present!, [1, 1, 1]);
    for (let b = 0; b < prompts.length; b++) {
      const alone = forward(model, [prompts[b]!]);
      const lastAlone = alone.logits.slice([0, prompts[b]!.length - 1, 0], [1, 1, -1]);
      const preRow = pre.logits.slice([b, 0, 0], [1, 1, -1]);
      expect(maxDiff(preRow.dataSync(), lastAlone.dataSync())).toBeLessThan(1e-4);
      const ref = referenceLogits(model, [...prompts[b]!, nextTokens[b]!]).at(-1)!;
      const stepRow = step.logits.slice([b, 0, 0], [1, 1, -1]);
      expect(maxDiff(stepRow.dataSync(), ref)).toBeLessThan(1e-3);
      preRow.dispose();
      stepRow.dispose();
      alone.logits.dispose();
      lastAlone.dispose();
    }
    expect(seqs.map((s) => s.length)).toEqual([6, 2, 4]);
    for (const t of [pre.logits, step.logits]) t.dispose();
    for (const s of seqs) for (const t of [...s.k, ...s.v]) t.dispose();
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
