// One arm of the benchmark runs as its own child process (node --import tsx arms/<name>.ts <args.json>),
// so that each starts cold, from a fresh store, and its peak memory is its own. The child times only
// its work (not loading modules, opening chDB or applying migrations) and prints one result line.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchChain } from './workload.ts';

/**
 * `source`: eth_getLogs one request after another (the issue's "plain eth_getLogs"); `source-3`: the
 * same with 3 requests in flight, as the indexer fetches (what the RPC can serve when pipelined).
 */
export type ArmName = 'source' | 'source-3' | 'baseline' | 'ours';
export const ARM_NAMES: readonly ArmName[] = ['source', 'source-3', 'baseline', 'ours'];

/** The child script of each arm, and the concurrency it is given (source arms). */
const ARM_SCRIPTS: Record<ArmName, { script: string; concurrency?: number }> = {
  source: { script: 'source', concurrency: 1 },
  'source-3': { script: 'source', concurrency: 3 },
  baseline: { script: 'baseline' },
  ours: { script: 'ours' },
};

export interface ArmArgs {
  chain: BenchChain;
  /** The fresh anvil serving the chain for this arm. */
  rpcUrl: string;
  /** An empty directory for this arm's chDB. */
  dataDir: string;
  /** Requests in flight (source arms). */
  concurrency?: number;
}

export interface ArmResult {
  arm: ArmName;
  /** Events (logs) the arm fetched, or rows it stored. */
  events: number;
  seconds: number;
  /** CPU time of the child over the timed work (all its threads: chDB's included). */
  cpuSeconds: number;
  /** Peak resident memory of the child process (process.resourceUsage().maxRSS), in MiB. */
  maxRssMiB: number;
  /** Rows per event table, as stored (arms that store). */
  rows?: Record<string, number>;
  /** Anything else worth printing (requests made, batches committed). */
  notes?: Record<string, number | string>;
}

const RESULT_PREFIX = 'BENCH_RESULT ';

/** Times the work: wall clock and process CPU between start() and stop(). */
export interface ArmTimer {
  start(): void;
  stop(): void;
  read(): { seconds: number; cpuSeconds: number };
}

function armTimer(): ArmTimer {
  let t0 = 0;
  let c0: NodeJS.CpuUsage | undefined;
  let out: { seconds: number; cpuSeconds: number } | undefined;
  return {
    start() {
      t0 = performance.now();
      c0 = process.cpuUsage();
    },
    stop() {
      const c = process.cpuUsage(c0);
      out = { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
    },
    read() {
      if (!out) throw new Error('the arm never stopped its timer');
      return out;
    },
  };
}

/** Child side: reads the arguments, runs `work`, prints the result line and exits. */
export async function armMain(label: string, work: (args: ArmArgs, timer: ArmTimer) => Promise<Omit<ArmResult, 'arm' | 'maxRssMiB' | 'seconds' | 'cpuSeconds'>>): Promise<never> {
  try {
    const args = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ArmArgs;
    const timer = armTimer();
    const result = await work(args, timer);
    const out: Omit<ArmResult, 'arm'> = { ...result, ...timer.read(), maxRssMiB: process.resourceUsage().maxRSS / 1024 };
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(out)}\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`the ${label} arm failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  }
}

/** The extra arguments an arm's child gets (the source arms' concurrency). */
export function armArgsOf(arm: ArmName): Pick<ArmArgs, 'concurrency'> {
  const c = ARM_SCRIPTS[arm].concurrency;
  return c === undefined ? {} : { concurrency: c };
}

/** Parent side: runs the arm's child with `argsFile` and returns its result. */
export async function runArm(arm: ArmName, argsFile: string, opts: { nodeArgs?: string[]; echoStderr?: boolean } = {}): Promise<ArmResult> {
  const script = fileURLToPath(new URL(`./arms/${ARM_SCRIPTS[arm].script}.ts`, import.meta.url));
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script, argsFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
    if (opts.echoStderr) process.stderr.write(b);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) {
    throw new Error(`the ${arm} arm exited with code ${code}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`);
  }
  return { arm, ...(JSON.parse(line.slice(RESULT_PREFIX.length)) as Omit<ArmResult, 'arm'>) };
}
