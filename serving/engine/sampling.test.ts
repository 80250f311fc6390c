import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from './errors.ts';
import { argmax, checkSampling, createRng, createStopMatcher, sampleToken } from './sampling.ts';

const logitsOf = (probs: number[]) => probs.map((p) => Math.log(p));

function frequencies(logits: number[], params: { temperature: number; topP: number; topK: number }, draws: number, seed: number): number[] {
  const rng = createRng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, params, rng)]! += 1;
  return counts.map((c) => c / draws);
}

describe('sampling', () => {
  it('the generator is seeded: same seed, same numbers; different seed, different numbers; all in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('temperature 0 is greedy, taking the lowest id on a tie', () => {
    const rng = createRng(1);
    expect(sampleToken([0.1, 2, -1, 2], { temperature: 0, topP: 1, topK: 0 }, rng)).toBe(1);
    expect(argmax([3, 1, 3])).toBe(0);
  });

  it('draws tokens in proportion to their probability', () => {
    const f = frequencies(logitsOf([0.5, 0.3, 0.2]), { temperature: 1, topP: 1, topK: 0 }, 20000, 7);
    expect(Math.abs(f[0]! - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(f[1]! - 0.3)).toBeLessThan(0.015);
    expect(Math.abs(f[2]! - 0.2)).toBeLessThan(0.015);
  });

  it('temperature sharpens or flattens the distribution', () => {
    // p ∝ exp(log p / T): with T = 0.5, (0.5², 0.3², 0.2²) normalised = (0.658, 0.237, 0.105).
    const f = frequencies(logitsOf([0.5, 0.3, 0.2]), { temperature: 0.5, topP: 1, topK: 0 }, 20000, 8);
    expect(Math.abs(f[0]! - 0.658)).toBeLessThan(0.015);
    expect(Math.abs(f[2]! - 0.105)).toBeLessThan(0.015);
  });

  it('top-k keeps the k most likely tokens, renormalised', () => {
    const f = frequencies(logitsOf([0.1, 0.5, 0.3, 0.1]), { temperature: 1, topP: 1, topK: 2 }, 20000, 9);
    expect(f[0]).toBe(0);
    expect(f[3]).toBe(0);
    expect(Math.abs(f[1]! - 0.625)).toBeLessThan(0.015);
    expect(sampleToken(logitsOf([0.1, 0.5, 0.3, 0.1]), { temperature: 5, topP: 1, topK: 1 }, createRng(1))).toBe(1);
  });

  it('top-p keeps the smallest set of most likely tokens reaching p', () => {
    // 0.5 < 0.7 ≤ 0.5 + 0.3: the nucleus is {0, 1}.
    const f = frequencies(logitsOf([0.5, 0.3, 0.2]), { temperature: 1, topP: 0.7, topK: 0 }, 20000, 10);
    expect(f[2]).toBe(0);
    expect(Math.abs(f[0]! - 0.625)).toBeLessThan(0.015);
    // p at or below the top token's probability leaves only the top token.
    const only = frequencies(logitsOf([0.2, 0.5, 0.3]), { temperature: 1, topP: 0.5, topK: 0 }, 200, 11);
    expect(only).toEqual([0, 1, 0]);
  });

  it('top-p applies after top-k, on the renormalised top k', () => {
    // Top 2 of (0.4, 0.35, 0.25) renormalised: (0.533, 0.467); p = 0.6 then needs both.
    const f = frequencies(logitsOf([0.4, 0.35, 0.25]), { temperature: 1, topP: 0.6, topK: 2 }, 20000, 12);
    expect(f[2]).toBe(0);
    expect(Math.abs(f[0]! - 0.533)).toBeLessThan(0.015);
  });

  it('finds the nucleus in a large vocabulary with a long tail', () => {
    const V = 50257;
    const logits = new Float32Array(V).fill(-3);
    logits[123] = 8;
    logits[40000] = 7.5;
    const rng = createRng(3);
    const seen = new Set<number>();
    // Shares: 0.409 (123), 0.248 (40000), and 0.343 spread over the other 50,255.
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.4, topK: 0 }, rng));
    expect([...seen]).toEqual([123]);
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.6, topK: 0 }, rng));
    expect([...seen].sort((a, b) => a - b)).toEqual([123, 40000]);
    // p = 0.7 reaches into the tail.
    for (let i = 0; i < 50; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.7, topK: 0 }, rng));
    expect(seen.size).toBeGreaterThan(2);
  });

  it('refuses out-of-range parameters, naming the value', () => {
    expect(() => checkSampling({ temperature: -1, topP: 1, topK: 0 })).toThrow(/temperature must be a number ≥ 0, got -1/);
    expect(() => checkSampling({ temperature: 1, topP: 0, topK: 0 })).toThrow(/top_p must be in \(0, 1\], got 0/);
    expect(() => checkSampling({ temperature: 1, topP: 1, topK: 1.5 })).toThrow(InvalidRequestError);
  });
});

describe('stop sequences', () => {
  it('cut the text before the first stop sequence, even when it spans tokens', () => {
    const s = createStopMatcher(['o w', 'zzz']);
    expect(s.push('he')).toEqual({ text: 'he', stopped: false });
    expect(s.push('llo')).toEqual({ text: 'll', stopped: false }); // "o" could start "o w"
    expect(s.push(' ')).toEqual({ text: '', stopped: false });
    expect(s.push('world')).toEqual({ text: '', stopped: true });
  });

  it('release held-back text once it can no longer start a stop sequence, and at the end', () => {
    const s = createStopMatcher(['xyz']);
    expect(s.push('abx')).toEqual({ text: 'ab', stopped: false });
    expect(s.push('y')).toEqual({ text: '', stopped: false });
    expect(s.push('q')).toEqual({ text: 'xyq', stopped: false });
    expect(s.push('x')).toEqual({ text: '', stopped: false });
    expect(s.flush()).toBe('x');
  });

  it('stop at the earliest of several, and refuse empty ones', () => {
    const s = createStopMatcher(['c', 'ab']);
    expect(s.push('xabc')).toEqual({ text: 'x', stopped: true });
    expect(() => createStopMatcher([''])).toThrow(/stop sequences must be non-empty strings/);
  });

  it('without stop sequences pass everything through', () => {
    const s = createStopMatcher([]);
    expect(s.push('abc')).toEqual({ text: 'abc', stopped: false });
    expect(s.flush()).toBe('');
  });
});
