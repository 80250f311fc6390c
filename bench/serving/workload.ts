// The serving benchmark's workload, as S-LoRA builds it: requests arrive as a Poisson process (exponential
// gaps at a fixed rate), each asks one of N adapters chosen by a power law over their popularity rank,
// with a prompt and an output length drawn uniformly from small ranges.
//
// Power law: the adapter of popularity rank i (1-based, adapter `a{i-1}`) is asked with probability
// P(i) = i^-alpha / Σ_{j=1..N} j^-alpha. alpha 1 is Zipf's law (a few adapters take most requests);
// alpha 0.3 is close to uniform.
//
// The trace (arrival times, prompts, lengths) comes from one seeded stream and the adapter choices from
// another, so every (N, alpha) shares the same arrivals and lengths and differs only in the adapters asked.
import { TributaryError } from '../../contracts/index.ts';

export interface WorkloadSpec {
  requests: number;
  /** Arrivals per second (the Poisson rate); Infinity puts every request at time 0 (a closed batch). */
  rate: number;
  adapters: number;
  alpha: number;
  /** Inclusive ranges of prompt tokens and new tokens. */
  promptTokens: [number, number];
  newTokens: [number, number];
  /** Prompt token ids are drawn from [0, vocabulary). */
  vocabulary: number;
  seed: number;
}

export interface BenchRequest {
  /** Milliseconds after the first arrival. */
  at: number;
  adapter: string;
  prompt: number[];
  /** Exactly this many tokens are generated (the benchmark's tokenizer has no end-of-text token). */
  maxTokens: number;
}

/** A workload spec that cannot be generated (retrying the same spec fails the same way). */
export class WorkloadError extends TributaryError {
  override name = 'WorkloadError';
}

/** The default shape of requests: small prompts and outputs, as fits the tiny base model. */
export const DEFAULT_PROMPT_TOKENS: [number, number] = [8, 24];
export const DEFAULT_NEW_TOKENS: [number, number] = [16, 32];

/** The name of the adapter with popularity rank `rank` (1-based). */
export const adapterName = (rank: number): string => `a${rank - 1}`;

/** A seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cumulative probabilities of ranks 1…n under P(i) ∝ i^-alpha (the last entry is exactly 1). */
export function powerLawCdf(n: number, alpha: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new WorkloadError(`the number of adapters must be a positive integer, got ${n}`);
  if (!Number.isFinite(alpha) || alpha < 0) throw new WorkloadError(`alpha must be a finite number ≥ 0, got ${alpha}`);
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 1; i <= n; i++) cdf[i - 1] = sum += i ** -alpha;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  cdf[n - 1] = 1;
  return cdf;
}

/** The rank (1-based) that a uniform draw `u` in [0, 1) falls on. */
export function rankOf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cdf[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo + 1;
}

const uniformInt = (rng: () => number, [lo, hi]: [number, number]) => lo + Math.floor(rng() * (hi - lo + 1));

export function makeWorkload(spec: WorkloadSpec): BenchRequest[] {
  if (!Number.isInteger(spec.requests) || spec.requests < 1) throw new WorkloadError(`requests must be a positive integer, got ${spec.requests}`);
  if (!(spec.rate > 0)) throw new WorkloadError(`the arrival rate must be positive (requests per second), got ${spec.rate}`);
  for (const [name, [lo, hi]] of [['promptTokens', spec.promptTokens], ['newTokens', spec.newTokens]] as const) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) throw new WorkloadError(`${name} must be a range [lo, hi] of positive integers, got [${lo}, ${hi}]`);
  }
  const cdf = powerLawCdf(spec.adapters, spec.alpha);
  const trace = seededRandom(spec.seed);
  const choice = seededRandom(spec.seed ^ 0x9e3779b9);
  const out: BenchRequest[] = [];
  let at = 0;
  for (let i = 0; i < spec.requests; i++) {
    // Exponential gaps; the first request opens the trace at 0.
    if (i > 0 && Number.isFinite(spec.rate)) at += (-Math.log(1 - trace()) / spec.rate) * 1000;
    const promptLength = uniformInt(trace, spec.promptTokens);
    const prompt = Array.from({ length: promptLength }, () => Math.floor(trace() * spec.vocabulary));
    const maxTokens = uniformInt(trace, spec.newTokens);
    out.push({ at, adapter: adapterName(rankOf(cdf, choice())), prompt, maxTokens });
  }
  return out;
}

/** How many distinct adapters a workload asks for, and the share of requests the most asked one gets. */
export function adapterSpread(requests: readonly BenchRequest[]): { distinct: number; topShare: number } {
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r.adapter, (counts.get(r.adapter) ?? 0) + 1);
  return { distinct: counts.size, topShare: Math.max(...counts.values()) / requests.length };
}
