// The baseline: no index. For every start of the output, scan the whole corpus, extending a match at each
// position, and keep the longest length and how many positions reach it; then the same maximality and
// filters as findSpans. O(output × corpus × match length) per query.
import type { SpanRow } from '../../attribution/index.ts';

export interface NaiveCorpus {
  /** Rows' tokens, each followed by -1 (which no output token equals). */
  text: Int32Array;
}

export function naiveCorpus(rows: readonly SpanRow[]): NaiveCorpus {
  const length = rows.reduce((n, r) => n + r.tokens.length + 1, 0);
  const text = new Int32Array(length);
  let at = 0;
  for (const r of rows) {
    for (let i = 0; i < r.tokens.length; i++) text[at++] = r.tokens[i]!;
    text[at++] = -1;
  }
  return { text };
}

/** Spans as findSpans keeps them (start, length, count), longest first. */
export function naiveFindSpans(corpus: NaiveCorpus, q: readonly number[], o: { minLength: number; maxFrequency: number }): { start: number; length: number; count: number }[] {
  const { text } = corpus;
  const n = text.length;
  const spans: { start: number; length: number; count: number }[] = [];
  let furthestEnd = 0;
  for (let i = 0; i < q.length; i++) {
    let best = 0;
    let count = 0;
    const first = q[i]!;
    for (let p = 0; p < n; p++) {
      if (text[p] !== first) continue;
      let k = 1;
      while (i + k < q.length && p + k < n && text[p + k] === q[i + k]) k++;
      if (k > best) {
        best = k;
        count = 1;
      } else if (k === best) count++;
    }
    if (best > 0 && i + best > furthestEnd) {
      furthestEnd = i + best;
      if (best >= o.minLength && count <= o.maxFrequency) spans.push({ start: i, length: best, count });
    }
  }
  return spans.sort((a, b) => b.length - a.length || a.start - b.start);
}
