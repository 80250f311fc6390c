// The world test/train.test.ts and test/trainingRoute.test.ts train in: a demo chain (anvil), chDB with
// the migrations, a content store and an indexer, in a temp dir; a tiny base model; and two datanets seeded
// by the same contributors (ANVIL_KEYS 5 and 6, owner and curator 7): an open one, and a permissioned one
// with the first contribution only. The indexer has caught up with the seeding when this answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANVIL_KEYS, type Devnet } from '../contracts/index.ts';
import { startTestDevnet } from '../contracts/testing/devnet.ts';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, openFsContentStore, syncContentRows, type ClickHouseStore, type FsContentStore } from '../schema/index.ts';
import { startIndexer, SILENT_LOGGER, type Indexer } from '../indexer/index.ts';
import { useTensorBackend } from '../serving/backend.ts';
import type { RunTrainingContext } from '../serving/train/runTraining.ts';
import { colorFiles, seedTrainingDatanet, writeTinyBaseModel } from '../bin/testing/trainingFixture.ts';

export const TRAINING_OWNER = ANVIL_KEYS[7]!;
export const TRAINING_CONTRIBUTORS = [ANVIL_KEYS[5]!, ANVIL_KEYS[6]!] as const;

export interface TrainingWorld {
  dir: string;
  devnet: Devnet;
  ch: ClickHouseStore;
  content: FsContentStore;
  indexer: Indexer;
  /** runTraining's context; adapters go to `dir/adapters`. */
  ctx: RunTrainingContext;
  baseDir: string;
  datanetId: bigint;
  /** Permissioned: its owner alone may train on it. */
  closedId: bigint;
  /** Waits until the indexer has reached the chain's head. */
  indexed(): Promise<void>;
  /** Stops the indexer, chDB and anvil, and removes the temp dir. */
  close(): Promise<void>;
}

export async function startTrainingWorld(prefix: string): Promise<TrainingWorld> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let devnet: Devnet | undefined;
  let ch: ClickHouseStore | undefined;
  let indexer: Indexer | undefined;
  const close = async () => {
    await indexer?.stop();
    await ch?.close();
    await devnet?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await useTensorBackend('wasm');
    devnet = await startTestDevnet(join(dir, 'chain'), { demo: true });
    ch = await openClickHouse({ dataDir: dir });
    await migrate(ch, CLICKHOUSE_MIGRATIONS);
    const content = await openFsContentStore({ root: join(dir, 'content') });
    indexer = startIndexer({ rpcUrl: devnet.rpcUrl, deployment: devnet.deployment, clickhouse: ch, finality: 0, log: SILENT_LOGGER, pollIntervalMs: 100 });
    const { files, texts } = colorFiles();
    const baseDir = await writeTinyBaseModel(join(dir, 'base'), texts);
    const contributions = TRAINING_CONTRIBUTORS.map((key, i) => ({ key, ...files[i]! }));
    const datanetId = (await seedTrainingDatanet(devnet, content, { ownerKey: TRAINING_OWNER, contributions })).datanetId;
    const closedId = (await seedTrainingDatanet(devnet, content, { ownerKey: TRAINING_OWNER, contributions: contributions.slice(0, 1), permissioned: true })).datanetId;
    await syncContentRows(ch.client, content);
    const [chain, idx] = [devnet, indexer];
    const indexed = async () => {
      await idx.waitForHeight(Number(await chain.conn.publicClient.getBlockNumber({ cacheTime: 0 })), 30_000);
    };
    await indexed();
    const ctx: RunTrainingContext = { clickhouse: ch.client, content, chain: devnet, adaptersDir: join(dir, 'adapters') };
    return { dir, devnet, ch, content, indexer, ctx, baseDir, datanetId, closedId, indexed, close };
  } catch (err) {
    await close();
    throw err;
  }
}
