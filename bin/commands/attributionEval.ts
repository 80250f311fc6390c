// `tributary attribution eval [--seeds 101,202,303] [--quick] [--json]`: the attribution quality
// measurement (attribution/eval). Each seed is its own generated task, retrained subsets and table.
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkTargets, DEFAULT_EVAL_METHOD, evalConfig, runEval, type EvalReport } from '../../attribution/index.ts';
import { useTensorBackend } from '../../serving/index.ts';
import { loadConfig } from '../config.ts';
import type { DatanetCommandIo } from './datanet.ts';

const seedList = (v: string): number[] => {
  const seeds = v.split(',').map((s) => s.trim());
  if (!seeds.length || seeds.some((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))) throw new InvalidArgumentError(`--seeds must be comma-separated non-negative integers, got "${v}"`);
  return seeds.map(Number);
};
const positiveInt = (what: string) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
  return Number(v);
};

/** The seeds the README's reported table uses; they were not used while developing the methods. */
export const REPORTED_EVAL_SEEDS = [101, 202, 303];

export function registerAttributionEvalCommand(attribution: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return attribution
    .command('eval')
    .description('measure attribution quality: LDS against retrained subsets, mislabeled-row AUC, planted-fact recall, per method')
    .option('--seeds <list>', `task seeds, comma-separated (default ${REPORTED_EVAL_SEEDS.join(',')})`, seedList)
    .option('--quick', 'a small task and 6 subsets: the same pipeline in about a minute (for tests)')
    .option('--subsets <n>', 'random half-subsets to retrain (default 50; quick 6)', positiveInt('--subsets'))
    .option('--workers <n>', 'retraining processes (default: the cores, at most 2)', positiveInt('--workers'))
    .option('--base <dir>', 'the base model directory (default: BASE_MODEL_DIR, else serving/models/tributary-tiny)')
    .addOption(new Option('--json', 'print one JSON object per method and seed'))
    .action(async (o: { seeds?: number[]; quick?: boolean; subsets?: number; workers?: number; base?: string; json?: boolean }) => {
      const c = loadConfig(io.env ?? process.env);
      await useTensorBackend('wasm');
      const seeds = o.seeds ?? REPORTED_EVAL_SEEDS;
      const workers = o.workers ?? Math.max(1, Math.min(2, availableParallelism()));
      const reports: EvalReport[] = [];
      for (const seed of seeds) {
        const config = evalConfig(seed, { quick: o.quick ?? false, ...(o.subsets ? { subsets: o.subsets } : {}) });
        const bar = process.stderr.isTTY && !o.json ? new cliProgress.SingleBar({ format: `seed ${seed} retraining |{bar}| {value}/{total} runs | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
        let started = false;
        const report = await runEval({
          config,
          baseModelDir: o.base ?? c.baseModelDir,
          workers,
          onStage: (stage) => {
            if (started) {
              bar?.stop();
              started = false;
            }
            if (!o.json) process.stderr.write(`seed ${seed}: ${stage}\n`);
          },
          onProgress: (done, total) => {
            if (!bar) return;
            if (!started) {
              bar.start(total, done);
              started = true;
            } else bar.update(done);
          },
        });
        bar?.stop();
        reports.push(report);
        if (!o.json) out(formatReport(report));
      }
      if (o.json) {
        out(`${JSON.stringify(reports.flatMap((r) => r.methods.map((m) => ({ seed: r.seed, method: m.method, lds: m.lds, auc: m.auc, plantedRecall: m.plantedRecall, seconds: m.seconds }))), null, 2)}\n`);
      }
    });
}

const f = (x: number, d = 3) => (Number.isNaN(x) ? '–' : x.toFixed(d));

export function formatReport(r: EvalReport): string {
  const lines = [
    `seed ${r.seed}: ${r.rows} training rows (${r.flippedRows} mislabeled), ${r.queries} queries (${r.plantedQueries} about planted facts), ${r.subsets} subsets × ${r.seedsPerSubset} seeds; ${f(r.seconds, 0)} s`,
    `  full fine-tune: query target log-probability ${f(r.baseLogProb, 2)} (base) → ${f(r.fullLogProb, 2)}; label accuracy ${f(r.fullAccuracy, 2)}`,
    `  noise ceiling (seed-to-seed Spearman): ${f(r.noiseCeiling.mean)} [${f(r.noiseCeiling.low, 2)}, ${f(r.noiseCeiling.high, 2)}]`,
    '',
    '| method | LDS | 95% interval | mislabeled AUC | planted recall | seconds |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.methods.map((m) => `| ${m.method}${m.method === DEFAULT_EVAL_METHOD ? ' (default)' : ''} | ${f(m.lds)} | ${f(m.ldsInterval[0], 2)} – ${f(m.ldsInterval[1], 2)} | ${f(m.auc)} | ${f(m.plantedRecall, 2)} | ${f(m.seconds, 1)} |`),
    '',
    ...checkTargets(r).map((t) => `  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${f(t.value)} (${t.goal})`),
    '',
  ];
  return lines.join('\n');
}
