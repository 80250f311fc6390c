// Deploys the whole protocol with viem in one script, wires its roles, hands every parameter to the
// governance timelock, and funds the demo accounts with OPEN.
import { getAddress, parseEther, zeroAddress, type Address, type Hash, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { artifacts } from './generated/artifacts.ts';
import type { ChainConnection, TributaryWalletClient } from './client.ts';
import type { Deployment } from './manifest.ts';
import type { ContractName } from './names.ts';
import { ChainError } from './errors.ts';

export interface DeployParams {
  deployerKey: Hex;
  operator: Address;
  attributor: Address;
  guardian: Address;
  signers: Address[];
  signerThreshold: number;
  epochSeconds: number;
  disputeWindowSeconds: number;
  /** Accounts that get `demoAmount` OPEN each (contributors and payers of the demo). */
  demoAccounts?: Address[];
  demoAmount?: bigint;
  /** Total OPEN supply, minted to the deployer (default 1e9 OPEN). */
  supply?: bigint;
  timelockDelaySeconds?: number;
  votingDelayBlocks?: number;
  votingPeriodBlocks?: number;
  quorumPercent?: number;
  /** Fee shares in basis points, summing to 10000 (default 5000 / 4000 / 1000). */
  shares?: { owner: number; pool: number; treasury: number };
  stakeCooldownSeconds?: number;
  settlementIntervalSeconds?: number;
  withdrawalDelaySeconds?: number;
  onProgress?: (message: string) => void;
}

export const DEFAULT_SHARES = { owner: 5000, pool: 4000, treasury: 1000 } as const;

/** Deploys every contract and returns the manifest describing the deployment. */
export async function deployProtocol(conn: ChainConnection, p: DeployParams): Promise<Deployment> {
  const wallet = conn.wallet(p.deployerKey);
  const deployer = wallet.account.address;
  const client = conn.publicClient;
  const log = p.onProgress ?? (() => {});
  const shares = p.shares ?? DEFAULT_SHARES;
  const supply = p.supply ?? parseEther('1000000000');

  const balance = await client.getBalance({ address: deployer });
  if (balance === 0n) {
    throw new ChainError(`the deployer ${deployer} has no ETH for gas on chain ${conn.chain.id}`, {
      details: 'fund it, or set DEPLOYER_KEY to a funded account',
    });
  }

  const wait = async (hash: Hash, what: string) => {
    const r = await client.waitForTransactionReceipt({ hash, pollingInterval: 25 });
    if (r.status !== 'success') throw new ChainError(`${what} reverted`, { details: `tx ${hash}` });
    return r;
  };

  let firstBlock: { number: bigint; hash: Hash } | undefined;
  const deploy = async <N extends ContractName>(name: N, args: readonly unknown[]): Promise<Address> => {
    const { abi, bytecode } = artifacts[name];
    // The constructor argument tuples differ per contract; the ABI checks them at encoding time.
    const hash = await (wallet.deployContract as (a: unknown) => Promise<Hash>)({ abi, bytecode, args });
    const r = await wait(hash, `deploying ${name}`);
    if (!r.contractAddress) throw new ChainError(`deploying ${name} returned no address`, { details: `tx ${hash}` });
    firstBlock ??= { number: r.blockNumber, hash: r.blockHash };
    log(`deployed ${name} at ${r.contractAddress}`);
    return getAddress(r.contractAddress);
  };
  const call = async (address: Address, name: ContractName, functionName: string, args: readonly unknown[]) => {
    const hash = await (wallet.writeContract as (a: unknown) => Promise<Hash>)({
      address,
      abi: artifacts[name].abi,
      functionName,
      args,
    });
    await wait(hash, `${name}.${functionName}`);
  };

  const token = await deploy('OpenToken', [deployer, supply]);
  const timelockDelay = BigInt(p.timelockDelaySeconds ?? 60);
  // Proposers are set once the governor exists; anyone may execute a passed, queued proposal.
  const timelock = await deploy('TributaryTimelock', [timelockDelay, [], [zeroAddress], deployer]);
  const governor = await deploy('TributaryGovernor', [
    token,
    timelock,
    p.votingDelayBlocks ?? 1,
    p.votingPeriodBlocks ?? 50,
    0n,
    BigInt(p.quorumPercent ?? 4),
  ]);
  const treasury = timelock;
  const datanets = await deploy('DatanetRegistry', [token, deployer, treasury, BigInt(p.stakeCooldownSeconds ?? 3 * 86400)]);
  const models = await deploy('ModelRegistry', [datanets, token, deployer, treasury]);
  const settlement = await deploy('AttributionSettlement', [token, deployer, BigInt(p.epochSeconds), BigInt(p.disputeWindowSeconds)]);
  const settlementInterval = BigInt(p.settlementIntervalSeconds ?? 60);
  const router = await deploy('InferenceRouter', [
    token,
    models,
    settlement,
    deployer,
    treasury,
    shares.owner,
    shares.pool,
    shares.treasury,
    settlementInterval,
    BigInt(p.withdrawalDelaySeconds ?? Number(settlementInterval) * 2),
  ]);

  log('wiring roles');
  const proposerRole = await client.readContract({ address: timelock, abi: artifacts.TributaryTimelock.abi, functionName: 'PROPOSER_ROLE' });
  const cancellerRole = await client.readContract({ address: timelock, abi: artifacts.TributaryTimelock.abi, functionName: 'CANCELLER_ROLE' });
  const adminRole = await client.readContract({ address: timelock, abi: artifacts.TributaryTimelock.abi, functionName: 'DEFAULT_ADMIN_ROLE' });
  await call(timelock, 'TributaryTimelock', 'grantRole', [proposerRole, governor]);
  await call(timelock, 'TributaryTimelock', 'grantRole', [cancellerRole, governor]);
  // From here on only governance can change the timelock itself.
  await call(timelock, 'TributaryTimelock', 'renounceRole', [adminRole, deployer]);

  const signers = [...p.signers].map((a) => getAddress(a)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await call(settlement, 'AttributionSettlement', 'setRouter', [router]);
  await call(settlement, 'AttributionSettlement', 'setGuardian', [p.guardian]);
  await call(settlement, 'AttributionSettlement', 'setAttributor', [p.attributor, true]);
  await call(settlement, 'AttributionSettlement', 'setSigners', [signers, BigInt(p.signerThreshold)]);
  await call(router, 'InferenceRouter', 'setOperator', [p.operator, true]);

  log('handing every parameter to the timelock');
  await call(datanets, 'DatanetRegistry', 'transferOwnership', [timelock]);
  await call(models, 'ModelRegistry', 'transferOwnership', [timelock]);
  await call(settlement, 'AttributionSettlement', 'transferOwnership', [timelock]);
  await call(router, 'InferenceRouter', 'transferOwnership', [timelock]);

  // The deployer's tokens vote, so that governance proposals can pass on the devnet.
  await call(token, 'OpenToken', 'delegate', [deployer]);
  const demoAccounts = (p.demoAccounts ?? []).map((a) => getAddress(a));
  const demoAmount = p.demoAmount ?? parseEther('100000');
  for (const a of demoAccounts) await call(token, 'OpenToken', 'transfer', [a, demoAmount]);
  if (demoAccounts.length > 0) log(`funded ${demoAccounts.length} demo accounts with ${demoAmount / 10n ** 18n} OPEN each`);

  if (!firstBlock) throw new ChainError('nothing was deployed');
  return {
    version: 1,
    chainId: conn.chain.id,
    deploymentBlock: firstBlock,
    deployer,
    contracts: {
      OpenToken: token,
      TributaryTimelock: timelock,
      TributaryGovernor: governor,
      DatanetRegistry: datanets,
      ModelRegistry: models,
      AttributionSettlement: settlement,
      InferenceRouter: router,
    },
    roles: {
      treasury,
      operator: getAddress(p.operator),
      attributor: getAddress(p.attributor),
      guardian: getAddress(p.guardian),
      signers,
      signerThreshold: p.signerThreshold,
    },
    params: {
      epochSeconds: p.epochSeconds,
      disputeWindowSeconds: p.disputeWindowSeconds,
      timelockDelaySeconds: Number(timelockDelay),
    },
    demoAccounts,
    deployedAt: new Date().toISOString(),
  };
}

export function addressOf(key: Hex): Address {
  return privateKeyToAddress(key);
}
