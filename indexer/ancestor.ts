// The last block the indexer and the chain still agree on, after a reorg deeper than the finality
// window. Only blocks that hold indexed rows matter (the rest left nothing to undo), and agreement is
// monotone (a block whose hash matches has every ancestor in common too), so an exponential probe
// downwards followed by a bisection needs O(log depth) block-hash lookups.
import type { HashAndHeight } from '@subsquid/util-internal-processor-tools';

export interface AncestorSearch {
  /** The highest indexed block at or below `height` and above `above`, if any. */
  indexedBlockAtOrBelow(height: number, above: number): Promise<HashAndHeight | undefined>;
  /** The chain's hash at `height`, undefined when the chain is not that high. */
  chainHash(height: number): Promise<string | undefined>;
}

/**
 * The highest indexed block below `mismatch` (a height known to differ from the chain) whose hash the
 * chain still has; undefined when none does, meaning everything must be re-indexed.
 */
export async function findCommonAncestor(search: AncestorSearch, mismatch: number): Promise<HashAndHeight | undefined> {
  const matches = async (b: HashAndHeight) => (await search.chainHash(b.height)) === b.hash;
  let hi = mismatch;
  let good: HashAndHeight | undefined;
  // Probe 1, 2, 4, … blocks down until an indexed block matches (or none is left).
  for (let step = 1; ; step *= 2) {
    const b = await search.indexedBlockAtOrBelow(hi - step, -1);
    if (!b) break;
    if (await matches(b)) {
      good = b;
      break;
    }
    hi = b.height;
  }
  // Bisect between the match (or nothing) and the lowest known mismatch.
  let lo = good?.height ?? -1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const b = await search.indexedBlockAtOrBelow(mid, lo);
    if (!b) {
      lo = mid; // nothing indexed in (lo, mid]: the answer is above mid, or is `good`
    } else if (await matches(b)) {
      good = b;
      lo = b.height;
    } else {
      hi = b.height;
    }
  }
  return good;
}
