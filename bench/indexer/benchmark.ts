// runBenchmark(): builds each workload's chain once, then runs every arm on it, each as its own child
// process against its own fresh anvil loaded from the chain's dumped state, and collects the results.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FINALITY } from '../../indexer/index.ts';
import { cpuSecondsOf, startBenchAnvil } from './anvil.ts';
import { ARM_NAMES, armArgsOf, runArm, type ArmName, type ArmResult } from './arm.ts';
import { compileEmitter } from './emitter.ts';
import { buildChain, type BenchChain, type WorkloadSpec } from './workload.ts';

export interface ArmRun extends ArmResult {
  /** CPU seconds anvil spent while this arm ran (serving it). */
  anvilCpuSeconds?: number;
}

export interface WorkloadReport {
  chain: Omit<BenchChain, 'stateFile'>;
  /** Seconds to build the chain (not part of any arm). */
  buildSeconds: number;
  /** Every run of every arm, in the order they ran. */
  runs: ArmRun[];
}

export interface RunBenchmarkOptions {
  workloads: readonly WorkloadSpec[];
  /** Runs of each arm per workload, interleaved (source, source-3, baseline, ours, source, …). Default 1. */
  repeat?: number;
  arms?: readonly ArmName[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Keep the temp dir (chains and stores) for inspection. */
  keep?: boolean;
}

export async function runBenchmark(opts: RunBenchmarkOptions): Promise<WorkloadReport[]> {
  const log = opts.log ?? (() => {});
  const arms = opts.arms ?? ARM_NAMES;
  const repeat = opts.repeat ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-indexer-'));
  const reports: WorkloadReport[] = [];
  const emitter = compileEmitter();
  try {
    for (const spec of opts.workloads) {
      log(`${spec.name}: building the chain (${spec.txs} transactions)…`);
      const started = performance.now();
      const chain = await buildChain(spec, join(dir, `${spec.name}.state.json`), DEFAULT_FINALITY, emitter);
      const buildSeconds = (performance.now() - started) / 1000;
      log(`${spec.name}: ${chain.events} events in ${chain.txs} transactions, blocks ${chain.fromBlock}–${chain.toBlock} (built in ${buildSeconds.toFixed(1)} s)`);
      const runs: ArmRun[] = [];
      for (let r = 0; r < repeat; r++) {
        for (const arm of arms) {
          const runDir = join(dir, `${spec.name}-${arm}-${r}`);
          mkdirSync(runDir);
          const anvil = await startBenchAnvil({ loadState: chain.stateFile });
          try {
            const argsFile = join(runDir, 'args.json');
            writeFileSync(argsFile, JSON.stringify({ chain, rpcUrl: anvil.rpcUrl, dataDir: join(runDir, 'store'), ...armArgsOf(arm) }));
            const cpu0 = cpuSecondsOf(anvil.pid);
            const result = await runArm(arm, argsFile);
            const cpu1 = cpuSecondsOf(anvil.pid);
            const run: ArmRun = { ...result, ...(cpu0 !== undefined && cpu1 !== undefined && { anvilCpuSeconds: cpu1 - cpu0 }) };
            runs.push(run);
            log(`${spec.name}: ${arm}: ${run.events} events in ${run.seconds.toFixed(2)} s (${Math.round(run.events / run.seconds)} events/s)`);
          } finally {
            await anvil.stop();
            if (!opts.keep) rmSync(runDir, { recursive: true, force: true });
          }
        }
      }
      const { stateFile: _s, ...described } = chain;
      reports.push({ chain: described, buildSeconds, runs });
      if (!opts.keep) rmSync(chain.stateFile, { force: true });
    }
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  return reports;
}
