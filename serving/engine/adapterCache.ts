// The adapter cache: LoRA adapters in three tiers, disk → host → device.
//
// - disk: whatever `load(name)` reads (PEFT files, written elsewhere); a miss costs a read.
// - host: the weights as Float32Arrays, under a host byte budget, least recently used evicted first.
// - device: the weights as tensors (a LoraAdapter the forward pass can use), under a device byte budget,
//   least recently used evicted first, except entries pinned by running sequences: a sequence pins its
//   adapter for as long as it runs (`acquire` … `release`), so nothing it needs disappears mid-flight.
//   The per-adapter baseline keeps whole merged models here instead (`acquireMerged`), under the same
//   budget, so both scheduling modes are measured with the same memory.
//
// Nothing here blocks a caller: `acquire` answers null when the adapter is not resident yet (or the
// device is full of pinned entries), and `prefetch` brings it from disk in the background.
import { linearModules, type Gpt2Model } from '../gpt2.ts';
import { disposeLora, LoraError, mergeAdapter, type LoraAdapter, type LoraConfig } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf, type Tensor2D } from '../tf.ts';
import { canOverwriteInPlace, overwriteInPlace } from '../wasmOverwrite.ts';
import { AdapterTooLargeError } from './errors.ts';

export interface HostModule {
  /** Aᵀ, row-major (in, r). */
  a: Float32Array;
  aShape: [number, number];
  /** Bᵀ, row-major (r, out). */
  b: Float32Array;
  bShape: [number, number];
}

/** An adapter held in host memory, as the loader reads it. */
export interface HostAdapter {
  config: LoraConfig;
  /** Full module name (`h.0.attn.c_attn`) → its weights. */
  modules: Map<string, HostModule>;
}

export function hostAdapterBytes(host: HostAdapter): number {
  let n = 0;
  for (const m of host.modules.values()) n += (m.a.length + m.b.length) * 4;
  return n;
}

/** Uploads an adapter's weights as tensors. */
export function toDevice(host: HostAdapter): LoraAdapter {
  const modules = new Map<string, { a: Tensor2D; b: Tensor2D }>();
  for (const [name, m] of host.modules) modules.set(name, { a: tf.tensor2d(m.a, m.aShape), b: tf.tensor2d(m.b, m.bShape) });
  return { config: host.config, modules };
}

/** Whether a device adapter has exactly the host adapter's modules, each of the same shapes (so that it can hold its weights). */
function sameLayout(device: LoraAdapter, host: HostAdapter): boolean {
  if (device.modules.size !== host.modules.size) return false;
  for (const [module, m] of host.modules) {
    const w = device.modules.get(module);
    if (!w || w.a.shape[0] !== m.aShape[0] || w.a.shape[1] !== m.aShape[1] || w.b.shape[0] !== m.bShape[0] || w.b.shape[1] !== m.bShape[1]) return false;
  }
  return true;
}

/** Downloads an adapter's weights (tests and benchmarks make adapters on device and serve them from host). */
export function toHost(adapter: LoraAdapter): HostAdapter {
  const modules = new Map<string, HostModule>();
  for (const [name, w] of adapter.modules) {
    modules.set(name, {
      a: w.a.dataSync() as Float32Array,
      aShape: [w.a.shape[0], w.a.shape[1]],
      b: w.b.dataSync() as Float32Array,
      bShape: [w.b.shape[0], w.b.shape[1]],
    });
  }
  return { config: adapter.config, modules };
}

/** Bytes of a model's weights (float32): what one merged copy costs on device. */
export function modelBytes(model: Gpt2Model): number {
  let n = 0;
  for (const t of model.params.values()) n += t.size * 4;
  return n;
}

/** Checks that an adapter fits the base model: known modules, the widths of each, and its rank. */
export function checkHostAdapter(name: string, host: HostAdapter, model: Gpt2Config): void {
  const widths = new Map(linearModules(model).map((m) => [m.name, m]));
  const r = host.config.r;
  for (const [module, m] of host.modules) {
    const want = widths.get(module);
    const bad = (what: string) => new LoraError(`adapter ${JSON.stringify(name)}, module ${module}: ${what}`, { details: `the base model has n_embd ${model.nEmbd} and ${model.nLayer} layers` });
    if (!want) throw bad('the base model has no such module');
    if (m.aShape[0] !== want.in || m.aShape[1] !== r || m.a.length !== want.in * r) throw bad(`A is [${m.aShape.join(', ')}], expected [${want.in}, ${r}]`);
    if (m.bShape[0] !== r || m.bShape[1] !== want.out || m.b.length !== r * want.out) throw bad(`B is [${m.bShape.join(', ')}], expected [${r}, ${want.out}]`);
  }
}

/** Where an adapter is now. */
export type Residency = 'device' | 'host' | 'loading' | 'disk';

export interface TierStats {
  /** Requests the tier served as it was. */
  hits: number;
  /** Times an adapter had to be brought into the tier (a disk read for host, an upload for device). */
  misses: number;
  evictions: number;
  bytes: number;
  budgetBytes: number;
  entries: number;
}

export interface AdapterCacheStats {
  host: TierStats;
  /**
   * Entries are adapters, and merged models in per-adapter scheduling; `pinned` counts pinned entries,
   * `reused` the uploads that rewrote an evicted adapter's tensors in place (among `misses`).
   */
  device: TierStats & { pinned: number; reused: number };
  /** Disk reads in flight, and those that failed (unknown adapter or a bad file). */
  loading: number;
  loadFailures: number;
}

export interface AdapterCacheOptions {
  /** Reads an adapter from disk; rejects with UnknownAdapterError when there is none of that name. */
  load(name: string): Promise<HostAdapter>;
  /** The base model's shape: every loaded adapter is checked against it. */
  model: Gpt2Config;
  hostBudgetBytes: number;
  deviceBudgetBytes: number;
}

export interface AdapterCache {
  readonly hostBudgetBytes: number;
  readonly deviceBudgetBytes: number;
  /**
   * Starts bringing the adapter to host (a no-op when it is resident or already loading), and uploads it
   * to device when it fits without evicting anything (`toDevice`, default true). Resolves once it is on
   * host; rejects with UnknownAdapterError for a name the loader does not know.
   */
  prefetch(name: string, opts?: { toDevice?: boolean }): Promise<void>;
  residency(name: string): Residency;
  /**
   * The adapter on device, pinned (each acquire needs one release), evicting unpinned entries least
   * recently used first to make room; null when it is not on host yet or the device is full of pinned entries.
   */
  acquire(name: string): LoraAdapter | null;
  release(name: string): void;
  /** Like acquire, for a copy of `base` with the adapter merged into its weights (the per-adapter baseline). */
  acquireMerged(name: string, base: Gpt2Model): Gpt2Model | null;
  releaseMerged(name: string): void;
  /** Drops the adapter from host and, unless a running sequence pins it, from device. Answers whether a device copy stays (pinned). */
  evict(name: string): boolean;
  stats(): AdapterCacheStats;
  /** Frees every device tensor. */
  dispose(): void;
}

type DeviceEntry =
  | { kind: 'lora'; name: string; bytes: number; pins: number; adapter: LoraAdapter }
  | { kind: 'merged'; name: string; bytes: number; pins: number; model: Gpt2Model };

const loraKey = (name: string) => `lora:${name}`;
const mergedKey = (name: string) => `merged:${name}`;

export function createAdapterCache(opts: AdapterCacheOptions): AdapterCache {
  for (const k of ['hostBudgetBytes', 'deviceBudgetBytes'] as const) {
    if (!Number.isFinite(opts[k]) || opts[k] < 0) throw new LoraError(`the adapter cache's ${k} must be a non-negative number, got ${opts[k]}`);
  }
  // Maps keep insertion order: re-inserting on use makes the first key the least recently used.
  const host = new Map<string, { host: HostAdapter; bytes: number }>();
  const device = new Map<string, DeviceEntry>();
  const loading = new Map<string, Promise<void>>();
  const hostStats = { hits: 0, misses: 0, evictions: 0, bytes: 0 };
  const deviceStats = { hits: 0, misses: 0, evictions: 0, bytes: 0, reused: 0 };
  let loadFailures = 0;
  let disposed = false;

  const touch = <V>(map: Map<string, V>, key: string): V | undefined => {
    const v = map.get(key);
    if (v !== undefined) {
      map.delete(key);
      map.set(key, v);
    }
    return v;
  };

  const putHost = (name: string, h: HostAdapter, bytes: number): void => {
    for (const [key, e] of host) {
      if (hostStats.bytes + bytes <= opts.hostBudgetBytes) break;
      host.delete(key);
      hostStats.bytes -= e.bytes;
      hostStats.evictions += 1;
    }
    host.set(name, { host: h, bytes });
    hostStats.bytes += bytes;
  };

  /** Drops a device entry; an adapter's tensors go to `spares` when given (to be rewritten by the next upload), else are freed. */
  const dropDevice = (key: string, e: DeviceEntry, spares?: LoraAdapter[]): void => {
    device.delete(key);
    deviceStats.bytes -= e.bytes;
    if (e.kind === 'lora') {
      if (spares) spares.push(e.adapter);
      else disposeLora(e.adapter);
    } else for (const t of e.model.params.values()) t.dispose();
  };

  /**
   * Evicts unpinned device entries, least recently used first, until `bytes` more fit; false (evicting
   * nothing) when they cannot. Evicted adapters go to `spares` when given (see `upload`).
   */
  const makeRoom = (bytes: number, mayEvict: boolean, spares?: LoraAdapter[]): boolean => {
    const free = opts.deviceBudgetBytes - deviceStats.bytes;
    if (bytes <= free) return true;
    if (!mayEvict) return false;
    let evictable = 0;
    for (const e of device.values()) if (e.pins === 0) evictable += e.bytes;
    if (bytes > free + evictable) return false;
    for (const [key, e] of [...device]) {
      if (opts.deviceBudgetBytes - deviceStats.bytes >= bytes) break;
      if (e.pins > 0) continue;
      dropDevice(key, e, spares);
      deviceStats.evictions += 1;
    }
    return true;
  };

  /** Host copy, as the source of an upload (counted as a host hit). */
  const fromHost = (name: string): { host: HostAdapter; bytes: number } | undefined => {
    const h = touch(host, name);
    if (h) hostStats.hits += 1;
    return h;
  };

  /**
   * Puts the adapter on device. Where tensors can be rewritten in place (wasm), an adapter just evicted to
   * make room (`spares`) with the same modules and shapes lends its tensors: the upload is then a copy
   * into them, with no allocation or free in the wasm heap (whose free lists thousands of small pieces
   * otherwise fragment, slowing every allocation) and no new tensors for tfjs and the GC to track. The
   * spares left over are freed.
   */
  const upload = (name: string, h: { host: HostAdapter; bytes: number }, pins: number, spares: LoraAdapter[] = []): LoraAdapter => {
    const at = canOverwriteInPlace() ? spares.findIndex((s) => sameLayout(s, h.host)) : -1;
    let adapter: LoraAdapter | undefined;
    if (at >= 0) {
      const spare = spares.splice(at, 1)[0]!;
      const modules = new Map<string, { a: Tensor2D; b: Tensor2D }>();
      for (const [module, m] of h.host.modules) {
        const w = spare.modules.get(module)!;
        if (!overwriteInPlace(w.a, m.a) || !overwriteInPlace(w.b, m.b)) break;
        modules.set(module, { a: w.a, b: w.b });
      }
      if (modules.size === h.host.modules.size) {
        adapter = { config: h.host.config, modules };
        deviceStats.reused += 1;
      } else spares.push(spare); // (not expected: the layout matched) freed below, half written
    }
    adapter ??= toDevice(h.host);
    for (const s of spares) disposeLora(s);
    spares.length = 0;
    device.set(loraKey(name), { kind: 'lora', name, bytes: h.bytes, pins, adapter });
    deviceStats.bytes += h.bytes;
    deviceStats.misses += 1;
    return adapter;
  };

  const cache: AdapterCache = {
    hostBudgetBytes: opts.hostBudgetBytes,
    deviceBudgetBytes: opts.deviceBudgetBytes,

    prefetch(name, { toDevice: wantDevice = true } = {}) {
      if (device.has(loraKey(name)) || device.has(mergedKey(name))) return Promise.resolve();
      const onHost = fromHost(name);
      if (onHost) {
        if (wantDevice && makeRoom(onHost.bytes, false)) upload(name, onHost, 0);
        return Promise.resolve();
      }
      const inFlight = loading.get(name);
      if (inFlight) return inFlight;
      hostStats.misses += 1;
      const p = opts
        .load(name)
        .then((h) => {
          if (disposed) return;
          checkHostAdapter(name, h, opts.model);
          const bytes = hostAdapterBytes(h);
          // Larger than a whole tier, it could never run: say so rather than wait forever.
          if (bytes > opts.hostBudgetBytes || bytes > opts.deviceBudgetBytes) {
            throw new AdapterTooLargeError(`adapter ${JSON.stringify(name)} takes ${bytes} bytes, more than the adapter cache's budget`, {
              details: `host budget ${opts.hostBudgetBytes} bytes, device budget ${opts.deviceBudgetBytes} bytes`,
            });
          }
          putHost(name, h, bytes);
          if (wantDevice && makeRoom(bytes, false)) upload(name, fromHost(name)!, 0);
        })
        .catch((e: unknown) => {
          loadFailures += 1;
          throw e;
        })
        .finally(() => loading.delete(name));
      // A caller that only wanted the side effect may drop the promise; its failure must not crash the process.
      p.catch(() => {});
      loading.set(name, p);
      return p;
    },

    residency(name) {
      if (device.has(loraKey(name)) || device.has(mergedKey(name))) return 'device';
      if (host.has(name)) return 'host';
      return loading.has(name) ? 'loading' : 'disk';
    },

    acquire(name) {
      const e = touch(device, loraKey(name));
      if (e?.kind === 'lora') {
        deviceStats.hits += 1;
        e.pins += 1;
        return e.adapter;
      }
      const h = host.get(name);
      const spares: LoraAdapter[] = [];
      if (!h || !makeRoom(h.bytes, true, spares)) return null;
      return upload(name, fromHost(name)!, 1, spares);
    },

    release(name) {
      const e = device.get(loraKey(name));
      if (!e || e.pins === 0) throw new LoraError(`release(${JSON.stringify(name)}) without a matching acquire`);
      e.pins -= 1;
    },

    acquireMerged(name, base) {
      const e = touch(device, mergedKey(name));
      if (e?.kind === 'merged') {
        deviceStats.hits += 1;
        e.pins += 1;
        return e.model;
      }
      // Merged from the host copy, or from the adapter's device copy when the host one was evicted.
      const bytes = modelBytes(base);
      if (!host.has(name) && !device.has(loraKey(name))) return null;
      if (!makeRoom(bytes, true)) return null;
      const onDevice = device.get(loraKey(name)); // (making room may have evicted it)
      let model: Gpt2Model;
      if (onDevice?.kind === 'lora') {
        model = mergeAdapter(base, onDevice.adapter);
      } else {
        const h = fromHost(name);
        if (!h) return null;
        const adapter = toDevice(h.host);
        model = mergeAdapter(base, adapter);
        disposeLora(adapter);
      }
      device.set(mergedKey(name), { kind: 'merged', name, bytes, pins: 1, model });
      deviceStats.bytes += bytes;
      deviceStats.misses += 1;
      return model;
    },

    releaseMerged(name) {
      const e = device.get(mergedKey(name));
      if (!e || e.pins === 0) throw new LoraError(`releaseMerged(${JSON.stringify(name)}) without a matching acquireMerged`);
      e.pins -= 1;
    },

    evict(name) {
      const h = host.get(name);
      if (h) {
        host.delete(name);
        hostStats.bytes -= h.bytes;
        hostStats.evictions += 1;
      }
      let pinned = false;
      for (const key of [loraKey(name), mergedKey(name)]) {
        const e = device.get(key);
        if (!e) continue;
        if (e.pins > 0) pinned = true;
        else {
          dropDevice(key, e);
          deviceStats.evictions += 1;
        }
      }
      return pinned;
    },

    stats() {
      let pinned = 0;
      for (const e of device.values()) if (e.pins > 0) pinned += 1;
      return {
        host: { ...hostStats, budgetBytes: opts.hostBudgetBytes, entries: host.size },
        device: { ...deviceStats, budgetBytes: opts.deviceBudgetBytes, entries: device.size, pinned },
        loading: loading.size,
        loadFailures,
      };
    },

    dispose() {
      disposed = true;
      for (const [key, e] of [...device]) dropDevice(key, e);
      host.clear();
      hostStats.bytes = 0;
    },
  };
  return cache;
}
