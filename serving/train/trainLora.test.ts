import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { disposeModel, forward } from '../gpt2.ts';
import { adapterHook, disposeLora, type LoraAdapter } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf } from '../tf.ts';
import { charTokenizer } from './charTokenizer.ts';
import { TrainingAbortedError } from './errors.ts';
import { tinyModel } from './tinyModel.ts';
import { hashRows, trainLora, type TrainLoraResult, type TrainingRow, type TrainProgress } from './trainLora.ts';

const tok = charTokenizer();
const TINY: Gpt2Config = { vocabSize: tok.vocabSize, nPositions: 48, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

// A memorisable task with shared structure: every answer is " red", " blue" or " green" and then EOS, so
// held-out rows can be predicted in part (the format, the three words) and training rows entirely.
const ANIMALS = ['cat', 'dog', 'cow', 'owl', 'bee', 'fox', 'eel', 'elk', 'ant', 'bat', 'yak', 'emu', 'hen', 'ram', 'pig', 'rat', 'ape', 'koi', 'gnu', 'cod', 'jay', 'doe', 'kid', 'pup'];
const COLORS = ['red', 'blue', 'green'];
const rows: TrainingRow[] = ANIMALS.map((a, i) => ({
  contributionId: BigInt(1 + (i % 3)),
  rowIndex: Math.floor(i / 3),
  rowHash: `0x${(i + 1).toString(16).padStart(64, '0')}`,
  row: { prompt: `color of ${a}`, completion: COLORS[(a.charCodeAt(0) + a.charCodeAt(1)) % 3]! },
}));

const weightsOf = (adapter: LoraAdapter) => [...adapter.modules].flatMap(([name, w]) => [name, Array.from(w.a.dataSync()), Array.from(w.b.dataSync())]);
const disposeResult = (r: TrainLoraResult) => {
  disposeLora(r.adapter);
  for (const c of r.checkpoints) disposeLora(c.adapter);
};

describe('trainLora', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('a few hundred steps fit the training rows and clearly lower the held-out loss', async () => {
    const model = tinyModel(TINY, 1);
    const before = tf.memory().numTensors;
    const progress: TrainProgress[] = [];
    const tensorsAt: number[] = [];
    const r = await trainLora({
      model, tokenizer: tok, examples: rows, baseModel: 'tiny-test', steps: 300, batchSize: 8, learningRate: 3e-3, rank: 4, alpha: 8, evalFraction: 0.25, seed: 3,
      onProgress: (p) => {
        progress.push(p);
        tensorsAt.push(tf.memory().numTensors);
      },
    });
    // The split: 25% of 24 rows held out, chosen by the seed.
    expect(r.evalExamples).toHaveLength(6);
    expect(r.trainExamples).toHaveLength(18);
    const initialTrain = r.lossCurve[0]!.loss;
    const finalTrain = r.trainExamples.reduce((s, e) => s + e.loss, 0) / r.trainExamples.length;
    expect(r.initialEvalLoss).toBeGreaterThan(3);
    expect(r.evalLoss!).toBeLessThan(0.25 * r.initialEvalLoss!);
    expect(finalTrain).toBeLessThan(0.1 * initialTrain);
    expect(finalTrain).toBeLessThan(r.evalLoss!); // memorised: the rows it saw are easier than those it did not

    // K = 4 checkpoints at evenly spaced steps, the last the final adapter.
    expect(r.checkpoints.map((c) => c.step)).toEqual([75, 150, 225, 300]);
    expect(weightsOf(r.checkpoints[3]!.adapter)).toEqual(weightsOf(r.adapter));
    expect(weightsOf(r.checkpoints[0]!.adapter)).not.toEqual(weightsOf(r.adapter));
    expect(r.lossCurve).toHaveLength(300);
    expect(r.lossCurve.filter((p) => p.evalLoss !== undefined).map((p) => p.step)).toEqual([75, 150, 225, 300]);
    expect(r.lossCurve.at(-1)!.evalLoss).toBe(r.evalLoss);

    // Progress once per step, with rate, ETA 0 at the end.
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(progress.at(-1)!.etaSeconds).toBe(0);
    expect(progress.every((p) => p.tokensPerSecond > 0 && p.steps === 300)).toBe(true);
    // Tensors do not grow from step to step: only each checkpoint adds its 2 modules × (A, B).
    const checkpointsSoFar = (step: number) => [75, 150, 225, 300].filter((s) => s <= step).length;
    const steady = tensorsAt.map((n, i) => n - 4 * checkpointsSoFar(i + 1));
    expect(new Set(steady).size).toBe(1);

    // Each training example's record is its loss under the final adapter, as a plain forward computes it.
    const rec = r.trainExamples[0]!;
    const row = rows.find((x) => x.contributionId === rec.contributionId && x.rowIndex === rec.rowIndex)!;
    const ids = tok.encode(`Question: ${'prompt' in row.row ? row.row.prompt : ''}\nAnswer:`);
    const target = [...tok.encode(` ${'completion' in row.row ? row.row.completion : ''}`), tok.eosToken];
    const all = [...ids, ...target];
    expect(rec.tokens).toBe(all.length);
    const logits = forward(model, [all.slice(0, -1)], { hook: adapterHook(r.adapter) }).logits;
    const lp = tf.tidy(() => tf.logSoftmax(logits).arraySync() as number[][][]);
    let nll = 0;
    for (let t = ids.length - 1; t < all.length - 1; t++) nll -= lp[0]![t]![all[t + 1]!]!;
    expect(rec.loss).toBeCloseTo(nll / target.length, 4);
    logits.dispose();

    // The manifest.
    const m = r.manifest;
    expect(m.rowsHash).toBe(hashRows(rows));
    const lines = [...rows]
      .sort((x, y) => Number(x.contributionId - y.contributionId) || x.rowIndex - y.rowIndex)
      .map((x) => `${x.contributionId}\t${x.rowIndex}\t${x.rowHash}\n`)
      .join('');
    expect(m.rowsHash).toBe(`0x${createHash('sha256').update(lines).digest('hex')}`);
    expect(m).toMatchObject({ baseModel: 'tiny-test', rows: 24, trainRows: 18, evalRows: 6, truncatedRows: 0, seed: 3, steps: 300, checkpointSteps: [75, 150, 225, 300] });
    expect(m.hyperparameters).toEqual({
      rank: 4, alpha: 8, targets: ['c_attn'], steps: 300, epochs: null, batchSize: 8, learningRate: 3e-3, minLearningRate: 0, schedule: 'linear-warmup-cosine',
      warmupSteps: 15, optimizer: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, clipNorm: 1, maxTokens: 48, evalFraction: 0.25, checkpoints: 4,
      promptFormat: 'tributary-prompt-v1',
    });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m); // JSON-safe: no bigints
    expect(r.adapter.config).toMatchObject({ r: 4, lora_alpha: 8, target_modules: ['c_attn'], base_model_name_or_path: 'tiny-test', fan_in_fan_out: true });

    disposeResult(r);
    expect(tf.memory().numTensors).toBe(before);
    disposeModel(model);
  });

  it('is deterministic for a seed: bit-identical adapters whatever the order of the rows', async () => {
    const model = tinyModel(TINY, 2);
    const opts = { model, tokenizer: tok, steps: 12, batchSize: 4, learningRate: 3e-3, rank: 2, targets: ['c_attn', 'c_fc'], checkpoints: 2 };
    const a = await trainLora({ ...opts, examples: rows, seed: 7 });
    const b = await trainLora({ ...opts, examples: [...rows].reverse(), seed: 7 });
    const c = await trainLora({ ...opts, examples: rows, seed: 8 });
    expect(weightsOf(b.adapter)).toEqual(weightsOf(a.adapter));
    expect(weightsOf(b.checkpoints[0]!.adapter)).toEqual(weightsOf(a.checkpoints[0]!.adapter));
    expect(b.lossCurve).toEqual(a.lossCurve);
    expect(b.manifest).toEqual(a.manifest);
    expect(b.evalExamples).toEqual(a.evalExamples);
    expect(weightsOf(c.adapter)).not.toEqual(weightsOf(a.adapter));
    expect(c.evalExamples).not.toEqual(a.evalExamples);
    [a, b, c].forEach(disposeResult);
    disposeModel(model);
  });

  it('counts epochs in batches, holds out at least one row, and none when asked', async () => {
    const model = tinyModel(TINY, 3);
    const base = { model, tokenizer: tok, batchSize: 4, rank: 2, checkpoints: 1 };
    // 24 rows, 10% → 2 held out (round(2.4)), 22 to train: 6 batches per epoch.
    const r = await trainLora({ ...base, examples: rows, epochs: 2 });
    expect([r.manifest.evalRows, r.manifest.trainRows, r.manifest.steps, r.manifest.hyperparameters.epochs]).toEqual([2, 22, 12, 2]);
    const two = await trainLora({ ...base, examples: rows.slice(0, 2), steps: 2 });
    expect([two.manifest.evalRows, two.manifest.trainRows]).toEqual([1, 1]);
    expect(two.evalLoss).toBeGreaterThan(0);
    const none = await trainLora({ ...base, examples: rows.slice(0, 5), steps: 2, evalFraction: 0 });
    expect([none.manifest.evalRows, none.evalLoss, none.initialEvalLoss, none.manifest.evalLoss]).toEqual([0, undefined, undefined, null]);
    const one = await trainLora({ ...base, examples: rows.slice(0, 1), steps: 1 });
    expect(one.manifest.evalRows).toBe(0);
    [r, two, none, one].forEach(disposeResult);
    disposeModel(model);
  });

  it('truncates long rows to maxTokens and records it', async () => {
    const model = tinyModel(TINY, 4);
    const long: TrainingRow = { contributionId: 9n, rowIndex: 0, rowHash: '0xab', row: { text: 'a long row of plain text that does not fit' } };
    const r = await trainLora({ model, tokenizer: tok, examples: [long, ...rows.slice(0, 3)], steps: 2, evalFraction: 0, maxTokens: 40, rank: 2, checkpoints: 1 });
    // The long text is 43 tokens with its EOS; the questions are at most 37 ("Question: color of …\nAnswer: green" + EOS).
    expect(r.manifest.truncatedRows).toBe(1);
    const rec = r.trainExamples.find((e) => e.contributionId === 9n)!;
    expect([rec.tokens, rec.truncated]).toEqual([40, true]);
    expect(r.trainExamples.filter((e) => e.truncated)).toHaveLength(1);
    disposeResult(r);
    disposeModel(model);
  });

  it('refuses what cannot work, and stops when cancelled without leaking tensors', async () => {
    const model = tinyModel(TINY, 5);
    const base = { model, tokenizer: tok, examples: rows };
    await expect(trainLora({ ...base, steps: 2, epochs: 1 })).rejects.toThrow(/give steps or epochs, not both/);
    await expect(trainLora({ ...base, examples: [] })).rejects.toThrow(/no rows to train on/);
    await expect(trainLora({ ...base, rank: 0 })).rejects.toThrow(/rank must be a positive integer, got 0/);
    await expect(trainLora({ ...base, maxTokens: 49 })).rejects.toThrow(/maxTokens must be an integer in \[2, 48\]/);
    await expect(trainLora({ ...base, examples: [rows[0]!, { ...rows[0]! }] })).rejects.toThrow(/row 0 of contribution 1 is given twice/);
    const small = tinyModel({ ...TINY, vocabSize: 40 }, 6);
    await expect(trainLora({ ...base, model: small })).rejects.toThrow(/EOS token 46 is outside the model's vocabulary of 40/);
    disposeModel(small);
    const before = tf.memory().numTensors;
    await expect(trainLora({ ...base, steps: 2, weightDecay: -1 })).rejects.toThrow(/weight decay must be ≥ 0, got -1/);
    await expect(trainLora({ ...base, targets: ['q_proj'] })).rejects.toThrow(/match no module/);
    expect(tf.memory().numTensors).toBe(before);
    const ctl = new AbortController();
    await expect(
      trainLora({ ...base, steps: 50, checkpoints: 10, onProgress: (p) => p.step === 12 && ctl.abort(), signal: ctl.signal }),
    ).rejects.toThrow(TrainingAbortedError);
    expect(tf.memory().numTensors).toBe(before);
    disposeModel(model);
  });
});
