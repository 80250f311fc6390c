// runServingBenchmark(): writes the adapters once, measures the engine's capacity to pick a saturating
// arrival rate (unless one is given), then runs both arms on every (adapters, alpha) workload, each run
// its own child process, and collects the results.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTensorBackend, type Scheduling, type TensorBackend } from '../../serving/index.ts';
import { DEFAULT_ADAPTER_SHAPE, writeRandomAdapters, type AdapterShape } from './adapters.ts';
import { ARMS, runArm, type AdapterLoaderKind, type ArmArgs, type ArmResult } from './arm.ts';
import { serveWorkload } from './serveWorkload.ts';
import { configOf, describeModel, modelBytesOf, type ModelSource } from './model.ts';
import { adapterSpread, DEFAULT_NEW_TOKENS, DEFAULT_PROMPT_TOKENS, makeWorkload, WorkloadError, type BenchRequest, type WorkloadSpec } from './workload.ts';

export interface ServingBenchmarkOptions {
  model: ModelSource;
  /** Distinct adapters per workload (each run serves a0 … a{N-1}). */
  adapters: readonly number[];
  /** Power-law exponents of adapter popularity. A 1-adapter workload is the same for every alpha and runs once. */
  alphas: readonly number[];
  requests: number;
  /** Arrivals per second; default: `overload` × the capacity measured by a calibration run. */
  rate?: number;
  /** How far above the measured capacity to send requests (default 2: saturated, the queue grows). */
  overload?: number;
  /** Requests of the calibration run (default: min(requests, 160)). */
  calibrationRequests?: number;
  adapterShape?: AdapterShape;
  /** Device-side adapter budget, as a share of all the largest workload's adapters' bytes (default 0.1). */
  deviceFraction?: number;
  /** Host-side budget, likewise (default 0.5). */
  hostFraction?: number;
  maxBatch?: number;
  promptTokens?: [number, number];
  newTokens?: [number, number];
  seed?: number;
  arms?: readonly Scheduling[];
  /** Runs of each arm per workload, interleaved (mixed, per-adapter, mixed, …); the summary takes medians. Default 1. */
  repeat?: number;
  /** Profile the replay of every run (slower; the summary lands in each run's `profile`). */
  profile?: boolean;
  /** Also write each run's raw profile into this folder (implies `profile`), named by arm, workload and round. */
  profileDir?: string;
  /** Every run reads its workload's adapters into the host tier before its clock starts (see ArmArgs.warmHost). */
  warmHost?: boolean;
  /** How every run reads adapters from disk: in a worker thread (default) or on the engine's thread. */
  adapterLoader?: AdapterLoaderKind;
  /** The tensor backend of every run, the calibration's and the adapters' writing (default wasm). */
  backend?: TensorBackend;
  log?: (line: string) => void;
  /** Keep the temp dir (adapters, arguments). */
  keep?: boolean;
}

export interface WorkloadInfo {
  adapters: number;
  /** null for a 1-adapter workload (the same under every alpha). */
  alpha: number | null;
  requests: number;
  /** Σ max_tokens and Σ prompt tokens. */
  newTokens: number;
  promptTokens: number;
  /** Distinct adapters the requests ask for, and the most asked one's share. */
  distinct: number;
  topShare: number;
  /** When the last request arrives, seconds after the first. */
  arrivalSeconds: number;
}

export interface ServingRun extends ArmResult {
  workload: WorkloadInfo;
  /** 0-based, with --repeat. */
  repeat: number;
}

export interface Calibration {
  /** The arm that served the calibration workload faster. */
  scheduling: Scheduling;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  tokensPerSecond: number;
}

export interface ServingBenchmarkReport {
  model: string;
  backend: TensorBackend;
  adapterShape: AdapterShape;
  adapterBytes: number;
  /** Bytes of all adapters of the largest workload, and the budgets every run gets. */
  largestAdapters: number;
  allAdaptersBytes: number;
  deviceBudgetBytes: number;
  hostBudgetBytes: number;
  /** Bytes of one merged model (what the per-adapter baseline keeps on device per adapter). */
  modelBytes: number;
  maxBatch: number;
  promptTokens: [number, number];
  newTokens: [number, number];
  /** Arrivals per second, and how it was chosen. */
  rate: number;
  calibration: Calibration | null;
  overload: number;
  adaptersWrittenSeconds: number;
  runs: ServingRun[];
}

export async function runServingBenchmark(opts: ServingBenchmarkOptions): Promise<ServingBenchmarkReport> {
  const log = opts.log ?? (() => {});
  const shape = opts.adapterShape ?? DEFAULT_ADAPTER_SHAPE;
  const config = configOf(opts.model);
  const maxBatch = opts.maxBatch ?? 32;
  const seed = opts.seed ?? 1;
  const promptTokens = opts.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const newTokens = opts.newTokens ?? DEFAULT_NEW_TOKENS;
  const overload = opts.overload ?? 2;
  const arms = opts.arms ?? ARMS;
  const counts = [...new Set(opts.adapters)].sort((a, b) => a - b);
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) throw new WorkloadError(`adapters must be positive integers, got ${opts.adapters.join(',')}`);
  if (opts.alphas.length === 0) throw new WorkloadError('give at least one alpha');
  if (opts.repeat !== undefined && (!Number.isInteger(opts.repeat) || opts.repeat < 1)) throw new WorkloadError(`repeat must be a positive integer, got ${opts.repeat}`);
  if (promptTokens[1] + newTokens[1] > config.nPositions) throw new WorkloadError(`prompts of up to ${promptTokens[1]} tokens plus ${newTokens[1]} new tokens do not fit the model's ${config.nPositions} positions`);
  const largest = counts[counts.length - 1]!;

  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-serving-'));
  try {
    const adaptersDir = join(dir, 'adapters');
    mkdirSync(adaptersDir);
    log(`writing ${largest} adapters (rank ${shape.rank} on ${shape.targets.join(', ')}) to ${adaptersDir}…`);
    const backend = await useTensorBackend(opts.backend ?? 'wasm');
    const written = await writeRandomAdapters(adaptersDir, largest, config, shape, seed);
    const allBytes = largest * written.bytesEach;
    const modelBytes = modelBytesOf(config);
    // The device holds at most deviceFraction of all adapters, but never less than a full batch of
    // distinct adapters (mixed) or two merged models (per-adapter), which the engine needs to run at all.
    const deviceBudget = Math.max(Math.floor((opts.deviceFraction ?? 0.1) * allBytes), maxBatch * written.bytesEach, 2 * modelBytes);
    const hostBudget = Math.max(Math.floor((opts.hostFraction ?? 0.5) * allBytes), deviceBudget);
    log(`${largest} adapters of ${written.bytesEach} bytes (${mib(allBytes)} in all) written in ${written.seconds.toFixed(1)} s; device budget ${mib(deviceBudget)} (${((100 * deviceBudget) / allBytes).toFixed(1)}% of them), host budget ${mib(hostBudget)}`);

    let n = 0;
    const runChild = async (args: ArmArgs): Promise<ArmResult> => {
      const file = join(dir, `run-${++n}.json`);
      writeFileSync(file, JSON.stringify(args));
      return runArm(file);
    };
    if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
    const base = {
      model: opts.model,
      adaptersDir,
      hostBudgetBytes: hostBudget,
      deviceBudgetBytes: deviceBudget,
      maxBatch,
      ...((opts.profile || opts.profileDir) && { profile: true }),
      ...(opts.warmHost && { warmHost: true }),
      ...(opts.adapterLoader && { adapterLoader: opts.adapterLoader }),
      backend,
    };
    const spec = (adapters: number, alpha: number, rate: number, requests = opts.requests): WorkloadSpec => ({ requests, rate, adapters, alpha, promptTokens, newTokens, vocabulary: config.vocabSize, seed });

    let rate = opts.rate;
    let calibration: Calibration | null = null;
    if (rate === undefined) {
      // The capacity with one adapter, every request queued at once and served to the end, for each arm
      // (here, in this process: it only picks the rate). The larger of the two sets the rate, so that
      // every run is saturated.
      const requests = makeWorkload(spec(1, 1, Infinity, opts.calibrationRequests ?? Math.min(opts.requests, 160)));
      log(`calibrating: ${requests.length} requests at once, 1 adapter, each arm…`);
      for (const scheduling of arms) {
        const r = await serveWorkload({ ...base, scheduling, adapterCount: 1, requests });
        const measured = { scheduling, requests: r.completed, seconds: r.seconds, requestsPerSecond: r.completed / r.seconds, tokensPerSecond: r.tokensPerSecond };
        log(`  ${scheduling}: ${measured.requestsPerSecond.toFixed(1)} requests/s (${Math.round(measured.tokensPerSecond)} tokens/s)`);
        if (!calibration || measured.requestsPerSecond > calibration.requestsPerSecond) calibration = measured;
      }
      rate = overload * calibration!.requestsPerSecond;
      log(`arrival rate ${overload} × ${calibration!.requestsPerSecond.toFixed(1)} = ${rate.toFixed(1)} requests/s`);
    }

    // With --repeat, each round runs every workload and arm once, so that the runs a ratio compares (one
    // adapter against 1,000, mixed against per-adapter) are minutes apart at most, and a round's ratios
    // can be paired (report.ts): on a shared machine, throughput drifts over a run of several minutes.
    const workloads: { workload: WorkloadInfo; requests: BenchRequest[] }[] = [];
    for (const adapters of counts) {
      for (const alpha of adapters === 1 ? [null] : opts.alphas) {
        const requests = makeWorkload(spec(adapters, alpha ?? 1, rate));
        const spread = adapterSpread(requests);
        workloads.push({
          requests,
          workload: {
            adapters,
            alpha,
            requests: requests.length,
            newTokens: requests.reduce((s, r) => s + r.maxTokens, 0),
            promptTokens: requests.reduce((s, r) => s + r.prompt.length, 0),
            distinct: spread.distinct,
            topShare: spread.topShare,
            arrivalSeconds: requests[requests.length - 1]!.at / 1000,
          },
        });
      }
    }
    // Each round starts one workload further on and swaps the arms' order, so that no workload or arm always
    // runs first in a round (after the previous round's longest run, or the adapters' writing): measured,
    // the first run of a round was up to 10% slower here.
    const runs: ServingRun[] = [];
    for (let repeat = 0; repeat < (opts.repeat ?? 1); repeat++) {
      const shift = repeat % workloads.length;
      for (const { workload, requests } of [...workloads.slice(shift), ...workloads.slice(0, shift)]) {
        const { adapters, alpha } = workload;
        for (const scheduling of repeat % 2 === 0 ? arms : [...arms].reverse()) {
          const profileFile = opts.profileDir && join(opts.profileDir, `${scheduling}-${adapters}-adapters${alpha === null ? '' : `-alpha-${alpha}`}-round-${repeat + 1}.cpuprofile`);
          const r = await runChild({ ...base, scheduling, adapterCount: adapters, requests, ...(profileFile && { profileFile }) });
          runs.push({ ...r, workload, repeat });
          log(`${adapters} adapters${alpha === null ? '' : `, alpha ${alpha}`}, ${scheduling}: ${r.completed}/${r.requests} requests, ${Math.round(r.tokensPerSecond)} tokens/s (${Math.round(r.tokensPerCpuSecond)} per CPU-s${r.mainThreadCpuSeconds ? `, ${Math.round(r.generatedTokens / r.mainThreadCpuSeconds)} per CPU-s of the engine's thread` : ''}), mean decode batch ${r.engine.meanDecodeBatch.toFixed(1)}, ${r.seconds.toFixed(1)} s (+${r.setupSeconds.toFixed(1)} s setup)`);
        }
      }
    }
    return {
      model: describeModel(opts.model),
      backend,
      adapterShape: shape,
      adapterBytes: written.bytesEach,
      largestAdapters: largest,
      allAdaptersBytes: allBytes,
      deviceBudgetBytes: deviceBudget,
      hostBudgetBytes: hostBudget,
      modelBytes,
      maxBatch,
      promptTokens,
      newTokens,
      rate,
      calibration,
      overload,
      adaptersWrittenSeconds: written.seconds,
      runs,
    };
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
