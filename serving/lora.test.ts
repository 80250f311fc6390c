import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { disposeModel, forward, initModel, type ForwardStats } from './gpt2.ts';
import { adapterHook, createLora, disposeLora, mergeAdapter, multiAdapterHook, targetedModules } from './lora.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf } from './tf.ts';
import { maxDiff } from './testing/maxDiff.ts';

const TINY: Gpt2Config = { vocabSize: 19, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

describe('lora', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('targets modules as PEFT does: by kind or by full name', () => {
    expect(targetedModules(TINY, ['c_attn']).map((m) => m.name)).toEqual(['h.0.attn.c_attn', 'h.1.attn.c_attn']);
    expect(targetedModules(TINY, ['c_proj']).map((m) => m.name)).toEqual(['h.0.attn.c_proj', 'h.0.mlp.c_proj', 'h.1.attn.c_proj', 'h.1.mlp.c_proj']);
    expect(targetedModules(TINY, ['h.1.mlp.c_fc']).map((m) => m.name)).toEqual(['h.1.mlp.c_fc']);
    expect(() => targetedModules(TINY, ['q_proj'])).toThrow(/match no module/);
  });

  it('a new adapter changes nothing (B = 0); a trained one does, and merged and unmerged agree', () => {
    const model = initModel(TINY, 1);
    const ids = [[1, 5, 9, 2, 7]];
    const base = forward(model, ids).logits;
    const fresh = createLora(TINY, { r: 4, alpha: 8, targets: ['c_attn', 'c_fc'], seed: 1 });
    const withFresh = forward(model, ids, { hook: adapterHook(fresh) }).logits;
    expect(maxDiff(base.dataSync(), withFresh.dataSync())).toBe(0);

    const trained = createLora(TINY, { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], seed: 2, randomB: 0.2 });
    const unmerged = forward(model, ids, { hook: adapterHook(trained) }).logits;
    const merged = mergeAdapter(model, trained);
    const viaMerge = forward(merged, ids).logits;
    expect(maxDiff(base.dataSync(), unmerged.dataSync())).toBeGreaterThan(1e-3);
    expect(maxDiff(unmerged.dataSync(), viaMerge.dataSync())).toBeLessThan(1e-5);
    for (const t of [base, withFresh, unmerged, viaMerge]) t.dispose();
    disposeModel(merged);
    disposeModel(model);
    disposeLora(fresh);
    disposeLora(trained);
  });

  it('rows with different adapters (and ranks, and none) in one batch get what each would get alone', () => {
    const model = initModel(TINY, 3);
    const adapters = [
      createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 10, randomB: 0.3 }),
      createLora(TINY, { r: 8, alpha: 8, targets: ['c_attn', 'c_fc'], seed: 11, randomB: 0.3 }),
      createLora(TINY, { r: 4, alpha: 16, targets: ['c_proj'], seed: 12, randomB: 0.3 }),
    ];
    const rows = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]];
    const which = [2, -1, 0, 1]; // adapter index per row, −1: base model
    const T = 3;
    const hook = multiAdapterHook(adapters, which.flatMap((a) => new Array<number>(T).fill(a)));
    const batched = forward(model, rows, { hook }).logits;
    hook.dispose();
    rows.forEach((row, i) => {
      const alone = forward(model, [row], which[i]! >= 0 ? { hook: adapterHook(adapters[which[i]!]!) } : {}).logits;
      const mine = batched.slice([i, 0, 0], [1, -1, -1]);
      expect(maxDiff(mine.dataSync(), alone.dataSync())).toBeLessThan(1e-5);
      mine.dispose();
      alone.dispose();
    });
    batched.dispose();
    adapters.forEach(disposeLora);
    disposeModel(model);
  });

  it('the base matmuls of a step do not grow with the number of distinct adapters in the batch', () => {
    const model = initModel(TINY, 4);
    const adapters = Array.from({ length: 8 }, (_, i) => createLora(TINY, { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], seed: 20 + i, randomB: 0.1 }));
    const rows = Array.from({ length: 8 }, (_, i) => [i + 1]);
    const counts: number[] = [];
    for (const distinct of [1, 2, 4, 8]) {
      const stats: ForwardStats = { baseMatmuls: 0 };
      const hook = multiAdapterHook(adapters.slice(0, distinct), rows.map((_, i) => i % distinct));
      tf.dispose(forward(model, rows, { hook, stats }).logits);
      hook.dispose();
      counts.push(stats.baseMatmuls);
    }
    // 4 projections per layer, once each, for 1, 2, 4 or 8 adapters.
    expect(counts).toEqual([8, 8, 8, 8]);
    adapters.forEach(disposeLora);
    disposeModel(model);
  });
});
