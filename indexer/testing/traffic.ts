// Event traffic for indexer tests, made by calling the real contracts through viem: datanets,
// contributions (with unicode and tab-bearing URIs), reviews, slashes, versions, access grants,
// models, escrow deposits and settled batches. Each call is its own transaction (one block each on
// an automining anvil).
import { encodeFunctionData, keccak256, maxUint256, parseEther, toHex, type Address, type Hash, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, artifacts, deployProtocol, startAnvil, connectChain, type Anvil, type ChainConnection, type ContractName, type Deployment } from '../../contracts/index.ts';

export const ACTORS = {
  deployer: ANVIL_KEYS[0],
  operator: ANVIL_KEYS[1],
  attributor: ANVIL_KEYS[2],
  signer: ANVIL_KEYS[3],
  datanetOwner: ANVIL_KEYS[5],
  contributorA: ANVIL_KEYS[6],
  contributorB: ANVIL_KEYS[7],
  modelOwner: ANVIL_KEYS[8],
  payer: ANVIL_KEYS[9],
} as const;
const addr = (k: Hex) => privateKeyToAddress(k);

export interface TestChain {
  anvil: Anvil;
  conn: ChainConnection;
  deployment: Deployment;
  stop(): Promise<void>;
}

/** A fresh anvil with the protocol deployed and the demo actors funded. */
export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil();
  try {
    const conn = await connectChain(anvil.rpcUrl);
    const deployment = await deployProtocol(conn, {
      deployerKey: ACTORS.deployer,
      operator: addr(ACTORS.operator),
      attributor: addr(ACTORS.attributor),
      guardian: addr(ANVIL_KEYS[4]),
      signers: [addr(ACTORS.attributor), addr(ACTORS.signer)],
      signerThreshold: 2,
      epochSeconds: 3600,
      disputeWindowSeconds: 600,
      demoAccounts: [ACTORS.datanetOwner, ACTORS.contributorA, ACTORS.contributorB, ACTORS.modelOwner, ACTORS.payer].map(addr),
    });
    return { anvil, conn, deployment, stop: () => anvil.stop() };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Sends a contract call and waits for its receipt; throws if it reverted. */
export async function send(chain: Pick<TestChain, 'conn' | 'deployment'>, key: Hex, contract: ContractName, functionName: string, args: readonly unknown[]): Promise<Hash> {
  const wallet = chain.conn.wallet(key);
  const hash = await (wallet.writeContract as (r: unknown) => Promise<Hash>)({
    address: chain.deployment.contracts[contract],
    abi: artifacts[contract].abi,
    functionName,
    args,
  });
  const receipt = await chain.conn.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success') throw new Error(`${contract}.${functionName} reverted (tx ${hash})`);
  return hash;
}

/** The calldata of a contract call, for anvil_reorg's replacement transactions. */
export function callData(contract: ContractName, functionName: string, args: readonly unknown[]): Hex {
  return (encodeFunctionData as (a: unknown) => Hex)({ abi: artifacts[contract].abi, functionName, args });
}

export interface TrafficState {
  datanets: number;
  contributions: number;
  models: number;
  batches: number;
  deposited: boolean;
}

export const newTrafficState = (): TrafficState => ({ datanets: 0, contributions: 0, models: 0, batches: 0, deposited: false });

/**
 * One round of protocol activity (about 14 transactions and 20 events): a datanet, two contributions
 * (one accepted, one rejected and slashed), a version, an access grant, a model, and a settled batch
 * of `inferences` inferences plus one rejected item. `state` carries ids between rounds.
 */
export async function trafficRound(chain: Pick<TestChain, 'conn' | 'deployment'>, state: TrafficState, inferences = 3): Promise<void> {
  const d = chain.deployment.contracts;
  const round = state.datanets + 1;
  const stake = parseEther('1');
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'createDatanet', [`file://datanet-${round}.json`, 'text', 'CC-BY-4.0', stake, true]);
  const datanetId = BigInt(++state.datanets);
  const contributionIds: bigint[] = [];
  for (const [i, key] of [ACTORS.contributorA, ACTORS.contributorB].entries()) {
    await send(chain, key, 'OpenToken', 'approve', [d.DatanetRegistry, stake * 2n]);
    const uri = i === 0 ? `ipfs://rows-${round}/ünïcødé 🌊` : `file://rows\t${round}\\b`;
    await send(chain, key, 'DatanetRegistry', 'contribute', [datanetId, keccak256(toHex(`content ${round} ${i}`)), BigInt(1000 + i), uri, stake * 2n]);
    contributionIds.push(BigInt(++state.contributions));
  }
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'review', [contributionIds[0], true, 9000]);
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'review', [contributionIds[1], false, 1200]);
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'slash', [contributionIds[1], stake / 2n, `spam, round ${round}`]);
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'publishVersion', [datanetId, keccak256(toHex(`root ${round}`)), 1n, `file://v${round}`]);
  await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'setAccess', [datanetId, addr(ACTORS.modelOwner), true]);
  await send(chain, ACTORS.modelOwner, 'ModelRegistry', 'registerModel', [
    {
      name: `model-${round}`,
      baseModel: 'tributary-tiny',
      metadataURI: `file://model-${round}.json`,
      priceIn: parseEther('0.002') * BigInt(round),
      priceOut: parseEther('0.006'),
      adapterHash: keccak256(toHex(`adapter ${round}`)),
      adapterURI: `file://adapter-${round}`,
      datanets: [{ datanetId, version: 1n }],
      manifestHash: keccak256(toHex(`manifest ${round}`)),
    },
  ]);
  const modelId = BigInt(++state.models);
  if (!state.deposited) {
    const deposit = parseEther('10000');
    await send(chain, ACTORS.payer, 'OpenToken', 'approve', [d.InferenceRouter, deposit]);
    await send(chain, ACTORS.payer, 'InferenceRouter', 'deposit', [deposit]);
    await send(chain, ACTORS.payer, 'InferenceRouter', 'approveOperator', [addr(ACTORS.operator), maxUint256]);
    state.deposited = true;
  }
  const items: { requestId: Hex; payer: Address; modelId: bigint; tokensIn: number; tokensOut: number }[] = [];
  for (let i = 0; i < inferences; i++) {
    items.push({ requestId: keccak256(toHex(`req ${round} ${i}`)), payer: addr(ACTORS.payer), modelId, tokensIn: 100 + 37 * i, tokensOut: 20 + 11 * i });
  }
  // An item of a payer without escrow: InferenceRejected.
  items.push({ requestId: keccak256(toHex(`broke ${round}`)), payer: addr(ANVIL_KEYS[4]), modelId, tokensIn: 10, tokensOut: 10 });
  await send(chain, ACTORS.operator, 'InferenceRouter', 'settle', [BigInt(++state.batches), items]);
}
