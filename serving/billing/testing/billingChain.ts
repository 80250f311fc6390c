// Chain fixtures for the billing tests: a registered model, a payer with escrow, fresh operators enabled by
// governance (the timelock, impersonated on anvil), and the on-chain count of InferenceSettled per request
// id, which is what "billed exactly once" means.
import { createTestClient, createWalletClient, getAbiItem, http, keccak256, maxUint256, parseEther, parseEventLogs, toHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, InferenceRouterAbi, ModelRegistryAbi, createDatanet, datanetMetadataURI, publishVersion, type ChainContext, type Devnet } from '../../../contracts/index.ts';
import { approveOperator, depositEscrow } from '../../../contracts/routerOps.ts';

/** Demo account 9: funded with OPEN on the test devnet. */
export const PAYER_KEY = ANVIL_KEYS[9];
export const PAYER = privateKeyToAddress(PAYER_KEY);
/** Holds no OPEN and no escrow: its items are rejected. */
export const BROKE = privateKeyToAddress(ANVIL_KEYS[4]);

export interface BillingChain {
  modelId: bigint;
}

/** Registers a model (priced 0.002 / 0.006 OPEN per 1k tokens) and puts 1000 OPEN in PAYER's escrow. */
export async function setUpBillingChain(devnet: Devnet): Promise<BillingChain> {
  const ctx: ChainContext = devnet;
  const owner = ANVIL_KEYS[8];
  const d = await createDatanet(ctx, { key: ANVIL_KEYS[7], metadataURI: datanetMetadataURI({ name: 'billing' }), modality: 'text', license: 'CC0-1.0', requiredStake: 0n, permissioned: false });
  await publishVersion(ctx, { key: ANVIL_KEYS[7], datanetId: d.datanetId, root: keccak256(toHex('root')), contributionCount: 1n, uri: 'file://v1' });
  const hash = await devnet.conn.wallet(owner).writeContract({
    address: devnet.deployment.contracts.ModelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'registerModel',
    args: [
      {
        name: 'billing-test',
        baseModel: 'tributary-tiny',
        metadataURI: 'file://model.json',
        priceIn: parseEther('0.002'),
        priceOut: parseEther('0.006'),
        adapterHash: keccak256(toHex('adapter')),
        adapterURI: 'file://adapter',
        datanets: [{ datanetId: d.datanetId, version: 1n }],
        manifestHash: keccak256(toHex('manifest')),
      },
    ],
  });
  const receipt = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
  const [registered] = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'ModelRegistered', strict: true });
  await depositEscrow(ctx, { key: PAYER_KEY, amount: parseEther('1000') });
  return { modelId: registered!.args.modelId };
}

/** Calls an InferenceRouter governance function as the timelock. */
export async function asGovernance(devnet: Devnet, functionName: 'setOperator', args: readonly [Address, boolean]): Promise<void> {
  const timelock = devnet.deployment.contracts.TributaryTimelock;
  const test = createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
  await test.impersonateAccount({ address: timelock });
  try {
    await test.setBalance({ address: timelock, value: parseEther('1') });
    const gov = createWalletClient({ chain: devnet.conn.chain, transport: http(devnet.rpcUrl), account: timelock });
    const hash = await gov.writeContract({ address: devnet.deployment.contracts.InferenceRouter, abi: InferenceRouterAbi, functionName, args });
    const r = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`${functionName} reverted`);
  } finally {
    await test.stopImpersonatingAccount({ address: timelock });
  }
}

/** A fresh operator key: ETH for gas, enabled by governance, approved by PAYER without limit. */
export async function newOperator(devnet: Devnet): Promise<Hex> {
  const key = generatePrivateKey();
  const address = privateKeyToAddress(key);
  await createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) }).setBalance({ address, value: parseEther('100') });
  await asGovernance(devnet, 'setOperator', [address, true]);
  await approveOperator(devnet, { key: PAYER_KEY, operator: address, allowance: maxUint256 });
  return key;
}

/** How many InferenceSettled and InferenceRejected events the chain holds per request id, for one operator's batches. */
export async function billedOnChain(devnet: Devnet, operator: Address): Promise<{ settled: Map<Hex, number>; rejected: Map<Hex, number>; batches: bigint[] }> {
  const pc = devnet.conn.publicClient;
  const address = devnet.deployment.contracts.InferenceRouter;
  const fromBlock = devnet.deployment.deploymentBlock.number;
  const batchLogs = await pc.getLogs({ address, event: getAbiItem({ abi: InferenceRouterAbi, name: 'BatchSettled' }), args: { operator }, fromBlock, toBlock: 'latest', strict: true });
  const settled = new Map<Hex, number>();
  const rejected = new Map<Hex, number>();
  for (const b of batchLogs) {
    const receipt = await pc.getTransactionReceipt({ hash: b.transactionHash });
    for (const e of parseEventLogs({ abi: InferenceRouterAbi, logs: receipt.logs, eventName: ['InferenceSettled', 'InferenceRejected'], strict: true })) {
      const m = e.eventName === 'InferenceSettled' ? settled : rejected;
      m.set(e.args.requestId, (m.get(e.args.requestId) ?? 0) + 1);
    }
  }
  return { settled, rejected, batches: batchLogs.map((l) => l.args.batchNumber) };
}
