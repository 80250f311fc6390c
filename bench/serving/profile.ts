// Where an arm's time goes: V8's sampling CPU profiler (node:inspector) over the timed part of a run,
// summarised three ways:
// - self time by area: WebAssembly (tfjs's kernels), tfjs's JavaScript (op dispatch, kernel glue,
//   bookkeeping), serving's JavaScript, the garbage collector, idle (the event loop waiting: no work,
//   e.g. between arrivals), and the rest;
// - phases: the share of samples with the engine's decode or prefill pass on the stack, and with the
//   matmul kernel (serving/wasmMatMul.ts's wrapper and everything under it); on wasm the engine runs one
//   ragged pass a step (`engine.ts:pass`: decode and prefill together), elsewhere a decode and a prefill pass;
// - a partition of the samples by the innermost named serving function on the stack (anonymous
//   callbacks and the matmul wrapper skipped), so that the tfjs ops a function issues count as its own:
//   `gpt2.ts:forward` is the model's own ops, `loraStack.ts:delta` the LoRA terms, `kvCache.ts:join` and
//   `drop` the batched KV cache's changes, and so on; `(outside serving)` is everything else.
// Profiling slows the arm down a little (a sample every 200 µs), so profiled runs are for reading, not for the table.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface ProfileSummary {
  /** Milliseconds covered by the samples. */
  sampledMs: number;
  /** Share of the samples, by where the sampled code lives (self time). */
  areas: Record<ProfileArea, number>;
  /** Inclusive shares: decode passes, prefill passes, ragged passes (both at once), matmul kernels. */
  phases: { decode: number; prefill: number; pass: number; matmul: number };
  /** The samples partitioned by innermost named serving function, largest first (at most `top`). */
  functions: { name: string; share: number }[];
}

export type ProfileArea = 'wasm' | 'tfjs-js' | 'serving-js' | 'bench-js' | 'gc' | 'idle' | 'other';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface Profiler {
  /** Ends sampling and answers the summary; with `saveTo`, also writes the raw profile there (a .cpuprofile that Chrome's DevTools and speedscope open). */
  stop(saveTo?: string): Promise<ProfileSummary>;
}

/** Starts sampling this process; `stop()` ends it and answers the summary. */
export async function startProfiler(top = 14): Promise<Profiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(saveTo) {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      session.disconnect();
      if (saveTo) writeFileSync(saveTo, JSON.stringify(profile));
      return summarizeProfile(profile, top);
    },
  };
}

function areaOf(frame: CpuProfileNode['callFrame']): ProfileArea {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (url.startsWith('wasm://') || functionName.startsWith('wasm-function') || functionName.startsWith('$')) return 'wasm';
  if (url.includes('@tensorflow')) return 'tfjs-js';
  if (url.includes('/serving/')) return 'serving-js';
  if (url.includes('/bench/')) return 'bench-js';
  return 'other';
}

/** `engine.ts:decode` for a named function in serving/, else undefined. */
function servingName(frame: CpuProfileNode['callFrame']): string | undefined {
  const at = frame.url.indexOf('/serving/');
  if (at < 0 || !frame.functionName) return undefined;
  return `${frame.url.slice(at + '/serving/'.length).replace(/^engine\//, '')}:${frame.functionName}`;
}

export function summarizeProfile(profile: CpuProfile, top = 14): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const areas: Record<ProfileArea, number> = { wasm: 0, 'tfjs-js': 0, 'serving-js': 0, 'bench-js': 0, gc: 0, idle: 0, other: 0 };
  const phases = { decode: 0, prefill: 0, pass: 0, matmul: 0 };
  const owners = new Map<string, number>();
  // What each node's stack says, computed once per node.
  const cache = new Map<number, { owner: string; decode: boolean; prefill: boolean; pass: boolean; matmul: boolean }>();
  const stackOf = (id: number) => {
    const known = cache.get(id);
    if (known) return known;
    const found = { owner: '(outside serving)', decode: false, prefill: false, pass: false, matmul: false };
    let owned = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.url.endsWith('/serving/wasmMatMul.ts')) {
        found.matmul = true;
        continue;
      }
      const name = servingName(frame);
      if (!name) continue;
      if (!owned) {
        found.owner = name;
        owned = true;
      }
      if (name === 'engine.ts:decode') found.decode = true;
      if (name === 'engine.ts:prefill') found.prefill = true;
      if (name === 'engine.ts:pass') found.pass = true;
    }
    cache.set(id, found);
    return found;
  };
  let total = 0;
  samples.forEach((id, i) => {
    // A sample's weight is the time to the next one (the last one gets the previous gap).
    const weight = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    total += weight;
    areas[areaOf(byId.get(id)!.callFrame)] += weight;
    const s = stackOf(id);
    owners.set(s.owner, (owners.get(s.owner) ?? 0) + weight);
    if (s.decode) phases.decode += weight;
    if (s.prefill) phases.prefill += weight;
    if (s.pass) phases.pass += weight;
    if (s.matmul) phases.matmul += weight;
  });
  const share = (us: number) => (total > 0 ? us / total : 0);
  for (const k of Object.keys(areas) as ProfileArea[]) areas[k] = share(areas[k]);
  const functions = [...owners]
    .map(([name, us]) => ({ name, share: share(us) }))
    .sort((a, b) => b.share - a.share)
    .slice(0, top);
  return { sampledMs: total / 1000, areas, phases: { decode: share(phases.decode), prefill: share(phases.prefill), pass: share(phases.pass), matmul: share(phases.matmul) }, functions };
}
