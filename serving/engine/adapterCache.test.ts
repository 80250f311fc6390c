import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { disposeModel } from '../gpt2.ts';
import { createLora, disposeLora, loraBytes, mergeAdapter } from '../lora.ts';
import { tf } from '../tf.ts';
import { createAdapterCache, hostAdapterBytes, modelBytes, toDevice, toHost, type HostAdapter } from './adapterCache.ts';
import { AdapterTooLargeError, UnknownAdapterError } from './errors.ts';
import { loaderOf, TINY, tinyModel } from './testFixtures.ts';
import { maxDiff } from '../testing/maxDiff.ts';

/** Adapters of one rank, so that each takes the same bytes. */
function sameSizeAdapters(n: number): Map<string, HostAdapter> {
  const out = new Map<string, HostAdapter>();
  for (let i = 0; i < n; i++) {
    const lora = createLora(TINY, { r: 4, alpha: 8, targets: ['c_attn'], seed: 50 + i, randomB: 0.1 });
    out.set(`a${i}`, toHost(lora));
    disposeLora(lora);
  }
  return out;
}

describe('adapter cache', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('host and device copies hold the same weights, and count the same bytes', () => {
    const lora = createLora(TINY, { r: 2, alpha: 4, targets: ['c_fc'], seed: 3, randomB: 0.2 });
    const host = toHost(lora);
    const back = toDevice(host);
    expect(hostAdapterBytes(host)).toBe(loraBytes(lora));
    expect(hostAdapterBytes(host)).toBe(2 * (32 * 2 + 2 * 128) * 4); // two layers of c_fc: A (32, 2), B (2, 128)
    for (const [name, w] of lora.modules) {
      expect(Array.from(back.modules.get(name)!.a.dataSync())).toEqual(Array.from(w.a.dataSync()));
      expect(Array.from(back.modules.get(name)!.b.dataSync())).toEqual(Array.from(w.b.dataSync()));
    }
    disposeLora(lora);
    disposeLora(back);
  });

  it('loads from disk to host to device, counting hits and misses per tier', async () => {
    const hosts = sameSizeAdapters(2);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 10 * bytes, deviceBudgetBytes: 10 * bytes });
    expect(cache.residency('a0')).toBe('disk');
    expect(cache.acquire('a0')).toBeNull();
    const p = cache.prefetch('a0', { toDevice: false });
    expect(cache.residency('a0')).toBe('loading');
    await p;
    expect(cache.residency('a0')).toBe('host');
    const a = cache.acquire('a0')!;
    expect(a.modules.size).toBe(2);
    expect(cache.residency('a0')).toBe('device');
    expect(cache.acquire('a0')).toBe(a);
    cache.release('a0');
    cache.release('a0');
    expect(() => cache.release('a0')).toThrow(/without a matching acquire/);
    // A prefetch with room uploads too.
    await cache.prefetch('a1');
    expect(cache.residency('a1')).toBe('device');
    const s = cache.stats();
    expect(s.host).toEqual({ hits: 2, misses: 2, evictions: 0, bytes: 2 * bytes, budgetBytes: 10 * bytes, entries: 2 });
    expect(s.device).toEqual({ hits: 1, misses: 2, evictions: 0, bytes: 2 * bytes, budgetBytes: 10 * bytes, entries: 2, pinned: 0, reused: 0 });
    cache.dispose();
  });

  it('never exceeds its device budget: evicts the least recently used, never a pinned one', async () => {
    const hosts = sameSizeAdapters(4);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 10 * bytes, deviceBudgetBytes: 2 * bytes });
    for (const name of hosts.keys()) await cache.prefetch(name, { toDevice: false });
    const before = tf.memory().numTensors;
    cache.acquire('a0');
    cache.acquire('a1');
    cache.release('a0');
    cache.release('a1');
    cache.acquire('a0'); // a0 is now the most recently used, a1 the least
    cache.release('a0');
    cache.acquire('a2');
    expect(cache.residency('a1')).toBe('host');
    expect(cache.residency('a0')).toBe('device');
    expect(cache.stats().device.bytes).toBe(2 * bytes);
    // a0 and a2 both pinned: a3 cannot come in, and nothing is evicted.
    cache.acquire('a0');
    expect(cache.acquire('a3')).toBeNull();
    expect(cache.stats().device).toMatchObject({ evictions: 1, bytes: 2 * bytes, entries: 2, pinned: 2 });
    cache.release('a2');
    expect(cache.acquire('a3')).not.toBeNull();
    expect(cache.residency('a2')).toBe('host');
    expect(cache.residency('a0')).toBe('device');
    expect(cache.stats().device).toMatchObject({ evictions: 2, bytes: 2 * bytes, pinned: 2 });
    // Two adapters of 2 modules × 2 tensors each on device.
    expect(tf.memory().numTensors).toBe(before + 2 * 4);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('on wasm, an upload that evicts an adapter of the same layout rewrites its tensors in place; another layout gets new ones', async () => {
    const hosts = sameSizeAdapters(3);
    const other = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 90, randomB: 0.1 }); // same modules, another rank
    hosts.set('r2', toHost(other));
    disposeLora(other);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 10 * bytes, deviceBudgetBytes: bytes });
    for (const name of hosts.keys()) await cache.prefetch(name, { toDevice: false });
    const before = tf.memory().numTensors;
    const values = (ad: { modules: Map<string, { a: tf.Tensor; b: tf.Tensor }> }) => [...ad.modules.values()].flatMap((w) => [Array.from(w.a.dataSync()), Array.from(w.b.dataSync())]);
    const want = (name: string) => [...hosts.get(name)!.modules.values()].flatMap((m) => [Array.from(m.a), Array.from(m.b)]);
    const a0 = cache.acquire('a0')!;
    const a0Tensors = [...a0.modules.values()].flatMap((w) => [w.a, w.b]);
    cache.release('a0');
    const a1 = cache.acquire('a1')!; // evicts a0
    expect(cache.residency('a0')).toBe('host');
    expect([...a1.modules.values()].flatMap((w) => [w.a, w.b])).toEqual(a0Tensors); // the same tensors…
    expect(values(a1)).toEqual(want('a1')); // …holding a1's weights
    expect(tf.memory().numTensors).toBe(before + 4);
    cache.release('a1');
    const r2 = cache.acquire('r2')!; // evicts a1, whose shapes differ: its tensors are freed, new ones made
    expect(a0Tensors.every((t) => t.isDisposed)).toBe(true);
    expect(values(r2)).toEqual(want('r2'));
    expect(tf.memory().numTensors).toBe(before + 4);
    cache.release('r2');
    expect(values(cache.acquire('a2')!)).toEqual(want('a2'));
    expect(cache.stats().device).toMatchObject({ misses: 4, evictions: 3, reused: 1, entries: 1, bytes });
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evicts the least recently used host copies beyond the host budget', async () => {
    const hosts = sameSizeAdapters(3);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 2 * bytes, deviceBudgetBytes: bytes });
    await cache.prefetch('a0', { toDevice: false });
    await cache.prefetch('a1', { toDevice: false });
    await cache.prefetch('a0', { toDevice: false }); // resident: touches it
    await cache.prefetch('a2', { toDevice: false });
    expect(['a0', 'a1', 'a2'].map((n) => cache.residency(n))).toEqual(['host', 'disk', 'host']);
    expect(cache.stats().host).toMatchObject({ misses: 3, evictions: 1, bytes: 2 * bytes, entries: 2 });
    cache.dispose();
  });

  it('fails for unknown adapters, adapters larger than a tier, and adapters that do not fit the model', async () => {
    const hosts = sameSizeAdapters(1);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const wrong = createLora({ ...TINY, nEmbd: 16 }, { r: 4, alpha: 8, targets: ['c_attn'], seed: 1 });
    hosts.set('narrow', toHost(wrong));
    disposeLora(wrong);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 10 * bytes, deviceBudgetBytes: bytes - 1 });
    await expect(cache.prefetch('nope')).rejects.toBeInstanceOf(UnknownAdapterError);
    await expect(cache.prefetch('nope')).rejects.toThrow(/no adapter named "nope"/);
    await expect(cache.prefetch('a0')).rejects.toBeInstanceOf(AdapterTooLargeError);
    await expect(cache.prefetch('narrow')).rejects.toThrow(/module h\.0\.attn\.c_attn: A is \[16, 4\], expected \[32, 4\]/);
    expect(cache.residency('nope')).toBe('disk');
    expect(cache.stats()).toMatchObject({ loading: 0, loadFailures: 4, host: { entries: 0 } });
    cache.dispose();
  });

  it('merges from a device copy whose tensors were rewritten in place with the new adapter\'s weights, not the ones they held before', async () => {
    // Room for one merged model and one adapter: a1's upload rewrites a0's evicted tensors, and a1's merge then
    // starts from those tensors, which a0's merge had already multiplied (tfjs-wasm caches packed matmul weights).
    const hosts = sameSizeAdapters(2);
    const model = tinyModel(1);
    const bytes = hostAdapterBytes(hosts.get('a0')!);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 1e9, deviceBudgetBytes: modelBytes(model) + bytes });
    for (const name of hosts.keys()) await cache.prefetch(name, { toDevice: false });
    cache.acquire('a0');
    cache.release('a0');
    cache.acquireMerged('a0', model); // from a0's device copy
    cache.releaseMerged('a0');
    cache.acquire('a1'); // evicts a0's device copy and rewrites its tensors in place
    cache.release('a1');
    expect(cache.stats().device.reused).toBe(1);
    const merged = cache.acquireMerged('a1', model)!; // evicts a0's merged model; merges from a1's device copy
    const fresh = toDevice(hosts.get('a1')!);
    const want = mergeAdapter(model, fresh);
    for (const [name, w] of want.params) expect(maxDiff(merged.params.get(name)!.dataSync(), w.dataSync()), name).toBeLessThan(1e-6);
    cache.releaseMerged('a1');
    disposeModel(want);
    disposeLora(fresh);
    cache.dispose();
    disposeModel(model);
  });

  it('keeps merged models under the same device budget, and unloads on request', async () => {
    const hosts = sameSizeAdapters(2);
    const model = tinyModel(1);
    const mb = modelBytes(model);
    const cache = createAdapterCache({ load: loaderOf(hosts), model: TINY, hostBudgetBytes: 1e9, deviceBudgetBytes: mb + 1000 });
    await cache.prefetch('a0', { toDevice: false });
    await cache.prefetch('a1', { toDevice: false });
    const m0 = cache.acquireMerged('a0', model)!;
    expect(m0.params.get('h.0.attn.c_attn.weight')).not.toBe(model.params.get('h.0.attn.c_attn.weight'));
    expect(cache.acquireMerged('a1', model)).toBeNull(); // a0's merged copy is pinned
    cache.releaseMerged('a0');
    expect(cache.acquireMerged('a1', model)).not.toBeNull();
    expect(cache.stats().device).toMatchObject({ bytes: mb, entries: 1, evictions: 1, pinned: 1 });
    expect(cache.evict('a1')).toBe(true); // pinned: the device copy stays, the host copy goes
    expect(cache.residency('a1')).toBe('device');
    cache.releaseMerged('a1');
    expect(cache.evict('a1')).toBe(false);
    expect(cache.residency('a1')).toBe('disk');
    expect(cache.stats().device.bytes).toBe(0);
    cache.dispose();
    disposeModel(model);
  });
});
