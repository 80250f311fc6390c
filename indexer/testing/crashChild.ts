// A child process for the crash tests: indexes `rpcUrl` into chDB in `dataDir` up to block `target`,
// and, when `fault` is set, SIGKILLs itself at that fault point of the sink (the nth time a
// transaction of that kind reaches it), printing where first. Without a fault it stops cleanly at the
// target and writes the live rows of every event table to `dump`.
//   node --import tsx indexer/testing/crashChild.ts '<json of CrashChildArgs>'
import { writeFileSync } from 'node:fs';
import { deploymentSchema } from '../../contracts/index.ts';
import { startIndexer } from '../run.ts';
import type { SinkFaultContext, SinkFaults } from '../sink.ts';
import { allLiveRows } from './collapsed.ts';
import { openMigratedStore } from './store.ts';

export interface CrashChildArgs {
  dataDir: string;
  rpcUrl: string;
  deployment: unknown;
  finality: number;
  target: number;
  fault?: { point: keyof SinkFaults; kind: 'final' | 'hot'; nth: number };
  dump?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as CrashChildArgs;
const deployment = deploymentSchema.parse(args.deployment);
const store = await openMigratedStore(args.dataDir);
const faults: SinkFaults = {};
if (args.fault) {
  const { point, kind, nth } = args.fault;
  let seen = 0;
  faults[point] = (ctx: SinkFaultContext) => {
    if (ctx.kind !== kind || ++seen < nth) return;
    // Synchronous write, so the line is out before the kill.
    writeFileSync(1, `fault ${point} ${ctx.kind} blocks ${ctx.from}-${ctx.to} rows ${ctx.rows}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
const indexer = startIndexer({ rpcUrl: args.rpcUrl, deployment, clickhouse: store, finality: args.finality, pollIntervalMs: 50, faults });
try {
  await indexer.waitForHeight(args.target);
} finally {
  await indexer.stop();
}
if (args.dump) writeFileSync(args.dump, JSON.stringify(await allLiveRows(store.client)));
await store.close();
writeFileSync(1, `done at ${indexer.progress().head}\n`);
process.exit(0);
