// A settler in a process of its own, for the crash tests: drains the usage outbox in `dataDir` (PGlite)
// onto the chain at `rpcUrl`, printing one line per settled batch, and when `kill` is set SIGKILLs itself
// at that fault point (the nth time it is reached), printing where first.
//   node --import tsx serving/billing/testing/settlerChild.ts '<json of SettlerChildArgs>'
import { writeFileSync } from 'node:fs';
import type { Hex } from 'viem';
import { connectChain, deploymentSchema } from '../../../contracts/index.ts';
import { openPostgres } from '../../../schema/index.ts';
import { createSettler, type SettlerFaultPoint } from '../settler.ts';

export interface SettlerChildArgs {
  dataDir: string;
  rpcUrl: string;
  deployment: unknown;
  operatorKey: Hex;
  maxItems: number;
  kill?: { point: SettlerFaultPoint; nth: number };
}

const args = JSON.parse(process.argv[2] ?? '{}') as SettlerChildArgs;
const deployment = deploymentSchema.parse(args.deployment);
const store = await openPostgres({ dataDir: args.dataDir });
const conn = await connectChain(args.rpcUrl);
let seen = 0;
const settler = createSettler({
  db: store.db,
  chain: { conn, deployment },
  operatorKey: args.operatorKey,
  maxItems: args.maxItems,
  faults: (point, ctx) => {
    if (!args.kill || point !== args.kill.point || ++seen < args.kill.nth) return;
    // Synchronous write, so the line is out before the kill.
    writeFileSync(1, `fault ${point} batch ${ctx.batchNumber}${ctx.txHash ? ` tx ${ctx.txHash}` : ''}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
  onSettled: ({ batch, recovered }) => {
    writeFileSync(1, `settled batch ${batch.batchNumber} recovered=${recovered} items=${batch.settled.length + batch.rejected.length} tx ${batch.txHash}\n`);
  },
});
await settler.drain();
await store.close();
writeFileSync(1, 'done\n');
process.exit(0);
