// Runs retraining jobs over child processes (retrainWorker.ts), round-robin, and gathers their lines.
// A worker that exits with an error fails the whole evaluation with its stderr, since a missing subset
// would silently bias the LDS.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RetrainJob, WorkerArgs, WorkerLine } from './retrainWorker.ts';

export class RetrainError extends Error {
  override name = 'RetrainError';
}

export interface RetrainPoolOptions extends Omit<WorkerArgs, 'jobs'> {
  jobs: RetrainJob[];
  workers: number;
  onResult?: (line: WorkerLine, done: number, total: number) => void;
}

const WORKER = fileURLToPath(new URL('./retrainWorker.ts', import.meta.url));

export async function runRetrainPool(opts: RetrainPoolOptions): Promise<WorkerLine[]> {
  const workers = Math.max(1, Math.min(opts.workers, opts.jobs.length));
  const dir = mkdtempSync(join(tmpdir(), 'tributary-retrain-'));
  const results: WorkerLine[] = [];
  try {
    await Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const args: WorkerArgs = { baseModelDir: opts.baseModelDir, task: opts.task, training: opts.training, jobs: opts.jobs.filter((_, j) => j % workers === w) };
        const file = join(dir, `worker-${w}.json`);
        writeFileSync(file, JSON.stringify(args));
        return new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file], { stdio: ['ignore', 'pipe', 'pipe'] });
          let buffer = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            buffer += chunk;
            let nl: number;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (!line.trim()) continue;
              const parsed = JSON.parse(line) as WorkerLine;
              results.push(parsed);
              opts.onResult?.(parsed, results.length, opts.jobs.length);
            }
          });
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr = (stderr + chunk).slice(-4000);
          });
          child.on('error', reject);
          child.on('close', (code) => {
            if (code === 0) resolve();
            else reject(new RetrainError(`retraining worker ${w} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
          });
        });
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (results.length !== opts.jobs.length) throw new RetrainError(`expected ${opts.jobs.length} retraining results, got ${results.length}`);
  return results;
}
