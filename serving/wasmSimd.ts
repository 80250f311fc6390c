// SIMD inner loops for serving's wasm kernels (segmentedLora.ts, raggedAttention.ts), as a tiny
// WebAssembly module assembled here at load time and instantiated on tfjs-wasm's own memory, so that it
// reads and writes tensors where they are, by their heap offsets.
//
// Why: those kernels are plain JavaScript over views of the heap, and V8 runs their multiply-adds one
// at a time (≈ 2·10⁹ a second at best); WebAssembly's f32x4 does four per instruction. The project has
// no WebAssembly toolchain (no compiler can be installed), so the functions are written below in the
// instruction set itself, through a few helpers that emit the binary encoding (WebAssembly core spec,
// sections 5.2–5.5; SIMD opcodes from the fixed-width SIMD proposal, part of the standard since 2021).
// Pointers are byte offsets in tfjs's heap; vector loads and stores take float32 alignment.
//
// Where the module cannot be made (a tfjs build whose memory is not reachable, or shared: the threaded
// build), `wasmSimd()` answers undefined and the kernels keep their JavaScript loops.

/** The exported functions. Pointers are byte offsets in tfjs-wasm's heap; every width a multiple of 4. */
export interface WasmSimd {
  /**
   * One row's LoRA term: y[0 … out) = scale · (x[0 … in)·A)·B, A (in, r) and B (r, out) row-major; `t`
   * is r floats of scratch. Needs r and out multiples of 4.
   */
  loraRow(x: number, inW: number, a: number, r: number, b: number, out: number, scale: number, y: number, t: number): void;
  /** Attention scores: p[j] = scale · q·k_j for the L keys k_j = k[j·D … (j + 1)·D). Needs D a multiple of 4. */
  scores(q: number, k: number, L: number, D: number, scale: number, p: number): void;
  /** Weighted values: y[0 … D) = inv · Σ_j p[j]·v_j for the L values v_j = v[j·D … (j + 1)·D). Needs D a multiple of 4. */
  weighted(p: number, v: number, L: number, D: number, inv: number, y: number): void;
}

// --- the binary encoding -------------------------------------------------------------------------
const u32 = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const s32 = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];
const [I32, F32, V128] = [0x7f, 0x7d, 0x7b];

// Instructions. Locals are numbered: parameters first, then the declared locals.
const get = (i: number) => [0x20, ...u32(i)];
const set = (i: number) => [0x21, ...u32(i)];
const i32 = (n: number) => [0x41, ...s32(n)];
const add = [0x6a];
const mul = [0x6c];
const geS = [0x4e];
const gtS = [0x4a];
const f32load = [0x2a, 2, 0];
const f32store = [0x38, 2, 0];
const f32add = [0x92];
const f32mul = [0x94];
const simd = (op: number, ...imm: number[]) => [0xfd, ...u32(op), ...imm];
const vload = (offset = 0) => simd(0x00, 2, ...u32(offset));
const vstore = (offset = 0) => simd(0x0b, 2, ...u32(offset));
const vzero = simd(0x0c, ...new Array<number>(16).fill(0));
const splat = simd(0x13);
const lane = (l: number) => simd(0x1f, l);
const vadd = simd(0xe4);
const vmul = simd(0xe6);
/** `for (;;) { if (cond) break; body }`: `cond` leaves an i32 on the stack; inside `body`, `br 0` continues. */
const whileNot = (cond: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...cond, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
/** local[i] += n (i32). */
const bump = (i: number, n: number[]) => [...get(i), ...n, ...add, ...set(i)];
/** local[acc] += splat(scalar) · v128 at `ptr` + offset (the scalar and pointer pushed by the caller's code). */
const fma = (acc: number, scalar: number[], ptr: number[], offset = 0) => [...get(acc), ...scalar, ...splat, ...ptr, ...vload(offset), ...vmul, ...vadd, ...set(acc)];

function loraRowBody(): { params: number[]; locals: number[]; code: number[] } {
  // params: 0 x, 1 inW, 2 a, 3 r, 4 b, 5 out, 6 scale (f32), 7 y, 8 t
  // locals: 9 i, 10 j, 11 px, 12 pa, 13 rowA (r·4 bytes), 14 o, 15 pb, 16 pt, 17 acc0, 18 acc1 (v128)
  const [x, inW, a, r, b, out, scale, y, t] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, px, pa, rowA, o, pb, pt, acc0, acc1] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const byJ = (j4: number) => [...get(j), ...i32(j4 * 4), ...mul]; // j·4 bytes
  // t[j … j + w) = scale · Σ_i x[i]·A[i, j … j + w), with w = 8 (two accumulators) or 4 (one).
  const chunk = (wide: boolean) => [
    ...vzero, ...set(acc0),
    ...(wide ? [...vzero, ...set(acc1)] : []),
    ...i32(0), ...set(i),
    ...get(x), ...set(px),
    ...get(a), ...byJ(1), ...add, ...set(pa),
    ...whileNot([...get(i), ...get(inW), ...geS], [
      ...fma(acc0, [...get(px), ...f32load], get(pa)),
      ...(wide ? fma(acc1, [...get(px), ...f32load], get(pa), 16) : []),
      ...bump(px, i32(4)),
      ...bump(pa, get(rowA)),
      ...bump(i, i32(1)),
    ]),
    ...get(t), ...byJ(1), ...add, ...get(acc0), ...get(scale), ...splat, ...vmul, ...vstore(),
    ...(wide ? [...get(t), ...byJ(1), ...add, ...get(acc1), ...get(scale), ...splat, ...vmul, ...vstore(16)] : []),
    ...bump(j, i32(wide ? 8 : 4)),
  ];
  const code = [
    ...get(r), ...i32(4), ...mul, ...set(rowA),
    ...i32(0), ...set(j),
    ...whileNot([...get(j), ...i32(8), ...add, ...get(r), ...gtS], chunk(true)),
    ...whileNot([...get(j), ...get(r), ...geS], chunk(false)),
    // y[o … o + 4) = Σ_j t[j]·B[j, o … o + 4)
    ...i32(0), ...set(o),
    ...whileNot([...get(o), ...get(out), ...geS], [
      ...vzero, ...set(acc0),
      ...i32(0), ...set(j),
      ...get(t), ...set(pt),
      ...get(b), ...get(o), ...i32(4), ...mul, ...add, ...set(pb),
      ...whileNot([...get(j), ...get(r), ...geS], [
        ...fma(acc0, [...get(pt), ...f32load], get(pb)),
        ...bump(pt, i32(4)),
        ...bump(pb, [...get(out), ...i32(4), ...mul]),
        ...bump(j, i32(1)),
      ]),
      ...get(y), ...get(o), ...i32(4), ...mul, ...add, ...get(acc0), ...vstore(),
      ...bump(o, i32(4)),
    ]),
  ];
  return { params: [I32, I32, I32, I32, I32, I32, F32, I32, I32], locals: [I32, I32, I32, I32, I32, I32, I32, I32, V128, V128], code };
}

function scoresBody(): { params: number[]; locals: number[]; code: number[] } {
  // params: 0 q, 1 k, 2 L, 3 D, 4 scale (f32), 5 p; locals: 6 j, 7 d, 8 pk, 9 acc (v128)
  const [q, k, L, D, scale, p] = [0, 1, 2, 3, 4, 5];
  const [j, d, pk, acc] = [6, 7, 8, 9];
  const hsum = [...get(acc), ...lane(0), ...get(acc), ...lane(1), ...f32add, ...get(acc), ...lane(2), ...f32add, ...get(acc), ...lane(3), ...f32add];
  const code = [
    ...i32(0), ...set(j),
    ...get(k), ...set(pk),
    ...whileNot([...get(j), ...get(L), ...geS], [
      ...vzero, ...set(acc),
      ...i32(0), ...set(d),
      ...whileNot([...get(d), ...get(D), ...geS], [
        ...get(acc), ...get(q), ...get(d), ...i32(4), ...mul, ...add, ...vload(), ...get(pk), ...get(d), ...i32(4), ...mul, ...add, ...vload(), ...vmul, ...vadd, ...set(acc),
        ...bump(d, i32(4)),
      ]),
      ...get(p), ...get(j), ...i32(4), ...mul, ...add, ...hsum, ...get(scale), ...f32mul, ...f32store,
      ...bump(pk, [...get(D), ...i32(4), ...mul]),
      ...bump(j, i32(1)),
    ]),
  ];
  return { params: [I32, I32, I32, I32, F32, I32], locals: [I32, I32, I32, V128], code };
}

function weightedBody(): { params: number[]; locals: number[]; code: number[] } {
  // params: 0 p, 1 v, 2 L, 3 D, 4 inv (f32), 5 y; locals: 6 j, 7 d, 8 pv, 9 acc (v128)
  const [p, v, L, D, inv, y] = [0, 1, 2, 3, 4, 5];
  const [j, d, pv, acc] = [6, 7, 8, 9];
  const code = [
    ...i32(0), ...set(d),
    ...whileNot([...get(d), ...get(D), ...geS], [
      ...vzero, ...set(acc),
      ...i32(0), ...set(j),
      ...get(v), ...get(d), ...i32(4), ...mul, ...add, ...set(pv),
      ...whileNot([...get(j), ...get(L), ...geS], [
        ...fma(acc, [...get(p), ...get(j), ...i32(4), ...mul, ...add, ...f32load], get(pv)),
        ...bump(pv, [...get(D), ...i32(4), ...mul]),
        ...bump(j, i32(1)),
      ]),
      ...get(y), ...get(d), ...i32(4), ...mul, ...add, ...get(acc), ...get(inv), ...splat, ...vmul, ...vstore(),
      ...bump(d, i32(4)),
    ]),
  ];
  return { params: [I32, I32, I32, I32, F32, I32], locals: [I32, I32, I32, V128], code };
}

/** The module's bytes: imports env.memory, exports the three functions. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [
    { name: 'loraRow', ...loraRowBody() },
    { name: 'scores', ...scoresBody() },
    { name: 'weighted', ...weightedBody() },
  ];
  const types = fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])]);
  const bodies = fns.map((f) => {
    const body = [...vec(f.locals.map((t) => [1, t])), ...f.code, 0x0b];
    return [...u32(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...u32(1)]])),
    ...section(3, vec(fns.map((_, i) => u32(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...u32(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

const made = new WeakMap<WebAssembly.Memory, WasmSimd | null>();

/** The functions on this memory (tfjs-wasm's), or undefined where they cannot be made. */
export function wasmSimd(memory: unknown): WasmSimd | undefined {
  if (!(memory instanceof WebAssembly.Memory) || memory.buffer instanceof SharedArrayBuffer) return undefined;
  if (!made.has(memory)) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(simdModuleBytes()), { env: { memory } });
      made.set(memory, instance.exports as unknown as WasmSimd);
    } catch {
      made.set(memory, null);
    }
  }
  return made.get(memory) ?? undefined;
}
