import { describe, expect, it } from 'vitest';
import { warmupCosine } from './schedule.ts';

describe('warmupCosine', () => {
  it('warms up linearly, then decays on a half cosine to the floor', () => {
    const lr = warmupCosine({ peak: 1, warmupSteps: 2, totalSteps: 6 });
    const got = [0, 1, 2, 3, 4, 5].map(lr);
    const want = [0.5, 1, 1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos((3 * Math.PI) / 4))];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    const floored = warmupCosine({ peak: 1e-3, warmupSteps: 0, totalSteps: 4, floor: 1e-4 });
    expect(floored(0)).toBeCloseTo(1e-3, 15);
    expect(floored(2)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 15);
  });

  it('refuses impossible settings, naming the value', () => {
    expect(() => warmupCosine({ peak: 1, warmupSteps: 7, totalSteps: 6 })).toThrow(/warmup steps must be an integer in \[0, 6\], got 7/);
    expect(() => warmupCosine({ peak: 1, warmupSteps: 0, totalSteps: 0 })).toThrow(/total steps must be a positive integer, got 0/);
    expect(() => warmupCosine({ peak: 1, warmupSteps: 0, totalSteps: 3, floor: 2 })).toThrow(/floor learning rate must be in \[0, peak = 1\], got 2/);
  });
});
