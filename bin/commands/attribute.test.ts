// `tributary attribute` with no `tributary up` running: after `tributary train` (which also sketches the
// run) and a served, settled epoch, the command opens the data dir's stores, indexes the chain, attributes
// the epoch and posts its batch, and says what it paid; a second run pays nothing; with `up` running it
// refuses and says why. (The epoch job in depth: test/attribute-epoch.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, getSettlementState, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { inferenceLogRow, insertInferenceLog, openClickHouse, openFsContentStore, type ClickHouseStore } from '../../schema/index.ts';
import { PAYER_KEY, requestIdOf, setUpPayoutChain, type PayoutChain } from '../../attribution/payouts/testing/payoutChain.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { colorFiles, seedTrainingDatanet, writeTinyBaseModel } from '../testing/trainingFixture.ts';
import { registerTrainCommand } from './train.ts';
import { registerAttributeCommand } from './attribute.ts';

const OWNER = ANVIL_KEYS[7];
const BUILDER = ANVIL_KEYS[8];
let base: string;
let dataDir: string;
let devnet: Devnet;
let chain: PayoutChain;
let env: Record<string, string>;
let ch: ClickHouseStore;

async function run(register: typeof registerTrainCommand, verb: string, args: string[], e: Record<string, string> = env): Promise<string> {
  let out = '';
  const program = register(new Command().exitOverride(), { env: e, out: (t) => (out += t), log: () => {} }).parent!;
  await program.parseAsync(['node', 'tributary', verb, ...args]);
  return out;
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-attribute-cli-'));
  dataDir = join(base, 'data');
  devnet = await startTestDevnet(dataDir, { demo: true });
  chain = await setUpPayoutChain(devnet);
  const { files, texts } = colorFiles();
  const modelDir = await writeTinyBaseModel(join(base, 'model'), texts);
  env = remoteChainEnv(devnet, dataDir, { OWNER_KEY: BUILDER, BASE_MODEL_DIR: modelDir });
  const content = await openFsContentStore({ root: join(dataDir, 'content') });
  const { datanetId } = await seedTrainingDatanet(devnet, content, { ownerKey: OWNER, contributions: [{ key: ANVIL_KEYS[5], ...files[0]! }, { key: ANVIL_KEYS[6], ...files[1]! }] });
  const trained = JSON.parse(await run(registerTrainCommand, 'train', ['--datanet', String(datanetId), '--version', '1', '--rank', '4', '--steps', '12', '--lr', '1e-2', '--checkpoints', '2', '--json'])) as {
    modelId: string;
    version: string;
    adapterHash: string;
  };
  // What the server would have logged for two inferences of the new model, then settled on chain.
  ch = await openClickHouse({ dataDir });
  const labels = ['cli cat', 'cli dog'];
  await insertInferenceLog(
    ch.client,
    labels.map((label, i) =>
      inferenceLogRow({
        requestId: requestIdOf(label),
        modelId: BigInt(trained.modelId),
        modelVersion: BigInt(trained.version),
        adapterHash: trained.adapterHash,
        payer: privateKeyToAddress(PAYER_KEY),
        tokensIn: 12,
        tokensOut: 2,
        latencyMs: 9,
        firstTokenMs: 2,
        finishReason: 'stop',
        prompt: `Question: color of ${['cat', 'dog'][i]}\nAnswer:`,
        output: ' red',
        createdAt: new Date(),
      }),
    ),
  );
  await chain.serve(labels.map((label) => ({ label, tokensIn: 900, tokensOut: 450, modelId: BigInt(trained.modelId) })));
}, 240_000);

afterAll(async () => {
  await ch?.close();
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe('tributary attribute (no platform running)', () => {
  it('refuses an epoch that has not ended', async () => {
    await expect(run(registerAttributeCommand, 'attribute', ['--epoch', '1'])).rejects.toThrow(/^epoch 1 has not ended yet \(the current epoch is 1\)/);
  }, 120_000);

  it('indexes, attributes the ended epoch, posts its batch and prints what it paid', async () => {
    await chain.endEpoch(1n);
    const out = await run(registerAttributeCommand, 'attribute', ['--epoch', '1']);
    expect(out).toMatch(/^epoch 1: 2 settled inferences, 2 attributed; pool \d+(\.\d+)? OPEN\n  paid \d+(\.\d+)? OPEN to [12] accounts?; 0 OPEN rolls over\n  batch root 0x[0-9a-f]{64} \(score file 0x[0-9a-f]{64}\): confirmed in tx 0x[0-9a-f]{64}\n/);
    expect((await getSettlementState(devnet)).lastPostedEpoch).toBe(1n);
    const scores = await (await ch.client.query({ query: 'SELECT count() AS n FROM attribution_scores FINAL WHERE epoch = 1 AND weight > 0', format: 'JSONEachRow' })).json<{ n: string }>();
    expect(Number(scores[0]!.n)).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('pays nothing the second time, and answers JSON', async () => {
    const r = JSON.parse(await run(registerAttributeCommand, 'attribute', ['--epoch', '1', '--json'])) as { alreadyPosted: boolean; epoch: string };
    expect(r).toMatchObject({ alreadyPosted: true, epoch: '1' });
  }, 120_000);

  it('refuses while `tributary up` holds the stores', async () => {
    writeFileSync(join(dataDir, 'up.json'), JSON.stringify({ pid: process.pid, port: 1, rpcUrl: devnet.rpcUrl }));
    try {
      await expect(run(registerAttributeCommand, 'attribute', ['--epoch', '2'])).rejects.toThrow(/`tributary up` is running for .* and holds its stores/);
    } finally {
      rmSync(join(dataDir, 'up.json'), { force: true });
    }
  });
});
