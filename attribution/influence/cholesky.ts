// The inverse of a small symmetric positive-definite matrix (TRAK's (ΦᵀΦ + λI) or its n × n dual), by
// Cholesky factorisation in float64. It runs once per checkpoint when a scorer is built, never per
// score; n is the sketch width or the number of training examples, whichever is smaller.

export class NotPositiveDefiniteError extends Error {
  override name = 'NotPositiveDefiniteError';
}

/** Returns M⁻¹ for the n × n symmetric positive-definite M (row-major); M is not modified. */
export function spdInverse(M: Float64Array, n: number): Float64Array {
  if (M.length !== n * n) throw new RangeError(`expected ${n}×${n} = ${n * n} numbers, got ${M.length}`);
  // M = L·Lᵀ, L lower triangular.
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = M[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0)) throw new NotPositiveDefiniteError(`the matrix is not positive definite (pivot ${j} is ${d}); add a larger damping λ`);
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = M[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  // L⁻¹ by forward substitution, column by column, then M⁻¹ = L⁻ᵀ·L⁻¹.
  const Li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    Li[c * n + c] = 1 / L[c * n + c]!;
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s -= L[i * n + k]! * Li[k * n + c]!;
      Li[i * n + c] = s / L[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i]! * Li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
