// The epoch benchmark (issue #5): `npx tsx bench/attribution/epoch.ts [--quick | --scale S] [--json] [--backend B]`.
// End-to-end time of one attribution epoch, 10,000 inferences over a training run of 100,000 examples by
// default, stage by stage, with the job's peak memory. The inputs are prepared first (epochPrepare.ts),
// then the job runs in a child process (epochJob.ts). Below full scale it also prints a linear
// extrapolation to full scale, labelled as such. See README.md beside this file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_INFLUENCE_METHOD } from '../../attribution/index.ts';
import { TENSOR_BACKENDS, type TensorBackend } from '../../serving/index.ts';
import { ALT_STAGES, EPOCH_RESULT_PREFIX, EPOCH_STAGES, runEpochJob, type AltStage, type BatchFacts, type EpochJobResult, type EpochStage } from './epochJob.ts';
import { prepareEpoch, type EpochInputs, type PreparedEpoch } from './epochPrepare.ts';
import { describeMachine, machineAtEnd, machineAtStart, positiveInt, positiveNumber, type Machine } from './measure.ts';
import { BASE_MODEL_DIR, tinySketchShape } from './sketchShapes.ts';

export const FULL_SCALE = { inferences: 10_000, examples: 100_000 } as const;

/** What each stage's cost grows with, for the extrapolation to full scale. */
const GROWS_WITH: Record<EpochStage | AltStage, 'examples' | 'inferences' | 'pairs'> = {
  'load training sketches': 'examples',
  'scorer setup': 'examples',
  'span index load': 'examples',
  'query sketching': 'inferences',
  scoring: 'pairs',
  'span matching': 'inferences',
  combine: 'pairs',
  'sums per contribution': 'pairs',
  'sums (as first written)': 'pairs',
  // Score entries: inferences × contributions with a positive score (at most the cap per inference), and
  // contributions grow with examples.
  'quantize weights': 'pairs',
  flags: 'pairs',
  'payout batch': 'pairs',
  'store batch files': 'pairs',
  'verify stored batch': 'pairs',
  'uncapped: quantize': 'pairs',
  'uncapped: payout batch': 'pairs',
  'uncapped: store': 'pairs',
  'uncapped: verify': 'pairs',
};

export interface EpochBenchmarkOptions {
  dir: string;
  backend: TensorBackend;
  inferences: number;
  examples: number;
  checkpoints: number;
  chunk: number;
  batchSize: number;
  seed: number;
  /** Also time what runs beside the epoch (default true). */
  beside?: boolean;
  /** Run the job in this process instead of a child (tests): its peak memory then includes the preparation. */
  inProcess?: boolean;
  log?: (line: string) => void;
}

export interface EpochBenchmarkReport {
  machine: Machine;
  method: string;
  prepared: Omit<PreparedEpoch, 'inputs'> & Pick<EpochInputs, 'contributions' | 'accounts' | 'spanTokens' | 'sketchBytes' | 'sketchParts' | 'checkpoints' | 'chunk' | 'batchSize' | 'beside'> & { k: number };
  job: EpochJobResult;
  /** Stage seconds scaled linearly to FULL_SCALE (only when the run was smaller). */
  extrapolated: Partial<Record<EpochStage | AltStage, number>> | null;
}

export async function runEpochBenchmark(o: EpochBenchmarkOptions): Promise<EpochBenchmarkReport> {
  const log = o.log ?? (() => {});
  const machine = machineAtStart(o.backend);
  const spec = tinySketchShape().spec;
  const prepared = await prepareEpoch({ ...o, modelDir: BASE_MODEL_DIR, spec, log });
  const job = o.inProcess ? await runEpochJob(prepared.inputs, log) : await runChild(path.join(o.dir, 'inputs.json'), log);
  const factor = { examples: FULL_SCALE.examples / o.examples, inferences: FULL_SCALE.inferences / o.inferences, pairs: (FULL_SCALE.examples * FULL_SCALE.inferences) / (o.examples * o.inferences) };
  const small = o.examples < FULL_SCALE.examples || o.inferences < FULL_SCALE.inferences;
  const { inputs, seconds } = prepared;
  return {
    machine: machineAtEnd(machine),
    method: DEFAULT_INFLUENCE_METHOD,
    prepared: {
      seconds,
      k: spec.dims,
      contributions: inputs.contributions,
      accounts: inputs.accounts,
      spanTokens: inputs.spanTokens,
      sketchBytes: inputs.sketchBytes,
      sketchParts: inputs.sketchParts,
      checkpoints: inputs.checkpoints,
      chunk: inputs.chunk,
      batchSize: inputs.batchSize,
      beside: inputs.beside ?? true,
    },
    job,
    extrapolated: small
      ? Object.fromEntries(Object.entries(job.stages).map(([s, lap]) => [s, (lap.wallMs / 1000) * factor[GROWS_WITH[s as EpochStage | AltStage]]]))
      : null,
  };
}

async function runChild(inputsFile: string, log: (line: string) => void): Promise<EpochJobResult> {
  // The job beside this file: epochJob.ts under tsx, or epochJob.mjs where both were bundled (a GPU host without the repo's node_modules).
  const ext = path.extname(fileURLToPath(import.meta.url));
  const script = fileURLToPath(new URL(`./epochJob${ext}`, import.meta.url));
  const child = spawn(process.execPath, [...(ext === '.ts' ? ['--import', 'tsx'] : []), script, inputsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
    for (const line of b.toString().split('\n')) if (line.trim()) log(`  job: ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith(EPOCH_RESULT_PREFIX));
  if (code !== 0 || !line) throw new Error(`the epoch job exited with code ${code}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`);
  return JSON.parse(line.slice(EPOCH_RESULT_PREFIX.length)) as EpochJobResult;
}

export function formatEpoch(r: EpochBenchmarkReport): string {
  const { job, prepared: p } = r;
  const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
  const int = (x: number) => x.toLocaleString('en');
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 24 ? 1 : 0)} MiB`;
  const c = job.counts;
  const scale = r.extrapolated ? ` | extrapolated to ${int(FULL_SCALE.inferences)} × ${int(FULL_SCALE.examples)}, s (grows with)` : '';
  const row = (name: EpochStage | AltStage, label: string = name, share = true) => {
    const lap = job.stages[name];
    const ext = r.extrapolated ? ` | ${r.extrapolated[name]!.toFixed(1)} (${GROWS_WITH[name]})` : '';
    const note = lap.error ? ` failed: ${lap.error}` : '';
    return `| ${label} | ${s(lap.wallMs)} | ${s(lap.cpuMs)} | ${share ? `${((100 * lap.wallMs) / job.total.wallMs).toFixed(1)}%` : ''}${note}${ext} |`;
  };
  const extTotal = r.extrapolated ? EPOCH_STAGES.reduce((t, st) => t + r.extrapolated![st]!, 0) : 0;
  const facts = (what: string, b: BatchFacts | null) =>
    b
      ? `${what}: ${int(b.scoreEntries)} score entries, score file ${mib(b.scoreFileBytes)} in ${int(b.scoreFileParts)} parts, ${int(b.accountsPaid)} accounts paid, verified from the stored files: ${b.verified ? 'match' : 'NO'}; root ${b.root}`
      : `${what}: ${what === 'uncapped batch' && r.prepared.beside === false ? 'not run (--no-beside)' : 'FAILED (see the stages)'}`;
  const lines = [
    `attribution epoch: ${describeMachine(r.machine)}`,
    `${int(c.inferences)} inferences (${int(c.queryTokens)} tokens) over ${int(c.examples)} training examples in ${int(p.contributions)} contributions of ${int(p.accounts)} accounts; method ${r.method}, k = ${p.k}; chunks of ${p.chunk}, gradient batches of ${p.batchSize}; at most ${c.maxEntriesPerInference} score entries per inference`,
    `prepared (not part of the epoch): workload ${p.seconds.workload.toFixed(1)} s; span index over ${int(p.spanTokens)} tokens built in ${p.seconds.spanIndexBuild.toFixed(1)} s, saved in ${p.seconds.spanIndexSave.toFixed(1)} s; training sketches of ${p.checkpoints} checkpoint(s), ${mib(p.sketchBytes)} in ${p.sketchParts} parts (synthetic values), stored in ${p.seconds.sketches.toFixed(1)} s; the epoch reads ${c.sketchCheckpointsRead} checkpoint(s)`,
    '',
    `| stage | wall s | CPU s | share of wall${scale} |`,
    `|---|---:|---:|---:|${r.extrapolated ? '---:|' : ''}`,
    ...EPOCH_STAGES.map((st) => row(st)),
    `| **epoch total** | **${s(job.total.wallMs)}** | **${s(job.total.cpuMs)}** | 100%${r.extrapolated ? ` | **${extTotal.toFixed(0)}** (linear extrapolation, not measured)` : ''} |`,
    ...(p.beside === false
      ? []
      : [
          `| *beside the epoch:* | | | |${r.extrapolated ? ' |' : ''}`,
          row('sums (as first written)', `*sums as first written (same sums: ${job.sumsAgree ? 'yes' : 'NO'})*`, false),
          ...ALT_STAGES.filter((st) => st !== 'sums (as first written)').map((st) => row(st, `*${st}*`, false)),
        ]),
    '',
    `spans kept ${int(c.keptSpans)}, span credits to owned rows ${int(c.spanCredits)}; (inference, contribution) sums ${int(c.attributedContributions)}; flagged contributions ${c.flags}`,
    facts('batch', job.batch),
    facts('uncapped batch', job.uncapped),
    `peak RSS of the job ${int(Math.round(job.maxRssMiB))} MiB; tensors left ${job.tensorsLeft}`,
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      scale: { type: 'string' },
      inferences: { type: 'string' },
      examples: { type: 'string' },
      checkpoints: { type: 'string', default: '4' },
      chunk: { type: 'string', default: '64' },
      'batch-size': { type: 'string', default: '16' },
      seed: { type: 'string', default: '1' },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'no-beside': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npx tsx bench/attribution/epoch.ts [options]
  --scale S          fraction of the full epoch (${FULL_SCALE.inferences} inferences over ${FULL_SCALE.examples} examples), both scaled (default 1)
  --inferences N     inferences, overriding --scale
  --examples N       training examples, overriding --scale
  --quick            --scale 0.02 (200 inferences over 2,000 examples; about 30 s)
  --checkpoints N    checkpoints of the training run's sketches (default 4, the trainer's default)
  --chunk N          inferences per attribute() call (default 64, attributeEpoch's)
  --batch-size N     inferences per gradient pass (default 16, sketchExamples')
  --backend B        tfjs backend: ${TENSOR_BACKENDS.join(', ')} (default wasm)
  --seed N           workload seed (default 1)
  --json             print the results as JSON
  --keep             keep the temp folder (inputs, span index, content store)
  --no-beside        skip what is timed beside the epoch (the sums as first written, the uncapped batch)
`);
    process.exit(0);
  }
  const backend = values.backend as TensorBackend;
  if (!TENSOR_BACKENDS.includes(backend)) {
    process.stderr.write(`--backend must be one of ${TENSOR_BACKENDS.join(', ')}, got ${values.backend}\n`);
    process.exit(2);
  }
  const scale = values.quick ? 0.02 : positiveNumber('scale', values.scale, 1);
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-epoch-'));
  try {
    const report = await runEpochBenchmark({
      dir,
      backend,
      inferences: positiveInt('inferences', values.inferences, Math.max(1, Math.round(FULL_SCALE.inferences * scale))),
      examples: positiveInt('examples', values.examples, Math.max(1, Math.round(FULL_SCALE.examples * scale))),
      checkpoints: positiveInt('checkpoints', values.checkpoints, 4),
      chunk: positiveInt('chunk', values.chunk, 64),
      batchSize: positiveInt('batch-size', values['batch-size'], 16),
      seed: positiveInt('seed', values.seed, 1),
      beside: !values['no-beside'],
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : `${formatEpoch(report)}\n`);
  } finally {
    if (values.keep) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
