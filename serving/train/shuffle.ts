// Seeded permutations for the eval split and the batch order. Training must be bit-for-bit repeatable
// for a seed (the manifest records the seed, and attribution re-derives which rows were seen when), so
// nothing here touches Math.random: a small 32-bit generator (mulberry32) per stream, each stream
// seeded from (seed, purpose, index) so the split and every epoch's order are independent of each other.

/** A generator of uniform floats in [0, 1), fully determined by its seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes numbers into one 32-bit seed (FNV-1a over their 32-bit words), so streams never collide by accident. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // Split into two 32-bit halves so seeds above 2³² still differ.
    for (const word of [p >>> 0, Math.floor(p / 4294967296) >>> 0]) {
      for (let i = 0; i < 4; i++) {
        h ^= (word >>> (8 * i)) & 0xff;
        h = Math.imul(h, 0x01000193) >>> 0;
      }
    }
  }
  return h >>> 0;
}

/** A permutation of 0 … n−1 (Fisher–Yates), determined by the seed. */
export function seededPermutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
