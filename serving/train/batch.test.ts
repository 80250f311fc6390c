import { describe, expect, it } from 'vitest';
import { padBatch } from './batch.ts';

describe('padBatch', () => {
  it('shifts tokens into inputs and targets and pads to the longest, masking the padding', () => {
    const b = padBatch(
      [
        { tokens: [1, 2, 3, 4], lossMask: [0, 1, 1] },
        { tokens: [5, 6], lossMask: [1] },
      ],
      9,
    );
    expect(b).toEqual({
      inputs: [[1, 2, 3], [5, 9, 9]],
      targets: [[2, 3, 4], [6, 9, 9]],
      mask: [[0, 1, 1], [1, 0, 0]],
      length: 3,
      realTokens: 4,
    });
  });

  it('refuses a loss mask that is not one entry per next-token target', () => {
    expect(() => padBatch([{ tokens: [1, 2, 3], lossMask: [1, 1, 1] }])).toThrow(/example 0 has 3 tokens and a loss mask of 3; the mask needs tokens − 1 entries/);
    expect(() => padBatch([{ tokens: [1], lossMask: [] }])).toThrow(/example 0 has 1 token\(s\)/);
    expect(() => padBatch([])).toThrow(/at least one example/);
  });
});
