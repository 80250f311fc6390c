// One run of the serving benchmark: the base model, a fresh adapter cache reading the adapters from
// disk (through an adapter loader's worker thread, as the server reads them, unless the run asks for the
// engine's thread), a fresh engine with the arm's scheduling, a short warm-up on a separate engine, then
// the workload replayed at its arrival times. The arms run it in a child process each (arms/serve.ts);
// the calibration runs it in the benchmark's own process.
import { readFileSync } from 'node:fs';
import {
  createAdapterCache,
  createAdapterLoader,
  createEngine,
  disposeModel,
  readHostAdapter,
  tf,
  useTensorBackend,
  type AdapterCache,
  type Engine,
  type Gpt2Model,
  type Tokenizer,
} from '../../serving/index.ts';
import { diskLoader } from './adapters.ts';
import { quantiles, type ArmArgs, type ArmResult } from './arm.ts';
import { openModel } from './model.ts';
import { startProfiler, type Profiler } from './profile.ts';
import { adapterName } from './workload.ts';

export async function serveWorkload(args: ArmArgs): Promise<ArmResult> {
  const backend = await useTensorBackend(args.backend ?? 'wasm');
  // One loader for the warm-up and the run (its worker starts while the model loads, and the warm-up's reads warm it up).
  const loader = (args.adapterLoader ?? 'worker') === 'worker' ? createAdapterLoader() : null;
  const read = loader ? (dir: string) => loader.read(dir) : async (dir: string) => readHostAdapter(dir);
  const { model, tokenizer } = openModel(args.model);
  const setup = (): { engine: Engine; cache: AdapterCache } => {
    const cache = createAdapterCache({
      load: diskLoader(args.adaptersDir, args.adapterCount, read),
      model: model.config,
      hostBudgetBytes: args.hostBudgetBytes,
      deviceBudgetBytes: args.deviceBudgetBytes,
    });
    // Every request of the workload may wait in the queue: under overload the benchmark measures throughput, not 429s.
    const engine = createEngine({ model, tokenizer, adapters: cache, scheduling: args.scheduling, maxBatch: args.maxBatch, maxQueue: args.requests.length + 64 });
    return { engine, cache };
  };
  if (args.warmup !== false) await warmUp(setup(), args, model, tokenizer);
  const tensorsBefore = tf.memory().numTensors;
  const { engine, cache } = setup();
  /** Closes the engine, cache, model and loader; answers the tensors left behind and the loader's last stats. */
  const teardown = async () => {
    await engine.close();
    cache.dispose();
    const tensorsLeaked = tf.memory().numTensors - tensorsBefore;
    disposeModel(model);
    const loaderStats = loader?.stats();
    await loader?.close();
    return { tensorsLeaked, loaderStats };
  };
  let warmHostAdapters: number | undefined;
  if (args.warmHost) {
    const names = [...new Set(args.requests.map((r) => r.adapter))];
    await Promise.all(names.map((name) => cache.prefetch(name, { toDevice: false })));
    const onHost = names.filter((name) => cache.residency(name) !== 'disk').length;
    if (onHost < names.length) {
      await teardown();
      throw new Error(`--warm-host: the host budget (${args.hostBudgetBytes} bytes) holds ${onHost} of the workload's ${names.length} adapters; raise --host-fraction`);
    }
    warmHostAdapters = names.length;
  }
  // From the process's start (performance's time origin): module loading, the model, the warm-up (and --warm-host's reads).
  const setupSeconds = performance.now() / 1000;

  const profiler: Profiler | undefined = args.profile ? await startProfiler() : undefined;
  const replay = await replayWorkload(engine, args);
  const profile = await profiler?.stop(args.profileFile);

  const m = engine.metrics();
  const stats = cache.stats();
  const { tensorsLeaked, loaderStats } = await teardown();

  const result: ArmResult = {
    scheduling: args.scheduling,
    backend,
    requests: args.requests.length,
    completed: replay.done.length,
    failed: replay.failures.length,
    ...(replay.failures[0] !== undefined && { firstError: replay.failures[0] }),
    generatedTokens: replay.done.reduce((n, r) => n + r.tokensOut, 0),
    expectedTokens: args.requests.reduce((n, r) => n + r.maxTokens, 0),
    promptTokens: m.promptTokens,
    seconds: replay.seconds,
    cpuSeconds: replay.cpuSeconds,
    mainThreadCpuSeconds: replay.mainThreadCpuSeconds,
    tokensPerSecond: replay.done.reduce((n, r) => n + r.tokensOut, 0) / replay.seconds,
    tokensPerCpuSecond: replay.done.reduce((n, r) => n + r.tokensOut, 0) / replay.cpuSeconds,
    firstTokenMs: quantiles(replay.done.map((r) => r.firstTokenMs)),
    latencyMs: quantiles(replay.done.map((r) => r.latencyMs)),
    submitLagMs: quantiles(replay.done.map((r) => r.lagMs)),
    engine: {
      steps: m.steps,
      decodeSteps: m.decodeSteps,
      prefills: m.prefills,
      meanDecodeBatch: m.meanDecodeBatch,
      baseMatmuls: m.baseMatmuls,
      meanStepMs: m.steps > 0 ? (replay.seconds * 1000) / m.steps : 0,
    },
    cache: stats,
    ...(loaderStats && { loader: loaderStats }),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    tensorsLeaked,
    setupSeconds,
    ...(warmHostAdapters !== undefined && { warmHostAdapters }),
    ...(profile && { profile }),
  };
  return result;
}

interface Done {
  tokensOut: number;
  firstTokenMs: number;
  latencyMs: number;
  lagMs: number;
}

/**
 * Submits each request at its arrival time (a timer per arrival; a scheduler step holds the event loop,
 * so a request may be submitted late: that lag counts in its latencies) and waits for them all.
 */
async function replayWorkload(engine: Engine, args: ArmArgs): Promise<{ done: Done[]; failures: string[]; seconds: number; cpuSeconds: number; mainThreadCpuSeconds: number | null }> {
  const { requests } = args;
  const done: Done[] = [];
  const failures: string[] = [];
  const pending: Promise<void>[] = [];
  let lastEnd = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuSeconds();
  const submit = (i: number) => {
    const r = requests[i]!;
    const arrival = t0 + r.at;
    const lagMs = performance.now() - arrival;
    try {
      const h = engine.submit({ adapter: r.adapter, prompt: r.prompt, maxTokens: r.maxTokens, temperature: 0, seed: i });
      pending.push(
        h.done.then(
          (res) => {
            lastEnd = Math.max(lastEnd, performance.now());
            done.push({ tokensOut: res.tokensOut, firstTokenMs: lagMs + (res.firstTokenMs ?? Number.NaN), latencyMs: lagMs + res.totalMs, lagMs });
          },
          (e: unknown) => void failures.push(e instanceof Error ? e.message : String(e)),
        ),
      );
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  };
  await new Promise<void>((allSubmitted) => {
    let next = 0;
    const pump = () => {
      const now = performance.now();
      while (next < requests.length && t0 + requests[next]!.at <= now) submit(next++);
      if (next < requests.length) setTimeout(pump, Math.max(0, t0 + requests[next]!.at - performance.now()));
      else allSubmitted();
    };
    pump();
  });
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuSeconds();
  return {
    done,
    failures,
    seconds: (Math.max(lastEnd, t0) - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: main0 === null || main1 === null ? null : main1 - main0,
  };
}

/**
 * CPU time of this process's main thread (the engine's), from Linux's /proc (user + system, in 10 ms
 * ticks); null where there is no /proc. Node 20 has no per-thread CPU clock (process.threadCpuUsage is 23.9+).
 */
function mainThreadCpuSeconds(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Compiles what the replay will run (wasm kernels at these shapes, V8's JIT of the engine's paths) on a
 * separate engine and cache, then closes them: a few requests over up to 4 adapters, all at once.
 */
async function warmUp({ engine, cache }: { engine: Engine; cache: AdapterCache }, args: ArmArgs, model: Gpt2Model, tokenizer: Tokenizer): Promise<void> {
  const adapters = Math.min(args.adapterCount, 4);
  const vocab = Math.min(tokenizer.vocabSize, model.config.vocabSize);
  const runs = Array.from({ length: Math.min(args.maxBatch, 2 * adapters + 2) }, (_, i) =>
    engine.submit({ adapter: adapterName((i % adapters) + 1), prompt: Array.from({ length: 8 + i }, (_, j) => (i * 37 + j * 11) % vocab), maxTokens: 6, temperature: 0, seed: i }).done,
  );
  await Promise.all(runs);
  await engine.close();
  cache.dispose();
}
