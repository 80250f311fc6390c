// The demo's first payout: on a fresh devnet, once the demo inferences are settled, the devnet's clock is
// moved to the end of the current epoch (anvil allows it; a real chain waits an hour) and the attribution
// schedule attributes that epoch and posts its batch at once, so payouts, scores and rewards appear in
// GraphQL and on-chain at start. Later epochs follow the wall clock on the schedule.
import { createTestClient, http } from 'viem';
import { getEpochClock, getEpochEnd, type ChainContext } from '../contracts/index.ts';
import type { Indexer } from '../indexer/index.ts';
import type { EpochSchedule } from '../attribution/index.ts';
import type { Logger } from './log.ts';

export interface RunDemoEpochParameters {
  chain: ChainContext;
  indexer: Indexer;
  schedule: EpochSchedule;
  log: Logger;
  rpcUrl: string;
}

export async function runDemoEpoch(p: RunDemoEpochParameters): Promise<void> {
  const { chain, log } = p;
  const clock = await getEpochClock(chain);
  const end = await getEpochEnd(chain, clock.currentEpoch);
  const test = createTestClient({ mode: 'anvil', transport: http(p.rpcUrl) });
  const now = (await chain.conn.publicClient.getBlock({ blockTag: 'latest' })).timestamp;
  if (end > now) await test.setNextBlockTimestamp({ timestamp: end });
  await test.mine({ blocks: 1 });
  log.info(`demo: moved the devnet's clock to the end of epoch ${clock.currentEpoch} to attribute it now`);
  await p.indexer.waitForHeight(Number(await chain.conn.publicClient.getBlockNumber({ cacheTime: 0 })), 120_000);
  const r = await p.schedule.tick();
  if (!r) log.warn(`demo: epoch ${clock.currentEpoch} was not attributed (see the lines above)`);
}
