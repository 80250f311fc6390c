// `tributary train` with no `tributary up` running: the command opens the data dir's stores, indexes the
// chain, trains, stores and registers, and says what it did; again, it registers nothing. With `up`
// running it hands the job to it over HTTP and registers what it stored. (runTraining itself in depth: test/train.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ANVIL_KEYS, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, openFsContentStore, syncContentRows } from '../../schema/index.ts';
import { startIndexer, SILENT_LOGGER } from '../../indexer/index.ts';
import { trainingRoute } from '../../serving/index.ts';
import { ConfigError } from '../config.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { colorFiles, seedTrainingDatanet, writeTinyBaseModel } from '../testing/trainingFixture.ts';
import { registerTrainCommand } from './train.ts';

const OWNER = ANVIL_KEYS[7];
const BUILDER = ANVIL_KEYS[9];
let base: string;
let dataDir: string;
let modelDir: string;
let devnet: Devnet;
let env: Record<string, string>;
let datanetId: bigint;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-train-cli-'));
  dataDir = join(base, 'data');
  devnet = await startTestDevnet(dataDir, { demo: true });
  env = remoteChainEnv(devnet, dataDir, { OWNER_KEY: BUILDER });
  const { files, texts } = colorFiles();
  modelDir = await writeTinyBaseModel(join(base, 'model'), texts);
  const content = await openFsContentStore({ root: join(dataDir, 'content') });
  datanetId = (await seedTrainingDatanet(devnet, content, { ownerKey: OWNER, contributions: [{ key: ANVIL_KEYS[5], ...files[0]! }, { key: ANVIL_KEYS[6], ...files[1]! }] })).datanetId;
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

async function run(args: string[], e: Record<string, string> = env): Promise<string> {
  let out = '';
  const program = registerTrainCommand(new Command().exitOverride(), { env: e, out: (t) => (out += t), log: () => {} }).parent!;
  await program.parseAsync(['node', 'tributary', 'train', ...args]);
  return out;
}

const ARGS = () => ['--datanet', String(datanetId), '--version', '1', '--base', modelDir, '--rank', '4', '--steps', '12', '--lr', '3e-3', '--seed', '5', '--checkpoints', '2'];
const H = '0x[0-9a-f]{64}';

describe('tributary train (no platform running)', () => {
  it('indexes, trains, stores and registers, and prints a summary', async () => {
    const out = await run([...ARGS(), '--name', 'cli-colors', '--price-in', '0.01', '--price-out', '0.03']);
    const adapters = join(dataDir, 'adapters').replaceAll('/', '\\/');
    expect(out).toMatch(
      new RegExp(
        [
          `^trained a LoRA adapter on datanet ${datanetId} version 1: 20 rows \\(18 trained on, 2 held out\\), 12 steps in \\d+\\.\\d s`,
          `  eval loss \\d+\\.\\d{4} → \\d+\\.\\d{4}`,
          `  base model test-tiny@sha256:[0-9a-f]{64} \\(${modelDir.replaceAll('/', '\\/')}\\)`,
          `  adapter ${H} in ${adapters}\\/${H}`,
          `  training manifest ${H}; 2 checkpoints at steps 6, 12`,
          `registered model 1 "cli-colors" version 1 \\(training run 1\\)`,
          `  registerModel in tx ${H} \\(block \\d+, [\\d,]+ gas\\)`,
          `  prices: 0\\.01 OPEN per 1k input tokens, 0\\.03 OPEN per 1k output tokens\\n$`,
        ].join('\\n'),
      ),
    );
    // The indexer ran after registering: the data dir's ClickHouse has the model and its records.
    const ch = await openClickHouse({ dataDir });
    try {
      const q = async (query: string) => (await ch.client.query({ query, format: 'JSONEachRow' })).json();
      expect(await q("SELECT toString(model_id) AS id, name, toString(price_in) AS price_in FROM models")).toEqual([{ id: '1', name: 'cli-colors', price_in: '10000000000000000' }]);
      expect(await q('SELECT split, count() AS n FROM training_examples FINAL GROUP BY split ORDER BY split')).toEqual([
        { split: 'eval', n: '2' },
        { split: 'train', n: '18' },
      ]);
    } finally {
      await ch.close();
    }
  });

  it('run again with the same seed, registers nothing and says so (JSON)', async () => {
    const json = JSON.parse(await run([...ARGS(), '--name', 'cli-colors', '--json']));
    expect(json).toMatchObject({ modelId: '1', runId: '1', version: '1', alreadyRegistered: true, transactions: [], datanets: [{ datanetId: String(datanetId), version: '1' }], priceIn: '10000000000000000' });
    expect(json.adapterHash).toMatch(new RegExp(`^${H}$`));
  });

  it('refuses a missing version in words, bad options, and a missing OWNER_KEY on a remote chain', async () => {
    await expect(run(['--datanet', String(datanetId), '--version', '4', '--base', modelDir])).rejects.toThrow(
      `cannot train on datanet ${datanetId} version 4: datanet ${datanetId} has no published version 4`,
    );
    await expect(run([...ARGS(), '--epochs', '2'])).rejects.toThrow("error: option '--steps <n>' cannot be used with option '--epochs <n>'");
    await expect(run([...ARGS(), '--rank', '0'])).rejects.toThrow('--rank must be a positive integer, got "0"');
    await expect(run([...ARGS(), '--price-in', 'cheap'])).rejects.toThrow('--price-in: "cheap" is not an amount of OPEN');
    const { OWNER_KEY: _, ...noKey } = env;
    await expect(run(ARGS(), noKey)).rejects.toBeInstanceOf(ConfigError);
  });

  it('with `tributary up` holding the data dir, hands the job to it over HTTP and registers what it stored', async () => {
    // A stand-in for the running platform: the data dir's stores, indexed, behind POST /training/jobs.
    const ch = await openClickHouse({ dataDir });
    const content = await openFsContentStore({ root: join(dataDir, 'content') });
    await migrate(ch, CLICKHOUSE_MIGRATIONS);
    await syncContentRows(ch.client, content);
    const indexer = startIndexer({ rpcUrl: devnet.rpcUrl, deployment: devnet.deployment, clickhouse: ch, finality: 0, log: SILENT_LOGGER, pollIntervalMs: 100 });
    await indexer.waitForHeight(Number(await devnet.conn.publicClient.getBlockNumber({ cacheTime: 0 })), 30_000);
    const route = trainingRoute({
      ctx: { clickhouse: ch.client, content, chain: devnet, adaptersDir: join(dataDir, 'adapters') },
      baseModelDir: modelDir,
      domain: { chainId: devnet.deployment.chainId, registry: devnet.deployment.contracts.ModelRegistry },
    });
    const jobs: string[] = [];
    const server = createServer((req, res) => {
      jobs.push(`${req.method} ${req.url}`);
      void route(req, res, new URL(req.url!, 'http://x').pathname).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const upFile = join(dataDir, 'up.json');
    writeFileSync(upFile, JSON.stringify({ pid: process.pid, port: (server.address() as AddressInfo).port, rpcUrl: devnet.rpcUrl }));
    try {
      const remote = ARGS().filter((a, i, all) => a !== '--base' && all[i - 1] !== '--base').map((a) => (a === '5' ? '7' : a)); // another seed: another run
      const out = await run([...remote, '--name', 'remote-colors']);
      expect(jobs).toEqual(['POST /training/jobs']);
      expect(out).toMatch(new RegExp(`^trained a LoRA adapter on datanet ${datanetId} version 1: 20 rows \\(18 trained on, 2 held out\\), 12 steps in`));
      expect(out).toMatch(new RegExp(`  base model test-tiny@sha256:[0-9a-f]{64} \\(the platform's, pid ${process.pid}\\)`));
      expect(out).toMatch(/registered model 2 "remote-colors" version 1 \(training run 2\)\n  registerModel in tx 0x[0-9a-f]{64}/);
      // The same job again finds the registration; a base model of its own is refused, in words.
      expect(JSON.parse(await run([...remote, '--json']))).toMatchObject({ modelId: '2', alreadyRegistered: true, transactions: [] });
      await expect(run(ARGS())).rejects.toThrow('--base: `tributary up` is running for');
    } finally {
      rmSync(upFile, { force: true });
      server.close();
      await indexer.stop();
      await ch.close();
    }
  });
});
