// Chain and store fixtures for the payout tests: a registered model and a payer with escrow, inferences
// settled through the real InferenceRouter, the chain's clock moved past epoch ends and dispute windows,
// and fresh PGlite data dirs copied from one initdb'd template (initdb takes seconds; a copy does not).
import { createTestClient, http, keccak256, maxUint256, parseEther, parseEventLogs, toHex, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, ModelRegistryAbi, approveOperator, createDatanet, datanetMetadataURI, depositEscrow, publishVersion, settleUsage, type Devnet, type SettledInference } from '../../../contracts/index.ts';
import { getEpochEnd, getPostedBatch } from '../../../contracts/index.ts';

export const OPERATOR_KEY = ANVIL_KEYS[1];
export const ATTRIBUTOR_KEY = ANVIL_KEYS[2];
/** The test devnet's signer set (threshold 2). */
export const SIGNER_KEYS: Hex[] = [ANVIL_KEYS[2], ANVIL_KEYS[3]];
export const GUARDIAN_KEY = ANVIL_KEYS[4];
export const PAYER_KEY = ANVIL_KEYS[9];

export interface PayoutChain {
  devnet: Devnet;
  modelId: bigint;
  /** Bills inferences in one usage batch (for `modelId`, else the fixture's model); returns their InferenceSettled values. */
  serve(items: readonly { label: string; tokensIn: number; tokensOut: number; modelId?: bigint }[]): Promise<SettledInference[]>;
  /** Moves the clock to the end of `epoch` (the start of the next) and mines a block there. */
  endEpoch(epoch: bigint): Promise<void>;
  /** Moves the clock to when the batch of `epoch` becomes claimable. */
  passDisputeWindow(epoch: bigint): Promise<void>;
}

export const requestIdOf = (label: string): Hex => keccak256(toHex(`payout-test ${label}`));

/** Registers a model (0.002 / 0.006 OPEN per 1k tokens) and gives the operator 1000 OPEN of the payer's escrow. */
export async function setUpPayoutChain(devnet: Devnet): Promise<PayoutChain> {
  const owner = ANVIL_KEYS[7];
  const d = await createDatanet(devnet, { key: owner, metadataURI: datanetMetadataURI({ name: 'payouts' }), modality: 'text', license: 'CC0-1.0', requiredStake: 0n, permissioned: false });
  await publishVersion(devnet, { key: owner, datanetId: d.datanetId, root: keccak256(toHex('root')), contributionCount: 1n, uri: 'file://v1' });
  const hash = await devnet.conn.wallet(owner).writeContract({
    address: devnet.deployment.contracts.ModelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'registerModel',
    args: [
      {
        name: 'payout-test',
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
  const modelId = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'ModelRegistered', strict: true })[0]!.args.modelId;
  await depositEscrow(devnet, { key: PAYER_KEY, amount: parseEther('1000') });
  await approveOperator(devnet, { key: PAYER_KEY, operator: privateKeyToAddress(OPERATOR_KEY), allowance: maxUint256 });
  const test = createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
  const warpTo = async (t: bigint) => {
    const now = (await devnet.conn.publicClient.getBlock({ blockTag: 'latest' })).timestamp;
    if (t > now) await test.setNextBlockTimestamp({ timestamp: t });
    await test.mine({ blocks: 1 });
  };
  let usageBatch = 0n;
  return {
    devnet,
    modelId,
    async serve(items) {
      const b = await settleUsage(devnet, {
        key: OPERATOR_KEY,
        batchNumber: ++usageBatch,
        items: items.map((i) => ({ requestId: requestIdOf(i.label), payer: privateKeyToAddress(PAYER_KEY), modelId: i.modelId ?? modelId, tokensIn: i.tokensIn, tokensOut: i.tokensOut })),
      });
      if (b.rejected.length > 0) throw new Error(`the router rejected ${b.rejected.length} test inferences`);
      return b.settled;
    },
    endEpoch: async (epoch) => warpTo(await getEpochEnd(devnet, epoch)),
    async passDisputeWindow(epoch) {
      const b = await getPostedBatch(devnet, epoch);
      if (!b) throw new Error(`no batch posted for epoch ${epoch}`);
      await warpTo(b.claimableAt);
    },
  };
}

export { pgliteTemplate, type PgliteTemplate } from '../../../schema/postgres/testing/pgliteTemplate.ts';
