// A child process that runs a share of the evaluation's retraining jobs (tfjs-wasm computes on one
// thread, so the runs are spread over processes, one per core). Started by retrainPool.ts with the path
// of a JSON file of WorkerArgs; prints one JSON line per finished job on stdout.
import { readFileSync } from 'node:fs';
import { loadModel, readTokenizer, useTensorBackend } from '../../serving/index.ts';
import type { EvalTraining } from './evalConfig.ts';
import { retrainAndMeasure } from './retrain.ts';
import { generateEvalTask, type EvalTaskOptions } from './task.ts';

export interface RetrainJob {
  subset: number;
  seed: number;
  rows: number[];
}

export interface WorkerArgs {
  baseModelDir: string;
  task: EvalTaskOptions;
  training: EvalTraining;
  jobs: RetrainJob[];
}

export interface WorkerLine {
  subset: number;
  seed: number;
  logProbs: number[];
}

const args = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkerArgs;
await useTensorBackend('wasm');
const model = loadModel(args.baseModelDir);
const tokenizer = readTokenizer(args.baseModelDir);
const task = generateEvalTask(args.task);
for (const job of args.jobs) {
  const logProbs = await retrainAndMeasure({ model, tokenizer, task, training: args.training }, job.rows, job.seed);
  const line: WorkerLine = { subset: job.subset, seed: job.seed, logProbs: Array.from(logProbs) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
