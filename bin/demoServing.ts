// The serving half of the demo, after seedDemo on a fresh devnet: LoRA adapters trained on the demo
// datanets' latest versions and registered on-chain (as `tributary train` does), API keys for the demo
// payers created from their signed grants over POST /keys, and inference traffic from those payers through
// the OpenAI-compatible routes, settled on-chain at once, so that models, usage and fees show in GraphQL.
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { keyGrantTypedData, type CreatedKeyJson, type KeyGrantDomain } from '../api/index.ts';
import { ANVIL_KEYS, type ChainContext } from '../contracts/index.ts';
import type { Indexer } from '../indexer/index.ts';
import type { ClickHouseStore, FsContentStore } from '../schema/index.ts';
import { runTraining, type RunTrainingResult } from '../serving/index.ts';
import { ensureTrainingSketches } from '../attribution/index.ts';
import { DEMO_PAYERS, type SeededDatanet } from './demo.ts';
import type { Logger } from './log.ts';
import type { ServingPart } from './servingPart.ts';

export interface SeedServingDemoParameters {
  chain: ChainContext;
  ch: ClickHouseStore;
  content: FsContentStore;
  indexer: Indexer;
  serving: ServingPart;
  /** The running platform, e.g. http://127.0.0.1:4000. */
  baseUrl: string;
  seeded: readonly SeededDatanet[];
  /** Signs the model registrations (OWNER_KEY). */
  ownerKey: Hex;
  baseModelDir: string;
  adaptersDir: string;
  log: Logger;
}

export interface ServingDemo {
  models: RunTrainingResult[];
  /** Inferences answered and settled on-chain. */
  inferences: number;
  settledBatches: number;
}

/** Short runs: the demo shows the path end to end, it does not need good adapters. */
const DEMO_TRAINING = { steps: 24, batchSize: 8, checkpoints: 3, seed: 0 } as const;

/** What each demo payer asks, by datanet slug: chat for question-answer data, completions for text. */
const DEMO_REQUESTS: Record<string, { kind: 'chat' | 'completion'; text: string }[]> = {
  'coastal-ecology': [
    { kind: 'completion', text: 'Sea otters' },
    { kind: 'completion', text: 'At low tide, the pools' },
  ],
  'kitchen-science': [
    { kind: 'chat', text: 'Why does bread crust turn brown?' },
    { kind: 'chat', text: 'What does salt do to dough?' },
  ],
  'support-sentiment': [{ kind: 'completion', text: 'My new bike arrived with a bent wheel.' }],
};

async function waitForIndexer(chain: ChainContext, indexer: Indexer): Promise<void> {
  await indexer.waitForHeight(Number(await chain.conn.publicClient.getBlockNumber({ cacheTime: 0 })), 120_000);
}

async function createDemoKey(baseUrl: string, domain: KeyGrantDomain, account: number): Promise<CreatedKeyJson> {
  const payer = privateKeyToAccount(ANVIL_KEYS[account]!);
  const grant = { payer: payer.address, label: 'demo', issuedAt: BigInt(Math.floor(Date.now() / 1000)) };
  const signature = await payer.signTypedData(keyGrantTypedData(domain, grant));
  const res = await fetch(`${baseUrl}/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payer: grant.payer, label: grant.label, issuedAt: Number(grant.issuedAt), signature }),
  });
  const body = (await res.json()) as CreatedKeyJson & { error?: string };
  if (res.status !== 201) throw new Error(`demo: POST /keys for ${payer.address} answered ${res.status}: ${body.error ?? ''}`);
  return body;
}

async function infer(baseUrl: string, key: string, model: string, r: { kind: 'chat' | 'completion'; text: string }): Promise<void> {
  const [path, body] =
    r.kind === 'chat'
      ? ['/v1/chat/completions', { model, messages: [{ role: 'user', content: r.text }], max_tokens: 24, temperature: 0 }]
      : ['/v1/completions', { model, prompt: r.text, max_tokens: 24, temperature: 0 }];
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`demo: ${path} for ${model} answered ${res.status}: ${await res.text()}`);
}

export async function seedServingDemo(p: SeedServingDemoParameters): Promise<ServingDemo> {
  const { chain, log } = p;
  const started = Date.now();
  // Training reads the datanet versions from ClickHouse: the indexer must have them first.
  await waitForIndexer(chain, p.indexer);
  const models: RunTrainingResult[] = [];
  for (const d of p.seeded) {
    const version = d.versions.at(-1);
    if (version === undefined || !DEMO_REQUESTS[d.slug]) continue;
    log.info(`demo: training a LoRA adapter on datanet ${d.datanetId} version ${version} (${DEMO_TRAINING.steps} steps)`);
    const r = await runTraining(
      { clickhouse: p.ch.client, content: p.content, chain, adaptersDir: p.adaptersDir },
      { ...DEMO_TRAINING, ownerKey: p.ownerKey, baseModelDir: p.baseModelDir, datanetId: d.datanetId, version, name: d.slug, trainer: 'worker' },
    );
    log.info(`demo: registered model ${r.modelId} "${r.name}" (eval loss ${r.initialEvalLoss?.toFixed(3) ?? 'n/a'} → ${r.evalLoss?.toFixed(3) ?? 'n/a'}, ${r.seconds.toFixed(1)} s)`);
    // As `tributary train` does: the run's gradient sketches, for attribution.
    const s = await ensureTrainingSketches({ clickhouse: p.ch.client, content: p.content, baseModelDir: p.baseModelDir, adaptersDir: p.adaptersDir }, r.manifestHash, { worker: { contentRoot: p.content.root } });
    log.info(`demo: sketched ${s.records.length} training examples at ${s.file.checkpoints.length} checkpoints (${s.file.spec.dims} numbers each)`);
    models.push(r);
  }

  // The server learns of published models from the indexer's view of the chain.
  await waitForIndexer(chain, p.indexer);
  await p.serving.refreshModels();
  const served = new Set(p.serving.catalog.list().map((m) => m.id));
  for (const m of models) if (!served.has(m.name)) throw new Error(`demo: model "${m.name}" is registered but not served`);

  const domain: KeyGrantDomain = { chainId: chain.deployment.chainId, router: chain.deployment.contracts.InferenceRouter };
  let inferences = 0;
  for (const payer of DEMO_PAYERS) {
    const key = await createDemoKey(p.baseUrl, domain, payer.account);
    for (const m of models) {
      const slug = p.seeded.find((d) => d.datanetId === m.datanets[0]!.datanetId)!.slug;
      for (const r of DEMO_REQUESTS[slug]!) {
        await infer(p.baseUrl, key.key, m.name, r);
        inferences += 1;
      }
    }
  }
  const batches = await p.serving.settleNow();
  log.info(`demo: ${inferences} inferences from ${DEMO_PAYERS.length} payers, settled on-chain in ${batches.length} batch${batches.length === 1 ? '' : 'es'}`, {
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  });
  return { models, inferences, settledBatches: batches.length };
}
