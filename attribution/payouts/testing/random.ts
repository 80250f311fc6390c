// A small seeded generator for property-style tests (no fast-check in this repository): the same seed
// gives the same cases on every machine, and a failing case names its seed.
import { keccak256, toHex, type Address, type Hex } from 'viem';

export interface Random {
  /** An integer in [0, n). */
  int(n: number): number;
  /** A bigint in [0, n). */
  big(n: bigint): bigint;
  pick<T>(xs: readonly T[]): T;
  bool(p?: number): boolean;
}

/** mulberry32: 32-bit state, good enough to draw test cases. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Random = {
    int: (n) => Math.floor(next() * n),
    big(n) {
      if (n <= 0n) return 0n;
      let x = 0n;
      for (let bits = 0n; (1n << bits) < n * 4n; bits += 32n) x = (x << 32n) | BigInt(Math.floor(next() * 4294967296));
      return x % n;
    },
    pick: (xs) => xs[r.int(xs.length)]!,
    bool: (p = 0.5) => next() < p,
  };
  return r;
}

/** A deterministic bytes32 id for a label. */
export const id32 = (label: string): Hex => keccak256(toHex(label));

/** A deterministic address for a label (lowercase). */
export const addressOf = (label: string): Address => `0x${keccak256(toHex(`address ${label}`)).slice(26)}` as Address;
