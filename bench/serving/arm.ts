// One run of the benchmark (an arm on a workload) is its own child process
// (node --import tsx arms/serve.ts <args.json>): it starts cold, builds a fresh engine and adapter cache,
// replays the workload, and prints one result line. So every run's peak memory is its own, and no run
// inherits another's warm caches. The child times only the replay (not loading modules, the model or
// the warm-up).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AdapterCacheStats, AdapterLoaderStats, Scheduling, TensorBackend } from '../../serving/index.ts';
import type { ModelSource } from './model.ts';
import type { ProfileSummary } from './profile.ts';
import type { BenchRequest } from './workload.ts';

/** 'mixed' is OpenLoRA's batching; 'per-adapter' the baseline (merged weights, one adapter a batch). */
export const ARMS: readonly Scheduling[] = ['mixed', 'per-adapter'];

export interface ArmArgs {
  scheduling: Scheduling;
  model: ModelSource;
  /** Where the adapters' directories are (`a0`, `a1`, …), and how many of them this run may ask for. */
  adaptersDir: string;
  adapterCount: number;
  hostBudgetBytes: number;
  deviceBudgetBytes: number;
  maxBatch: number;
  requests: BenchRequest[];
  /** Run a short warm-up on a separate engine before the clock starts. Default true. */
  warmup?: boolean;
  /** Sample the replay with V8's profiler and add its summary to the result. */
  profile?: boolean;
  /** With `profile`, also write the raw profile to this file (.cpuprofile). */
  profileFile?: string;
  /**
   * Read every adapter the workload asks for into the host tier before the clock starts (S-LoRA keeps all
   * adapters in host memory): the run then pages host → device only. Needs a host budget that holds them.
   */
  warmHost?: boolean;
  /**
   * How adapters are read from disk: 'worker' (default) through createAdapterLoader's worker thread, as
   * the server does; 'main' with readHostAdapter on the engine's thread (the engine before the loader).
   */
  adapterLoader?: AdapterLoaderKind;
  /** The tensor backend the run computes on (default wasm). */
  backend?: TensorBackend;
}

export type AdapterLoaderKind = 'worker' | 'main';

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

export interface ArmResult {
  scheduling: Scheduling;
  /** The tensor backend the run computed on. */
  backend: TensorBackend;
  requests: number;
  completed: number;
  /** Requests that failed, with the first error's message. */
  failed: number;
  firstError?: string;
  generatedTokens: number;
  /** Tokens asked for (Σ max_tokens): every completed request must have generated exactly its share. */
  expectedTokens: number;
  promptTokens: number;
  /** The makespan: from the first arrival to the last completion. */
  seconds: number;
  /** CPU time of the child over the makespan (all its threads: the engine's, GC's, the adapter loader's worker). */
  cpuSeconds: number;
  /** The engine's thread's share of it (Linux, from /proc, 10 ms ticks; null elsewhere). */
  mainThreadCpuSeconds: number | null;
  /** Generated tokens over the makespan. */
  tokensPerSecond: number;
  /**
   * Generated tokens over the child's CPU time: the wasm backend computes on one thread, so on a machine
   * shared with other processes this is what the arm does per second of a core it has to itself.
   */
  tokensPerCpuSecond: number;
  /** From a request's arrival (its scheduled time, so lateness of the event loop counts) to its first token, and to its end. */
  firstTokenMs: Quantiles;
  latencyMs: Quantiles;
  /** How late the replay submitted requests behind their scheduled arrival (a step holds the event loop). */
  submitLagMs: Quantiles;
  engine: { steps: number; decodeSteps: number; prefills: number; meanDecodeBatch: number; baseMatmuls: number; meanStepMs: number };
  cache: AdapterCacheStats;
  /** The adapter loader's counts ('worker' runs): adapters decoded in its worker, and read on the engine's thread. */
  loader?: AdapterLoaderStats;
  /** Peak resident memory of the child (process.resourceUsage().maxRSS), MiB. */
  maxRssMiB: number;
  /** tf.memory().numTensors after the engine closed and the cache was disposed, minus before: 0 when nothing leaked. */
  tensorsLeaked: number;
  /** From the process's start to the clock's: module loading, the model and the warm-up. */
  setupSeconds: number;
  /** With warmHost: the adapters read into the host tier before the clock started (the disk reads column counts them too). */
  warmHostAdapters?: number;
  profile?: ProfileSummary;
}

const RESULT_PREFIX = 'BENCH_RESULT ';

export function printResult(result: ArmResult): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/**
 * The child's script: arms/serve.ts, run through tsx; or, where TRIBUTARY_BENCH_ARM names a JavaScript file
 * (an esbuild bundle of arms/serve.ts, on a host with no node_modules, such as a GPU host), that file with plain node.
 */
export function armCommand(argsFile: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const script = env.TRIBUTARY_BENCH_ARM || fileURLToPath(new URL('./arms/serve.ts', import.meta.url));
  return script.endsWith('.ts') ? ['--import', 'tsx', script, argsFile] : [script, argsFile];
}

/** Parent side: runs one arm's child with `argsFile` and answers its result; a child that fails throws with its stderr. */
export async function runArm(argsFile: string, opts: { echoStderr?: boolean } = {}): Promise<ArmResult> {
  const child = spawn(process.execPath, armCommand(argsFile), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
    if (opts.echoStderr) process.stderr.write(b);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`the serving arm (${argsFile}) exited with code ${code}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ArmResult;
}

/** Nearest-rank quantiles (0 for an empty list). */
export function quantiles(values: readonly number[]): Quantiles {
  if (values.length === 0) return { p50: 0, p99: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}
