// `npm run train:base`: trains the tiny base model and writes it to serving/models/tributary-tiny
// (config.json, model.safetensors, tributary-vocab.json, training.json). The defaults are the recipe of
// the shipped model; see serving/models/README.md.
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { useTensorBackend, type TensorBackend } from '../backend.ts';
import { saveModel, writeJsonAtomically } from '../checkpoint.ts';
import { CORPUS_VERSION } from '../corpus/generate.ts';
import { parameterCount } from '../gpt2.ts';
import { writeTrimmedVocab } from '../tokenizer.ts';
import { trainBaseModel, type TrainBaseOptions } from './trainBase.ts';

export const BASE_RECIPE: Omit<TrainBaseOptions, 'onProgress'> = {
  shape: { nPositions: 256, nEmbd: 96, nLayer: 3, nHead: 3, layerNormEpsilon: 1e-5 },
  vocabSize: 2048,
  corpus: { seed: 1, documents: 3000 },
  seed: 1,
  steps: 600,
  batchSize: 8,
  blockSize: 128,
  learningRate: 3e-3,
  warmupSteps: 40,
  weightDecay: 0.05,
  evalEvery: 100,
};

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(import.meta.dirname, '..', 'models', 'tributary-tiny') },
    steps: { type: 'string' },
    documents: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const recipe = {
  ...BASE_RECIPE,
  steps: values.steps ? Number(values.steps) : BASE_RECIPE.steps,
  warmupSteps: Math.min(BASE_RECIPE.warmupSteps, Math.floor((values.steps ? Number(values.steps) : BASE_RECIPE.steps) / 10)),
  corpus: { ...BASE_RECIPE.corpus, documents: values.documents ? Number(values.documents) : BASE_RECIPE.corpus.documents },
};
await useTensorBackend(values.backend as TensorBackend);
const bar = new SingleBar(
  { format: 'training {bar} {value}/{total} steps | loss {loss} | eval {evalLoss} | {tps} tok/s | ETA {eta_formatted}', etaBuffer: 50, noTTYOutput: true, notTTYSchedule: 10_000 },
  Presets.shades_classic,
);
bar.start(recipe.steps, 0, { loss: '-', evalLoss: '-', tps: '-' });
let lastEval = '-';
const result = await trainBaseModel({
  ...recipe,
  onProgress: (p) => {
    if (p.evalLoss !== undefined) lastEval = p.evalLoss.toFixed(3);
    bar.update(p.step, { loss: p.loss.toFixed(3), evalLoss: lastEval, tps: Math.round(p.tokensPerSecond) });
  },
});
bar.stop();
const out = values.out!;
await saveModel(out, result.model, {
  dtype: 'F16',
  extraConfig: { tributary_model: 'tributary-tiny', tributary_description: 'GPT-2-shaped base model trained by serving/baseModel on the generated corpus (serving/corpus)' },
});
writeTrimmedVocab(out, result.keep);
writeJsonAtomically(path.join(out, 'training.json'), {
  recipe,
  corpusVersion: CORPUS_VERSION,
  parameters: parameterCount(result.model.config),
  trainTokens: result.trainTokens,
  evalTokens: result.evalTokens,
  evalLoss: +result.evalLoss.toFixed(4),
  seconds: Math.round(result.seconds),
  backend: values.backend,
  lossCurve: result.lossCurve,
});
process.stdout.write(`wrote ${out}: ${parameterCount(result.model.config)} parameters, eval loss ${result.evalLoss.toFixed(3)} (${Math.round(result.seconds)} s)\n`);
