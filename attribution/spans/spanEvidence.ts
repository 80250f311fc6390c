// Span evidence per contribution, for the epoch code to combine with influence scores. Only owned rows
// count: a row copied from an earlier contribution earns nothing (DESIGN.md), so its occurrences are
// listed with the spans but credit no one here.
//
// Credit is per output token: each token covered by at least one kept span with an owned occurrence is
// shared equally among the contributions holding such a span over it. So the contributions' credited
// tokens sum to the number of covered tokens, and a contribution that holds the text alone gets it all.
import type { Address } from 'viem';
import type { SpanCorpus } from './spanCorpus.ts';

export interface ContributionEvidence {
  contributionId: bigint;
  contributor: Address;
  /** Kept spans with an occurrence in an owned row of this contribution. */
  spans: number;
  /** Occurrences of kept spans in its owned rows. */
  occurrences: number;
  /** Output tokens covered by those spans. */
  matchedTokens: number;
  /** Its share of the covered output tokens: each covered token split equally among the contributions matching it. */
  creditedTokens: number;
}

/**
 * Evidence for an output of `outputTokens` tokens from kept spans, each with the row of every occurrence.
 * Sorted by credited tokens (descending), then contribution id.
 */
export function spanEvidence(corpus: SpanCorpus, outputTokens: number, spans: readonly { start: number; length: number; rows: Uint32Array }[]): ContributionEvidence[] {
  const byContribution = new Map<number, { spans: number; occurrences: number; covered: Uint8Array }>();
  for (const span of spans) {
    const seen = new Set<number>();
    for (const r of span.rows) {
      if (corpus.rowOwned[r] !== 1) continue;
      const c = corpus.rowContribution[r]!;
      let e = byContribution.get(c);
      if (!e) byContribution.set(c, (e = { spans: 0, occurrences: 0, covered: new Uint8Array(outputTokens) }));
      e.occurrences++;
      if (!seen.has(c)) {
        seen.add(c);
        e.spans++;
        e.covered.fill(1, span.start, span.start + span.length);
      }
    }
  }
  const sharing = new Uint32Array(outputTokens); // contributions covering each output token
  for (const e of byContribution.values()) for (let p = 0; p < outputTokens; p++) sharing[p]! += e.covered[p]!;
  const evidence: ContributionEvidence[] = [];
  for (const [c, e] of byContribution) {
    let matched = 0;
    let credited = 0;
    for (let p = 0; p < outputTokens; p++) {
      if (e.covered[p] === 1) {
        matched++;
        credited += 1 / sharing[p]!;
      }
    }
    const { contributionId, contributor } = corpus.contributions[c]!;
    evidence.push({ contributionId, contributor, spans: e.spans, occurrences: e.occurrences, matchedTokens: matched, creditedTokens: credited });
  }
  return evidence.sort((a, b) => b.creditedTokens - a.creditedTokens || (a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0));
}
