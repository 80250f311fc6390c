import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterHash, readAdapter, readAdapterConfig, writeAdapter } from './adapterFiles.ts';
import { useTensorBackend } from './backend.ts';
import { loadModel, saveModel } from './checkpoint.ts';
import { disposeModel, forward, initModel, type Gpt2Model } from './gpt2.ts';
import { adapterHook, createLora, disposeLora, mergeAdapter } from './lora.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { readSafetensors } from './safetensors.ts';
import { maxDiff } from './testing/maxDiff.ts';

const TINY: Gpt2Config = { vocabSize: 31, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
const IDS = [[2, 7, 1, 8, 2, 8]];
const dir = mkdtempSync(path.join(tmpdir(), 'tributary-adapter-'));
const run = (m: Gpt2Model, opts = {}) => {
  const { logits } = forward(m, IDS, opts);
  const out = logits.dataSync().slice();
  logits.dispose();
  return out;
};

describe('PEFT adapter files', () => {
  let model: Gpt2Model;
  beforeAll(async () => {
    await useTensorBackend('wasm');
    model = initModel(TINY, 3);
  });
  afterAll(() => {
    disposeModel(model);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes PEFT’s names and shapes, and reads back an adapter that computes the same', async () => {
    const adapter = createLora(TINY, { r: 4, alpha: 8, targets: ['c_attn', 'c_fc'], seed: 5, randomB: 0.2, baseModel: 'tiny' });
    const d = path.join(dir, 'a');
    const hash = await writeAdapter(d, adapter);
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(adapterHash(d)).toBe(hash);
    const { tensors } = readSafetensors(path.join(d, 'adapter_model.safetensors'));
    expect(tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')!.shape).toEqual([4, 16]);
    expect(tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!.shape).toEqual([48, 4]);
    expect(tensors.get('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight')!.shape).toEqual([64, 4]);
    expect(tensors.size).toBe(8);
    expect(readAdapterConfig(d)).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_fc'], fan_in_fan_out: true });
    const back = readAdapter(d);
    expect(Array.from(run(model, { hook: adapterHook(back) }))).toEqual(Array.from(run(model, { hook: adapterHook(adapter) })));
    disposeLora(back);
    disposeLora(adapter);
  });

  it('an adapter for a linear-layout base (fan_in_fan_out false) merges and applies alike on it', async () => {
    const base = path.join(dir, 'linear-base');
    await saveModel(base, model, { layout: 'linear' });
    const linear = loadModel(base);
    const adapter = createLora(TINY, { r: 2, alpha: 4, targets: ['c_proj'], seed: 9, randomB: 0.3 });
    adapter.config.fan_in_fan_out = false;
    const d = path.join(dir, 'b');
    await writeAdapter(d, adapter);
    const back = readAdapter(d);
    expect(back.config.fan_in_fan_out).toBe(false);
    const merged = mergeAdapter(linear, back);
    expect(maxDiff(run(merged), run(linear, { hook: adapterHook(back) }))).toBeLessThan(1e-5);
    expect(maxDiff(run(linear, { hook: adapterHook(back) }), run(model, { hook: adapterHook(adapter) }))).toBe(0);
    for (const m of [merged, linear]) disposeModel(m);
    disposeLora(back);
    disposeLora(adapter);
  });

  it('refuses adapters it cannot apply, saying why', async () => {
    const adapter = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 1 });
    const d = path.join(dir, 'c');
    await writeAdapter(d, adapter);
    disposeLora(adapter);
    writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'IA3', r: 2, lora_alpha: 4, target_modules: ['c_attn'] }));
    expect(() => readAdapter(d)).toThrow(/peft_type is "IA3"/);
    writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 3, lora_alpha: 4, target_modules: ['c_attn'] }));
    expect(() => readAdapter(d)).toThrow(/rank 2\/2, adapter_config.json says r = 3/);
    expect(() => readAdapter(path.join(dir, 'missing'))).toThrow(/no adapter_config.json/);
  });
});
