// The serving benchmark (issue #4): `npm run bench:serving [-- --quick] [--json] [--adapters 1,10,100,1000] [--alpha 1,0.3] [--requests N] [--repeat N]`.
// See README.md beside this file for the method, the workload and how to read the numbers.
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TENSOR_BACKENDS, type TensorBackend } from '../../serving/index.ts';
import { runServingBenchmark } from './benchmark.ts';
import { describeModel, modelSource } from './model.ts';
import { formatReport, formatSetup, summarize } from './report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    adapters: { type: 'string' },
    alpha: { type: 'string' },
    requests: { type: 'string' },
    rate: { type: 'string' },
    model: { type: 'string' },
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'c_attn,c_proj' },
    'max-batch': { type: 'string', default: '32' },
    'device-fraction': { type: 'string', default: '0.1' },
    'host-fraction': { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    'warm-host': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'adapter-loader': { type: 'string', default: 'worker' },
    backend: { type: 'string', default: 'wasm' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: tsx bench/serving/run.ts [options]
  --quick              a small run (1 and 100 adapters, alpha 1, 40 requests; about 25 s on an idle machine)
  --json               print the results as JSON instead of tables
  --adapters LIST      distinct adapters per workload (default 1,10,100,1000)
  --alpha LIST         power-law exponents of adapter popularity, P(rank i) ∝ i^-alpha (default 1,0.3)
  --requests N         requests per workload (default 240; --quick 40)
  --rate R             arrivals per second (default: 2 × the capacity a calibration run measures)
  --model DIR|random   the base model (default serving/models/tributary-tiny if present, else random weights of its shape);
                       random:EMBD,LAYERS,HEADS: random weights of another width and depth (e.g. random:256,4,4)
  --rank R             adapter rank (default 8)
  --targets LIST       adapter target modules (default c_attn,c_proj)
  --max-batch N        most sequences running at once (default 32)
  --device-fraction F  device-side adapter budget as a share of all adapters' bytes (default 0.1)
  --host-fraction F    host-side budget, likewise (default 0.5)
  --seed S             workload and adapter seed (default 1)
  --repeat N           N rounds of every workload and arm (rotated); medians, and each ratio's range round by round (default 1)
  --profile            sample every run with V8's profiler and print where the time goes (slower)
  --profile-dir DIR    --profile, and write each run's raw profile into DIR (.cpuprofile: DevTools, speedscope)
  --warm-host          each run reads its adapters into the host tier before its clock (S-LoRA keeps every
                       adapter in host memory): only host → device paging is timed; needs --host-fraction 1
                       (the disk reads column then counts those reads)
  --keep               keep the temp dir (adapters, each run's arguments)
  --adapter-loader K   worker (default: adapters are read and decoded in a worker thread, as the server
                       does) or main (readHostAdapter on the engine's thread, as before the loader)
  --backend B          the tensor backend of every run: wasm (default), webgpu (a GPU host), tensorflow or cpu.
                       Off wasm the engine has no ragged or segmented kernels and runs its tf ops path
  environment: TRIBUTARY_BENCH_ARM=FILE runs each run's child as \`node FILE\` (an esbuild bundle of
                       arms/serve.ts, for a host without node_modules) instead of \`node --import tsx arms/serve.ts\`
`);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
function numbers(name: string, raw: string): number[] {
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n))) fail(`--${name} must be a comma-separated list of numbers, got ${raw}`);
  return list;
}
function positive(name: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) fail(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return n;
}

const quick = values.quick;
const adapters = numbers('adapters', values.adapters ?? (quick ? '1,100' : '1,10,100,1000'));
if (adapters.some((n) => !Number.isInteger(n) || n < 1)) fail(`--adapters must list positive integers, got ${values.adapters}`);
const alphas = numbers('alpha', values.alpha ?? (quick ? '1' : '1,0.3'));
if (alphas.some((a) => a < 0)) fail(`--alpha must list numbers ≥ 0, got ${values.alpha}`);
const requests = positive('requests', values.requests ?? (quick ? '40' : '240'), true);
const model = (() => {
  try {
    return modelSource(values.model);
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const adapterLoader = values['adapter-loader'];
if (adapterLoader !== 'worker' && adapterLoader !== 'main') fail(`--adapter-loader must be worker or main, got ${adapterLoader}`);
const backend = values.backend as TensorBackend;
if (!TENSOR_BACKENDS.includes(backend)) fail(`--backend must be one of ${TENSOR_BACKENDS.join(', ')}, got ${values.backend}`);

const load0 = loadavg();
const started = performance.now();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`model: ${describeModel(model)}; backend ${backend}; adapters read ${adapterLoader === 'worker' ? 'in a worker thread' : "on the engine's thread"}; load average ${load0.map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
const report = await runServingBenchmark({
  model,
  adapters,
  alphas,
  requests,
  ...(values.rate !== undefined && { rate: positive('rate', values.rate, false) }),
  ...(quick && { calibrationRequests: 60 }),
  adapterShape: { rank: positive('rank', values.rank, true), alpha: 2 * Number(values.rank), targets: values.targets.split(',').map((t) => t.trim()) },
  maxBatch: positive('max-batch', values['max-batch'], true),
  deviceFraction: positive('device-fraction', values['device-fraction'], false),
  hostFraction: positive('host-fraction', values['host-fraction'], false),
  seed: positive('seed', values.seed, true),
  repeat: positive('repeat', values.repeat, true),
  profile: values.profile,
  ...(values['profile-dir'] !== undefined && { profileDir: path.resolve(values['profile-dir']) }),
  ...(values['warm-host'] && { warmHost: true }),
  adapterLoader,
  backend,
  keep: values.keep,
  log,
}).catch((error: unknown) => fail(`the benchmark stopped: ${error instanceof Error ? error.message : String(error)}`));
const summary = summarize(report);
const machine = {
  cores: availableParallelism(),
  node: process.version,
  loadAverageBefore: load0.map((l) => +l.toFixed(2)),
  loadAverageAfter: loadavg().map((l) => +l.toFixed(2)),
  seconds: +((performance.now() - started) / 1000).toFixed(1),
};
if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine, quick, report, summary }, null, 2)}\n`);
} else {
  process.stdout.write(`\n${formatSetup(report)}\n\n${formatReport(report, summary)}\n\n`);
  process.stdout.write(
    `${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageBefore[0]} before and ${machine.loadAverageAfter[0]} after (1-minute; other processes share the cores); ${machine.seconds} s in all${quick ? '; --quick' : ''}\n`,
  );
}
process.exit(summary.problems.length > 0 ? 1 : 0);
