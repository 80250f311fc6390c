// Splitting an integer amount in proportion to integer weights so that the parts add up exactly to the
// whole (the largest remainder method, also called Hamilton's): every part first gets the floor of its exact
// share, and the wei left over go one each to the parts whose exact shares lost the most to the floor.
// Equal remainders are ordered by the caller's key (addresses, for payouts), so the result never depends on
// the order the parts are given in.

export interface WeightedPart<K> {
  key: K;
  /** A non-negative integer; only its ratio to the other weights matters. */
  weight: bigint;
}

/**
 * `total` split in proportion to the weights, in the order the parts are given. Each part gets
 * floor(total × w / W) or one more; the parts sum to `total` exactly; a part of weight 0 gets 0.
 * `compareKeys` orders parts whose remainders are equal: the one that sorts first gets the extra unit.
 * Throws RangeError for a negative total or weight, or when the weights sum to 0 and `total` is not 0.
 */
export function largestRemainder<K>(total: bigint, parts: readonly WeightedPart<K>[], compareKeys: (a: K, b: K) => number): bigint[] {
  if (total < 0n) throw new RangeError(`largestRemainder: total must not be negative, got ${total}`);
  let sum = 0n;
  for (const p of parts) {
    if (p.weight < 0n) throw new RangeError(`largestRemainder: weight of ${String(p.key)} must not be negative, got ${p.weight}`);
    sum += p.weight;
  }
  if (sum === 0n) {
    if (total !== 0n) throw new RangeError(`largestRemainder: cannot split ${total} among parts whose weights sum to 0`);
    return parts.map(() => 0n);
  }
  const shares = new Array<bigint>(parts.length);
  const remainders = new Array<bigint>(parts.length);
  let given = 0n;
  parts.forEach((p, i) => {
    const n = total * p.weight;
    shares[i] = n / sum;
    remainders[i] = n % sum;
    given += shares[i]!;
  });
  // left = Σ remainders / sum < the number of parts with a remainder, so only those can get a unit.
  let left = total - given;
  if (left > 0n) {
    const order = parts
      .map((_, i) => i)
      .filter((i) => remainders[i]! > 0n)
      .sort((a, b) => (remainders[a]! > remainders[b]! ? -1 : remainders[a]! < remainders[b]! ? 1 : compareKeys(parts[a]!.key, parts[b]!.key)));
    for (const i of order) {
      if (left === 0n) break;
      shares[i]! += 1n;
      left -= 1n;
    }
  }
  return shares;
}

/** Orders 0x-hex addresses by their numeric value (the order `AttributionSettlement` sorts signers in). */
export function compareAddresses(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
