// The platform's attribution score: gradient influence and span evidence, each scaled per inference to
// unit spread over the training examples (their units differ: a dot product of sketches, and matched
// tokens), then added with the span side weighted. Influence says what shaped the answer; spans say
// where its words were read verbatim, and only ever add credit.
import type { InfluenceMethod } from './scorers.ts';

/** The influence method the platform uses, chosen by `tributary attribution eval` (README: Attribution). */
export const DEFAULT_INFLUENCE_METHOD: InfluenceMethod = 'datainf';

/** Weight of span evidence against influence, both at unit spread (chosen with the influence method, README: Attribution). */
export const DEFAULT_SPAN_WEIGHT = 4;

/** m × n influence and span scores (row-major) → m × n combined scores. */
export function combineSignals(influence: Float32Array, spans: Float32Array, m: number, n: number, spanWeight: number): Float32Array {
  if (influence.length !== m * n || spans.length !== m * n) throw new RangeError(`expected ${m} × ${n} scores, got ${influence.length} and ${spans.length}`);
  const out = new Float32Array(m * n);
  for (let q = 0; q < m; q++) {
    const si = spread(influence, q * n, n);
    const ss = spread(spans, q * n, n);
    for (let i = 0; i < n; i++) {
      const k = q * n + i;
      out[k] = (si ? influence[k]! / si : 0) + (ss ? (spanWeight * spans[k]!) / ss : 0);
    }
  }
  return out;
}

/** Standard deviation of values[from … from + n). */
function spread(values: Float32Array, from: number, n: number): number {
  let s = 0;
  let ss = 0;
  for (let i = from; i < from + n; i++) {
    s += values[i]!;
    ss += values[i]! ** 2;
  }
  return Math.sqrt(Math.max(ss / n - (s / n) ** 2, 0));
}
