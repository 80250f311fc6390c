// Choosing the next token from a row of logits, and deciding when a sequence is done.
//
// - Temperature 0 is greedy: the highest logit (the lowest id on a tie).
// - Otherwise logits are divided by the temperature, cut to the top k (if topK > 0), then to the
//   smallest set of most likely tokens whose probability reaches topP (the nucleus, renormalised after
//   top-k, as Hugging Face orders them), and one is drawn with the request's own seeded generator, so
//   the same seed gives the same tokens whatever else shares the batch.
// - Stop sequences are matched on the decoded text; text that could still be the start of one is held
//   back, so a stop sequence never reaches the client.
import { InvalidRequestError } from './errors.ts';

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** In (0, 1]; 1 = off. */
  topP: number;
  /** 0 = off. */
  topK: number;
}

/** A seeded generator of uniform numbers in [0, 1) (mulberry32: tiny, fast, good enough for sampling). */
export function createRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function checkSampling(p: SamplingParams): SamplingParams {
  if (!Number.isFinite(p.temperature) || p.temperature < 0) throw new InvalidRequestError(`temperature must be a number ≥ 0, got ${p.temperature}`);
  if (!(p.topP > 0 && p.topP <= 1)) throw new InvalidRequestError(`top_p must be in (0, 1], got ${p.topP}`);
  if (!Number.isInteger(p.topK) || p.topK < 0) throw new InvalidRequestError(`top_k must be a non-negative integer, got ${p.topK}`);
  return p;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Picks the next token from one row of logits. */
export function sampleToken(logits: ArrayLike<number>, p: SamplingParams, rng: () => number): number {
  if (p.temperature === 0) return argmax(logits);
  const V = logits.length;
  const max = logits[argmax(logits)]!;
  const probs = new Float64Array(V); // unnormalised: exp((l − max) / T)
  let total = 0;
  for (let i = 0; i < V; i++) total += probs[i] = Math.exp((logits[i]! - max) / p.temperature);

  const useK = p.topK > 0 && p.topK < V;
  if (!useK && p.topP >= 1) return draw(probs, total, rng);

  // Only the most likely tokens can be in the top k or the nucleus: find a probability threshold that
  // keeps enough of them (lowering it until it does), and sort just those.
  let threshold = 1 / 64; // relative to the largest, which is exp(0) = 1
  let kept: number[] = [];
  for (;;) {
    kept = [];
    let mass = 0;
    for (let i = 0; i < V; i++) {
      if (probs[i]! >= threshold) {
        kept.push(i);
        mass += probs[i]!;
      }
    }
    const enough = useK ? kept.length >= p.topK : mass >= p.topP * total;
    if (enough || threshold === 0) break;
    threshold = threshold < 1e-30 ? 0 : threshold / 64;
  }
  kept.sort((a, b) => probs[b]! - probs[a]! || a - b);
  if (useK) kept.length = Math.min(kept.length, p.topK);

  // The nucleus is taken of the whole distribution, or of the top k renormalised.
  let base = total;
  if (useK) {
    base = 0;
    for (const i of kept) base += probs[i]!;
  }
  let cut = kept.length;
  if (p.topP < 1) {
    let cum = 0;
    for (let j = 0; j < kept.length; j++) {
      cum += probs[kept[j]!]!;
      if (cum >= p.topP * base) {
        cut = j + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let j = 0; j < cut; j++) mass += probs[kept[j]!]!;
  let u = rng() * mass;
  for (let j = 0; j < cut; j++) {
    u -= probs[kept[j]!]!;
    if (u < 0) return kept[j]!;
  }
  return kept[cut - 1]!;
}

function draw(probs: Float64Array, total: number, rng: () => number): number {
  let u = rng() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return probs.length - 1;
}

/** Matches stop sequences on streamed text. */
export interface StopMatcher {
  /** Adds decoded text; answers what may be sent now (everything before a stop sequence, minus what could start one) and whether a stop sequence was found. */
  push(text: string): { text: string; stopped: boolean };
  /** At the end of the sequence: the text held back. */
  flush(): string;
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  if (stops.some((s) => typeof s !== 'string' || s.length === 0)) throw new InvalidRequestError(`stop sequences must be non-empty strings, got ${JSON.stringify(stops)}`);
  let held = '';
  return {
    push(text) {
      held += text;
      let at = -1;
      for (const s of stops) {
        const i = held.indexOf(s);
        if (i >= 0 && (at < 0 || i < at)) at = i;
      }
      if (at >= 0) {
        const out = held.slice(0, at);
        held = '';
        return { text: out, stopped: true };
      }
      // Hold back the longest tail of the text that is the beginning of some stop sequence.
      let keep = 0;
      for (const s of stops) {
        for (let k = Math.min(s.length - 1, held.length); k > keep; k--) {
          if (held.endsWith(s.slice(0, k))) {
            keep = k;
            break;
          }
        }
      }
      const out = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      return { text: out, stopped: false };
    },
    flush() {
      const out = held;
      held = '';
      return out;
    },
  };
}
