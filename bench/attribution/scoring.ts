// The scoring-throughput benchmark (issue #5): `npx tsx bench/attribution/scoring.ts [--quick] [--json] [--backend wasm|webgpu|cpu]`.
// Scores m queries at a time (the epoch job's chunk) against n training sketches with each influence
// method, and, interleaved with it in the same process, the backend's plain matmul of the same shapes,
// (m × k)·(k × n); prints pairs per second of each and their ratio. Both arms read the m × n result
// back to the host, as the epoch job must. See README.md beside this file.
import { parseArgs } from 'node:util';
import { createScorerAsync, DEFAULT_INFLUENCE_METHOD, EVAL_TRAINING, INFLUENCE_METHODS, type InfluenceMethod, type InfluenceScorer, type ScorerOptions } from '../../attribution/index.ts';
import { tf, TENSOR_BACKENDS, useTensorBackend, type TensorBackend } from '../../serving/index.ts';
import { describeMachine, machineAtEnd, machineAtStart, median, peakRssMiB, positiveInt, seededValues, stopwatch, type Lap, type Machine } from './measure.ts';
import { gpt2SmallSketchShape, tinySketchShape, type SketchShape } from './sketchShapes.ts';

/** The target: the default method's throughput at least this fraction of the matmul's. */
export const SCORING_TARGET = 0.5;

export interface ScoringCase {
  shape: SketchShape;
  /** Training examples of the single-checkpoint methods; the multi-checkpoint ones get n / checkpoints each (the same bytes). */
  n: number;
  methods: readonly InfluenceMethod[];
}

export interface ScoringBenchmarkOptions {
  cases: readonly ScoringCase[];
  /** Queries per call: the epoch job scores 64 inferences at a time. */
  m: number;
  /** Timed calls of each arm, alternating (after one untimed warm-up call of each). */
  rounds: number;
  /** Checkpoints of TracIn and TRAK (the evaluation saves EVAL_TRAINING.checkpoints). */
  checkpoints: number;
  seed?: number;
  /** Builds the scorer: createScorerAsync by default (it reads back asynchronously, so it works on webgpu too; a different one measures another implementation side by side). */
  scorer?: (opts: ScorerOptions) => InfluenceScorer | Promise<InfluenceScorer>;
  onProgress?: (line: string) => void;
}

export interface ScoringRow {
  shape: string;
  k: number;
  method: InfluenceMethod;
  /** Training examples per checkpoint, and checkpoints scored against. */
  n: number;
  checkpoints: number;
  /** Building the scorer (uploads, transposes, preconditioners), once per training run. */
  setupSeconds: number;
  /** Medians per call, over the rounds. */
  scorer: Lap;
  matmul: Lap;
  /** Query × training-example pairs per call: m · n. */
  pairs: number;
  scorerPairsPerSecond: number;
  matmulPairsPerSecond: number;
  matmulGflops: number;
  /** scorer pairs/s ÷ matmul pairs/s, by wall time and by CPU time. */
  fraction: number;
  cpuFraction: number;
  error?: string;
}

export interface ScoringReport {
  machine: Machine;
  m: number;
  rounds: number;
  rows: ScoringRow[];
  maxRssMiB: number;
}

/** Reads a tensor back as the epoch job does and frees it. */
async function readBack(t: tf.Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

export async function runScoringBenchmark(opts: ScoringBenchmarkOptions): Promise<ScoringReport> {
  const machine = machineAtStart(tf.getBackend());
  const { m, rounds, checkpoints: C } = opts;
  const build = opts.scorer ?? createScorerAsync;
  const log = opts.onProgress ?? (() => {});
  const rows: ScoringRow[] = [];
  let seed = opts.seed ?? 1;
  for (const c of opts.cases) {
    const k = c.shape.spec.dims;
    const multi = Math.max(1, Math.floor(c.n / C));
    // One buffer of synthetic sketches: all of it for one checkpoint, or C slices of n / C rows.
    const train = seededValues(c.n * k, seed++);
    const queries = Array.from({ length: C }, () => seededValues(m * k, seed++));
    const a = tf.tensor2d(queries[0]!, [m, k]);
    for (const method of c.methods) {
      const perCheckpoint = method === 'tracin' || method === 'trak';
      const n = perCheckpoint ? multi : c.n;
      const used = perCheckpoint ? C : 1;
      const row: ScoringRow = {
        shape: c.shape.label, k, method, n, checkpoints: used, setupSeconds: NaN, scorer: { wallMs: NaN, cpuMs: NaN }, matmul: { wallMs: NaN, cpuMs: NaN },
        pairs: m * n, scorerPairsPerSecond: NaN, matmulPairsPerSecond: NaN, matmulGflops: NaN, fraction: NaN, cpuFraction: NaN,
      };
      rows.push(row);
      log(`k ${k}, ${method}: n ${n} × ${used} checkpoint(s)`);
      const b = tf.tensor2d(train.subarray(0, n * k), [k, n]); // the matmul's right-hand side: same shape the scorer multiplies by
      let scorer: InfluenceScorer | undefined;
      try {
        const setup = stopwatch();
        scorer = await build({
          method,
          spec: c.shape.spec,
          n,
          checkpoints: Array.from({ length: used }, (_, j) => ({ step: j + 1, learningRate: 1e-3 * (used - j), values: train.subarray(j * n * k, (j + 1) * n * k) })),
        });
        row.setupSeconds = setup().wallMs / 1000;
        const s = scorer;
        const q = s.checkpointsUsed.map((_, j) => queries[j]!);
        const arms = {
          matmul: () => readBack(tf.matMul(a, b)),
          scorer: async () => {
            await s.scoreAsync(q, m);
          },
        };
        await arms.matmul(); // warm-up: kernels compiled (webgpu), buffers allocated
        await arms.scorer();
        const laps: Record<keyof typeof arms, Lap[]> = { matmul: [], scorer: [] };
        for (let r = 0; r < rounds; r++) {
          for (const name of ['matmul', 'scorer'] as const) {
            const lap = stopwatch();
            await arms[name]();
            laps[name].push(lap());
          }
        }
        const med = (ls: Lap[]): Lap => ({ wallMs: median(ls.map((l) => l.wallMs)), cpuMs: median(ls.map((l) => l.cpuMs)) });
        row.scorer = med(laps.scorer);
        row.matmul = med(laps.matmul);
        row.scorerPairsPerSecond = (row.pairs / row.scorer.wallMs) * 1000;
        row.matmulPairsPerSecond = (row.pairs / row.matmul.wallMs) * 1000;
        row.matmulGflops = (2 * m * k * n) / row.matmul.wallMs / 1e6;
        row.fraction = row.matmul.wallMs / row.scorer.wallMs;
        row.cpuFraction = row.matmul.cpuMs / row.scorer.cpuMs;
      } catch (e) {
        row.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      } finally {
        scorer?.dispose();
        b.dispose();
      }
    }
    a.dispose();
  }
  return { machine: machineAtEnd(machine), m, rounds, rows, maxRssMiB: peakRssMiB() };
}

export function formatScoring(r: ScoringReport): string {
  const num = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
  const pairs = (x: number) => (Number.isFinite(x) ? `${(x / 1e6).toFixed(1)}M` : '–');
  const lines = [
    `scoring throughput: ${describeMachine(r.machine)}`,
    `m = ${r.m} queries per call (the epoch job's chunk); medians of ${r.rounds} calls per arm, arms alternating; both arms read the m × n scores back`,
    'matmul = one (m × k)·(k × n) product; tracin and trak need one per checkpoint, so their bound is 1 / checkpoints ("× checkpoints" = fraction of that bound)',
    '',
    '| sketch | k | method | n × checkpoints | setup s | scorer ms/call | scorer pairs/s | matmul ms/call | matmul pairs/s | matmul GFLOP/s | fraction (wall) | fraction (CPU) | × checkpoints |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((x) =>
      x.error
        ? `| ${x.shape} | ${x.k} | ${x.method} | ${num(x.n)} × ${x.checkpoints} | failed: ${x.error} ||||||||`
        : `| ${x.shape} | ${x.k} | ${x.method} | ${num(x.n)} × ${x.checkpoints} | ${num(x.setupSeconds, 2)} | ${num(x.scorer.wallMs, 1)} | ${pairs(x.scorerPairsPerSecond)} | ${num(x.matmul.wallMs, 1)} | ${pairs(x.matmulPairsPerSecond)} | ${num(x.matmulGflops, 1)} | ${num(x.fraction, 2)} | ${num(x.cpuFraction, 2)} | ${num(x.fraction * x.checkpoints, 2)} |`,
    ),
    '',
    ...r.rows
      .filter((x) => x.method === DEFAULT_INFLUENCE_METHOD && !x.error)
      .map((x) => `target (${DEFAULT_INFLUENCE_METHOD}, the default, ≥ ${SCORING_TARGET} of matmul) at k ${x.k}: ${x.fraction.toFixed(2)} by wall time, ${x.cpuFraction.toFixed(2)} by CPU time: ${x.fraction >= SCORING_TARGET ? 'met' : 'NOT met'}`),
    `peak RSS ${num(r.maxRssMiB)} MiB`,
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      m: { type: 'string' },
      n: { type: 'string' },
      'n-large': { type: 'string' },
      rounds: { type: 'string' },
      checkpoints: { type: 'string' },
      methods: { type: 'string' },
      'no-large': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npx tsx bench/attribution/scoring.ts [options]
  --backend B       tfjs backend: ${TENSOR_BACKENDS.join(', ')} (default wasm)
  --m N             queries per call (default 64, the epoch job's chunk)
  --n N             training examples at the tiny model's k = 1536 (default 100000; --quick 4000)
  --n-large N       training examples at GPT-2 small's k = 6144 (default 25000; --quick 1000)
  --rounds N        timed calls per arm (default 7; --quick 3)
  --checkpoints N   checkpoints of tracin and trak, each over n / N examples (default ${EVAL_TRAINING.checkpoints})
  --methods LIST    methods at k = 1536 (default ${INFLUENCE_METHODS.join(',')}); at k = 6144 trak is left out
                    unless listed here (its setup inverts a 6144² matrix in JavaScript: minutes)
  --no-large        skip k = 6144
  --quick           a small run (about 12 s)
  --json            print the results as JSON
`);
    process.exit(0);
  }
  const backend = values.backend as TensorBackend;
  if (!TENSOR_BACKENDS.includes(backend)) {
    process.stderr.write(`--backend must be one of ${TENSOR_BACKENDS.join(', ')}, got ${values.backend}\n`);
    process.exit(2);
  }
  const quick = values.quick;
  const methods = (values.methods ?? INFLUENCE_METHODS.join(',')).split(',').map((s) => s.trim()) as InfluenceMethod[];
  const unknown = methods.filter((x) => !INFLUENCE_METHODS.includes(x));
  if (unknown.length) {
    process.stderr.write(`--methods: unknown ${unknown.join(', ')}; one of ${INFLUENCE_METHODS.join(', ')}\n`);
    process.exit(2);
  }
  await useTensorBackend(backend);
  const cases: ScoringCase[] = [{ shape: tinySketchShape(), n: positiveInt('n', values.n, quick ? 4000 : 100_000), methods }];
  if (!values['no-large']) {
    cases.push({ shape: gpt2SmallSketchShape(), n: positiveInt('n-large', values['n-large'], quick ? 1000 : 25_000), methods: values.methods ? methods : methods.filter((x) => x !== 'trak') });
  }
  const report = await runScoringBenchmark({
    cases,
    m: positiveInt('m', values.m, 64),
    rounds: positiveInt('rounds', values.rounds, quick ? 3 : 7),
    checkpoints: positiveInt('checkpoints', values.checkpoints, EVAL_TRAINING.checkpoints),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatScoring(report)}\n`);
}
