// Suffix sorting by induced sorting (SA-IS, Nong, Zhang and Chan, 2009): linear time, integer alphabet,
// typed arrays only. The recursion works inside the output array: the reduced string and its suffix
// array are two halves of it (the reduced string has at most n/2 symbols), so extra memory is one type
// byte per symbol plus the bucket tables.
import { SpanIndexError } from './errors.ts';

/**
 * The suffix array of `symbols` (each an integer in [0, alphabetSize)): the start positions of all
 * suffixes in lexicographic order, a proper prefix sorting before its extensions.
 */
export function suffixArray(symbols: ArrayLike<number>, alphabetSize: number): Int32Array {
  const n = symbols.length;
  if (!Number.isSafeInteger(alphabetSize) || alphabetSize < 1 || alphabetSize > 2 ** 30) {
    throw new SpanIndexError(`an alphabet of ${alphabetSize} symbols cannot be suffix-sorted`, { details: 'it must be an integer from 1 to 2^30' });
  }
  if (n + 1 > 2 ** 31 - 1) throw new SpanIndexError(`${n} symbols are too many to suffix-sort`, { details: 'at most 2^31 - 2' });
  // Shift every symbol up by one and end with 0, the unique smallest sentinel SA-IS needs.
  const s = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const c = symbols[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= alphabetSize) {
      throw new SpanIndexError(`symbol ${c} at position ${i} is outside the alphabet`, { details: `symbols must be integers from 0 to ${alphabetSize - 1}` });
    }
    s[i] = c + 1;
  }
  const sa = new Int32Array(n + 1);
  sortTerminated(s, sa, alphabetSize + 1);
  return sa.subarray(1); // sa[0] is the sentinel's suffix
}

/**
 * Fills `sa[0 .. s.length)` with the suffix array of `s`, which must end with its only 0 (the sentinel)
 * and hold symbols below `alphabetSize`. `sa` may be longer than `s`; the rest is left untouched.
 */
export function sortTerminated(s: Int32Array, sa: Int32Array, alphabetSize: number): void {
  const n = s.length;
  if (n === 1) {
    sa[0] = 0;
    return;
  }
  // Types: S (1) when the suffix at i is smaller than the one at i + 1, L (0) when larger.
  const t = new Uint8Array(n);
  t[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) t[i] = s[i]! < s[i + 1]! || (s[i] === s[i + 1] && t[i + 1] === 1) ? 1 : 0;
  // Leftmost-S positions: an S preceded by an L.
  const isLms = (i: number) => i > 0 && t[i] === 1 && t[i - 1] === 0;

  const counts = new Int32Array(alphabetSize);
  for (let i = 0; i < n; i++) counts[s[i]!]!++;
  const bucket = new Int32Array(alphabetSize);
  const heads = () => {
    for (let c = 0, sum = 0; c < alphabetSize; c++) {
      bucket[c] = sum;
      sum += counts[c]!;
    }
  };
  const tails = () => {
    for (let c = 0, sum = 0; c < alphabetSize; c++) {
      sum += counts[c]!;
      bucket[c] = sum;
    }
  };
  const induce = () => {
    heads();
    for (let i = 0; i < n; i++) {
      const j = sa[i]! - 1;
      if (j >= 0 && t[j] === 0) sa[bucket[s[j]!]!++] = j;
    }
    tails();
    for (let i = n - 1; i >= 0; i--) {
      const j = sa[i]! - 1;
      if (j >= 0 && t[j] === 1) sa[--bucket[s[j]!]!] = j;
    }
  };

  // 1. Sort the LMS substrings: LMS positions at their buckets' tails, then induce.
  sa.fill(-1, 0, n);
  tails();
  for (let i = 1; i < n; i++) if (isLms(i)) sa[--bucket[s[i]!]!] = i;
  induce();

  // 2. Name them: equal LMS substrings get equal names, in sorted order. The sorted LMS positions move to
  // sa[0 .. n1); each name goes to sa[n1 + pos/2] (LMS positions are never adjacent, so these differ and
  // stay below n), which keeps the names in text order.
  let n1 = 0;
  for (let i = 0; i < n; i++) if (isLms(sa[i]!)) sa[n1++] = sa[i]!;
  sa.fill(-1, n1, n);
  let names = 0;
  let previous = -1;
  for (let i = 0; i < n1; i++) {
    const pos = sa[i]!;
    if (previous < 0 || !sameLmsSubstring(s, t, previous, pos)) names++;
    previous = pos;
    sa[n1 + (pos >> 1)] = names - 1;
  }
  for (let i = n - 1, j = n - 1; i >= n1; i--) if (sa[i]! >= 0) sa[j--] = sa[i]!;

  // 3. Sort the reduced string (the names in text order; it ends with the sentinel's name 0, unique).
  const s1 = sa.subarray(n - n1, n);
  const sa1 = sa.subarray(0, n1);
  if (names < n1) sortTerminated(s1, sa1, names);
  else for (let i = 0; i < n1; i++) sa1[s1[i]!] = i;

  // 4. The LMS suffixes in sorted order, at their buckets' tails (right to left, so none is overwritten
  // before it is moved), then induce the rest.
  for (let i = 1, j = 0; i < n; i++) if (isLms(i)) s1[j++] = i;
  for (let i = 0; i < n1; i++) sa1[i] = s1[sa1[i]!]!;
  sa.fill(-1, n1, n);
  tails();
  for (let i = n1 - 1; i >= 0; i--) {
    const pos = sa[i]!;
    sa[i] = -1;
    sa[--bucket[s[pos]!]!] = pos;
  }
  induce();
}

/** Whether the LMS substrings at a and b (from one LMS position to the next, inclusive) are equal. */
function sameLmsSubstring(s: Int32Array, t: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; ; k++) {
    if (s[a + k] !== s[b + k] || t[a + k] !== t[b + k]) return false;
    if (k > 0) {
      const endA = t[a + k] === 1 && t[a + k - 1] === 0;
      const endB = t[b + k] === 1 && t[b + k - 1] === 0;
      if (endA || endB) return endA && endB;
    }
  }
}
