// The spans of a model output that occur verbatim in a corpus, as OLMoTrace finds them (Liu et al.,
// 2025): for every start position the longest prefix of the rest of the output that occurs in the
// corpus, narrowed token by token over the suffix array with two binary searches each; keep the maximal
// spans (not inside another); drop those shorter than `minLength` or occurring more than `maxFrequency`
// times; then map each kept span's occurrences to rows and contributions.
//
// Filtering after maximality loses nothing: a span inside another occurs at least as often and is
// shorter, so it would fail both filters whenever the span around it does.
import type { Address } from 'viem';
import { SpanIndexError } from './errors.ts';
import { spanEvidence, type ContributionEvidence } from './spanEvidence.ts';
import { rowAt, type SpanCorpus } from './spanCorpus.ts';

export interface FindSpansOptions {
  /** Shortest span kept, in tokens (default 8). */
  minLength?: number;
  /**
   * Spans occurring more often than this in the corpus are dropped (default 32; Infinity keeps all). Every
   * occurrence of a kept span is mapped to its row for the evidence, so this also bounds a query's work.
   */
  maxFrequency?: number;
  /** Occurrences listed per span, the first ones in corpus order (default 16); `count` has them all. */
  maxOccurrences?: number;
}

export const DEFAULT_FIND_SPANS_OPTIONS: Required<FindSpansOptions> = { minLength: 8, maxFrequency: 32, maxOccurrences: 16 };

export interface SpanOccurrence {
  contributionId: bigint;
  rowIndex: number;
  contributor: Address;
  owned: boolean;
  /** Token offset of the span in the row's tokens. */
  position: number;
}

export interface MatchedSpan {
  /** Token offset of the span in the output. */
  start: number;
  /** Tokens in the span. */
  length: number;
  /** Occurrences in the corpus. */
  count: number;
  /** The first `maxOccurrences` occurrences, in corpus order (contribution and row as indexed, then position). */
  occurrences: SpanOccurrence[];
}

export interface SpanMatch {
  outputTokens: number;
  /** Kept spans, longest first (ties: earlier start first). */
  spans: MatchedSpan[];
  /** Per contribution, from every occurrence of the kept spans in owned rows; see spanEvidence.ts. */
  evidence: ContributionEvidence[];
}

/** The spans of `tokens` (an output's token ids) that occur in `corpus`. */
export function findSpans(corpus: SpanCorpus, tokens: ArrayLike<number>, options: FindSpansOptions = {}): SpanMatch {
  const { minLength, maxFrequency, maxOccurrences } = checkOptions(options);
  const m = tokens.length;
  // A token the corpus cannot hold (the separator or above) becomes -1, which equals no text value.
  const q = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const id = tokens[i]!;
    if (!Number.isInteger(id) || id < 0) throw new SpanIndexError(`output token ${id} at position ${i} is not a token id`, { details: 'ids are non-negative integers' });
    q[i] = id < corpus.separator ? id : -1;
  }

  // Longest match at each start, with its suffix-array interval [lo, hi).
  const { text, suffixArray: sa } = corpus;
  const kept: { start: number; length: number; lo: number; hi: number }[] = [];
  let furthestEnd = 0;
  for (let i = 0; i < m; i++) {
    let lo = 0;
    let hi = sa.length;
    let k = 0;
    while (i + k < m && q[i + k]! >= 0) {
      const c = q[i + k]!;
      // First suffix in [lo, hi) whose token at offset k is ≥ c, then the first whose token is > c. Every
      // suffix in the interval matches k real tokens, so offset k is inside the text (at worst a separator).
      let a = lo;
      let b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (text[sa[mid]! + k]! < c) a = mid + 1;
        else b = mid;
      }
      let e = a;
      b = hi;
      while (e < b) {
        const mid = (e + b) >>> 1;
        if (text[sa[mid]! + k]! <= c) e = mid + 1;
        else b = mid;
      }
      if (a === e) break;
      lo = a;
      hi = e;
      k++;
    }
    // Maximal: its end lies beyond every earlier span's (a later start cannot contain it).
    if (k > 0 && i + k > furthestEnd) {
      furthestEnd = i + k;
      if (k >= minLength && hi - lo <= maxFrequency) kept.push({ start: i, length: k, lo, hi });
    }
  }

  const forEvidence: { start: number; length: number; rows: Uint32Array }[] = [];
  const spans: MatchedSpan[] = kept.map(({ start, length, lo, hi }) => {
    const positions = sa.slice(lo, hi).sort(); // corpus order
    const rows = new Uint32Array(positions.length);
    for (let j = 0; j < positions.length; j++) rows[j] = rowAt(corpus, positions[j]!);
    forEvidence.push({ start, length, rows });
    const occurrences: SpanOccurrence[] = [];
    for (let j = 0; j < Math.min(positions.length, maxOccurrences); j++) {
      const r = rows[j]!;
      const contribution = corpus.contributions[corpus.rowContribution[r]!]!;
      occurrences.push({
        contributionId: contribution.contributionId,
        rowIndex: corpus.rowIndex[r]!,
        contributor: contribution.contributor,
        owned: corpus.rowOwned[r] === 1,
        position: positions[j]! - corpus.rowStart[r]!,
      });
    }
    return { start, length, count: hi - lo, occurrences };
  });
  spans.sort((x, y) => y.length - x.length || x.start - y.start);
  return { outputTokens: m, spans, evidence: spanEvidence(corpus, m, forEvidence) };
}

function checkOptions(options: FindSpansOptions): Required<FindSpansOptions> {
  const o = { ...DEFAULT_FIND_SPANS_OPTIONS, ...options };
  if (!Number.isSafeInteger(o.minLength) || o.minLength < 1) throw new SpanIndexError(`minLength must be a positive integer, got ${o.minLength}`);
  if (!(o.maxFrequency === Infinity || (Number.isSafeInteger(o.maxFrequency) && o.maxFrequency >= 1))) {
    throw new SpanIndexError(`maxFrequency must be a positive integer or Infinity, got ${o.maxFrequency}`);
  }
  if (!Number.isSafeInteger(o.maxOccurrences) || o.maxOccurrences < 0) throw new SpanIndexError(`maxOccurrences must be a non-negative integer, got ${o.maxOccurrences}`);
  return o;
}
