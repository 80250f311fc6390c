// Trains the project's own tiny base model from the generated corpus (serving/corpus): a GPT-2-shaped
// decoder small enough to train on two CPU cores in minutes, with GPT-2's BPE trimmed to the tokens the
// corpus uses (every other token is spelled in byte tokens, so any text still encodes).
//
// Documents are tokenized, each followed by <|endoftext|>, and concatenated into one stream; a step
// trains on random windows of that stream (next-token cross-entropy on every position), the standard
// GPT-2 recipe. The last documents are held out for the eval loss. Every random choice comes from the
// seed, and the wasm backend is single-threaded, so a run is repeatable.
import { generateCorpus } from '../corpus/generate.ts';
import { forward, initModel, type Gpt2Model } from '../gpt2.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf, type Tensor, type Tensor2D, type Variable } from '../tf.ts';
import { buildTrimmedVocab, trimmedTokenizer, type Tokenizer } from '../tokenizer.ts';
import { createAdamW } from '../train/adamw.ts';
import { maskedCrossEntropy } from '../train/loss.ts';
import { warmupCosine } from '../train/schedule.ts';
import { mixSeed, seededRandom } from '../train/shuffle.ts';

export interface TrainBaseOptions {
  /** The model's shape; its vocabulary is the trimmed one. */
  shape: Omit<Gpt2Config, 'vocabSize'>;
  /** Largest trimmed vocabulary (256 byte tokens and <|endoftext|> included). */
  vocabSize: number;
  corpus: { seed: number; documents: number };
  seed: number;
  steps: number;
  batchSize: number;
  /** Tokens per training window (at most shape.nPositions). */
  blockSize: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  /** Held-out share of the documents (default 2%). */
  evalFraction?: number;
  /** How often to compute the eval loss (default every 100 steps, and at the end). */
  evalEvery?: number;
  onProgress?: (p: { step: number; steps: number; loss: number; evalLoss?: number; tokensPerSecond: number; etaSeconds: number }) => void;
}

export interface TrainBaseResult {
  model: Gpt2Model;
  /** GPT-2 ids of the trimmed vocabulary (model id i = keep[i]). */
  keep: number[];
  tokenizer: Tokenizer;
  lossCurve: { step: number; loss: number; evalLoss?: number }[];
  evalLoss: number;
  trainTokens: number;
  evalTokens: number;
  seconds: number;
}

export async function trainBaseModel(opts: TrainBaseOptions): Promise<TrainBaseResult> {
  const started = performance.now();
  const docs = generateCorpus(opts.corpus);
  const keep = buildTrimmedVocab(docs, opts.vocabSize);
  const tokenizer = trimmedTokenizer(keep);
  const nEval = Math.max(1, Math.round(docs.length * (opts.evalFraction ?? 0.02)));
  const toStream = (ds: string[]) => {
    const ids: number[] = [];
    for (const d of ds) {
      for (const t of tokenizer.encode(d)) ids.push(t);
      ids.push(tokenizer.eosToken);
    }
    return Int32Array.from(ids);
  };
  const train = toStream(docs.slice(0, docs.length - nEval));
  const held = toStream(docs.slice(docs.length - nEval));
  const config: Gpt2Config = { ...opts.shape, vocabSize: keep.length };
  const T = opts.blockSize;
  if (T > config.nPositions) throw new Error(`blockSize ${T} exceeds the model's ${config.nPositions} positions`);

  // Parameters as variables, named by GPT-2 names under a per-run prefix (tfjs variable names are global).
  const init = initModel(config, opts.seed);
  const runId = `base-${opts.seed}-${process.hrtime.bigint()}`;
  const vars = new Map<string, Variable>();
  for (const [name, t] of init.params) {
    vars.set(name, tf.variable(t, true, `${runId}/${name}`));
    t.dispose();
  }
  const model: Gpt2Model = { config, params: vars as Map<string, Tensor> };
  const optimizer = createAdamW(vars, { weightDecay: opts.weightDecay, clipNorm: 1 });
  const lr = warmupCosine({ peak: opts.learningRate, warmupSteps: opts.warmupSteps, totalSteps: opts.steps, floor: opts.learningRate / 10 });
  const rand = seededRandom(mixSeed(opts.seed, 0xba5e));
  const byVarName = new Map([...vars].map(([name, v]) => [v.name, name]));

  const window = (stream: Int32Array, start: number) => stream.subarray(start, start + T + 1);
  const batchFrom = (rows: Int32Array[]) => ({
    inputs: tf.tensor2d(rows.map((r) => Array.from(r.subarray(0, T))), [rows.length, T], 'int32'),
    targets: tf.tensor2d(rows.map((r) => Array.from(r.subarray(1, T + 1))), [rows.length, T], 'int32'),
    mask: tf.ones([rows.length, T]) as Tensor2D,
  });
  const lossOf = (b: ReturnType<typeof batchFrom>) => maskedCrossEntropy(forward(model, b.inputs).logits, b.targets, b.mask).loss;

  const evalLoss = (): number => {
    const starts: number[] = [];
    for (let s = 0; s + T + 1 <= held.length && starts.length < 32; s += T) starts.push(s);
    let sum = 0;
    for (let i = 0; i < starts.length; i += opts.batchSize) {
      const b = batchFrom(starts.slice(i, i + opts.batchSize).map((s) => window(held, s)));
      const l = tf.tidy(() => lossOf(b));
      sum += l.dataSync()[0]! * Math.min(opts.batchSize, starts.length - i);
      l.dispose();
      tf.dispose([b.inputs, b.targets, b.mask]);
    }
    return sum / Math.max(1, starts.length);
  };

  const lossCurve: TrainBaseResult['lossCurve'] = [];
  const loopStart = performance.now();
  let smoothed = NaN;
  for (let step = 0; step < opts.steps; step++) {
    const rows = Array.from({ length: opts.batchSize }, () => window(train, Math.floor(rand() * (train.length - T - 1))));
    const b = batchFrom(rows);
    const { value, grads } = tf.variableGrads(() => lossOf(b), [...vars.values()]);
    const named: Record<string, Tensor> = {};
    for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName)!] = g;
    optimizer.step(named, lr(step));
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads), b.inputs, b.targets, b.mask]);
    smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
    const done = step + 1;
    const evalNow = done === opts.steps || done % (opts.evalEvery ?? 100) === 0;
    const ev = evalNow ? evalLoss() : undefined;
    if (evalNow || done % 10 === 0) lossCurve.push({ step: done, loss: +smoothed.toFixed(4), ...(ev !== undefined ? { evalLoss: +ev.toFixed(4) } : {}) });
    const elapsed = (performance.now() - loopStart) / 1000;
    opts.onProgress?.({
      step: done,
      steps: opts.steps,
      loss: smoothed,
      evalLoss: ev,
      tokensPerSecond: (done * opts.batchSize * T) / elapsed,
      etaSeconds: (elapsed / done) * (opts.steps - done),
    });
  }
  optimizer.dispose();
  const final = lossCurve.at(-1)?.evalLoss ?? evalLoss();
  // Hand back plain tensors (not variables), so the model is like any loaded one.
  const params = new Map<string, Tensor>();
  for (const [name, v] of vars) {
    params.set(name, v.clone());
    v.dispose();
  }
  return {
    model: { config, params },
    keep,
    tokenizer,
    lossCurve,
    evalLoss: final,
    trainTokens: train.length,
    evalTokens: held.length,
    seconds: (performance.now() - started) / 1000,
  };
}
