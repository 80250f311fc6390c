// The evaluation's statistics: Spearman's rank correlation (ties get their average rank), the area under
// the ROC curve (Mann–Whitney, ties count half), and a percentile bootstrap interval for a mean.
import { createRandom } from './random.ts';

/** Ranks 1…n, tied values sharing their average rank. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = avg;
    i = j + 1;
  }
  return out;
}

/** Pearson's correlation; 0 when either side is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pearson: ${n} values against ${y.length}`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export const spearman = (x: ArrayLike<number>, y: ArrayLike<number>): number => pearson(ranks(x), ranks(y));

/** AUC of `scores` for telling positives (labels true) from negatives: P(score of a positive > score of a negative). */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const r = ranks(scores);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < r.length; i++) {
    if (labels[i]) {
      pos++;
      rankSum += r[i]!;
    }
  }
  const neg = r.length - pos;
  if (!pos || !neg) throw new RangeError(`AUC needs positives and negatives, got ${pos} and ${neg}`);
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface MeanInterval {
  mean: number;
  /** 95% percentile bootstrap interval. */
  low: number;
  high: number;
}

export function bootstrapMean(values: readonly number[], opts: { resamples?: number; seed?: number } = {}): MeanInterval {
  const n = values.length;
  if (!n) throw new RangeError('no values to average');
  const B = opts.resamples ?? 2000;
  const rnd = createRandom(opts.seed ?? 0);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rnd.int(n)]!;
    means[b] = s / n;
  }
  means.sort();
  return { mean, low: means[Math.floor(0.025 * (B - 1))]!, high: means[Math.ceil(0.975 * (B - 1))]! };
}
