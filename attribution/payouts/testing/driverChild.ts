// A batch driver in a process of its own, for the crash tests: builds the batch from the arguments, drives
// it (or, with `resume`, only resumes what the store holds) against the PGlite store in `dataDir`, and
// when `kill` is set SIGKILLs itself at that fault point, printing where first.
//   node --import tsx attribution/payouts/testing/driverChild.ts '<json of DriverChildArgs>'
import { writeFileSync } from 'node:fs';
import { hexToBytes, type Hex } from 'viem';
import { connectChain, deploymentSchema } from '../../../contracts/index.ts';
import { openFsContentStore, openPostgres } from '../../../schema/index.ts';
import { createBatchDriver, type BatchDriverFaultPoint } from '../batchDriver.ts';
import { keySigner } from '../batchSigning.ts';
import { buildPayoutBatch } from '../buildBatch.ts';
import { ATTRIBUTOR_KEY, SIGNER_KEYS } from './payoutChain.ts';

export interface DriverChildArgs {
  dataDir: string;
  contentDir: string;
  rpcUrl: string;
  deployment: unknown;
  /** The score file's canonical bytes, hex. */
  scoreFile: Hex;
  pools: { requestId: Hex; epoch: string; poolAmount: string }[];
  fromEpoch: string;
  resume?: boolean;
  kill?: BatchDriverFaultPoint;
}

const args = JSON.parse(process.argv[2] ?? '{}') as DriverChildArgs;
const deployment = deploymentSchema.parse(args.deployment);
const store = await openPostgres({ dataDir: args.dataDir });
const content = await openFsContentStore({ root: args.contentDir });
const conn = await connectChain(args.rpcUrl);
const driver = createBatchDriver({
  db: store.db,
  chain: { conn, deployment },
  content,
  attributorKey: ATTRIBUTOR_KEY,
  sign: keySigner(SIGNER_KEYS),
  faults: (point, ctx) => {
    if (point !== args.kill) return;
    // Synchronous write, so the line is out before the kill.
    writeFileSync(1, `fault ${point} epoch ${ctx.epoch} nonce ${ctx.nonce}${ctx.txHash ? ` tx ${ctx.txHash}` : ''}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
});
const results = args.resume
  ? await driver.resume()
  : [
      await driver.drive(
        buildPayoutBatch({
          scores: hexToBytes(args.scoreFile),
          pools: args.pools.map((p) => ({ requestId: p.requestId, epoch: BigInt(p.epoch), poolAmount: BigInt(p.poolAmount) })),
          previous: [],
          fromEpoch: BigInt(args.fromEpoch),
        }),
      ),
    ];
for (const r of results) writeFileSync(1, `${r.status} epoch ${r.epoch} nonce ${r.nonce} recovered=${r.recovered} tx ${r.txHash}\n`);
await store.close();
writeFileSync(1, 'done\n');
process.exit(0);
