// A correctness check for a GPU host: `npx tsx bench/webgpu/check.ts`. It computes on the cpu backend first,
// then on webgpu, and compares: every influence scorer's scores (64 queries × 3,000 training sketches,
// k = 1536), and the serving engine's greedy tokens in mixed batches over 6 adapters against a full
// recomputation per request (the engine tests' own model, adapters and tokenizer, from
// serving/engine/testFixtures.ts, so a mismatch here reads like one there). Prints the adapter it found and
// one line per check; exits 1 on a mismatch. Needs a GPU adapter for Dawn (see bench/attribution/README.md).
import { createScorerAsync, INFLUENCE_METHODS } from '../../attribution/index.ts';
import { tf, useTensorBackend } from '../../serving/index.ts';
import { forward, disposeModel } from '../../serving/gpt2.ts';
import { adapterHook, disposeLora, type LoraAdapter } from '../../serving/lora.ts';
import { createAdapterCache, toDevice, type HostAdapter } from '../../serving/engine/adapterCache.ts';
import { createEngine } from '../../serving/engine/engine.ts';
import { fakeTokenizer, loaderOf, randomAdapters, requestSpecs, TINY, tinyModel, type RequestSpec } from '../../serving/engine/testFixtures.ts';
import { seededValues } from '../attribution/measure.ts';
import { tinySketchShape } from '../attribution/sketchShapes.ts';

const log = (...a: unknown[]) => console.log(...a);
const t0 = performance.now();
const since = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;

async function scorerScores(): Promise<Map<string, Float32Array>> {
  const spec = tinySketchShape().spec;
  const k = spec.dims;
  const n = 3000;
  const m = 64;
  const C = 4;
  const out = new Map<string, Float32Array>();
  for (const method of INFLUENCE_METHODS) {
    const per = method === 'tracin' || method === 'trak';
    const used = per ? C : 1;
    const nn = per ? n / C : n;
    const s = await createScorerAsync({
      method,
      spec,
      n: nn,
      checkpoints: Array.from({ length: used }, (_, j) => ({ step: j + 1, learningRate: 1e-3 * (used - j), values: seededValues(nn * k, 10 + j) })),
    });
    out.set(method, await s.scoreAsync(Array.from({ length: used }, (_, j) => seededValues(m * k, 100 + j)), m));
    s.dispose();
  }
  return out;
}

const tokenizer = fakeTokenizer();
const EOS = tokenizer.eosToken;
type Spec = RequestSpec;

async function reference(hosts: Map<string, HostAdapter>, reqs: Spec[]): Promise<number[][]> {
  const model = tinyModel(1);
  const all: number[][] = [];
  for (const spec of reqs) {
    const lora: LoraAdapter | null = spec.adapter === null ? null : toDevice(hosts.get(spec.adapter)!);
    const ids = [...spec.prompt];
    const out: number[] = [];
    while (out.length < spec.maxTokens) {
      const { logits } = forward(model, [ids], lora ? { hook: adapterHook(lora) } : {});
      const last = tf.tidy(() => tf.argMax(tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]), [-1])));
      const next = (await last.data())[0]!;
      tf.dispose([logits, last]);
      out.push(next);
      ids.push(next);
      if (next === EOS) break;
    }
    if (lora) disposeLora(lora);
    all.push(out);
  }
  disposeModel(model);
  return all;
}

async function engineTokens(hosts: Map<string, HostAdapter>, reqs: Spec[]): Promise<{ tokens: number[][]; ms: number; maxAdapters: number }> {
  const model = tinyModel(1);
  const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 1e9, deviceBudgetBytes: 1e9 });
  const engine = createEngine({ model, tokenizer, adapters: cache, maxBatch: 8 });
  let maxAdapters = 0;
  const start = performance.now();
  const results = await Promise.all(
    reqs.map(async (r) => {
      const h = engine.submit({ ...r, temperature: 0 });
      for await (const _ of h.events) maxAdapters = Math.max(maxAdapters, engine.metrics().lastDecode.adapters);
      return (await h.done).tokens;
    }),
  );
  const ms = performance.now() - start;
  await engine.close();
  cache.dispose();
  disposeModel(model);
  return { tokens: results, ms, maxAdapters };
}

// cpu references first (no GPU needed), then webgpu.
await useTensorBackend('cpu');
const cpuScores = await scorerScores();
const hosts = randomAdapters(6);
const reqs = requestSpecs(14, 6);
const expected = await reference(hosts, reqs);
log(`[${since()}] cpu references done`);

await useTensorBackend('webgpu');
const nav = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } } }).navigator;
const adapter = await nav.gpu.requestAdapter();
log(`[${since()}] webgpu backend: ${tf.getBackend()}; adapter`, adapter?.info ? { vendor: adapter.info.vendor, architecture: adapter.info.architecture, device: adapter.info.device, description: adapter.info.description } : adapter);

const gpuScores = await scorerScores();
let failed = false;
for (const [method, cpu] of cpuScores) {
  const gpu = gpuScores.get(method)!;
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < cpu.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(cpu[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(cpu[i]! - gpu[i]!));
  }
  const ok = maxDiff / maxAbs < 1e-3;
  failed ||= !ok;
  log(`scorer ${method}: ${cpu.length} scores, max |cpu − webgpu| / max |cpu| = ${(maxDiff / maxAbs).toExponential(2)} ${ok ? 'OK' : 'MISMATCH'}`);
}
log(`[${since()}] scorers compared`);

try {
  const got = await engineTokens(hosts, reqs);
  const same = got.tokens.filter((t, i) => t.join() === expected[i]!.join()).length;
  log(`engine on webgpu: ${same}/${reqs.length} requests give the cpu reference's greedy tokens; up to ${got.maxAdapters} adapters in one decode batch; ${got.ms.toFixed(0)} ms`);
  failed ||= same !== reqs.length;
  if (same !== reqs.length) got.tokens.forEach((t, i) => t.join() !== expected[i]!.join() && log(`  request ${i}: webgpu ${t.join(',')} cpu ${expected[i]!.join(',')}`));
} catch (e) {
  log('engine on webgpu FAILED:', e instanceof Error ? e.stack : e);
  failed = true;
}
log(`[${since()}] done: ${failed ? 'MISMATCH' : 'all agree'}`);
process.exit(failed ? 1 : 0);
