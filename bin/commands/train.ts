// `tributary train --datanet <id> --version <v>`: fine-tune a LoRA adapter on a published datanet version
// and register it on-chain as a model owned by OWNER_KEY (the ModelFactory back end, serving/train).
//
// This process opens the stores itself: the data dir's chDB (or CLICKHOUSE_URL) and content store. With
// embedded chDB it also brings ClickHouse up to the chain head first (the content store's uploads, then
// the chain's events through the indexer), so the version's rows are there, and once more afterwards, so
// the new model shows in GraphQL. A running `tributary up` holds the embedded stores: then the command
// hands the job to it over HTTP (POST /training/jobs, signed by OWNER_KEY), follows its progress, and
// registers what the platform stored with OWNER_KEY itself (../trainingClient.ts). With CLICKHOUSE_URL the
// indexer is another process's (`up` or `tributary index`): the command waits for it to reach the version.
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { formatOpen, parseOpen, TributaryError } from '../../contracts/index.ts';
import { CLICKHOUSE_MIGRATIONS, DatanetVersionNotFoundError, migrate, openClickHouse, openDatanetVersion, openFsContentStore, syncContentRows, type ClickHouseStore } from '../../schema/index.ts';
import { syncTrainingRecords } from '../../schema/index.ts';
import { indexToHead } from '../indexToHead.ts';
import { ensureTrainingSketches } from '../../attribution/index.ts';
import { useTensorBackend } from '../../serving/index.ts';
import {
  checkRegistrationParameters,
  registerTraining,
  runTraining,
  type JobParameters,
  type RegisterTrainingParameters,
  type RunTrainingParameters,
  type RunTrainingProgress,
  type RunTrainingResult,
  type StoredTraining,
} from '../../serving/index.ts';
import type { Hex } from 'viem';
import { trainOnPlatform } from '../trainingClient.ts';
import { runningUpPort } from '../runningUp.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { openChainSession, runningChain, type ChainSession } from '../chainSession.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

// ------------------------------------------------------------ argument parsing

function positiveBigInt(what: string) {
  return (v: string): bigint => {
    if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) === 0n) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
    return BigInt(v.trim());
  };
}

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v.trim());
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
    return n;
  };
}

function nonNegativeInt(what: string) {
  return (v: string): number => {
    const n = Number(v.trim());
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

function positiveNumber(what: string) {
  return (v: string): number => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number, got "${v}"`);
    return n;
  };
}

function parseTargets(v: string): string[] {
  const t = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (t.length === 0) throw new InvalidArgumentError(`--targets must name modules, e.g. c_attn or c_attn,c_proj; got "${v}"`);
  return t;
}

function parsePrice(what: string) {
  return (v: string): bigint => {
    try {
      return parseOpen(v);
    } catch (e) {
      throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
    }
  };
}

interface TrainOptions {
  datanet: bigint;
  version: bigint;
  base?: string;
  rank?: number;
  alpha?: number;
  targets?: string[];
  steps?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  checkpoints?: number;
  name?: string;
  priceIn?: bigint;
  priceOut?: bigint;
  model?: bigint;
  json?: boolean;
}

// ------------------------------------------------------------------ stores

/** With a ClickHouse server another process indexes: wait (up to `timeoutMs`) until it has the version. */
async function waitForVersion(ch: ClickHouseStore, datanetId: bigint, version: bigint, log: Logger, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    try {
      await openDatanetVersion(ch.client, { datanetId, version });
      return;
    } catch (e) {
      if (!(e instanceof DatanetVersionNotFoundError) || Date.now() > until) {
        if (e instanceof DatanetVersionNotFoundError) {
          throw new TributaryError(`datanet ${datanetId} version ${version} is on the chain but not in ClickHouse at ${ch.location} after ${timeoutMs / 1000} s`, {
            details: 'is an indexer running for it (`tributary up` or `tributary index`)?',
            retryable: true,
          });
        }
        throw e;
      }
      if (!said) log.info(`waiting for the indexer to reach datanet ${datanetId} version ${version}`);
      said = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

// ------------------------------------------------------------------ output

const loss = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

function summary(r: RunTrainingResult, base: string): string {
  const lines = [
    `trained a LoRA adapter on datanet ${r.datanets[0]!.datanetId} version ${r.datanets[0]!.version}: ${r.rows} rows (${r.trainRows} trained on, ${r.evalRows} held out), ${r.steps} steps in ${r.seconds.toFixed(1)} s`,
    `  eval loss ${loss(r.initialEvalLoss)} → ${loss(r.evalLoss)}`,
    `  base model ${r.baseModel} (${base})`,
    `  adapter ${r.adapterHash} in ${r.adapterDir}`,
    `  training manifest ${r.manifestHash}; ${r.checkpoints.length} checkpoint${r.checkpoints.length === 1 ? '' : 's'} at step${r.checkpoints.length === 1 ? '' : 's'} ${r.checkpoints.map((c) => c.step).join(', ')}`,
  ];
  if (r.alreadyRegistered) {
    lines.push(`already registered as model ${r.modelId} version ${r.version} (training run ${r.runId}) in tx ${r.runTxHash}: nothing sent`);
  } else {
    lines.push(`registered model ${r.modelId} "${r.name}" version ${r.version} (training run ${r.runId})`);
    for (const t of r.transactions) lines.push(`  ${t.action} in tx ${t.txHash} (block ${t.blockNumber}, ${t.gasUsed.toLocaleString('en-US')} gas)`);
  }
  lines.push(`  prices: ${formatOpen(r.priceIn)} per 1k input tokens, ${formatOpen(r.priceOut)} per 1k output tokens`);
  return lines.join('\n') + '\n';
}

/** A progress bar on stderr (drawn only on a terminal): step, loss, held-out loss, tokens/s, ETA. */
function progressBar(): { onProgress: (p: RunTrainingProgress) => void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: 'training |{bar}| {value}/{total} steps | loss {loss} | eval {eval} | {rate} tok/s | ETA {left}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let evalLoss = '—';
  return {
    onProgress(p) {
      if (p.phase !== 'training') return;
      if (p.evalLoss !== undefined) evalLoss = p.evalLoss.toFixed(4);
      const payload = { loss: p.loss.toFixed(4), eval: evalLoss, rate: Math.round(p.tokensPerSecond), left: `${Math.ceil(p.etaSeconds)}s` };
      if (!started) {
        bar.start(p.steps, p.step, payload);
        started = true;
      } else bar.update(p.step, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** The progress lines and the bar. */
function reportProgress(log: Logger, bar: ReturnType<typeof progressBar> | undefined) {
  return (p: RunTrainingProgress) => {
    if (p.phase === 'rows') log.info(`training on ${p.rows} rows of ${p.contributions} contributions`);
    else if (p.phase === 'storing') log.debug('storing the adapter, checkpoints, records and manifest');
    else if (p.phase === 'registering') log.debug('registering on-chain');
    bar?.onProgress(p);
    if (p.phase === 'training' && p.step === p.steps) bar?.stop();
  };
}

// ------------------------------------------------------------------ the job

/** The hyperparameters given on the command line (the rest default as trainLora documents). */
function jobParameters(o: TrainOptions): JobParameters {
  return {
    ...(o.rank !== undefined && { rank: o.rank }),
    ...(o.alpha !== undefined && { alpha: o.alpha }),
    ...(o.targets !== undefined && { targets: o.targets }),
    ...(o.steps !== undefined && { steps: o.steps }),
    ...(o.epochs !== undefined && { epochs: o.epochs }),
    ...(o.batch !== undefined && { batchSize: o.batch }),
    ...(o.lr !== undefined && { learningRate: o.lr }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(o.checkpoints !== undefined && { checkpoints: o.checkpoints }),
  };
}

function registration(o: TrainOptions): Omit<RegisterTrainingParameters, 'ownerKey'> {
  return {
    ...(o.name !== undefined && { name: o.name }),
    ...(o.priceIn !== undefined && { priceIn: o.priceIn }),
    ...(o.priceOut !== undefined && { priceOut: o.priceOut }),
    ...(o.model !== undefined && { modelId: o.model }),
  };
}

/**
 * With a `tributary up` holding the data dir's embedded stores: the platform trains (in a worker thread,
 * on its own base model) and stores the run; this process signs the job and registers the model with
 * OWNER_KEY, which never leaves it.
 */
async function trainOnRunningPlatform(c: Config, o: TrainOptions, ownerKey: Hex, pid: number, log: Logger, out: (t: string) => void): Promise<void> {
  if (o.base !== undefined) {
    throw new ConfigError([`--base: \`tributary up\` is running for ${c.dataDir} (pid ${pid}) and trains on its own base model (its BASE_MODEL_DIR); leave --base out, or stop \`tributary up\` to train on another`]);
  }
  const port = runningUpPort(c.dataDir);
  if (port === undefined) throw new TributaryError(`\`tributary up\` is running for ${c.dataDir} (pid ${pid}) but has not recorded its HTTP port yet`, { details: 'wait until it has started, then run this command again', retryable: true });
  checkRegistrationParameters(registration(o));
  const started = performance.now();
  const session = await openChainSession(c, log);
  try {
    log.info(`handing the training job to the running platform (pid ${pid}, port ${port})`);
    const bar = o.json ? undefined : progressBar();
    let stored: StoredTraining;
    try {
      stored = await trainOnPlatform({
        baseUrl: `http://127.0.0.1:${port}`,
        chain: session,
        ownerKey,
        datanetId: o.datanet,
        version: o.version,
        ...(o.model !== undefined && { modelId: o.model }),
        parameters: jobParameters(o),
        onProgress: reportProgress(log, bar),
        onWaiting: () => log.info(`waiting for the platform's indexer to reach datanet ${o.datanet} version ${o.version}`),
      });
    } finally {
      bar?.stop();
    }
    log.debug('registering on-chain');
    const reg = await registerTraining(session, { ownerKey, ...registration(o) }, stored);
    const { seconds: _, baseModel, ...files } = stored;
    const result: RunTrainingResult = { ...reg, ...files, baseModel: baseModel.id, seconds: (performance.now() - started) / 1000 };
    out(o.json ? toJson(result) + '\n' : summary(result, `the platform's, pid ${pid}`));
  } finally {
    await session.close();
  }
}

// ------------------------------------------------------------------ the verb

export function registerTrainCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return program
    .command('train')
    .description('fine-tune a LoRA adapter on a published datanet version and register it as a model owned by OWNER_KEY')
    .requiredOption('--datanet <id>', 'the datanet to train on', positiveBigInt('--datanet'))
    .requiredOption('--version <v>', 'its published version', positiveBigInt('--version'))
    .option('--base <dir>', 'the base model directory (default: BASE_MODEL_DIR, else serving/models/tributary-tiny)')
    .option('--rank <r>', 'LoRA rank (default 8)', positiveInt('--rank'))
    .option('--alpha <a>', 'LoRA alpha; the scale is alpha / rank (default 2 × rank)', positiveNumber('--alpha'))
    .option('--targets <modules>', 'comma-separated modules to adapt: c_attn, c_proj, c_fc (default c_attn)', parseTargets)
    .addOption(new Option('--steps <n>', 'optimizer steps').argParser(positiveInt('--steps')).conflicts('epochs'))
    .addOption(new Option('--epochs <n>', 'passes over the training rows (default 1)').argParser(positiveInt('--epochs')).conflicts('steps'))
    .option('--batch <n>', 'rows per step (default 8)', positiveInt('--batch'))
    .option('--lr <rate>', 'peak learning rate of AdamW (default 1e-3; linear warmup, cosine decay)', positiveNumber('--lr'))
    .option('--seed <n>', 'the seed: the same rows, settings and seed give the same adapter (default 0)', nonNegativeInt('--seed'))
    .option('--checkpoints <k>', 'snapshots of the LoRA weights kept for attribution (default 4)', positiveInt('--checkpoints'))
    .option('--name <name>', 'the served model name (default <base>-d<datanet>-v<version>)')
    .option('--price-in <OPEN>', 'price per 1000 input tokens in OPEN (default 0.001)', parsePrice('--price-in'))
    .option('--price-out <OPEN>', 'price per 1000 output tokens in OPEN (default 0.002)', parsePrice('--price-out'))
    .option('--model <id>', 'publish the adapter as a new version of this model (yours) instead of a new model', positiveBigInt('--model'))
    .addOption(new Option('--json', 'print the result as JSON (amounts in wei, as decimal strings)'))
    .action(async (o: TrainOptions) => {
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      const ownerKey = c.ownerKey;
      if (!ownerKey) throw new ConfigError(["OWNER_KEY: required to sign `tributary train` when RPC_URL is set (the model owner's private key, 0x-prefixed)"]);
      const baseModelDir = o.base ?? c.baseModelDir;

      const up = runningChain(c.dataDir);
      if (up?.source === 'up' && !c.clickhouseUrl) return trainOnRunningPlatform(c, o, ownerKey, up.pid, log, out);

      const session = await openChainSession(c, log);
      try {
        const ch = await openClickHouse({ url: c.clickhouseUrl, dataDir: c.dataDir });
        try {
          await migrate(ch, CLICKHOUSE_MIGRATIONS);
          const content = await openFsContentStore({ root: join(c.dataDir, 'content') });
          // ClickHouse is a copy of the content store and the chain: bring it up to date first.
          await syncContentRows(ch.client, content);
          await syncTrainingRecords(ch.client, content);
          if (ch.embedded) await indexToHead(ch, session, c, log);
          else await waitForVersion(ch, o.datanet, o.version, log);

          await useTensorBackend(c.tensorBackend);
          const bar = o.json ? undefined : progressBar();
          const params: RunTrainingParameters = {
            ownerKey,
            baseModelDir,
            datanetId: o.datanet,
            version: o.version,
            ...jobParameters(o),
            ...registration(o),
            onProgress: reportProgress(log, bar),
          };
          let result: RunTrainingResult;
          try {
            result = await runTraining({ clickhouse: ch.client, content, chain: session, adaptersDir: join(c.dataDir, 'adapters') }, params);
          } finally {
            bar?.stop();
          }
          // The run's gradient sketches, computed once now so that attribution finds them.
          const sketches = await ensureTrainingSketches({ clickhouse: ch.client, content, baseModelDir, adaptersDir: join(c.dataDir, 'adapters') }, result.manifestHash);
          log.info(`sketched ${sketches.records.length} training examples at ${sketches.file.checkpoints.length} checkpoints for attribution`, { sha256: sketches.sketchSha256 });
          if (ch.embedded) await indexToHead(ch, session, c, log);
          out(o.json ? toJson(result) + '\n' : summary(result, baseModelDir));
        } finally {
          await ch.close();
        }
      } finally {
        await session.close();
      }
    });
}
