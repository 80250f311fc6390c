// The ModelRegistry operations against a real anvil with the protocol deployed: exact decoded results,
// readable refusals that send nothing (the datanet access rules above all), and finding an earlier
// registration from the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClient, createWalletClient, http, keccak256, parseEther, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from './anvilKeys.ts';
import { ModelRegistryAbi, OpenTokenAbi } from './generated/artifacts.ts';
import type { Devnet } from './devnet.ts';
import { ContractRevertError } from './revertMessage.ts';
import { createDatanet, publishVersion, setAccess, type ChainContext } from './datanetOps.ts';
import {
  DEFAULT_PRICE_IN,
  DEFAULT_PRICE_OUT,
  MAX_PRICE,
  checkTrainingAccess,
  findModelRegistration,
  findTrainingRuns,
  getModel,
  getModelRegistration,
  publishModelVersion,
  recordTrainingRun,
  registerModel,
  setModelPrices,
  type RegisterModelParameters,
} from './modelOps.ts';
import { startTestDevnet } from './testing/devnet.ts';

const K = { datanetOwner: ANVIL_KEYS[7], builder: ANVIL_KEYS[8], other: ANVIL_KEYS[9], poor: ANVIL_KEYS[4] };
const addr = (k: Hex) => privateKeyToAddress(k);
const h = (s: string) => keccak256(toHex(s));

let dir: string;
let devnet: Devnet;
let ctx: ChainContext;
let open: bigint;
let closed: bigint;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-model-ops-'));
  devnet = await startTestDevnet(dir, { demo: true });
  ctx = devnet;
  const mk = async (permissioned: boolean) => {
    const d = await createDatanet(ctx, { key: K.datanetOwner, metadataURI: 'data:,m', modality: 'text', license: 'CC0-1.0', requiredStake: 0n, permissioned });
    await publishVersion(ctx, { key: K.datanetOwner, datanetId: d.datanetId, root: h(`root-${d.datanetId}`), contributionCount: 1n, uri: 'file://v1' });
    return d.datanetId;
  };
  open = await mk(false);
  closed = await mk(true);
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pc = () => devnet.conn.publicClient;
const nonceOf = (a: Address) => pc().getTransactionCount({ address: a });
const params = (over: Partial<RegisterModelParameters> = {}): RegisterModelParameters => ({
  key: K.builder,
  name: 'coastal',
  baseModel: 'tributary-tiny@sha256:00',
  metadataURI: 'data:,{}',
  adapterHash: h('adapter'),
  adapterURI: 'sha256:aa',
  datanets: [{ datanetId: open, version: 1n }],
  manifestHash: h('manifest'),
  ...over,
});
async function refusal(p: Promise<unknown>): Promise<ContractRevertError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ContractRevertError);
  return e as ContractRevertError;
}

describe('registerModel()', () => {
  it('returns the model, its first run and version from the receipt, at the default prices', async () => {
    const count = await pc().readContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'modelCount' });
    const runs = await pc().readContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'trainingRunCount' });
    const r = await registerModel(ctx, params());
    const receipt = await pc().getTransactionReceipt({ hash: r.txHash });
    expect(r).toEqual({
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      gasUsed: receipt.gasUsed,
      modelId: count + 1n,
      runId: runs + 1n,
      version: 1n,
      owner: addr(K.builder),
      name: 'coastal',
      baseModel: 'tributary-tiny@sha256:00',
      metadataURI: 'data:,{}',
      priceIn: DEFAULT_PRICE_IN,
      priceOut: DEFAULT_PRICE_OUT,
      feePaid: 0n,
      adapterHash: h('adapter'),
      adapterURI: 'sha256:aa',
      datanets: [{ datanetId: open, version: 1n }],
      manifestHash: h('manifest'),
      approval: undefined,
    });
    expect(DEFAULT_PRICE_IN).toBe(parseEther('0.001'));
    expect(DEFAULT_PRICE_OUT).toBe(parseEther('0.002'));
    expect(await getModel(ctx, r.modelId)).toEqual({ modelId: r.modelId, owner: addr(K.builder), priceIn: DEFAULT_PRICE_IN, priceOut: DEFAULT_PRICE_OUT, versionCount: 1n, active: true });
    expect(await getModelRegistration(ctx, r.modelId)).toEqual({
      modelId: r.modelId,
      registrant: addr(K.builder),
      name: 'coastal',
      baseModel: 'tributary-tiny@sha256:00',
      metadataURI: 'data:,{}',
      txHash: r.txHash,
      blockNumber: r.blockNumber,
    });
    expect(await getModelRegistration(ctx, 999n)).toBeUndefined();
  });

  it('takes explicit prices in wei and refuses one above uint96 before sending', async () => {
    const r = await registerModel(ctx, params({ name: 'priced', priceIn: 7n, priceOut: 0n, adapterHash: h('priced') }));
    expect([r.priceIn, r.priceOut]).toEqual([7n, 0n]);
    const nonce = await nonceOf(addr(K.builder));
    await expect(registerModel(ctx, params({ priceIn: MAX_PRICE + 1n }))).rejects.toThrow(`cannot register model "coastal": priceIn must be an integer from 0 to ${MAX_PRICE}, got ${MAX_PRICE + 1n}`);
    expect(await nonceOf(addr(K.builder))).toBe(nonce);
  });

  it('refuses a permissioned datanet without a grant, in words, and registers once the owner grants access', async () => {
    const nonce = await nonceOf(addr(K.builder));
    const e = await refusal(registerModel(ctx, params({ datanets: [{ datanetId: closed, version: 1n }] })));
    expect(e.errorName).toBe('NoDatanetAccess');
    expect(e.message.split('\n')[0]).toBe(
      `cannot register model "coastal": ${addr(K.builder)} may not train on datanet ${closed}: it is permissioned and its owner has not granted this address access (the owner can run \`tributary datanet grant ${closed} ${addr(K.builder)}\`)`,
    );
    expect(await nonceOf(addr(K.builder))).toBe(nonce);
    // The datanet's owner needs no grant.
    await expect(checkTrainingAccess(ctx, { account: addr(K.datanetOwner), datanets: [{ datanetId: closed, version: 1n }] })).resolves.toBeUndefined();

    await setAccess(ctx, { key: K.datanetOwner, datanetId: closed, account: addr(K.builder), granted: true });
    const r = await registerModel(ctx, params({ name: 'granted', adapterHash: h('granted'), datanets: [{ datanetId: open, version: 1n }, { datanetId: closed, version: 1n }] }));
    expect(r.datanets).toEqual([{ datanetId: open, version: 1n }, { datanetId: closed, version: 1n }]);
    await setAccess(ctx, { key: K.datanetOwner, datanetId: closed, account: addr(K.builder), granted: false });
  });

  it('refuses a missing version or datanet, an empty adapter hash and no datanets, sending nothing', async () => {
    const nonce = await nonceOf(addr(K.builder));
    const noVersion = await refusal(registerModel(ctx, params({ datanets: [{ datanetId: open, version: 9n }] })));
    expect(noVersion.message.split('\n')[0]).toBe(`cannot register model "coastal": datanet ${open} has no published version 9`);
    const noDatanet = await refusal(registerModel(ctx, params({ datanets: [{ datanetId: 999n, version: 1n }] })));
    expect(noDatanet.message.split('\n')[0]).toBe('cannot register model "coastal": datanet 999 does not exist');
    const empty = await refusal(registerModel(ctx, params({ adapterHash: `0x${'0'.repeat(64)}` })));
    expect(empty.message.split('\n')[0]).toBe('cannot register model "coastal": the adapter hash is zero: an adapter hash must not be 0x00…00');
    const none = await refusal(registerModel(ctx, params({ datanets: [] })));
    expect(none.message.split('\n')[0]).toBe('cannot register model "coastal": a training run must name at least one datanet version');
    expect(await nonceOf(addr(K.builder))).toBe(nonce);
  });

  it('approves and pays the registration fee when governance has set one, and refuses an owner who cannot pay', async () => {
    const timelock = devnet.deployment.contracts.TributaryTimelock;
    const test = createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
    await test.impersonateAccount({ address: timelock });
    await test.setBalance({ address: timelock, value: parseEther('1') });
    const gov = createWalletClient({ chain: devnet.conn.chain, transport: http(devnet.rpcUrl), account: timelock });
    const setFee = async (fee: bigint) =>
      pc().waitForTransactionReceipt({
        hash: await gov.writeContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'setRegistrationFee', args: [fee] }),
      });
    const balance = (a: Address) => pc().readContract({ address: devnet.deployment.contracts.OpenToken, abi: OpenTokenAbi, functionName: 'balanceOf', args: [a] });
    await setFee(parseEther('3'));
    try {
      const before = await balance(addr(K.builder));
      const r = await registerModel(ctx, params({ name: 'fee', adapterHash: h('fee') }));
      expect(r.feePaid).toBe(parseEther('3'));
      expect(r.approval!.blockNumber).toBe(r.blockNumber - 1n);
      expect(before - (await balance(addr(K.builder)))).toBe(parseEther('3'));

      const nonce = await nonceOf(addr(K.poor));
      const e = await refusal(registerModel(ctx, params({ key: K.poor })));
      expect(e.message.split('\n')[0]).toBe(`cannot register model "coastal" (registration fee): ${addr(K.poor)} holds 0 OPEN, less than the 3 OPEN needed`);
      expect(await nonceOf(addr(K.poor))).toBe(nonce);
    } finally {
      await setFee(0n);
      await test.stopImpersonatingAccount({ address: timelock });
    }
  });
});

describe('recordTrainingRun(), publishModelVersion(), setModelPrices()', () => {
  it('records a further run and publishes its adapter as version 2; others may not', async () => {
    const m = await registerModel(ctx, params({ name: 'two-runs', adapterHash: h('v1') }));
    const run = await recordTrainingRun(ctx, { key: K.builder, modelId: m.modelId, datanets: [{ datanetId: open, version: 1n }], manifestHash: h('manifest-2') });
    expect(run).toMatchObject({ runId: m.runId + 1n, modelId: m.modelId, submitter: addr(K.builder), datanets: [{ datanetId: open, version: 1n }], manifestHash: h('manifest-2') });
    const v = await publishModelVersion(ctx, { key: K.builder, modelId: m.modelId, runId: run.runId, adapterHash: h('v2'), adapterURI: 'sha256:v2' });
    expect(v).toMatchObject({ modelId: m.modelId, version: 2n, runId: run.runId, adapterHash: h('v2'), adapterURI: 'sha256:v2' });

    const nonce = await nonceOf(addr(K.other));
    const notOwner = await refusal(recordTrainingRun(ctx, { key: K.other, modelId: m.modelId, datanets: [{ datanetId: open, version: 1n }], manifestHash: h('x') }));
    expect(notOwner.message.split('\n')[0]).toBe(`cannot record a training run of model ${m.modelId}: ${addr(K.other)} is not the owner of model ${m.modelId}`);
    const missing = await refusal(recordTrainingRun(ctx, { key: K.builder, modelId: 999n, datanets: [{ datanetId: open, version: 1n }], manifestHash: h('x') }));
    expect(missing.message.split('\n')[0]).toBe('cannot record a training run of model 999: model 999 does not exist');
    const foreignRun = await refusal(publishModelVersion(ctx, { key: K.builder, modelId: m.modelId, runId: 1n, adapterHash: h('v3'), adapterURI: 'x' }));
    expect(foreignRun.message.split('\n')[0]).toBe(`cannot publish a version of model ${m.modelId}: training run 1 is not a run of model ${m.modelId}`);
    expect(await nonceOf(addr(K.other))).toBe(nonce);
  });

  it('sets prices (owner only)', async () => {
    const m = await registerModel(ctx, params({ name: 'reprice', adapterHash: h('reprice') }));
    const r = await setModelPrices(ctx, { key: K.builder, modelId: m.modelId, priceIn: 11n, priceOut: 22n });
    expect(r).toMatchObject({ modelId: m.modelId, priceIn: 11n, priceOut: 22n });
    expect(await getModel(ctx, m.modelId)).toMatchObject({ priceIn: 11n, priceOut: 22n });
    const e = await refusal(setModelPrices(ctx, { key: K.other, modelId: m.modelId, priceIn: 1n, priceOut: 1n }));
    expect(e.errorName).toBe('NotModelOwner');
  });
});

describe('findModelRegistration()', () => {
  it('finds the earliest version with this submitter, manifest and adapter, and nothing for any other', async () => {
    const a = await registerModel(ctx, params({ name: 'find-me', adapterHash: h('find-adapter'), manifestHash: h('find-manifest') }));
    // A later registration of the same pair does not replace the earlier one.
    await registerModel(ctx, params({ name: 'find-me-again', adapterHash: h('find-adapter'), manifestHash: h('find-manifest') }));
    const found = await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('find-manifest'), adapterHash: h('find-adapter') });
    expect(found).toEqual({
      modelId: a.modelId,
      runId: a.runId,
      version: 1n,
      runTxHash: a.txHash,
      runBlockNumber: a.blockNumber,
      versionTxHash: a.txHash,
      datanets: [{ datanetId: open, version: 1n }],
    });
    // Small log windows give the same answer.
    expect(await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('find-manifest'), adapterHash: h('find-adapter'), maxBlockRange: 3n })).toEqual(found);
    expect(await findModelRegistration(ctx, { submitter: addr(K.other), manifestHash: h('find-manifest'), adapterHash: h('find-adapter') })).toBeUndefined();
    expect(await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('other'), adapterHash: h('find-adapter') })).toBeUndefined();
    expect(await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('find-manifest'), adapterHash: h('other') })).toBeUndefined();

    // A version published later from a separately recorded run counts too.
    const m = await registerModel(ctx, params({ name: 'later', adapterHash: h('later-v1') }));
    const run = await recordTrainingRun(ctx, { key: K.builder, modelId: m.modelId, datanets: [{ datanetId: open, version: 1n }], manifestHash: h('later-manifest') });
    // A run recorded but not yet published (say, a crash in between) is found by its manifest alone.
    expect(await findTrainingRuns(ctx, { submitter: addr(K.builder), manifestHash: h('later-manifest') })).toEqual([
      { runId: run.runId, modelId: m.modelId, datanets: [{ datanetId: open, version: 1n }], txHash: run.txHash, blockNumber: run.blockNumber },
    ]);
    expect(await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('later-manifest'), adapterHash: h('later-v2') })).toBeUndefined();
    const v = await publishModelVersion(ctx, { key: K.builder, modelId: m.modelId, runId: run.runId, adapterHash: h('later-v2'), adapterURI: 'x' });
    expect(await findModelRegistration(ctx, { submitter: addr(K.builder), manifestHash: h('later-manifest'), adapterHash: h('later-v2') })).toEqual({
      modelId: m.modelId,
      runId: run.runId,
      version: 2n,
      runTxHash: run.txHash,
      runBlockNumber: run.blockNumber,
      versionTxHash: v.txHash,
      datanets: [{ datanetId: open, version: 1n }],
    });
  });
});
