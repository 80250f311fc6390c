// The base model the benchmark serves: the project's tiny base model from its directory (real weights,
// its trimmed GPT-2 tokenizer), or a model of the same shape with random weights (initModel). Throughput
// does not depend on the weights: every request generates exactly its max_tokens, because the benchmark's
// tokenizer has no end-of-text token (id −1, which the model never produces), so both arms and every run
// do the same work whatever the weights.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initModel, loadModel, parameterCount, readModelConfig, readTokenizer, type Gpt2Config, type Gpt2Model, type Tokenizer } from '../../serving/index.ts';

/** The shape of the project's tiny base model (serving/models/tributary-tiny). */
export const TINY_SHAPE: Gpt2Config = { vocabSize: 2048, nPositions: 256, nEmbd: 96, nLayer: 3, nHead: 3, layerNormEpsilon: 1e-5 };

export const SHIPPED_MODEL_DIR = fileURLToPath(new URL('../../serving/models/tributary-tiny', import.meta.url));

/** A model directory (Hugging Face layout), or random weights of a given shape. JSON-serialisable: children get it. */
export type ModelSource = { kind: 'dir'; dir: string } | { kind: 'random'; config: Gpt2Config; seed: number };

/**
 * `--model`: a directory; `random` (TINY_SHAPE, random weights); `random:EMBD,LAYERS,HEADS` (random weights of
 * a wider or deeper shape, TINY_SHAPE's vocabulary and positions); or nothing: the shipped model when it is
 * there, else random.
 */
export function modelSource(arg: string | undefined): ModelSource {
  if (arg === 'random' || (arg === undefined && !existsSync(SHIPPED_MODEL_DIR))) return { kind: 'random', config: TINY_SHAPE, seed: 1 };
  if (arg?.startsWith('random:')) {
    const dims = arg.slice('random:'.length).split(',').map(Number);
    const [nEmbd, nLayer, nHead] = dims as [number, number, number];
    if (dims.length !== 3 || !dims.every((n) => Number.isInteger(n) && n > 0) || nEmbd % nHead !== 0) {
      throw new Error(`--model ${arg}: expected random:EMBD,LAYERS,HEADS, three positive integers with EMBD a multiple of HEADS (e.g. random:256,4,4)`);
    }
    return { kind: 'random', config: { ...TINY_SHAPE, nEmbd, nLayer, nHead }, seed: 1 };
  }
  return { kind: 'dir', dir: arg ?? SHIPPED_MODEL_DIR };
}

export function configOf(source: ModelSource): Gpt2Config {
  return source.kind === 'dir' ? readModelConfig(source.dir) : source.config;
}

export function describeModel(source: ModelSource): string {
  const c = configOf(source);
  const shape = `n_embd ${c.nEmbd}, ${c.nLayer} layers, ${c.nHead} heads, ${c.nPositions} positions, vocabulary ${c.vocabSize}; ${parameterCount(c).toLocaleString('en-US')} parameters`;
  return source.kind === 'dir' ? `${source.dir} (${shape})` : `random weights (initModel, seed ${source.seed}; ${shape})`;
}

/** Bytes of one copy of the model's weights (float32): what one merged model costs the per-adapter baseline. */
export function modelBytesOf(c: Gpt2Config): number {
  return parameterCount(c) * 4;
}

/** The model on the current backend, and a tokenizer for it whose end-of-text token never occurs. */
export function openModel(source: ModelSource): { model: Gpt2Model; tokenizer: Tokenizer } {
  if (source.kind === 'dir') {
    const model = loadModel(source.dir);
    return { model, tokenizer: withoutEndOfText(readTokenizer(source.dir)) };
  }
  const model = initModel(source.config, source.seed);
  return { model, tokenizer: syntheticTokenizer(source.config.vocabSize) };
}

/** The same tokenizer (the same streaming decode work per token) with no end-of-text token. */
function withoutEndOfText(t: Tokenizer): Tokenizer {
  return { vocabSize: t.vocabSize, eosToken: -1, encode: (s) => t.encode(s), decode: (ids) => t.decode(ids), createDecoder: () => t.createDecoder() };
}

/** For random weights: one letter per id. */
function syntheticTokenizer(vocabSize: number): Tokenizer {
  const piece = (id: number) => String.fromCharCode(97 + (id % 26));
  return {
    vocabSize,
    eosToken: -1,
    encode: (s) => [...s].map((ch) => (ch.charCodeAt(0) - 97 + 26) % 26),
    decode: (ids) => ids.map(piece).join(''),
    createDecoder: () => ({ push: piece, flush: () => '' }),
  };
}
