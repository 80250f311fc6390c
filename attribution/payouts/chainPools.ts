// The pool amounts of the inferences settled in a range of epochs, read from the chain's InferenceSettled
// logs: the same values the indexer copies into ClickHouse, for a verifier that trusts only the chain
// (and for tests). The event's epoch is not indexed, so this reads every InferenceSettled log from
// `fromBlock` on, in windows, and keeps those of the epochs asked for.
import { getAbiItem, type Hex } from 'viem';
import { InferenceRouterAbi, toChainError, type ChainContext } from '../../contracts/index.ts';
import type { InferencePool } from './allocate.ts';

export interface ChainPoolsParameters {
  fromEpoch: bigint;
  toEpoch: bigint;
  /** First block to read (default: the deployment block). */
  fromBlock?: bigint;
  /** Largest block range per eth_getLogs request (default 10,000). */
  maxBlockRange?: bigint;
}

/** Every inference settled in epochs fromEpoch..toEpoch, in chain order. */
export async function chainPools(ctx: ChainContext, p: ChainPoolsParameters): Promise<InferencePool[]> {
  const action = `cannot read the pools of epochs ${p.fromEpoch}..${p.toEpoch}`;
  const pc = ctx.conn.publicClient;
  const event = getAbiItem({ abi: InferenceRouterAbi, name: 'InferenceSettled' });
  const span = p.maxBlockRange !== undefined && p.maxBlockRange > 0n ? p.maxBlockRange : 10_000n;
  const out: InferencePool[] = [];
  try {
    const head = await pc.getBlockNumber();
    for (let from = p.fromBlock ?? ctx.deployment.deploymentBlock.number; from <= head; from += span) {
      const to = from + span - 1n < head ? from + span - 1n : head;
      const logs = await pc.getLogs({ address: ctx.deployment.contracts.InferenceRouter, event, fromBlock: from, toBlock: to, strict: true });
      for (const l of logs) {
        if (l.args.epoch < p.fromEpoch || l.args.epoch > p.toEpoch) continue;
        out.push({ requestId: l.args.requestId.toLowerCase() as Hex, epoch: l.args.epoch, poolAmount: l.args.poolAmount });
      }
    }
  } catch (e) {
    throw toChainError(e, action);
  }
  return out;
}
