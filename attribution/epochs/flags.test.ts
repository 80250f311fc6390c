import { describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { flagNegativeContributions } from './flags.ts';
import type { InferenceAttribution } from './modelAttribution.ts';

const ALICE = '0x00000000000000000000000000000000000a11ce' as Address;
const BOB = '0x0000000000000000000000000000000000000b0b' as Address;
const id = (i: number) => `0x${i.toString(16).padStart(64, '0')}` as Hex;

/** Inferences where contribution 1 (alice) and 2 (bob) have the given influences. */
function inferences(pairs: [number, number][]): InferenceAttribution[] {
  return pairs.map(([a, b], i) => ({
    requestId: id(i + 1),
    spans: [],
    contributions: [
      { contributionId: 1n, account: ALICE, rows: 2, influence: a, spanTokens: 0, score: a },
      { contributionId: 2n, account: BOB, rows: 3, influence: b, spanTokens: 0, score: b },
    ],
  }));
}

describe('flagNegativeContributions()', () => {
  it('flags a contribution negative in most inferences that touched it, with the most negative ones as evidence', () => {
    const flags = flagNegativeContributions(inferences([[-1, 2], [-3, 1], [-0.5, -1], [-2, 4], [0.1, 3]]));
    expect(flags).toEqual([
      {
        contributionId: 1n,
        account: ALICE,
        inferences: 5,
        negativeInferences: 4,
        meanInfluence: (-1 - 3 - 0.5 - 2 + 0.1) / 5,
        evidence: [
          { requestId: id(2), influence: -3 },
          { requestId: id(4), influence: -2 },
          { requestId: id(1), influence: -1 },
          { requestId: id(3), influence: -0.5 },
        ],
      },
    ]);
  });

  it('needs enough inferences and a large enough negative share', () => {
    expect(flagNegativeContributions(inferences([[-1, 1], [-1, 1]]))).toEqual([]);
    expect(flagNegativeContributions(inferences([[-1, 1], [-1, 1], [1, 1], [1, 1]]))).toEqual([]);
    expect(flagNegativeContributions(inferences([[-1, 1], [-1, 1]]), { minInferences: 2 }).map((f) => f.contributionId)).toEqual([1n]);
    expect(flagNegativeContributions(inferences([[-1, 1], [-1, 1], [1, 1], [1, 1]]), { minNegativeShare: 0.5 }).map((f) => f.contributionId)).toEqual([1n]);
  });

  it('keeps at most five pieces of evidence', () => {
    const f = flagNegativeContributions(inferences(Array.from({ length: 9 }, (_, i) => [-(i + 1), 1] as [number, number])));
    expect(f[0]!.evidence.map((e) => e.influence)).toEqual([-9, -8, -7, -6, -5]);
  });
});
