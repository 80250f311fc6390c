// The batch's adapters stacked along the rank, kept from one decode step to the next.
//
// Gathered multi-adapter LoRA (lora.ts multiAdapterHook) computes, per targeted module,
// y = ((x·A) ⊙ M)·B with A = [A₁ … A_k] (in × W), B = [s₁B₁; …; s_kB_k] (W × out) and a 0/1 mask M
// keeping each row's own adapter's columns: three ops per module whatever the number of adapters k.
// Building A and B costs more than applying them on wasm (a concat of k pieces and k scalings per module,
// measured 5–7 ms a step for 9 modules and 28 adapters, against ~1.5 ms to apply them), and under
// continuous batching the batch's adapters change at almost every step (a sequence leaves, another joins)
// but only by one or two. So the stack lives across steps, as slots:
// - an adapter that joins the batch is appended (one concat of the old stack and the new pieces);
// - an adapter that leaves keeps its slot (no row points at it, the mask zeroes its columns);
// - when the dead slots would make the stack wider than `slack` × the live adapters' width, it is rebuilt
//   from the live adapters alone.
// Scales are folded into B once, when an adapter is stacked. When every row has the same adapter the hook
// is plain LoRA on that adapter's own tensors, and the stack is left as it is.
//
// The stack holds copies: an adapter evicted from the device (and disposed) while it sits in a dead slot
// costs nothing, and a live one is pinned by its running sequences.
//
// Where the backend has the segmented LoRA kernel (segmentedLora.ts: wasm), every pass with an adapter
// uses it instead, and nothing is stacked: one op per module reads each row's own adapter in place,
// r·(in + out) multiply-adds a row instead of the stack's width × (in + out). It also beats plain LoRA's
// three tf ops per module when every row has the same adapter (measured 7× at 32 to 512 rows, rank 8,
// n_embd 96). The stack remains the path of backends without the kernel (and `kernel: false`).
import { TributaryError } from '../contracts/index.ts';
import type { LinearHook } from './gpt2.ts';
import { loraScale, type LoraAdapter } from './lora.ts';
import { hasSegmentedLora, segmentedLora, type LoraPiece } from './segmentedLora.ts';
import { tf, type Tensor2D } from './tf.ts';

export interface LoraStackStats {
  /** Stacks built from scratch (the first one included). */
  rebuilds: number;
  /** Steps that appended adapters to the stack. */
  appends: number;
  /** Steps that found every adapter of the batch already stacked. */
  reuses: number;
  /** Steps served by plain LoRA (one adapter for every row) or with no adapter at all. */
  single: number;
  /** Steps served by the segmented LoRA kernel (no stack). */
  kernel: number;
  /** Adapters stacked now, live or not, and the stack's width (Σ r). */
  slots: number;
  width: number;
}

export interface LoraStack {
  /**
   * The hook for one forward pass: `rows[n]` is flattened row n's adapter (the batch's B·T positions in
   * order), or null for the base model alone. Updates the stack now (outside the pass's tidy); the
   * hook's `dispose` frees the pass's masks, not the stack.
   */
  hook(rows: readonly (LoraAdapter | null)[]): LinearHook & { dispose(): void };
  stats(): LoraStackStats;
  /** Frees the stack. */
  dispose(): void;
}

export interface LoraStackOptions {
  /** Rebuild when the stack would be wider than this many times the live adapters' width. Default 2. */
  slack?: number;
  /** Use the segmented LoRA kernel where the backend has it. Default true; false keeps to the stack. */
  kernel?: boolean;
}

export class LoraStackError extends TributaryError {
  override name = 'LoraStackError';
}

interface ModuleStack {
  /** (in, W) */
  a: Tensor2D;
  /** (W, out), each slot's rows scaled by its adapter's alpha / r. */
  b: Tensor2D;
  /** Per slot, its first column here and its width (0 when the slot's adapter does not target the module). */
  cols: { offset: number; width: number }[];
  width: number;
}

export function createLoraStack(opts: LoraStackOptions = {}): LoraStack {
  const slack = opts.slack ?? 2;
  if (!(slack >= 1)) throw new LoraStackError(`slack must be at least 1, got ${slack}`);
  let slots: LoraAdapter[] = [];
  let modules = new Map<string, ModuleStack>();
  const useKernel = opts.kernel ?? true;
  const counts = { rebuilds: 0, appends: 0, reuses: 0, single: 0, kernel: 0 };

  const disposeModules = (ms: Map<string, ModuleStack>) => {
    for (const m of ms.values()) tf.dispose([m.a, m.b]);
  };

  /** Appends `added` as new slots (from scratch when `fresh`); answers the new per-module stacks. */
  const stackUp = (base: LoraAdapter[], added: LoraAdapter[], fresh: boolean): Map<string, ModuleStack> => {
    const all = [...base, ...added];
    const names = new Set<string>();
    for (const ad of all) for (const name of ad.modules.keys()) names.add(name);
    const out = new Map<string, ModuleStack>();
    for (const name of names) {
      const old = fresh ? undefined : modules.get(name);
      const cols: ModuleStack['cols'] = [];
      let width = 0;
      for (const ad of all) {
        const w = ad.modules.has(name) ? ad.config.r : 0;
        cols.push({ offset: width, width: w });
        width += w;
      }
      const from = fresh ? all : added; // the adapters whose pieces are copied now
      const pieces = from.filter((ad) => ad.modules.has(name));
      if (pieces.length === 0) {
        if (old) out.set(name, { ...old, cols, width });
        continue;
      }
      const scale = new Float32Array(pieces.reduce((n, ad) => n + ad.config.r, 0));
      let at = 0;
      for (const ad of pieces) {
        scale.fill(loraScale(ad.config), at, at + ad.config.r);
        at += ad.config.r;
      }
      const entry = tf.tidy(() => {
        const newA = pieces.map((ad) => ad.modules.get(name)!.a); // (in, r) each
        const rawB = tf.concat(pieces.map((ad) => ad.modules.get(name)!.b), 0); // (Σr, out)
        const newB = tf.mul(rawB, tf.tensor2d(scale, [scale.length, 1]));
        return {
          a: tf.concat(old ? [old.a, ...newA] : newA, 1) as Tensor2D,
          b: (old ? tf.concat([old.b, newB], 0) : newB) as Tensor2D,
        };
      });
      out.set(name, { ...entry, cols, width });
    }
    return out;
  };

  const stack: LoraStack = {
    hook(rows) {
      const live: LoraAdapter[] = [];
      const seen = new Set<LoraAdapter>();
      for (const ad of rows) {
        if (ad && !seen.has(ad)) {
          seen.add(ad);
          live.push(ad);
        }
      }
      if (live.length === 0) {
        counts.single += 1;
        return { delta: () => null, dispose() {} };
      }
      if (useKernel && hasSegmentedLora()) {
        counts.kernel += 1;
        return kernelHook(rows, live);
      }
      if (live.length === 1 && rows.every((ad) => ad === live[0])) {
        counts.single += 1;
        const only = live[0]!;
        const s = loraScale(only.config);
        return {
          delta(module, x) {
            const w = only.modules.get(module);
            if (!w) return null;
            if (x.shape[0] !== rows.length) throw new LoraStackError(`the hook was built for ${rows.length} rows, the batch has ${x.shape[0]}`);
            return tf.mul(tf.matMul(tf.matMul(x, w.a), w.b), s) as Tensor2D;
          },
          dispose() {},
        };
      }

      // Bring the stack up to date: append the batch's new adapters, or rebuild when dead slots pile up.
      const slotOf = new Map(slots.map((ad, i) => [ad, i]));
      const added = live.filter((ad) => !slotOf.has(ad));
      const rank = (ads: Iterable<LoraAdapter>) => {
        let n = 0;
        for (const ad of ads) n += ad.config.r;
        return n;
      };
      const liveWidth = rank(live);
      const widthAfter = rank(slots) + rank(added);
      if (slots.length === 0 || widthAfter > slack * liveWidth) {
        const next = stackUp([], live, true);
        disposeModules(modules);
        modules = next;
        slots = [...live];
        counts.rebuilds += 1;
      } else if (added.length > 0) {
        const next = stackUp(slots, added, false);
        for (const [name, m] of modules) {
          const n = next.get(name);
          if (!n || n.a !== m.a) tf.dispose([m.a, m.b]);
        }
        modules = next;
        slots = [...slots, ...added];
        counts.appends += 1;
      } else counts.reuses += 1;

      // Per module, the rows' mask over its columns; modules with the same column layout share one.
      const slotOfRow = rows.map((ad) => (ad ? slots.indexOf(ad) : -1));
      const masks = new Map<string, Tensor2D | null>();
      const maskFor = (m: ModuleStack): Tensor2D | null => {
        const key = m.cols.map((c) => c.width).join(',');
        if (masks.has(key)) return masks.get(key)!;
        const data = new Float32Array(rows.length * m.width);
        let any = false;
        slotOfRow.forEach((slot, n) => {
          const c = slot >= 0 ? m.cols[slot]! : undefined;
          if (c && c.width > 0) {
            data.fill(1, n * m.width + c.offset, n * m.width + c.offset + c.width);
            any = true;
          }
        });
        const mask = any ? tf.tensor2d(data, [rows.length, m.width]) : null;
        masks.set(key, mask);
        return mask;
      };
      const perModule = new Map<string, { m: ModuleStack; mask: Tensor2D } | null>();
      for (const [name, m] of modules) {
        const mask = maskFor(m);
        perModule.set(name, mask ? { m, mask } : null);
      }
      return {
        delta(module, x) {
          const e = perModule.get(module);
          if (!e) return null;
          if (x.shape[0] !== rows.length) throw new LoraStackError(`the hook was built for ${rows.length} rows, the batch has ${x.shape[0]}`);
          return tf.matMul(tf.mul(tf.matMul(x, e.m.a), e.mask), e.m.b) as Tensor2D; // (N, W) masked, then (N, out)
        },
        dispose() {
          for (const mask of masks.values()) mask?.dispose();
          masks.clear();
        },
      };
    },

    stats() {
      return { ...counts, slots: slots.length, width: slots.reduce((n, ad) => n + ad.config.r, 0) };
    },

    dispose() {
      disposeModules(modules);
      modules = new Map();
      slots = [];
    },
  };
  return stack;
}

// Each adapter's pieces, made once per adapter rather than once a pass (28 adapters × 9 modules of small
// objects a decode step otherwise). With the kernel's pieces passed as offsets, this took a pass over 28
// adapters from 284–400 to 230–287 µs (measured). A piece also keeps where its weights sit for the kernel.
const piecesOf = new WeakMap<LoraAdapter, Map<string, LoraPiece>>();
function piecesFor(ad: LoraAdapter): Map<string, LoraPiece> {
  let byModule = piecesOf.get(ad);
  if (!byModule) {
    const scale = loraScale(ad.config);
    byModule = new Map([...ad.modules].map(([module, w]) => [module, { a: w.a, b: w.b, scale }]));
    piecesOf.set(ad, byModule);
  }
  return byModule;
}

/** A pass through the segmented LoRA kernel: per module, the live adapters that target it and each row's index among them. */
function kernelHook(rows: readonly (LoraAdapter | null)[], live: readonly LoraAdapter[]): LinearHook & { dispose(): void } {
  const slot = new Map(live.map((ad, i) => [ad, i]));
  const liveOfRow = Int32Array.from(rows, (ad) => (ad ? slot.get(ad)! : -1));
  const livePieces = live.map(piecesFor); // one lookup an adapter a pass, not one a module
  const perModule = new Map<string, { pieces: LoraPiece[]; index: Int32Array; out: number } | null>();
  const forModule = (module: string) => {
    if (perModule.has(module)) return perModule.get(module)!;
    const pieces: LoraPiece[] = [];
    const indexOf = new Int32Array(live.length).fill(-1);
    live.forEach((_, i) => {
      const piece = livePieces[i]!.get(module);
      if (piece) {
        indexOf[i] = pieces.length;
        pieces.push(piece);
      }
    });
    // When every live adapter targets the module (the usual case), its pieces are the live adapters in order.
    const index = pieces.length === live.length ? liveOfRow : liveOfRow.map((i) => (i < 0 ? -1 : indexOf[i]!));
    const entry = pieces.length === 0 ? null : { pieces, index, out: pieces[0]!.b.shape[1] };
    perModule.set(module, entry);
    return entry;
  };
  return {
    delta(module, x) {
      const e = forModule(module);
      if (!e) return null;
      if (x.shape[0] !== rows.length) throw new LoraStackError(`the hook was built for ${rows.length} rows, the batch has ${x.shape[0]}`);
      return segmentedLora(x, e.pieces, e.index, e.out);
    },
    dispose() {},
  };
}
