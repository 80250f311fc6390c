import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { loadModel, saveModel } from './checkpoint.ts';
import { disposeModel, forward, initModel, type Gpt2Model } from './gpt2.ts';
import { configJson, type Gpt2Config } from './modelConfig.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from './safetensors.ts';
import { tf } from './tf.ts';
import { maxDiff } from './testing/maxDiff.ts';

const TINY: Gpt2Config = { vocabSize: 29, nPositions: 16, nEmbd: 12, nLayer: 2, nHead: 3, layerNormEpsilon: 1e-5 };
const IDS = [[3, 1, 4, 1, 5, 9, 2, 6]];
const dir = mkdtempSync(path.join(tmpdir(), 'tributary-ckpt-'));

const logitsOf = (m: Gpt2Model) => {
  const { logits } = forward(m, IDS);
  const out = logits.dataSync().slice();
  logits.dispose();
  return out;
};
describe('model checkpoints', () => {
  let model: Gpt2Model;
  beforeAll(async () => {
    await useTensorBackend('wasm');
    model = initModel(TINY, 7);
  });
  afterAll(() => {
    disposeModel(model);
    rmSync(dir, { recursive: true, force: true });
  });

  it('save → load gives identical logits, and leaves no temp files', async () => {
    const d = path.join(dir, 'f32');
    await saveModel(d, model);
    expect(readdirSync(d).sort()).toEqual(['config.json', 'model.safetensors']);
    const loaded = loadModel(d);
    expect(loaded.config).toEqual(TINY);
    expect(Array.from(logitsOf(loaded))).toEqual(Array.from(logitsOf(model)));
    disposeModel(loaded);
  });

  it('half precision loads close to the original', async () => {
    const d = path.join(dir, 'f16');
    await saveModel(d, model, { dtype: 'F16' });
    const loaded = loadModel(d);
    expect(maxDiff(logitsOf(loaded), logitsOf(model))).toBeLessThan(2e-2);
    disposeModel(loaded);
  });

  it('both layouts: projections stored [out, in] (linear) load to the same model as GPT-2’s [in, out] (Conv1D)', async () => {
    const d = path.join(dir, 'linear');
    await saveModel(d, model, { layout: 'linear' });
    const stored = readSafetensors(path.join(d, 'model.safetensors')).tensors.get('h.0.attn.c_attn.weight')!;
    expect(stored.shape).toEqual([3 * TINY.nEmbd, TINY.nEmbd]);
    const loaded = loadModel(d);
    expect(Array.from(logitsOf(loaded))).toEqual(Array.from(logitsOf(model)));
    disposeModel(loaded);
  });

  it('reads a GPT2LMHeadModel state dict: transformer. prefix, mask buffers and a tied lm_head', async () => {
    const d = path.join(dir, 'hf');
    await saveModel(d, model);
    const { tensors } = readSafetensors(path.join(d, 'model.safetensors'));
    const hf: Record<string, SafetensorsInput> = {};
    for (const [name, t] of tensors) hf[`transformer.${name}`] = { shape: t.shape, data: t.data as Float32Array };
    hf['transformer.h.0.attn.bias'] = { shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) };
    hf['transformer.h.1.attn.masked_bias'] = { shape: [], data: new Float32Array([-1e4]) };
    hf['lm_head.weight'] = { shape: tensors.get('wte.weight')!.shape, data: tensors.get('wte.weight')!.data as Float32Array };
    writeSafetensors(path.join(d, 'model.safetensors'), hf);
    const loaded = loadModel(d);
    expect(Array.from(logitsOf(loaded))).toEqual(Array.from(logitsOf(model)));
    disposeModel(loaded);
  });

  it('refuses a missing, extra or misshapen tensor, naming it', async () => {
    const d = path.join(dir, 'bad');
    await saveModel(d, model);
    const { tensors } = readSafetensors(path.join(d, 'model.safetensors'));
    const base: Record<string, SafetensorsInput> = {};
    for (const [name, t] of tensors) base[name] = { shape: t.shape, data: t.data as Float32Array };
    const attempt = (edit: (t: Record<string, SafetensorsInput>) => void) => {
      const copy = { ...base };
      edit(copy);
      writeSafetensors(path.join(d, 'model.safetensors'), copy);
      const before = tf.memory().numTensors;
      try {
        loadModel(d);
      } finally {
        expect(tf.memory().numTensors).toBe(before);
      }
    };
    expect(() => attempt((t) => delete t['h.1.mlp.c_fc.bias'])).toThrow(/no tensor h\.1\.mlp\.c_fc\.bias/);
    expect(() => attempt((t) => (t['h.0.attn.q_proj.weight'] = { shape: [1], data: new Float32Array(1) }))).toThrow(/does not: h\.0\.attn\.q_proj\.weight/);
    expect(() => attempt((t) => (t['ln_f.bias'] = { shape: [13], data: new Float32Array(13) }))).toThrow(/ln_f\.bias has shape \[13\], the config says \[12\]/);
    writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...configJson(TINY), n_head: 5 }));
    expect(() => loadModel(d)).toThrow(/n_embd \(12\) is not a multiple of n_head \(5\)/);
  });
});
