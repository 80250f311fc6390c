// An attribution epoch end to end on a real anvil, chDB, PGlite and content store: a datanet from two
// contributors, a LoRA adapter trained on it and registered, inferences logged by the server and settled
// through InferenceRouter, the epoch ended on the chain's clock; then attributeEpoch sketches the run,
// scores every inference, writes scores, spans and rewards to ClickHouse, and posts the batch; the
// contributors claim, and every wei is accounted for. Also: an epoch that has not ended, an indexer that
// is behind, an inference with no log, and a second run that changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, claimPayout, getClaimed, getSettlementState, type Devnet } from '../contracts/index.ts';
import { startTestDevnet } from '../contracts/testing/devnet.ts';
import {
  CLICKHOUSE_MIGRATIONS,
  inferenceLogRow,
  insertInferenceLog,
  migrate,
  openClickHouse,
  openFsContentStore,
  openPostgres,
  syncContentRows,
  type ClickHouseStore,
  type FsContentStore,
  type OperationalStore,
} from '../schema/index.ts';
import { startIndexer, SILENT_LOGGER, type Indexer } from '../indexer/index.ts';
import { runTraining, useTensorBackend, type RunTrainingResult } from '../serving/index.ts';
import { accountPayout, createBatchDriver, keySigner, WEIGHT_SCALE, type BatchDriver } from '../attribution/index.ts';
import { attributeEpoch, AttributeEpochError, type AttributeEpochContext } from '../attribution/epochs/attributeEpoch.ts';
import { dueEpoch, startEpochSchedule } from '../attribution/epochs/epochSchedule.ts';
import { colorFiles, seedTrainingDatanet, writeTinyBaseModel } from '../bin/testing/trainingFixture.ts';
import { ATTRIBUTOR_KEY, PAYER_KEY, SIGNER_KEYS, pgliteTemplate, requestIdOf, setUpPayoutChain, type PayoutChain, type PgliteTemplate } from '../attribution/payouts/testing/payoutChain.ts';

const OWNER = ANVIL_KEYS[7];
const BUILDER = ANVIL_KEYS[8];
const ALICE_KEY = ANVIL_KEYS[5];
const BOB_KEY = ANVIL_KEYS[6];
const ALICE = privateKeyToAddress(ALICE_KEY);
const BOB = privateKeyToAddress(BOB_KEY);

let dir: string;
let devnet: Devnet;
let chain: PayoutChain;
let ch: ClickHouseStore;
let content: FsContentStore;
let indexer: Indexer | undefined;
let templates: PgliteTemplate;
let store: OperationalStore;
let driver: BatchDriver;
let trained: RunTrainingResult;
let ctx: AttributeEpochContext;
let contributionOf: Map<Hex, bigint>;

const startIndexing = () => {
  indexer = startIndexer({ rpcUrl: devnet.rpcUrl, deployment: devnet.deployment, clickhouse: ch, finality: 0, log: SILENT_LOGGER, pollIntervalMs: 100 });
};
const indexed = async () => indexer!.waitForHeight(Number(await devnet.conn.publicClient.getBlockNumber({ cacheTime: 0 })), 30_000);
const rows = async <T = Record<string, unknown>>(query: string, query_params: Record<string, unknown> = {}) =>
  (await ch.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-attribute-'));
  await useTensorBackend('wasm');
  devnet = await startTestDevnet(join(dir, 'chain'), { demo: true });
  chain = await setUpPayoutChain(devnet);
  ch = await openClickHouse({ dataDir: dir });
  await migrate(ch, CLICKHOUSE_MIGRATIONS);
  content = await openFsContentStore({ root: join(dir, 'content') });
  templates = pgliteTemplate();
  store = await openPostgres({ dataDir: await templates.freshDataDir() });
  startIndexing();
  const { files, texts } = colorFiles();
  const baseModelDir = await writeTinyBaseModel(join(dir, 'base'), [...texts, 'Tell me something.']);
  const seeded = await seedTrainingDatanet(devnet, content, { ownerKey: OWNER, contributions: [{ key: ALICE_KEY, ...files[0]! }, { key: BOB_KEY, ...files[1]! }] });
  contributionOf = new Map([[ALICE, seeded.contributionIds[0]!], [BOB, seeded.contributionIds[1]!]]);
  await syncContentRows(ch.client, content);
  await indexed();
  const adaptersDir = join(dir, 'adapters');
  trained = await runTraining(
    { clickhouse: ch.client, content, chain: devnet, adaptersDir },
    { ownerKey: BUILDER, baseModelDir, datanetId: seeded.datanetId, version: 1n, rank: 4, steps: 16, learningRate: 1e-2, seed: 3, checkpoints: 2 },
  );
  driver = createBatchDriver({ db: store.db, chain: devnet, content, attributorKey: ATTRIBUTOR_KEY, sign: keySigner(SIGNER_KEYS) });
  ctx = { clickhouse: ch.client, content, chain: devnet, driver, baseModelDir, adaptersDir, spanIndexDir: join(dir, 'spans') };
}, 240_000);

afterAll(async () => {
  await indexer?.stop();
  await ch?.close();
  await store?.close();
  await devnet?.stop();
  templates?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Logs (as the server would) and settles (as the operator would) inferences of the trained model. */
async function serve(items: { label: string; prompt: string; output: string; logged?: boolean }[]) {
  const logged = items.filter((i) => i.logged !== false);
  await insertInferenceLog(
    ch.client,
    logged.map((i) =>
      inferenceLogRow({
        requestId: requestIdOf(i.label),
        modelId: trained.modelId,
        modelVersion: trained.version,
        adapterHash: trained.adapterHash,
        payer: privateKeyToAddress(PAYER_KEY),
        tokensIn: 10,
        tokensOut: 5,
        latencyMs: 12,
        firstTokenMs: 3,
        finishReason: 'stop',
        prompt: i.prompt,
        output: i.output,
        createdAt: new Date(),
      }),
    ),
  );
  return chain.serve(items.map((i) => ({ label: i.label, tokensIn: 600 + i.label.length * 37, tokensOut: 300 + i.label.length * 11, modelId: trained.modelId })));
}

describe('attributeEpoch', () => {
  it('refuses an epoch that has not ended, and says when it ends', async () => {
    const settled = await serve([{ label: 'too early', prompt: 'Question: color of cat\nAnswer:', output: ' red' }]);
    expect(settled[0]!.epoch).toBe(1n);
    const err = await attributeEpoch(ctx, { epoch: 1n }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttributeEpochError);
    expect((err as AttributeEpochError).message).toMatch(/^epoch 1 has not ended yet \(the current epoch is 1\); it ends at \d{4}-/);
    expect((err as AttributeEpochError).retryable).toBe(true);
  });

  it('epoch 1: scores every logged inference, writes scores, spans and rewards, posts the batch; the pools add up to the wei', async () => {
    const settled = await serve([
      { label: 'cat', prompt: 'Question: color of cat\nAnswer:', output: ' red' },
      { label: 'pig', prompt: 'Question: color of pig\nAnswer:', output: ' green' },
      // The output repeats one of Alice's rows verbatim: span evidence credits her.
      { label: 'copy', prompt: 'Tell me something.', output: 'Question: color of dog\nAnswer: blue' },
      { label: 'unlogged', prompt: '', output: '', logged: false },
    ]);
    await chain.endEpoch(1n);
    await indexed();
    const r = await attributeEpoch(ctx, { epoch: 1n });
    expect(r.alreadyPosted).toBe(false);
    expect(r.drive?.status).toBe('confirmed');
    expect(r.inferences).toBe(5);
    const poolOf = (label: string) => [...settled].find((s) => s.requestId === requestIdOf(label))?.poolAmount;
    expect(r.unattributed).toContainEqual({ requestId: requestIdOf('unlogged'), reason: 'not in the inference log' });
    // Conservation: what the batch pays plus what rolls over is every pool of the epoch.
    expect(r.total + r.rolledOver).toBe(r.poolTotal);
    expect(r.amounts.reduce((s, a) => s + a.amount, 0n)).toBe(r.total);
    expect(r.rolledOver).toBeGreaterThanOrEqual(poolOf('unlogged')!);
    expect(r.drive!.posted!.total).toBe(r.total);

    // ClickHouse: per attributed inference, the weights add up to exactly WEIGHT_SCALE.
    const weights = await rows<{ id: Hex; w: string; n: string }>(
      `SELECT concat('0x', lower(hex(request_id))) AS id, toString(sum(weight)) AS w, toString(count()) AS n FROM attribution_scores FINAL WHERE epoch = 1 AND weight > 0 GROUP BY id ORDER BY id`,
    );
    expect(weights.length).toBe(r.attributed);
    for (const w of weights) expect(BigInt(w.w)).toBe(WEIGHT_SCALE);
    const copy = await rows<{ contribution_id: string; weight: string; span_tokens: number }>(
      `SELECT toString(contribution_id) AS contribution_id, toString(weight) AS weight, span_tokens FROM attribution_scores FINAL WHERE epoch = 1 AND request_id = unhex({id:String}) ORDER BY contribution_id`,
      { id: requestIdOf('copy').slice(2) },
    );
    const alice = copy.find((c) => BigInt(c.contribution_id) === contributionOf.get(ALICE))!;
    expect(alice.span_tokens).toBeGreaterThanOrEqual(8);
    expect(BigInt(alice.weight)).toBeGreaterThan(WEIGHT_SCALE / 2n);
    const spans = await rows<{ text: string; contribution_id: string }>(
      `SELECT text, toString(contribution_id) AS contribution_id FROM attribution_spans FINAL WHERE request_id = unhex({id:String}) ORDER BY length DESC LIMIT 1`,
      { id: requestIdOf('copy').slice(2) },
    );
    expect(spans[0]!.text).toContain('color of dog');
    expect(BigInt(spans[0]!.contribution_id)).toBe(contributionOf.get(ALICE));
    const rewards = await rows<{ account: Hex; amount: string; cumulative: string }>(
      `SELECT concat('0x', lower(hex(account))) AS account, toString(amount) AS amount, toString(cumulative) AS cumulative FROM attribution_rewards FINAL WHERE epoch = 1 AND root = unhex({root:String}) ORDER BY account`,
      { root: r.root.slice(2) },
    );
    expect(rewards.reduce((s, x) => s + BigInt(x.amount), 0n)).toBe(r.total);
    expect(rewards.map((x) => x.account).sort()).toEqual(r.amounts.map((a) => a.account.toLowerCase()).sort());
    // The run's sketches were computed once and recorded.
    const sketches = await rows<{ n: number }>(`SELECT example_count AS n FROM training_sketches FINAL WHERE manifest_hash = unhex({m:String})`, { m: trained.manifestHash.slice(2) });
    expect(sketches).toEqual([{ n: trained.trainRows }]);
  }, 120_000);

  it('a second run of a posted epoch changes nothing', async () => {
    const before = await getSettlementState(devnet);
    const again = await attributeEpoch(ctx, { epoch: 1n });
    expect(again.alreadyPosted).toBe(true);
    expect(again.drive).toBeUndefined();
    expect((await getSettlementState(devnet)).lastPostedEpoch).toBe(before.lastPostedEpoch);
  });

  it('epoch 2 waits for an indexer that is behind, then builds on epoch 1\'s leaves; both contributors claim everything', async () => {
    await indexer!.stop();
    indexer = undefined;
    await serve([
      { label: 'cow', prompt: 'Question: color of cow\nAnswer:', output: ' blue' },
      { label: 'rat', prompt: 'Question: color of rat\nAnswer:', output: ' red' },
    ]);
    await chain.endEpoch(2n);
    const behind = await attributeEpoch(ctx, { epoch: 2n }).catch((e: unknown) => e);
    expect(behind).toBeInstanceOf(AttributeEpochError);
    expect((behind as Error).message).toMatch(/^ClickHouse holds 0 wei of settled inferences for epoch 2, but its pool on chain is [1-9]\d* wei\n  the indexer has not caught up/);
    startIndexing();
    await indexed();
    const r = await attributeEpoch(ctx, { epoch: 2n });
    expect(r.drive?.status).toBe('confirmed');
    expect(r.fromEpoch).toBe(2n);

    await chain.passDisputeWindow(2n);
    let claimed = 0n;
    for (const key of [ALICE_KEY, BOB_KEY]) {
      const payout = await accountPayout(devnet, content, privateKeyToAddress(key));
      if (!payout.claimable) continue;
      // ClickHouse keeps the same proof that the content store's leaves give (what GraphQL serves).
      const kept = await rows<{ proof: string[]; cumulative: string }>(
        `SELECT proof, toString(cumulative) AS cumulative FROM attribution_rewards FINAL WHERE account = unhex({a:String}) AND epoch = 2 AND root = unhex({root:String})`,
        { a: privateKeyToAddress(key).slice(2).toLowerCase(), root: r.root.slice(2) },
      );
      expect(kept).toEqual([{ proof: payout.claimable.proof.map((h) => h.toLowerCase()), cumulative: payout.claimable.cumulative.toString() }]);
      const c = await claimPayout(devnet, { key, cumulativeAmount: payout.claimable.cumulative, proof: payout.claimable.proof });
      claimed += c.amount;
      expect(await getClaimed(devnet, privateKeyToAddress(key))).toBe(payout.claimable.cumulative);
    }
    expect(claimed).toBeGreaterThan(0n);
    // Every wei the router put into epochs 1 and 2 was claimed or rolled over.
    const state = await getSettlementState(devnet);
    expect(claimed).toBe(state.totalClaimed);
    // payout_batches is the indexer's copy of the posted batches: let it reach the chain's head (epoch 2's batch) first.
    await indexed();
    const posted = await rows<{ total: string; rolled: string }>(`SELECT toString(sum(total)) AS total, toString(sum(rolled_over)) AS rolled FROM payout_batches`);
    expect(BigInt(posted[0]!.total)).toBe(claimed);
    expect(claimed + state.carry).toBe(state.totalFunded);
  }, 120_000);
  it('the schedule attributes a quiet epoch (a batch that pays nothing new), then finds nothing due', async () => {
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(`error: ${m}`) };
    const schedule = startEpochSchedule(ctx, { intervalMs: 3_600_000, log });
    try {
      await chain.endEpoch(3n);
      await indexed();
      expect(await dueEpoch(ctx)).toBe(3n);
      const r = await schedule.tick();
      expect(r).toMatchObject({ epoch: 3n, fromEpoch: 3n, inferences: 0, total: 0n });
      expect(r!.drive?.status).toBe('confirmed');
      expect(await dueEpoch(ctx)).toBeUndefined();
      expect(await schedule.tick()).toBeUndefined();
      expect(lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      await schedule.stop();
    }
  }, 120_000);
});
