// A small seeded pseudo-random generator (sfc32, seeded through splitmix32), so that the corpus is
// byte-identical for a given seed on every machine: only 32-bit integer arithmetic and one exact
// division by 2^32, never Math.random.

/** The choices the grammar makes, all drawn from one seeded stream. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi], both ends included. */
  between(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks an item with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  /** k distinct items in random order (all of them when k ≥ items.length). */
  sample<T>(items: readonly T[], k: number): T[];
  shuffle<T>(items: readonly T[]): T[];
}

/** splitmix32: spreads one 32-bit value into a well-mixed one (used for seeding only). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Mixes a seed and a document index into one 32-bit seed, so that each document has its own stream:
 * document i is the same whether 10 or 10,000 documents are generated.
 */
export function deriveSeed(seed: number, index: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return splitmix32(splitmix32(splitmix32(lo) ^ hi) ^ (index >>> 0));
}

/** A generator from a non-negative integer seed (any safe integer; the high bits count too). */
export function createRandom(seed: number): Random {
  let a = splitmix32(seed >>> 0);
  let b = splitmix32(a ^ (Math.floor(seed / 2 ** 32) >>> 0));
  let c = splitmix32(b);
  let d = 1;
  const u32 = (): number => {
    // sfc32 (Chris Doty-Humphrey's small fast counting generator).
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of a fresh state are still correlated with the seed.
  for (let i = 0; i < 12; i++) u32();

  const next = () => u32() / 2 ** 32;
  const int = (n: number) => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer n, got ${n}`);
    return Math.floor(next() * n);
  };
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[int(items.length)] as T;
  };
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  return {
    next,
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick,
    weighted: <T>(entries: readonly (readonly [T, number])[]): T => {
      let total = 0;
      for (const [, w] of entries) total += w;
      if (!(total > 0)) throw new RangeError('weighted() needs a positive total weight');
      let x = next() * total;
      for (const [item, w] of entries) {
        if (x < w) return item;
        x -= w;
      }
      return (entries[entries.length - 1] as readonly [T, number])[0];
    },
    sample: <T>(items: readonly T[], k: number): T[] => shuffle(items).slice(0, Math.max(0, k)),
    shuffle,
  };
}
