import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { disposeModel, forward, type Gpt2Model } from '../gpt2.ts';
import { kvBytesPerPosition } from '../kvCache.ts';
import { adapterHook, disposeLora, type LoraAdapter } from '../lora.ts';
import { tf } from '../tf.ts';
import { createAdapterCache, hostAdapterBytes, modelBytes, toDevice, type AdapterCache, type HostAdapter } from './adapterCache.ts';
import { createEngine, type Engine, type EngineMetrics, type EngineOptions, type GenerateHandle, type GenerateRequest, type GenerateResult, type TokenEvent } from './engine.ts';
import { EngineClosedError, InvalidRequestError, PromptTooLongError, QueueFullError, UnknownAdapterError } from './errors.ts';
import { hasRaggedAttention } from '../raggedAttention.ts';
import { hasSegmentedLora } from '../segmentedLora.ts';
import { fakeTokenizer, loaderOf, randomAdapters, requestSpecs, TINY, tinyModel, type RequestSpec } from './testFixtures.ts';

const tokenizer = fakeTokenizer();
const EOS = tokenizer.eosToken;
let model: Gpt2Model;
let hosts: Map<string, HostAdapter>;

type Spec = RequestSpec;
const specs = requestSpecs;

/** Greedy decoding by full recomputation, one sequence at a time: the reference the engine must match. */
function reference(spec: Spec): number[] {
  const lora: LoraAdapter | null = spec.adapter === null ? null : toDevice(hosts.get(spec.adapter)!);
  const ids = [...spec.prompt];
  const out: number[] = [];
  while (out.length < spec.maxTokens) {
    const { logits } = forward(model, [ids], lora ? { hook: adapterHook(lora) } : {});
    const last = tf.tidy(() => tf.argMax(tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]), [-1])));
    const next = last.dataSync()[0]!;
    tf.dispose([logits, last]);
    out.push(next);
    ids.push(next);
    if (next === EOS) break;
  }
  if (lora) disposeLora(lora);
  return out;
}

function setup(opts: Partial<EngineOptions> & { deviceBudgetBytes?: number; hostBudgetBytes?: number } = {}): { engine: Engine; cache: AdapterCache } {
  const cache = createAdapterCache({
    load: loaderOf(hosts),
    model: TINY,
    hostBudgetBytes: opts.hostBudgetBytes ?? 1e9,
    deviceBudgetBytes: opts.deviceBudgetBytes ?? 1e9,
  });
  const engine = createEngine({ model, tokenizer, adapters: cache, ...opts });
  return { engine, cache };
}

/** Reads a request's events to the end, calling `onEvent` after each. */
async function collect(h: GenerateHandle, onEvent?: (e: TokenEvent) => void): Promise<{ events: TokenEvent[]; result: GenerateResult }> {
  const events: TokenEvent[] = [];
  for await (const e of h.events) {
    events.push(e);
    onEvent?.(e);
  }
  return { events, result: await h.done };
}

const greedy = (s: Spec): GenerateRequest => ({ ...s, temperature: 0 });

describe('engine', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
    model = tinyModel(1);
    hosts = randomAdapters(10);
  });
  afterAll(() => disposeModel(model));

  it("a request's tokens are the same alone and in a busy mixed batch where other adapters join and leave", async () => {
    const reqs = specs(14, 6);
    const expected = reqs.map(reference);
    expect(new Set(expected.map((t) => t.join())).size).toBe(14); // the adapters do change the outputs

    const alone = setup();
    for (let i = 0; i < reqs.length; i++) {
      const { result } = await collect(alone.engine.submit(greedy(reqs[i]!)));
      expect(result.tokens).toEqual(expected[i]);
    }
    await alone.engine.close();
    alone.cache.dispose();

    // Four slots for fourteen requests: later ones join as earlier ones leave, at different steps.
    const busy = setup({ maxBatch: 4 });
    let mostAdapters = 0;
    const watch = () => (mostAdapters = Math.max(mostAdapters, busy.engine.metrics().lastDecode.adapters));
    const first = reqs.slice(0, 7).map((r) => collect(busy.engine.submit(greedy(r)), watch));
    await new Promise((r) => setTimeout(r, 30));
    const later = reqs.slice(7).map((r) => collect(busy.engine.submit(greedy(r)), watch));
    const results = await Promise.all([...first, ...later]);
    results.forEach(({ events, result }, i) => {
      expect(result.tokens).toEqual(expected[i]);
      expect(events.map((e) => e.token)).toEqual(expected[i]);
      expect(result.finishReason).toBe(expected[i]!.at(-1) === EOS ? 'stop' : 'length');
      expect(result.tokensIn).toBe(reqs[i]!.prompt.length);
      expect(result.text).toBe(events.map((e) => e.text).join(''));
      expect(result.text).toBe(tokenizer.decode(expected[i]!.filter((t) => t !== EOS)));
    });
    const m = busy.engine.metrics();
    expect(m.prefills).toBeGreaterThanOrEqual(5);
    expect(m.meanDecodeBatch).toBeGreaterThan(2);
    expect(mostAdapters).toBeGreaterThanOrEqual(3);
    expect(m).toMatchObject({ running: 0, queued: 0, kvReservedBytes: 0, kvUsedBytes: 0, requests: { submitted: 14, failed: 0 } });
    await busy.engine.close();
    busy.cache.dispose();
  });

  it("'mixed' and 'per-adapter' scheduling give the same tokens for the same requests", async () => {
    const reqs = specs(12, 4, 9);
    const expected = reqs.map(reference);
    const out: Record<string, { tokens: number[][]; metrics: EngineMetrics }> = {};
    for (const scheduling of ['mixed', 'per-adapter'] as const) {
      const { engine, cache } = setup({ scheduling, maxBatch: 6, deviceBudgetBytes: 3 * modelBytes(model) });
      const results = await Promise.all(reqs.map((r) => collect(engine.submit(greedy(r)))));
      out[scheduling] = { tokens: results.map((r) => r.result.tokens), metrics: engine.metrics() };
      await engine.close();
      cache.dispose();
    }
    expect(out.mixed!.tokens).toEqual(expected);
    expect(out['per-adapter']!.tokens).toEqual(expected);
    // The baseline needs more steps: one adapter's sequences per step.
    expect(out['per-adapter']!.metrics.steps).toBeGreaterThan(out.mixed!.metrics.steps);
  });

  it('base matmuls per decode step do not grow with the number of distinct adapters in the batch', async () => {
    const prompt = [3, 1, 4, 1, 5];
    const runWith = async (names: string[], scheduling: 'mixed' | 'per-adapter') => {
      const { engine, cache } = setup({ scheduling, maxBatch: 8 });
      // Adapters on device first, so that all eight requests start in the same step.
      for (const n of new Set(names)) await cache.prefetch(n, { toDevice: scheduling === 'mixed' });
      let full: EngineMetrics['lastDecode'] | undefined;
      const done = await Promise.all(
        names.map((adapter, i) =>
          collect(engine.submit({ adapter, prompt: [...prompt, i], maxTokens: 4, temperature: 0 }), () => {
            const last = engine.metrics().lastDecode;
            if (last.rows === 8) full = last;
          }),
        ),
      );
      const m = engine.metrics();
      await engine.close();
      cache.dispose();
      return { full, total: m.baseMatmuls, tokens: done.map((d) => d.result.tokensOut) };
    };
    const one = await runWith(new Array<string>(8).fill('a0'), 'mixed');
    const eight = await runWith(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'], 'mixed');
    const baseline = await runWith(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'], 'per-adapter');
    expect(one.tokens).toEqual(new Array<number>(8).fill(4));
    expect(eight.tokens).toEqual(new Array<number>(8).fill(4));
    // 2 layers × 4 projections, once for the whole batch of 8 rows, whether they use 1 adapter or 8.
    expect(one.full).toEqual({ rows: 8, adapters: 1, baseMatmuls: 8 });
    expect(eight.full).toEqual({ rows: 8, adapters: 8, baseMatmuls: 8 });
    // 1 prefill + 3 decode passes of 8 base matmuls each; the baseline runs them once per adapter.
    expect(one.total).toBe(32);
    expect(eight.total).toBe(32);
    expect(baseline.total).toBe(8 * 32);
  });

  it('a full queue refuses with QueueFullError and a Retry-After estimate', async () => {
    const { engine, cache } = setup({ maxBatch: 1, maxQueue: 2 });
    const r = { adapter: null, prompt: [1, 2, 3], maxTokens: 20, temperature: 0 };
    const a = engine.submit(r);
    const b = engine.submit(r);
    let refused: unknown;
    try {
      engine.submit(r);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(refused).toMatchObject({ queued: 2, retryAfterSeconds: 1, retryable: true });
    // Once a is done and b admitted there is room for two more.
    await collect(a);
    while (engine.metrics().queued > 0) await new Promise((r) => setImmediate(r));
    const c = engine.submit(r);
    const d = engine.submit(r);
    expect(() => engine.submit(r)).toThrow(/the request queue is full \(2 waiting\)/);
    const results = await Promise.all([b, c, d].map((h) => h.done));
    expect(results.map((x) => x.finishReason)).toEqual(['length', 'length', 'length']);
    const late = (() => {
      engine.submit(r);
      engine.submit(r);
      try {
        engine.submit(r);
      } catch (e) {
        return e as QueueFullError;
      }
    })();
    // With requests completed, the estimate is the recent time per completed request, in whole seconds.
    expect(Number.isInteger(late!.retryAfterSeconds)).toBe(true);
    expect(late!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(engine.metrics().requests.rejected).toBe(3);
    await engine.close();
    cache.dispose();
  });

  it('cancelling frees the slot and the KV memory, and a queued request then runs', async () => {
    const { engine, cache } = setup({ maxBatch: 1 });
    await cache.prefetch('a1');
    await cache.prefetch('a2');
    const abort = new AbortController();
    const long = engine.submit({ adapter: 'a1', prompt: [5, 6], maxTokens: 60, temperature: 0, signal: abort.signal });
    const waiting = engine.submit({ adapter: 'a2', prompt: [7], maxTokens: 5, temperature: 0 });
    const queuedAbort = new AbortController();
    const dropped = engine.submit({ adapter: null, prompt: [7], maxTokens: 5, temperature: 0, signal: queuedAbort.signal });
    let seen = 0;
    for await (const _ of long.events) {
      if (++seen === 3) {
        expect(engine.metrics()).toMatchObject({ running: 1, queued: 2 });
        abort.abort();
        queuedAbort.abort();
      }
    }
    const cancelled = await long.done;
    expect(cancelled.finishReason).toBe('cancelled');
    expect(cancelled.tokensOut).toBeGreaterThanOrEqual(3);
    expect(cancelled.tokensOut).toBeLessThanOrEqual(4);
    expect(await dropped.done).toMatchObject({ finishReason: 'cancelled', tokensIn: 0, tokensOut: 0, firstTokenMs: null });
    const next = await waiting.done;
    expect(next).toMatchObject({ finishReason: 'length', tokensOut: 5 });
    expect(next.tokens).toEqual(reference({ adapter: 'a2', prompt: [7], maxTokens: 5 }));
    expect(engine.metrics()).toMatchObject({ running: 0, queued: 0, kvReservedBytes: 0, requests: { finished: { cancelled: 2, length: 1 } } });
    expect(cache.stats().device.pinned).toBe(0);
    await engine.close();
    cache.dispose();
  });

  it('the KV budget defers admission instead of failing', async () => {
    const per = kvBytesPerPosition(TINY.nLayer, TINY.nEmbd);
    // Room for one request of 4 + 8 positions at a time (and not two), though there are 8 slots.
    const { engine, cache } = setup({ maxBatch: 8, kvBudgetBytes: per * 20 });
    const reqs = specs(3, 2, 11).map((s) => ({ ...s, prompt: s.prompt.slice(0, 4).concat(new Array<number>(Math.max(0, 4 - s.prompt.length)).fill(2)), maxTokens: 8 }));
    let mostRunning = 0;
    const results = await Promise.all(reqs.map((r) => collect(engine.submit(greedy(r)), () => (mostRunning = Math.max(mostRunning, engine.metrics().running)))));
    expect(mostRunning).toBe(1);
    expect(results.map((r) => r.result.tokens)).toEqual(reqs.map(reference));
    // A request that could never fit is refused at once.
    expect(() => engine.submit({ adapter: null, prompt: [1, 2, 3, 4, 5], maxTokens: 16 })).toThrow(InvalidRequestError);
    expect(() => engine.submit({ adapter: null, prompt: [1, 2, 3, 4, 5], maxTokens: 16 })).toThrow(/needs 10752 bytes of KV cache, more than the engine's whole budget \(10240\)/);
    await engine.close();
    cache.dispose();
  });

  it('serves more adapters than the device holds, never above its budget; unknown adapters fail alone', async () => {
    const maxBytes = Math.max(...[...hosts.values()].map(hostAdapterBytes));
    const budget = 3 * maxBytes;
    const { engine, cache } = setup({ maxBatch: 4, deviceBudgetBytes: budget, hostBudgetBytes: 5 * maxBytes });
    const reqs = specs(20, 9, 13);
    let most = 0;
    const watch = () => (most = Math.max(most, cache.stats().device.bytes));
    const ghost = engine.submit({ adapter: 'ghost', prompt: [1], maxTokens: 3 });
    const handles = reqs.map((r) => engine.submit(greedy(r)));
    await expect(ghost.done).rejects.toBeInstanceOf(UnknownAdapterError);
    await expect(collect(ghost)).rejects.toThrow(/no adapter named "ghost"/);
    const results = await Promise.all(handles.map((h) => collect(h, watch)));
    expect(results.map((r) => r.result.tokens)).toEqual(reqs.map(reference));
    const s = cache.stats();
    expect(most).toBeLessThanOrEqual(budget);
    expect(s.device.bytes).toBeLessThanOrEqual(budget);
    expect(s.device.evictions).toBeGreaterThan(0);
    expect(s.device.pinned).toBe(0);
    expect(engine.metrics().requests).toMatchObject({ failed: 1, submitted: 21 });
    await engine.close();
    cache.dispose();
  });

  it('serving adapters of one shape through a device that holds two, rewrites evicted adapters in place and gives each request its own adapter\'s tokens', async () => {
    const same = new Map([...hosts].filter(([, h]) => h.config.r === 4)); // a1, a4, a7
    const bytes = hostAdapterBytes(same.values().next().value!);
    const cache = createAdapterCache({ load: loaderOf(same), model: TINY, hostBudgetBytes: 1e9, deviceBudgetBytes: 2 * bytes });
    const engine = createEngine({ model, tokenizer, adapters: cache, maxBatch: 2 });
    const names = [...same.keys()];
    const reqs = Array.from({ length: 9 }, (_, i) => ({ adapter: names[i % names.length]!, prompt: [3 + i, 5, 7], maxTokens: 6 }));
    const results = await Promise.all(reqs.map((r) => collect(engine.submit(greedy(r)))));
    expect(results.map((r) => r.result.tokens)).toEqual(reqs.map(reference));
    expect(cache.stats().device.reused).toBeGreaterThan(0);
    expect(cache.stats().device.bytes).toBeLessThanOrEqual(2 * bytes);
    await engine.close();
    cache.dispose();
  });

  it('leaves no tensors behind once requests are done, cancelled or failed', async () => {
    const before = tf.memory().numTensors;
    const { engine, cache } = setup({ maxBatch: 3 });
    const abort = new AbortController();
    const handles = specs(8, 3, 17).map((s) => engine.submit({ ...s, temperature: 0.7, seed: 1 }));
    const cancelled = engine.submit({ adapter: 'a0', prompt: [1, 2], maxTokens: 30, signal: abort.signal });
    const unknown = engine.submit({ adapter: 'nobody', prompt: [1], maxTokens: 2 });
    setTimeout(() => abort.abort(), 5);
    await Promise.all(handles.map((h) => h.done));
    await cancelled.done;
    await unknown.done.catch(() => undefined);
    await engine.close();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('seeded sampling is reproducible: same seed, same tokens, alone or in a busy batch', async () => {
    const { engine, cache } = setup({ maxBatch: 8 });
    const req = { adapter: 'a3', prompt: [9, 8, 7], maxTokens: 20, temperature: 2, topP: 0.95, topK: 20, seed: 1234 };
    const a = await engine.submit(req).done;
    const b = await engine.submit(req).done;
    const others = specs(6, 5, 19).map((s) => engine.submit({ ...s, temperature: 1, seed: 7 }));
    const inBatch = engine.submit(req);
    const c = await inBatch.done;
    await Promise.all(others.map((o) => o.done));
    const d = await engine.submit({ ...req, seed: 4321 }).done;
    expect(a.tokens.length).toBeGreaterThan(3);
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).toEqual(a.tokens);
    expect(d.tokens).not.toEqual(a.tokens);
    await engine.close();
    cache.dispose();
  });

  it('stops at a stop sequence without sending it', async () => {
    const { engine, cache } = setup();
    const spec: Spec = { adapter: 'a0', prompt: [1, 2, 3], maxTokens: 12 };
    const expected = reference(spec);
    const full = tokenizer.decode(expected);
    const stop = full.slice(4, 6); // the text of the 5th and 6th tokens
    const at = full.indexOf(stop);
    const { events, result } = await collect(engine.submit({ ...greedy(spec), stop: [stop, 'never'] }));
    expect(result.finishReason).toBe('stop');
    expect(result.text).toBe(full.slice(0, at));
    expect(events.map((e) => e.text).join('')).toBe(full.slice(0, at));
    expect(result.tokens).toEqual(expected.slice(0, at + 2));
    await engine.close();
    cache.dispose();
  });

  it('refuses bad requests at once, saying why', async () => {
    const { engine, cache } = setup({ maxNewTokens: 16 });
    expect(() => engine.submit({ adapter: null, prompt: new Array<number>(60).fill(1), maxTokens: 5 })).toThrow(PromptTooLongError);
    expect(() => engine.submit({ adapter: null, prompt: new Array<number>(60).fill(1), maxTokens: 5 })).toThrow(/a prompt of 60 tokens plus 5 new tokens is longer than the model's 64 positions/);
    expect(() => engine.submit({ adapter: null, prompt: new Array<number>(64).fill(1) })).toThrow(PromptTooLongError);
    expect(() => engine.submit({ adapter: null, prompt: [] })).toThrow(/the prompt has no tokens/);
    expect(() => engine.submit({ adapter: null, prompt: [40] })).toThrow(/token id 40 is not in the vocabulary \[0, 40\)/);
    expect(() => engine.submit({ adapter: '', prompt: [1] })).toThrow(InvalidRequestError);
    expect(() => engine.submit({ adapter: null, prompt: [1], temperature: -0.5 })).toThrow(/temperature/);
    expect(() => engine.submit({ adapter: null, prompt: [1], maxTokens: 0 })).toThrow(/max_tokens must be a positive integer, got 0/);
    // Larger asks are lowered to maxNewTokens.
    const r = await engine.submit({ adapter: null, prompt: new Array<number>(40).fill(1), maxTokens: 30, temperature: 0 }).done;
    expect(r.tokensOut).toBeLessThanOrEqual(16);
    await engine.close();
    cache.dispose();
  });

  it('stays responsive while busy, and close() fails what is pending', async () => {
    const { engine, cache } = setup({ maxBatch: 2 });
    const handles = Array.from({ length: 5 }, (_, i) => engine.submit({ adapter: `a${i}`, prompt: [1, 2, 3], maxTokens: 60, temperature: 0 }));
    let firstTokens = 0;
    void (async () => {
      for await (const _ of handles[0]!.events) firstTokens += 1;
    })().catch(() => undefined);
    while (engine.metrics().running < 2) await new Promise((r) => setImmediate(r));
    // A timer fires while the engine is generating: the loop yields between steps.
    const runningWhenFired = await new Promise<number>((r) => setTimeout(() => r(engine.metrics().running), 5));
    expect(runningWhenFired).toBe(2);
    await engine.close();
    expect(firstTokens).toBeGreaterThan(0);
    // The three still queued (and the two running, unless they finished first) fail.
    for (const h of handles.slice(2)) await expect(h.done).rejects.toBeInstanceOf(EngineClosedError);
    await expect(collect(handles[4]!)).rejects.toThrow(/the inference engine is shut down/);
    expect(() => engine.submit({ adapter: null, prompt: [1] })).toThrow(EngineClosedError);
    expect(cache.stats().device.pinned).toBe(0);
    cache.dispose();
  });

  it("on a backend without serving's kernels (cpu) the tf ops path gives the same tokens: decode and prefill passes, the masked LoRA stack", async () => {
    const reqs = specs(8, 4, 13);
    const expected = reqs.map(reference); // on wasm
    await useTensorBackend('cpu');
    try {
      expect(hasRaggedAttention() || hasSegmentedLora()).toBe(false);
      const { engine, cache } = setup({ maxBatch: 3 });
      const results = await Promise.all(reqs.map((r) => collect(engine.submit(greedy(r)))));
      expect(results.map((r) => r.result.tokens)).toEqual(expected);
      const m = engine.metrics();
      expect(m.decodeSteps + m.prefills).toBeGreaterThan(m.steps); // some steps ran both passes
      await engine.close();
      cache.dispose();
    } finally {
      await useTensorBackend('wasm');
    }
  });
});
