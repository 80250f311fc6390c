// For tests that compare two computations of the same numbers (merged and unmerged LoRA, a kernel and
// its tf ops reference, save and load): the largest absolute difference, element by element.
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
