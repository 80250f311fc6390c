import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { SpanIndexError } from './errors.ts';
import { findSpans, type FindSpansOptions, type MatchedSpan } from './findSpans.ts';
import { buildSpanCorpus, type SpanRow } from './spanCorpus.ts';
import type { ContributionEvidence } from './spanEvidence.ts';

/** mulberry32: a seeded generator (fast-check is not installed). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const addr = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address;
const row = (contribution: number, rowIndex: number, tokens: number[], owned = true): SpanRow => ({
  contributionId: BigInt(contribution),
  rowIndex,
  contributor: addr(contribution),
  owned,
  tokens,
});
const ALL = { minLength: 1, maxFrequency: Infinity, maxOccurrences: 1e9 };

/** The same answer by definition: every pattern searched row by row, no index. */
function bruteForce(rows: SpanRow[], q: number[], o: Required<FindSpansOptions>) {
  const occurrencesOf = (pattern: number[]) => {
    const out: { r: number; p: number }[] = [];
    rows.forEach((row, r) => {
      for (let p = 0; p + pattern.length <= row.tokens.length; p++) if (pattern.every((t, k) => row.tokens[p + k] === t)) out.push({ r, p });
    });
    return out;
  };
  const longest = q.map((_, i) => {
    let length = 0;
    while (i + length < q.length && occurrencesOf(q.slice(i, i + length + 1)).length > 0) length++;
    return length;
  });
  const spans: (MatchedSpan & { all: { r: number; p: number }[] })[] = [];
  longest.forEach((length, i) => {
    if (length === 0) return;
    const inside = longest.some((l, j) => j !== i && j <= i && j + l >= i + length);
    if (inside || length < o.minLength) return;
    const all = occurrencesOf(q.slice(i, i + length));
    if (all.length > o.maxFrequency) return;
    const occurrences = all.slice(0, o.maxOccurrences).map(({ r, p }) => ({
      contributionId: rows[r]!.contributionId,
      rowIndex: rows[r]!.rowIndex,
      contributor: rows[r]!.contributor,
      owned: rows[r]!.owned,
      position: p,
    }));
    spans.push({ start: i, length, count: all.length, occurrences, all });
  });
  spans.sort((a, b) => b.length - a.length || a.start - b.start);

  // Evidence: owned occurrences only; each covered output token split among the contributions covering it.
  const ids = [...new Set(rows.map((r) => r.contributionId))];
  const covers = ids.map((id) => q.map((_, p) => spans.some((s) => p >= s.start && p < s.start + s.length && s.all.some(({ r }) => rows[r]!.owned && rows[r]!.contributionId === id))));
  const evidence: ContributionEvidence[] = [];
  ids.forEach((id, c) => {
    const withOwned = spans.filter((s) => s.all.some(({ r }) => rows[r]!.owned && rows[r]!.contributionId === id));
    if (withOwned.length === 0) return;
    let credited = 0;
    q.forEach((_, p) => {
      if (covers[c]![p]) credited += 1 / covers.filter((cv) => cv[p]).length;
    });
    evidence.push({
      contributionId: id,
      contributor: rows.find((r) => r.contributionId === id)!.contributor,
      spans: withOwned.length,
      occurrences: withOwned.reduce((n, s) => n + s.all.filter(({ r }) => rows[r]!.owned && rows[r]!.contributionId === id).length, 0),
      matchedTokens: covers[c]!.filter(Boolean).length,
      creditedTokens: credited,
    });
  });
  evidence.sort((a, b) => b.creditedTokens - a.creditedTokens || Number(a.contributionId - b.contributionId));
  return { spans: spans.map(({ all: _all, ...s }) => s), evidence };
}

describe('findSpans', () => {
  it('equals a brute-force search on random corpora, outputs and filters', () => {
    const random = rng(3);
    const int = (n: number) => Math.floor(random() * n);
    for (let trial = 0; trial < 400; trial++) {
      const alphabet = 2 + int(4);
      const rows = Array.from({ length: 1 + int(8) }, (_, r) =>
        row(1 + int(3), r, Array.from({ length: int(30) }, () => int(alphabet)), random() < 0.8),
      );
      // Outputs: pieces copied from rows (so spans run across where two pieces meet), some tokens changed.
      const q: number[] = [];
      while (q.length < int(40)) {
        const source = rows[int(rows.length)]!.tokens as number[];
        const from = int(source.length + 1);
        q.push(...source.slice(from, from + 1 + int(12)));
        if (random() < 0.5) q.push(int(alphabet + 1));
      }
      const options = {
        minLength: 1 + int(5),
        maxFrequency: random() < 0.3 ? Infinity : 1 + int(10),
        maxOccurrences: random() < 0.3 ? 1e9 : int(5),
      };
      const got = findSpans(buildSpanCorpus(rows), q, options);
      const want = bruteForce(rows, q, options);
      const context = JSON.stringify({ rows: rows.map((r) => r.tokens), q, options });
      expect(got.spans, context).toEqual(want.spans);
      expect(got.evidence.map((e) => ({ ...e, creditedTokens: 0 })), context).toEqual(want.evidence.map((e) => ({ ...e, creditedTokens: 0 })));
      got.evidence.forEach((e, i) => expect(e.creditedTokens, context).toBeCloseTo(want.evidence[i]!.creditedTokens, 9));
      expect(got.outputTokens).toBe(q.length);
    }
  });

  it('never matches across a row boundary', () => {
    const corpus = buildSpanCorpus([row(1, 0, [1, 2, 3]), row(2, 0, [4, 5])]);
    const { spans } = findSpans(corpus, [2, 3, 4, 5], ALL);
    expect(spans.map((s) => [s.start, s.length])).toEqual([[0, 2], [2, 2]]);
    expect(spans[1]!.occurrences).toEqual([{ contributionId: 2n, rowIndex: 0, contributor: addr(2), owned: true, position: 0 }]);
  });

  it('does not let an output token equal to the separator match a row boundary', () => {
    // Token ids below 0xFFFF are stored in 16 bits with 0xFFFF between rows.
    const corpus = buildSpanCorpus([row(1, 0, [7, 8]), row(1, 1, [9])]);
    expect(corpus.separator).toBe(0xffff);
    const { spans } = findSpans(corpus, [8, 0xffff, 9], ALL);
    expect(spans.map((s) => [s.start, s.length])).toEqual([[0, 1], [2, 1]]);
  });

  it('stores wide token ids in 32 bits and matches them', () => {
    const corpus = buildSpanCorpus([row(1, 0, [70_000, 5, 0xffff, 70_001]), row(1, 1, [0xffff, 70_001])]);
    expect(corpus.separator).toBe(0xffffffff);
    const { spans } = findSpans(corpus, [1, 5, 0xffff, 70_001, 0xffffffff], ALL);
    expect(spans.map((s) => [s.start, s.length, s.count])).toEqual([[1, 3, 1]]);
    expect(findSpans(corpus, [0xffff, 70_001], ALL).spans[0]!.count).toBe(2);
  });

  it('keeps only maximal spans, longest first', () => {
    const corpus = buildSpanCorpus([row(1, 0, [1, 2, 3, 4]), row(2, 0, [3, 4, 5, 6, 7])]);
    // Starts 0..5 match [1,2,3,4] (4), [2,3,4] (inside it), [3,4,5,6] (4), [4,5,6] (inside), [5,6], [6].
    const { spans } = findSpans(corpus, [1, 2, 3, 4, 5, 6, 9], ALL);
    expect(spans.map((s) => [s.start, s.length])).toEqual([[0, 4], [2, 4]]);
  });

  it('drops spans shorter than minLength or more frequent than maxFrequency, and caps listed occurrences', () => {
    const common = [1, 2, 3];
    const rows = [row(1, 0, [...common, 10, 11, 12, 13]), row(2, 0, [...common, 20]), row(3, 0, [...common, 30]), row(3, 1, [5, ...common])];
    const corpus = buildSpanCorpus(rows);
    const q = [...common, 10, 11, 12, 13, 0, ...common, 40];
    expect(findSpans(corpus, q, ALL).spans.map((s) => [s.start, s.length, s.count])).toEqual([[0, 7, 1], [8, 3, 4]]);
    expect(findSpans(corpus, q, { ...ALL, minLength: 4 }).spans.map((s) => s.start)).toEqual([0]);
    expect(findSpans(corpus, q, { ...ALL, maxFrequency: 3 }).spans.map((s) => s.start)).toEqual([0]);
    expect(findSpans(corpus, q, { ...ALL, maxFrequency: 4 }).spans.map((s) => s.start)).toEqual([0, 8]);
    const capped = findSpans(corpus, q, { ...ALL, maxOccurrences: 2 }).spans[1]!;
    expect(capped.count).toBe(4);
    // The first two in corpus order: contribution 1's row, then contribution 2's.
    expect(capped.occurrences.map((o) => [o.contributionId, o.rowIndex, o.position])).toEqual([[1n, 0, 0], [2n, 0, 0]]);
  });

  it('applies the documented defaults (minLength 8)', () => {
    const corpus = buildSpanCorpus([row(1, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9])]);
    expect(findSpans(corpus, [1, 2, 3, 4, 5, 6, 7]).spans).toEqual([]);
    expect(findSpans(corpus, [1, 2, 3, 4, 5, 6, 7, 8]).spans).toHaveLength(1);
  });

  it('credits only owned rows, splitting shared tokens equally', () => {
    const rows = [
      row(1, 0, [1, 2, 3, 4, 5, 6]),
      row(2, 0, [4, 5, 6, 7, 8]),
      row(3, 0, [1, 2, 3, 4, 5, 6], false), // a copy of contribution 1's row: listed, never credited
    ];
    const match = findSpans(buildSpanCorpus(rows), [1, 2, 3, 4, 5, 6, 7, 8, 0], { ...ALL, minLength: 2 });
    expect(match.spans.map((s) => [s.start, s.length, s.count])).toEqual([[0, 6, 2], [3, 5, 1]]);
    expect(match.spans[0]!.occurrences.map((o) => [o.contributionId, o.owned])).toEqual([[1n, true], [3n, false]]);
    // Tokens 0–2: contribution 1 alone; 3–5: 1 and 2; 6–7: 2 alone.
    expect(match.evidence).toEqual([
      { contributionId: 1n, contributor: addr(1), spans: 1, occurrences: 1, matchedTokens: 6, creditedTokens: 4.5 },
      { contributionId: 2n, contributor: addr(2), spans: 1, occurrences: 1, matchedTokens: 5, creditedTokens: 3.5 },
    ]);
  });

  it('answers nothing for an empty output or corpus', () => {
    expect(findSpans(buildSpanCorpus([row(1, 0, [1, 2])]), [], ALL)).toEqual({ outputTokens: 0, spans: [], evidence: [] });
    expect(findSpans(buildSpanCorpus([]), [1, 2], ALL)).toEqual({ outputTokens: 2, spans: [], evidence: [] });
    expect(findSpans(buildSpanCorpus([row(1, 0, [])]), [1, 2], ALL).spans).toEqual([]);
  });

  it('refuses bad tokens and options, naming the value', () => {
    const corpus = buildSpanCorpus([row(1, 0, [1, 2])]);
    expect(() => findSpans(corpus, [1, -2])).toThrow(SpanIndexError);
    expect(() => findSpans(corpus, [1, -2])).toThrow(/output token -2 at position 1/);
    expect(() => findSpans(corpus, [1.5])).toThrow(/output token 1.5 at position 0/);
    expect(() => findSpans(corpus, [1], { minLength: 0 })).toThrow(/minLength must be a positive integer, got 0/);
    expect(() => findSpans(corpus, [1], { maxFrequency: 0.5 })).toThrow(/maxFrequency .* got 0.5/);
    expect(() => findSpans(corpus, [1], { maxOccurrences: -1 })).toThrow(/maxOccurrences .* got -1/);
  });
});

describe('buildSpanCorpus', () => {
  it('refuses rows it cannot index, naming the row and value', () => {
    expect(() => buildSpanCorpus([row(1, 0, [1, 2 ** 24])])).toThrow(/token 16777216 at position 1 of row 0 of contribution 1/);
    expect(() => buildSpanCorpus([row(1, -1, [1])])).toThrow(/row index -1 of contribution 1/);
    expect(() => buildSpanCorpus([{ ...row(1, 0, [1]), contributor: '0x12' as Address }])).toThrow(/contributor "0x12"/);
    expect(() => buildSpanCorpus([row(1, 0, [1]), { ...row(1, 1, [2]), contributor: addr(9) }])).toThrow(/names contributor 0x0+9, but an earlier row of it names 0x0+1/);
  });

  it('lays rows out with a separator after each and suffixes of tokens only', () => {
    const corpus = buildSpanCorpus([row(5, 3, [2, 1]), row(5, 4, []), row(6, 0, [1])]);
    expect(Array.from(corpus.text)).toEqual([2, 1, 0xffff, 0xffff, 1, 0xffff]);
    expect(Array.from(corpus.rowStart)).toEqual([0, 3, 4, 6]);
    expect(Array.from(corpus.suffixArray)).toEqual([4, 1, 0]); // [1], [1, sep…], [2, 1, …]
    expect(Array.from(corpus.rowIndex)).toEqual([3, 4, 0]);
    expect(Array.from(corpus.rowContribution)).toEqual([0, 0, 1]);
    expect(corpus.contributions.map((c) => c.contributionId)).toEqual([5n, 6n]);
  });
});
