// A tiny random model, random adapters served from "disk", and a one-character-per-token tokenizer, for
// the engine's tests and its throughput script. Not part of the public surface.
import { initModel, type Gpt2Model } from '../gpt2.ts';
import { createLora, disposeLora } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf } from '../tf.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { toHost, type HostAdapter } from './adapterCache.ts';
import { UnknownAdapterError } from './errors.ts';
import { createRng } from './sampling.ts';

export const TINY: Gpt2Config = { vocabSize: 40, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 };

/** 40 tokens, one character each; the last one is end-of-text. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 .,';

export function fakeTokenizer(): Tokenizer {
  const eosToken = ALPHABET.length;
  const piece = (id: number) => (id === eosToken ? '<|endoftext|>' : ALPHABET[id]!);
  return {
    vocabSize: ALPHABET.length + 1,
    eosToken,
    encode: (text) => [...text].map((ch) => ALPHABET.indexOf(ch)).filter((i) => i >= 0),
    decode: (ids) => ids.map(piece).join(''),
    createDecoder: () => ({ push: piece, flush: () => '' }),
  };
}

/** Random weights larger than GPT-2's init, so that logits are far apart and greedy choices are not near-ties. */
export function tinyModel(seed: number, config: Gpt2Config = TINY): Gpt2Model {
  const m = initModel(config, seed);
  let s = seed * 100;
  for (const [name, t] of m.params) {
    m.params.set(name, tf.randomNormal(t.shape, 0, name.includes('ln_') ? 0.5 : 0.3, 'float32', ++s));
    t.dispose();
  }
  return m;
}

export interface RequestSpec {
  adapter: string | null;
  prompt: number[];
  maxTokens: number;
}

/** Requests for `adapters` distinct adapters (and the base model), prompts of 1 to 10 tokens of fakeTokenizer's, 3 to 19 new tokens. */
export function requestSpecs(n: number, adapters: number, seed = 5): RequestSpec[] {
  const rng = createRng(seed);
  const eos = ALPHABET.length;
  return Array.from({ length: n }, (_, i) => ({
    adapter: i % (adapters + 1) === adapters ? null : `a${i % (adapters + 1)}`,
    prompt: Array.from({ length: 1 + Math.floor(rng() * 10) }, () => Math.floor(rng() * (eos - 1))),
    maxTokens: 3 + ((i * 5) % 17),
  }));
}

/** `n` random adapters named `a0`, `a1`, … (ranks 2, 4, 8 in turn), held as host copies. */
export function randomAdapters(n: number, config: Gpt2Config = TINY, seed = 1): Map<string, HostAdapter> {
  const out = new Map<string, HostAdapter>();
  for (let i = 0; i < n; i++) {
    const lora = createLora(config, { r: [2, 4, 8][i % 3]!, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], seed: seed * 1000 + i, randomB: 0.3 });
    out.set(`a${i}`, toHost(lora));
    disposeLora(lora);
  }
  return out;
}

/** A loader over host copies, as if reading them from disk (a short wait, then a copy). */
export function loaderOf(hosts: Map<string, HostAdapter>, delayMs = 1): (name: string) => Promise<HostAdapter> {
  return async (name) => {
    await new Promise((r) => setTimeout(r, delayMs));
    const h = hosts.get(name);
    if (!h) throw new UnknownAdapterError(name);
    return h;
  };
}
