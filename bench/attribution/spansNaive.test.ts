import { describe, expect, it } from 'vitest';
import { findSpans } from '../../attribution/index.ts';
import { buildSpanCorpus } from '../../attribution/index.ts';
import { naiveCorpus, naiveFindSpans } from './spansNaive.ts';
import { makeSpanWorkload, OUTPUT_KINDS } from './spansWorkload.ts';

describe('the span benchmark', () => {
  it('makes outputs of every kind, 32–64 tokens, over a corpus of the size asked', () => {
    const w = makeSpanWorkload({ tokens: 5_000, outputs: 30, seed: 3 });
    expect(w.tokens).toBeGreaterThanOrEqual(5_000);
    expect(w.tokens).toBe(w.rows.reduce((n, r) => n + r.tokens.length, 0));
    expect(new Set(w.outputs.map((o) => o.kind))).toEqual(new Set(OUTPUT_KINDS));
    for (const o of w.outputs) {
      expect(o.tokens.length).toBeGreaterThanOrEqual(32);
      expect(o.tokens.length).toBeLessThanOrEqual(64);
    }
  });

  it('has a linear-scan baseline that finds the same spans as the index', () => {
    const w = makeSpanWorkload({ tokens: 5_000, outputs: 30, seed: 4 });
    const corpus = buildSpanCorpus(w.rows);
    const scan = naiveCorpus(w.rows);
    let spans = 0;
    for (const options of [{ minLength: 8, maxFrequency: 32 }, { minLength: 2, maxFrequency: 3 }]) {
      for (const o of w.outputs) {
        const want = findSpans(corpus, o.tokens, options).spans.map(({ start, length, count }) => ({ start, length, count }));
        expect(naiveFindSpans(scan, o.tokens, options)).toEqual(want);
        spans += want.length;
      }
    }
    expect(spans).toBeGreaterThan(20); // the outputs do match the corpus
  });
});
