// The benchmark's summary: per workload and arm the median events/s over the runs, peak memory, CPU
// per event, the ratios ours/source and ours/baseline against the targets, and whether every arm
// counted every event.
import type { ArmName } from './arm.ts';
import type { ArmRun, WorkloadReport } from './benchmark.ts';

/** The targets, on the dense workload (source: the plain, one-request-at-a-time eth_getLogs arm). */
export const TARGETS = { oursOverSource: 0.8, oursOverBaseline: 1.5 } as const;

export interface ArmSummary {
  arm: ArmName;
  runs: number;
  events: number;
  /** Median over the runs; min and max beside it. */
  eventsPerSecond: number;
  eventsPerSecondMin: number;
  eventsPerSecondMax: number;
  seconds: number;
  maxRssMiB: number;
  /** CPU of the arm's process and of anvil, in µs per event (medians). */
  cpuUsPerEvent: number;
  anvilCpuUsPerEvent: number | undefined;
  notes: Record<string, number | string> | undefined;
}

export interface WorkloadSummary {
  workload: string;
  events: number;
  txs: number;
  blocks: number;
  arms: ArmSummary[];
  ratios: { oursOverSource?: number; oursOverPipelinedSource?: number; oursOverBaseline?: number };
  /** Problems: an arm that did not see every event, arms that disagree on the rows. */
  problems: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function summarize(report: WorkloadReport): WorkloadSummary {
  const byArm = new Map<ArmName, ArmRun[]>();
  for (const r of report.runs) byArm.set(r.arm, [...(byArm.get(r.arm) ?? []), r]);
  const arms: ArmSummary[] = [...byArm].map(([arm, runs]) => {
    const rates = runs.map((r) => r.events / r.seconds);
    const anvil = runs.filter((r) => r.anvilCpuSeconds !== undefined).map((r) => (r.anvilCpuSeconds! * 1e6) / r.events);
    return {
      arm,
      runs: runs.length,
      events: runs[0]!.events,
      eventsPerSecond: median(rates),
      eventsPerSecondMin: Math.min(...rates),
      eventsPerSecondMax: Math.max(...rates),
      seconds: median(runs.map((r) => r.seconds)),
      maxRssMiB: Math.max(...runs.map((r) => r.maxRssMiB)),
      cpuUsPerEvent: median(runs.map((r) => (r.cpuSeconds * 1e6) / r.events)),
      anvilCpuUsPerEvent: anvil.length > 0 ? median(anvil) : undefined,
      notes: runs[0]!.notes,
    };
  });
  const problems: string[] = [];
  for (const r of report.runs) {
    if (r.events !== report.chain.events) problems.push(`${r.arm} counted ${r.events} events, the chain has ${report.chain.events}`);
  }
  const stored = report.runs.filter((r) => r.rows);
  for (const r of stored.slice(1)) {
    if (JSON.stringify(r.rows) !== JSON.stringify(stored[0]!.rows)) {
      problems.push(`${r.arm} stored ${JSON.stringify(r.rows)}, ${stored[0]!.arm} stored ${JSON.stringify(stored[0]!.rows)}`);
    }
  }
  const rate = (arm: ArmName) => arms.find((a) => a.arm === arm)?.eventsPerSecond;
  const ours = rate('ours');
  const source = rate('source');
  const pipelined = rate('source-3');
  const baseline = rate('baseline');
  return {
    workload: report.chain.workload,
    events: report.chain.events,
    txs: report.chain.txs,
    blocks: report.chain.blocks,
    arms,
    ratios: {
      ...(ours !== undefined && source !== undefined && { oursOverSource: ours / source }),
      ...(ours !== undefined && pipelined !== undefined && { oursOverPipelinedSource: ours / pipelined }),
      ...(ours !== undefined && baseline !== undefined && { oursOverBaseline: ours / baseline }),
    },
    problems: [...new Set(problems)],
  };
}

/** The summaries as a text table with the ratio lines under each workload. */
export function formatSummaries(summaries: readonly WorkloadSummary[]): string {
  const out: string[] = [];
  const header = ['workload', 'arm', 'events', 'seconds', 'events/s', '(min–max)', 'peak RSS', 'CPU µs/event', 'anvil µs/event'];
  const rows: string[][] = [];
  for (const s of summaries) {
    for (const a of s.arms) {
      rows.push([
        s.workload,
        a.arm,
        String(a.events),
        a.seconds.toFixed(2),
        thousands(a.eventsPerSecond),
        a.runs > 1 ? `${thousands(a.eventsPerSecondMin)}–${thousands(a.eventsPerSecondMax)}` : '',
        `${Math.round(a.maxRssMiB)} MiB`,
        a.cpuUsPerEvent.toFixed(1),
        a.anvilCpuUsPerEvent === undefined ? '' : a.anvilCpuUsPerEvent.toFixed(1),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  out.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(line(r));
  out.push('');
  for (const s of summaries) {
    const { oursOverSource: os, oursOverPipelinedSource: op, oursOverBaseline: ob } = s.ratios;
    const dense = s.workload === 'dense';
    const mark = (v: number, target: number) => (dense ? (v >= target ? ` (target ≥ ${target}: met)` : ` (target ≥ ${target}: NOT met)`) : '');
    if (os !== undefined) out.push(`${s.workload}: ours/source   = ${os.toFixed(2)}${mark(os, TARGETS.oursOverSource)}`);
    if (op !== undefined) out.push(`${s.workload}: ours/source-3 = ${op.toFixed(2)} (against 3 requests in flight, the stricter bound)`);
    if (ob !== undefined) out.push(`${s.workload}: ours/baseline = ${ob.toFixed(2)}${mark(ob, TARGETS.oursOverBaseline)}`);
    for (const p of s.problems) out.push(`${s.workload}: PROBLEM: ${p}`);
  }
  return out.join('\n');
}

function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
