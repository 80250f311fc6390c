// Micro-benchmark: tfjs's wasm BatchMatMul kernel as the backend ships it, against serving/wasmMatMul.ts's
// wrapper (explicit transposes), side by side in one process, for the shapes training and
// serving compute with. For each shape both kernels run in alternating rounds, each round timed by this
// process's CPU time (the wasm backend computes on one thread, so CPU time is the product's cost even
// while other processes take turns on the cores; wall time on a shared machine jumps by several times);
// the best round of each kernel is reported, with the ratio.
//
//   npx tsx bench/serving/matmul.ts [--quick] [--json]
//
// The backend's own kernel is captured from tfjs's kernel registry before useTensorBackend('wasm')
// installs the wrapper over it: that is why this file imports the wasm backend package itself (only to
// register its kernels early); everything else goes through serving's tf and backend modules.
import { parseArgs } from 'node:util';
import { tf, useTensorBackend } from '../../serving/index.ts';

interface Shape {
  what: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
}

// Tiny base model: C = 96, 3 heads of 32, vocabulary 2048; training batches of 8 × 128 = 1024 rows;
// serving decode batches of 32 rows.
const SHAPES: Shape[] = [
  { what: 'large output (brief)', a: [1024, 128], b: [128, 2048] },
  { what: 'train: x·W c_attn', a: [1024, 96], b: [96, 288] },
  { what: 'train: x·W mlp c_proj', a: [1024, 384], b: [384, 96] },
  { what: 'train: logits x·wteᵀ', a: [1024, 96], b: [2048, 96], transposeB: true },
  { what: 'train grad: dW = xᵀ·dy', a: [1024, 96], b: [1024, 288], transposeA: true },
  { what: 'train grad: dx = dy·Wᵀ', a: [1024, 288], b: [96, 288], transposeB: true },
  { what: 'train grad: dwte = dlogitsᵀ·x', a: [1024, 2048], b: [1024, 96], transposeA: true },
  { what: 'train: attention q·kᵀ', a: [8, 3, 128, 32], b: [8, 3, 128, 32], transposeB: true },
  { what: 'train: attention p·v', a: [8, 3, 128, 128], b: [8, 3, 128, 32] },
  { what: 'train grad: attention dpᵀ·q', a: [8, 3, 128, 128], b: [8, 3, 128, 32], transposeA: true },
  { what: 'decode: x·W c_attn (32 rows)', a: [32, 96], b: [96, 288] },
  { what: 'decode: logits x·wteᵀ (32 rows)', a: [32, 96], b: [2048, 96], transposeB: true },
  { what: 'decode: LoRA x·A, 32 adapters', a: [32, 96], b: [96, 256] },
  { what: 'decode: LoRA (x·A)·B, 32 adapters', a: [32, 256], b: [256, 288] },
  { what: 'decode: attention q·kᵀ (S = 48)', a: [32, 3, 1, 32], b: [32, 3, 48, 32], transposeB: true },
  { what: 'decode: attention p·v (S = 48)', a: [32, 3, 1, 48], b: [32, 3, 48, 32] },
  { what: 'prefill: attention q·kᵀ (T = 24)', a: [32, 3, 24, 32], b: [32, 3, 24, 32], transposeB: true },
];

export interface MatMulResult {
  what: string;
  shape: string;
  /** CPU milliseconds per product: the best round of each kernel. */
  originalMs: number;
  wrapperMs: number;
  originalGflops: number;
  wrapperGflops: number;
  /** originalMs / wrapperMs: above 1, the wrapper is faster. */
  speedup: number;
}

const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

function flops(s: Shape): number {
  const ra = s.a.length;
  const [m, k] = s.transposeA ? [s.a[ra - 1]!, s.a[ra - 2]!] : [s.a[ra - 2]!, s.a[ra - 1]!];
  const n = s.transposeB ? s.b[s.b.length - 2]! : s.b[s.b.length - 1]!;
  const batch = size(s.a.slice(0, -2));
  return 2 * batch * m * n * k;
}

const describe = (s: Shape) => `[${s.a.join(',')}]${s.transposeA ? 'ᵀ' : ''}·[${s.b.join(',')}]${s.transposeB ? 'ᵀ' : ''}`;

/** CPU milliseconds per product over a round of about `roundMs` of CPU time (at least 3 products). */
function timeRound(a: tf.Tensor, b: tf.Tensor, s: Shape, roundMs: number): number {
  let n = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  do {
    const out = tf.matMul(a, b, s.transposeA, s.transposeB);
    out.dataSync();
    out.dispose();
    n += 1;
    const c = process.cpuUsage(c0);
    used = (c.user + c.system) / 1000;
  } while (n < 3 || used < roundMs);
  return used / n;
}

export async function runMatMulBenchmark(opts: { rounds?: number; roundMs?: number; shapes?: Shape[] } = {}): Promise<MatMulResult[]> {
  const rounds = opts.rounds ?? 5;
  const roundMs = opts.roundMs ?? 100;
  // Register the wasm backend's kernels (the cpu backend stays current until useTensorBackend switches),
  // keep its own BatchMatMul, then let backend.ts set wasm up and install the wrapper.
  await useTensorBackend('cpu');
  await import('@tensorflow/tfjs-backend-wasm');
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) throw new Error('the wasm backend registered no BatchMatMul kernel');
  await useTensorBackend('wasm');
  const wrapper = tf.getKernel('BatchMatMul', 'wasm')!;
  if (wrapper.kernelFunc === original.kernelFunc) throw new Error('useTensorBackend did not install the matmul wrapper');
  const use = (k: tf.KernelConfig) => {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(k);
  };
  const results: MatMulResult[] = [];
  try {
    for (const [i, s] of (opts.shapes ?? SHAPES).entries()) {
      const a = tf.randomNormal(s.a, 0, 1, 'float32', 2 * i + 1);
      const b = tf.randomNormal(s.b, 0, 1, 'float32', 2 * i + 2);
      let bestOriginal = Infinity;
      let bestWrapper = Infinity;
      for (let r = 0; r < rounds; r++) {
        use(original);
        bestOriginal = Math.min(bestOriginal, timeRound(a, b, s, roundMs));
        use(wrapper);
        bestWrapper = Math.min(bestWrapper, timeRound(a, b, s, roundMs));
      }
      tf.dispose([a, b]);
      const f = flops(s);
      results.push({
        what: s.what,
        shape: describe(s),
        originalMs: bestOriginal,
        wrapperMs: bestWrapper,
        originalGflops: f / bestOriginal / 1e6,
        wrapperGflops: f / bestWrapper / 1e6,
        speedup: bestOriginal / bestWrapper,
      });
    }
  } finally {
    use(wrapper);
  }
  return results;
}

export function formatMatMul(results: readonly MatMulResult[]): string {
  const header = ['product', 'shape', 'wasm kernel CPU ms', 'GFLOP/s', 'wrapper CPU ms', 'GFLOP/s', 'wrapper speedup'];
  const rows = results.map((r) => [r.what, r.shape, r.originalMs.toFixed(3), r.originalGflops.toFixed(1), r.wrapperMs.toFixed(3), r.wrapperGflops.toFixed(1), `${r.speedup.toFixed(2)}×`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const results = await runMatMulBenchmark(values.quick ? { rounds: 1, roundMs: 40 } : {});
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatMatMul(results)}\n`);
}
