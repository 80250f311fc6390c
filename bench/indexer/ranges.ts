// The block ranges the source-bound and baseline arms request: fixed spans sized so that a response
// holds about `targetLogs` logs (the workload's average density is known), like the adaptive splits
// of the indexer, which aim at the same number.
import type { BenchChain } from './workload.ts';

export const TARGET_LOGS = 5_000;
export const MAX_SPAN_BLOCKS = 100;

/** Blocks per request for `chain`. */
export function spanOf(chain: BenchChain): number {
  const perBlock = chain.events / Math.max(1, chain.blocks);
  return Math.max(1, Math.min(MAX_SPAN_BLOCKS, Math.round(TARGET_LOGS / perBlock)));
}

/** [from, to] pairs covering the chain's workload blocks (from the deployment block on, as the indexer). */
export function rangesOf(chain: BenchChain, span: number): [number, number][] {
  const out: [number, number][] = [];
  for (let from = chain.deploymentBlock.number; from <= chain.toBlock; from += span) {
    out.push([from, Math.min(chain.toBlock, from + span - 1)]);
  }
  return out;
}
