// The serving benchmark's summary: one row per arm and workload (medians over --repeat runs), the issue's
// two ratios against their targets (ratios of the medians, and with --repeat their range round by round),
// and anything that went wrong (a request that did not complete, tokens missing, tensors leaked).
import { mib, type ServingBenchmarkReport, type ServingRun } from './benchmark.ts';

/** The issue's targets: with 1000 adapters ≥ 0.8 × the single-adapter throughput (mixed, same alpha); mixed ≥ 4 × the baseline from 100 adapters up. */
export const TARGETS = { scaling: 0.8, scalingAt: 1000, overBaseline: 4, overBaselineFrom: 100 } as const;

export interface ScalingRatio {
  alpha: number;
  adapters: number;
  /** mixed tokens/s with `adapters` adapters over mixed tokens/s with one. */
  ratio: number;
  /** The same with tokens per CPU-second (less sensitive to other processes on the machine). */
  cpuRatio: number;
  /** The target applies to the 1000-adapter runs; null for other sizes. */
  met: boolean | null;
  /** With --repeat, the same ratio round by round (each round's runs minutes apart at most): its range. Null for one round. */
  rounds: RoundRange | null;
}

/** A ratio computed within each --repeat round: how far it moves on this machine from round to round. */
export interface RoundRange {
  min: number;
  max: number;
  count: number;
}

export interface BaselineRatio {
  adapters: number;
  alpha: number | null;
  /** mixed tokens/s over per-adapter tokens/s on the same workload. */
  ratio: number;
  /** The same with tokens per CPU-second. */
  cpuRatio: number;
  /** The target applies from 100 adapters up; null below. */
  met: boolean | null;
  /**
   * The per-adapter baseline with one adapter ÷ the baseline on this workload (tokens/s): the ratio mixed
   * would reach if it served these adapters as fast as the same engine serves one merged model, which it
   * cannot beat (same batches, plus each row's LoRA term). Machine-bound: it is how much the baseline
   * loses to its small batches here. Null without a one-adapter baseline run.
   */
  ceiling: number | null;
  /** With --repeat, the ratio round by round; null for one round. */
  rounds: RoundRange | null;
}

/** One arm on one workload: the median of its runs (with --repeat), and the run that had the median throughput. */
export interface CellSummary {
  adapters: number;
  alpha: number | null;
  scheduling: ServingRun['scheduling'];
  runs: number;
  tokensPerSecond: number;
  tokensPerSecondMin: number;
  tokensPerSecondMax: number;
  tokensPerCpuSecond: number;
  /** The run whose tokens/s is the median (the lower one of the middle two for an even count): the other columns come from it. */
  median: ServingRun;
}

export interface ServingSummary {
  cells: CellSummary[];
  scaling: ScalingRatio[];
  overBaseline: BaselineRatio[];
  problems: string[];
}

const middle = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function summarize(report: ServingBenchmarkReport): ServingSummary {
  const { runs } = report;
  const problems: string[] = [];
  for (const r of runs) {
    const where = `${r.workload.adapters} adapters${r.workload.alpha === null ? '' : `, alpha ${r.workload.alpha}`}, ${r.scheduling}`;
    if (r.failed > 0) problems.push(`${where}: ${r.failed} requests failed (${r.firstError ?? 'no message'})`);
    if (r.completed !== r.requests) problems.push(`${where}: ${r.completed} of ${r.requests} requests completed`);
    if (r.failed === 0 && r.generatedTokens !== r.expectedTokens) problems.push(`${where}: generated ${r.generatedTokens} tokens, the requests asked for ${r.expectedTokens}`);
    if (r.tensorsLeaked !== 0) problems.push(`${where}: ${r.tensorsLeaked} tensors left after the engine closed`);
    // A worker run whose adapters were read on the engine's thread measured the old path, not the loader.
    if (r.loader && (r.loader.onMainThread > 0 || r.loader.workerFailure)) {
      problems.push(`${where}: ${r.loader.onMainThread} adapters were read on the engine's thread, not in the loader's worker${r.loader.workerFailure ? ` (${r.loader.workerFailure})` : ''}`);
    }
  }
  const groups = new Map<string, ServingRun[]>();
  for (const r of runs) {
    const key = `${r.workload.adapters}/${r.workload.alpha}/${r.scheduling}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const cells: CellSummary[] = [...groups.values()].map((group) => {
    const rates = group.map((r) => r.tokensPerSecond);
    const byRate = [...group].sort((a, b) => a.tokensPerSecond - b.tokensPerSecond);
    return {
      adapters: group[0]!.workload.adapters,
      alpha: group[0]!.workload.alpha,
      scheduling: group[0]!.scheduling,
      runs: group.length,
      tokensPerSecond: middle(rates),
      tokensPerSecondMin: Math.min(...rates),
      tokensPerSecondMax: Math.max(...rates),
      tokensPerCpuSecond: middle(group.map((r) => r.tokensPerCpuSecond)),
      median: byRate[Math.floor((byRate.length - 1) / 2)]!,
    };
  });
  const find = (scheduling: string, adapters: number, alpha: number | null) => cells.find((c) => c.scheduling === scheduling && c.adapters === adapters && c.alpha === alpha);
  /** top ÷ bottom (tokens/s) within each round that has both runs; null unless there are two rounds or more. */
  const roundRange = (top: CellSummary, bottom: CellSummary): RoundRange | null => {
    const runsOf = (c: CellSummary) => new Map(groups.get(`${c.adapters}/${c.alpha}/${c.scheduling}`)!.map((r) => [r.repeat, r]));
    const [a, b] = [runsOf(top), runsOf(bottom)];
    const ratios = [...a].filter(([k]) => b.has(k)).map(([k, r]) => r.tokensPerSecond / b.get(k)!.tokensPerSecond);
    return ratios.length < 2 ? null : { min: Math.min(...ratios), max: Math.max(...ratios), count: ratios.length };
  };
  const scaling: ScalingRatio[] = [];
  const single = find('mixed', 1, null);
  const alphas = [...new Set(cells.map((c) => c.alpha).filter((a): a is number => a !== null))];
  const sizes = [...new Set(cells.map((c) => c.adapters))].filter((n) => n > 1).sort((a, b) => a - b);
  if (single) {
    for (const alpha of alphas) {
      for (const adapters of sizes) {
        const many = find('mixed', adapters, alpha);
        if (!many) continue;
        const ratio = many.tokensPerSecond / single.tokensPerSecond;
        scaling.push({ alpha, adapters, ratio, cpuRatio: many.tokensPerCpuSecond / single.tokensPerCpuSecond, met: adapters === TARGETS.scalingAt ? ratio >= TARGETS.scaling : null, rounds: roundRange(many, single) });
      }
    }
  }
  const overBaseline: BaselineRatio[] = [];
  const merged = find('per-adapter', 1, null);
  for (const adapters of [1, ...sizes]) {
    for (const alpha of adapters === 1 ? [null] : alphas) {
      const mixed = find('mixed', adapters, alpha);
      const base = find('per-adapter', adapters, alpha);
      if (!mixed || !base) continue;
      const ratio = mixed.tokensPerSecond / base.tokensPerSecond;
      const ceiling = merged ? merged.tokensPerSecond / base.tokensPerSecond : null;
      overBaseline.push({ adapters, alpha, ratio, cpuRatio: mixed.tokensPerCpuSecond / base.tokensPerCpuSecond, met: adapters >= TARGETS.overBaselineFrom ? ratio >= TARGETS.overBaseline : null, ceiling, rounds: roundRange(mixed, base) });
    }
  }
  return { cells, scaling, overBaseline, problems };
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const roundsText = (r: RoundRange | null) => (r ? `; ${r.min.toFixed(2)}–${r.max.toFixed(2)}× round by round over ${r.count} rounds` : '');

/** The runs as a Markdown table (aligned, so it reads in a terminal too), then the ratios and any problems. */
export function formatReport(report: ServingBenchmarkReport, summary: ServingSummary): string {
  const repeated = summary.cells.some((c) => c.runs > 1);
  const header = ['adapters', 'alpha', 'arm', 'tokens/s', ...(repeated ? ['(min–max)'] : []), 'tokens/CPU-s', 'TTFT p50 s', 'TTFT p99 s', 'latency p50 s', 'mean decode batch', 'peak RSS MiB', 'device miss / evict', 'disk reads / host evict', 'makespan s'];
  const count = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows = summary.cells.map((c) => {
    const r = c.median;
    return [
      String(c.adapters),
      c.alpha === null ? '–' : String(c.alpha),
      c.scheduling === 'mixed' ? 'mixed' : 'per-adapter (baseline)',
      count(c.tokensPerSecond),
      ...(repeated ? [c.runs > 1 ? `${count(c.tokensPerSecondMin)}–${count(c.tokensPerSecondMax)}` : ''] : []),
      count(c.tokensPerCpuSecond),
      seconds(r.firstTokenMs.p50),
      seconds(r.firstTokenMs.p99),
      seconds(r.latencyMs.p50),
      r.engine.meanDecodeBatch.toFixed(1),
      String(Math.round(r.maxRssMiB)),
      `${r.cache.device.misses} / ${r.cache.device.evictions}`,
      `${r.cache.host.misses} / ${r.cache.host.evictions}`,
      r.seconds.toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const left = new Set([2]);
  const line = (cells: string[]) => `| ${cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => (left.has(i) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line), ''];

  for (const s of summary.scaling) {
    const verdict = s.met === null ? '' : s.met ? `  (target ≥ ${TARGETS.scaling}: met)` : `  (target ≥ ${TARGETS.scaling}: NOT met, ${(100 * (1 - s.ratio / TARGETS.scaling)).toFixed(0)}% short)`;
    out.push(`mixed, ${s.adapters} adapters / 1 adapter, alpha ${s.alpha}: ${s.ratio.toFixed(2)}× (per CPU-s ${s.cpuRatio.toFixed(2)}×${roundsText(s.rounds)})${verdict}`);
  }
  for (const b of summary.overBaseline) {
    const verdict = b.met === null ? '' : b.met ? `  (target ≥ ${TARGETS.overBaseline}: met)` : `  (target ≥ ${TARGETS.overBaseline}: NOT met, ${(100 * (1 - b.ratio / TARGETS.overBaseline)).toFixed(0)}% short)`;
    const ceiling = b.ceiling !== null && b.adapters > 1 ? `; ceiling here ${b.ceiling.toFixed(2)}× (the baseline with 1 adapter ÷ with ${b.adapters})` : '';
    out.push(`mixed / per-adapter, ${b.adapters} adapters${b.alpha === null ? '' : `, alpha ${b.alpha}`}: ${b.ratio.toFixed(2)}× (per CPU-s ${b.cpuRatio.toFixed(2)}×${roundsText(b.rounds)})${verdict}${ceiling}`);
  }
  if (!summary.scaling.some((s) => s.met !== null)) out.push(`(the scaling target applies to ${TARGETS.scalingAt} adapters, which this run did not include)`);
  for (const p of summary.problems) out.push(`PROBLEM: ${p}`);

  const profiled = report.runs.filter((r) => r.profile);
  if (profiled.length > 0) {
    out.push('', 'Where the time goes (shares of the profiled replay): self time by area; decode and prefill passes (or ragged passes, which do both) and matmul kernels (inclusive); then every sample charged to the innermost named serving function on its stack:');
    for (const r of profiled) {
      const p = r.profile!;
      const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
      out.push(`- ${r.workload.adapters} adapters${r.workload.alpha === null ? '' : `, alpha ${r.workload.alpha}`}, ${r.scheduling}, ${r.engine.meanStepMs.toFixed(1)} ms a step: ` +
        Object.entries(p.areas).filter(([, v]) => v >= 0.005).map(([k, v]) => `${k} ${pct(v)}`).join(', ') +
        `; ${p.phases.pass > 0 ? `ragged passes ${pct(p.phases.pass)}` : `decode ${pct(p.phases.decode)}, prefill ${pct(p.phases.prefill)}`}, matmul ${pct(p.phases.matmul)}`);
      out.push(`  ${p.functions.filter((f) => f.share >= 0.005).map((f) => `${f.name} ${pct(f.share)}`).join(', ')}`);
    }
  }
  return out.join('\n');
}

/** The lines above the table: what was served, how hard, with what memory. */
export function formatSetup(report: ServingBenchmarkReport): string {
  const s = report.adapterShape;
  const lines = [
    `model: ${report.model}; tensor backend ${report.backend}`,
    `adapters: rank ${s.rank}, alpha ${s.alpha}, on ${s.targets.join(' and ')} (every layer), ${report.adapterBytes.toLocaleString('en-US')} bytes each; ${report.largestAdapters} of them = ${mib(report.allAdaptersBytes)}, written to disk in ${report.adaptersWrittenSeconds.toFixed(1)} s`,
    `device budget ${mib(report.deviceBudgetBytes)} = ${((100 * report.deviceBudgetBytes) / report.allAdaptersBytes).toFixed(1)}% of the ${report.largestAdapters} adapters' bytes (one merged model is ${mib(report.modelBytes)}); host budget ${mib(report.hostBudgetBytes)}`,
    `requests: prompts of ${report.promptTokens[0]}–${report.promptTokens[1]} tokens, ${report.newTokens[0]}–${report.newTokens[1]} new tokens each (greedy, exactly max_tokens); max batch ${report.maxBatch}`,
    report.calibration
      ? `arrivals: Poisson at ${report.rate.toFixed(1)} requests/s = ${report.overload} × the measured capacity (${report.calibration.requestsPerSecond.toFixed(1)} requests/s, ${Math.round(report.calibration.tokensPerSecond)} tokens/s: the faster arm with 1 adapter, ${report.calibration.scheduling}, ${report.calibration.requests} requests queued at once)`
      : `arrivals: Poisson at ${report.rate.toFixed(1)} requests/s (given)`,
  ];
  const w = report.runs[0]?.workload;
  if (w) lines.push(`each workload: ${w.requests} requests arriving over ${w.arrivalSeconds.toFixed(1)} s, ${w.newTokens} new tokens in all; popularity P(rank i) ∝ i^-alpha`);
  return lines.join('\n');
}
