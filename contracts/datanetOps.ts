// The datanet operations of DatanetRegistry as typed functions: each checks what it can read first,
// simulates the call (so a revert costs no gas and is reported before anything is signed), sends it,
// waits for the receipt and returns the emitted event's fields. The CLI verbs, the demo seeder,
// `tributary contribute` and the upload route all go through here.
import {
  BaseError,
  HttpRequestError,
  encodeFunctionData,
  getAbiItem,
  getAddress,
  isAddress,
  isHex,
  maxUint128,
  maxUint64,
  parseEventLogs,
  zeroHash,
  type Address,
  type ContractEventName,
  type Hash,
  type ParseEventLogsReturnType,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { DatanetRegistryAbi, OpenTokenAbi } from './generated/artifacts.ts';
import type { ChainConnection, TributaryWalletClient } from './client.ts';
import type { Deployment } from './manifest.ts';
import { ChainError } from './errors.ts';
import { ContractRevertError, describeRevert, toChainError } from './revertMessage.ts';
import { sendSimulated, txResult } from './sendSimulated.ts';

/** Where the operations run: a chain and the protocol's deployment on it (a Devnet or a ChainSession fits). */
export interface ChainContext {
  conn: ChainConnection;
  deployment: Deployment;
}

/** What every sent transaction reports. */
export interface TxResult {
  txHash: Hash;
  blockNumber: bigint;
  gasUsed: bigint;
}

/** A transaction for a wallet to sign and send (eth_sendTransaction fields). */
export interface UnsignedTransaction {
  from: Address;
  to: Address;
  data: Hex;
  value: bigint;
  chainId: number;
}

// ------------------------------------------------------------------ helpers

/** A revert the chain would give, raised before sending because a read already shows it. */
function refused(action: string, errorName: string, args: readonly unknown[]): ContractRevertError {
  return new ContractRevertError(`${action}: ${describeRevert(errorName, args)}`, errorName, args, {
    details: `the contract reverts with ${errorName}(${args.map((a) => String(a)).join(', ')}); nothing was sent`,
  });
}

async function guarded<T>(action: string, f: () => Promise<T>, account?: Address): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toChainError(e, action, { account });
  }
}

/** The one `eventName` event the registry emitted in `receipt`. */
function registryEvent<N extends ContractEventName<typeof DatanetRegistryAbi>>(
  ctx: ChainContext,
  receipt: TransactionReceipt,
  eventName: N,
): ParseEventLogsReturnType<typeof DatanetRegistryAbi, N, true>[number]['args'] {
  const registry = ctx.deployment.contracts.DatanetRegistry.toLowerCase();
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === registry);
  const [ev] = parseEventLogs({ abi: DatanetRegistryAbi, logs, eventName, strict: true });
  if (!ev) {
    throw new ChainError(`transaction ${receipt.transactionHash} succeeded but the registry at ${ctx.deployment.contracts.DatanetRegistry} emitted no ${eventName}`, {
      details: 'the deployment manifest may not describe this chain',
    });
  }
  return ev.args as ParseEventLogsReturnType<typeof DatanetRegistryAbi, N, true>[number]['args'];
}

function checkUint(name: string, v: bigint, max: bigint, action: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > max) throw new ChainError(`${action}: ${name} must be an integer from 0 to ${max}, got ${String(v)}`);
}

function checkHash(name: string, v: Hex, action: string): void {
  if (!isHex(v, { strict: true }) || v.length !== 66) throw new ChainError(`${action}: ${name} must be 0x followed by 64 hex digits, got ${String(v)}`);
}

function checkAddress(name: string, v: Address, action: string): void {
  if (!isAddress(v, { strict: false })) throw new ChainError(`${action}: ${name} is not an address: ${String(v)}`);
}

interface TokenPosition {
  balance: bigint;
  allowance: bigint;
}

async function tokenPosition(ctx: ChainContext, owner: Address, action: string): Promise<TokenPosition> {
  const { OpenToken: token, DatanetRegistry: registry } = ctx.deployment.contracts;
  const pc = ctx.conn.publicClient;
  return guarded(action, async () => {
    const [balance, allowance] = await Promise.all([
      pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'balanceOf', args: [owner] }),
      pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'allowance', args: [owner, registry] }),
    ]);
    return { balance, allowance };
  });
}

/** Approves the registry to take exactly `amount` OPEN (approve sets, it does not add). */
async function approveRegistry(ctx: ChainContext, wallet: TributaryWalletClient, amount: bigint, action: string): Promise<TxResult> {
  const { request } = await guarded(action, () =>
    ctx.conn.publicClient.simulateContract({
      address: ctx.deployment.contracts.OpenToken,
      abi: OpenTokenAbi,
      functionName: 'approve',
      args: [ctx.deployment.contracts.DatanetRegistry, amount],
      account: wallet.account,
    }),
  );
  return txResult(await sendSimulated(ctx, wallet, action, request));
}

// ------------------------------------------------------------------- reads

export interface DatanetState {
  datanetId: bigint;
  owner: Address;
  versionCount: bigint;
  permissioned: boolean;
  requiredStake: bigint;
}

/** A datanet as the registry holds it now. Throws a ContractRevertError "datanet N does not exist". */
export async function getDatanet(ctx: ChainContext, datanetId: bigint, action = `cannot read datanet ${datanetId}`): Promise<DatanetState> {
  const d = await guarded(action, () =>
    ctx.conn.publicClient.readContract({
      address: ctx.deployment.contracts.DatanetRegistry,
      abi: DatanetRegistryAbi,
      functionName: 'getDatanet',
      args: [datanetId],
    }),
  );
  return { datanetId, owner: d.owner, versionCount: d.versionCount, permissioned: d.permissioned, requiredStake: d.requiredStake };
}

// ------------------------------------------------------------------ create

export interface CreateDatanetParameters {
  /** The owner's private key; the new datanet belongs to its address. */
  key: Hex;
  metadataURI: string;
  modality: string;
  license: string;
  /** Minimum stake per contribution, in wei. */
  requiredStake: bigint;
  /** When true, only the owner and granted builders may train on it. */
  permissioned: boolean;
}

export interface CreateDatanetReturnType extends TxResult {
  datanetId: bigint;
  owner: Address;
  metadataURI: string;
  modality: string;
  license: string;
  requiredStake: bigint;
  permissioned: boolean;
  /** The creation fee paid to the treasury, in wei. */
  feePaid: bigint;
  /** The approval of the creation fee, when one was needed. */
  approval: TxResult | undefined;
}

/** Creates a datanet, approving the registry's creation fee first when it has one. */
export async function createDatanet(ctx: ChainContext, p: CreateDatanetParameters): Promise<CreateDatanetReturnType> {
  const action = 'cannot create the datanet';
  checkUint('requiredStake', p.requiredStake, maxUint128, action);
  const wallet = ctx.conn.wallet(p.key);
  const owner = wallet.account.address;
  const pc = ctx.conn.publicClient;
  const registry = ctx.deployment.contracts.DatanetRegistry;
  const fee = await guarded(action, () => pc.readContract({ address: registry, abi: DatanetRegistryAbi, functionName: 'creationFee' }));
  let approval: TxResult | undefined;
  if (fee > 0n) {
    const { balance, allowance } = await tokenPosition(ctx, owner, action);
    if (balance < fee) throw refused(`${action} (creation fee)`, 'ERC20InsufficientBalance', [owner, balance, fee]);
    if (allowance < fee) approval = await approveRegistry(ctx, wallet, fee, action);
  }
  const { request } = await guarded(
    action,
    () =>
      pc.simulateContract({
        address: registry,
        abi: DatanetRegistryAbi,
        functionName: 'createDatanet',
        args: [p.metadataURI, p.modality, p.license, p.requiredStake, p.permissioned],
        account: wallet.account,
      }),
    owner,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'DatanetCreated');
  return {
    ...txResult(receipt),
    datanetId: ev.datanetId,
    owner: ev.owner,
    metadataURI: ev.metadataURI,
    modality: ev.modality,
    license: ev.license,
    requiredStake: ev.requiredStake,
    permissioned: ev.permissioned,
    feePaid: ev.feePaid,
    approval,
  };
}

// -------------------------------------------------------------- contribute

export interface ContributionFields {
  datanetId: bigint;
  /** The Merkle root of the contribution's row hashes (schema's contentHash). */
  contentHash: Hex;
  /** Bytes of the contributed file. */
  size: bigint;
  uri: string;
  /** OPEN locked with the contribution, in wei (at least the datanet's required stake). */
  stake: bigint;
}

export interface ContributeParameters extends ContributionFields {
  /** The contributor's private key. */
  key: Hex;
}

export interface ContributeReturnType extends TxResult {
  contributionId: bigint;
  datanetId: bigint;
  contributor: Address;
  contentHash: Hex;
  size: bigint;
  uri: string;
  stake: bigint;
  /** The approval of the stake, when the allowance was short. */
  approval: TxResult | undefined;
}

/** Validates a contribution against the chain before anything is signed; returns the token position. */
async function checkContribution(ctx: ChainContext, from: Address, p: ContributionFields, action: string): Promise<TokenPosition> {
  checkHash('contentHash', p.contentHash, action);
  if (p.contentHash === zeroHash) throw refused(action, 'EmptyContentHash', []);
  checkUint('size', p.size, maxUint64, action);
  checkUint('stake', p.stake, maxUint128, action);
  const [datanet, position] = await Promise.all([getDatanet(ctx, p.datanetId, action), tokenPosition(ctx, from, action)]);
  if (p.stake < datanet.requiredStake) throw refused(action, 'StakeTooLow', [p.stake, datanet.requiredStake]);
  if (position.balance < p.stake) throw refused(action, 'ERC20InsufficientBalance', [getAddress(from), position.balance, p.stake]);
  return position;
}

/** Contributes to a datanet, approving the stake first when the registry's allowance is short. */
export async function contribute(ctx: ChainContext, p: ContributeParameters): Promise<ContributeReturnType> {
  const action = `cannot contribute to datanet ${p.datanetId}`;
  const wallet = ctx.conn.wallet(p.key);
  const from = wallet.account.address;
  const { allowance } = await checkContribution(ctx, from, p, action);
  const approval = allowance < p.stake ? await approveRegistry(ctx, wallet, p.stake, action) : undefined;
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.DatanetRegistry,
        abi: DatanetRegistryAbi,
        functionName: 'contribute',
        args: [p.datanetId, p.contentHash, p.size, p.uri, p.stake],
        account: wallet.account,
      }),
    from,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'ContributionSubmitted');
  return {
    ...txResult(receipt),
    contributionId: ev.contributionId,
    datanetId: ev.datanetId,
    contributor: ev.contributor,
    contentHash: ev.contentHash,
    size: ev.size,
    uri: ev.uri,
    stake: ev.stake,
    approval,
  };
}

export interface BuildContributeTransactionsParameters extends ContributionFields {
  /** The contributor's address (the wallet that will sign). */
  from: Address;
}

export interface BuildContributeTransactionsReturnType {
  /** `OpenToken.approve(registry, stake)`, when the allowance is short; send it first. */
  approve: UnsignedTransaction | undefined;
  /** `DatanetRegistry.contribute(…)`. */
  contribute: UnsignedTransaction;
}

/**
 * The unsigned transactions a wallet signs to make this contribution (what `POST /datanets/{id}/contributions`
 * returns). Checks the datanet, the stake and the OPEN balance first, so a doomed contribution is refused
 * with a readable ContractRevertError instead of a wallet prompt.
 */
export async function buildContributeTransactions(ctx: ChainContext, p: BuildContributeTransactionsParameters): Promise<BuildContributeTransactionsReturnType> {
  const action = `cannot contribute to datanet ${p.datanetId}`;
  checkAddress('from', p.from, action);
  const from = getAddress(p.from);
  const { allowance } = await checkContribution(ctx, from, p, action);
  const { OpenToken: token, DatanetRegistry: registry } = ctx.deployment.contracts;
  const chainId = ctx.conn.chain.id;
  const contributeData = encodeFunctionData({
    abi: DatanetRegistryAbi,
    functionName: 'contribute',
    args: [p.datanetId, p.contentHash, p.size, p.uri, p.stake],
  });
  if (allowance >= p.stake) {
    // Nothing else stands in the way: a full simulation can check the rest.
    await guarded(
      action,
      () =>
        ctx.conn.publicClient.simulateContract({
          address: registry,
          abi: DatanetRegistryAbi,
          functionName: 'contribute',
          args: [p.datanetId, p.contentHash, p.size, p.uri, p.stake],
          account: from,
        }),
      from,
    );
  }
  return {
    approve:
      allowance < p.stake
        ? { from, to: token, data: encodeFunctionData({ abi: OpenTokenAbi, functionName: 'approve', args: [registry, p.stake] }), value: 0n, chainId }
        : undefined,
    contribute: { from, to: registry, data: contributeData, value: 0n, chainId },
  };
}

// ------------------------------------------------------------------ review

export interface ReviewContributionParameters {
  /** A curator's (or the datanet owner's) private key. */
  key: Hex;
  contributionId: bigint;
  accepted: boolean;
  /** Quality score in basis points, 0 to 10000. */
  quality: number;
}

export interface ReviewContributionReturnType extends TxResult {
  contributionId: bigint;
  datanetId: bigint;
  reviewer: Address;
  accepted: boolean;
  quality: number;
  /** Block timestamp of the review (seconds); the stake cooldown starts here. */
  reviewedAt: bigint;
}

/** Accepts or rejects a pending contribution with a quality score. */
export async function reviewContribution(ctx: ChainContext, p: ReviewContributionParameters): Promise<ReviewContributionReturnType> {
  const action = `cannot review contribution ${p.contributionId}`;
  if (!Number.isInteger(p.quality) || p.quality < 0 || p.quality > 10_000) {
    throw refused(action, 'QualityOutOfRange', [p.quality]);
  }
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.DatanetRegistry,
        abi: DatanetRegistryAbi,
        functionName: 'review',
        args: [p.contributionId, p.accepted, p.quality],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'ContributionReviewed');
  return {
    ...txResult(receipt),
    contributionId: ev.contributionId,
    datanetId: ev.datanetId,
    reviewer: ev.reviewer,
    accepted: ev.accepted,
    quality: ev.quality,
    reviewedAt: ev.reviewedAt,
  };
}

// ------------------------------------------------------ curators and access

export interface SetCuratorParameters {
  /** The datanet owner's private key. */
  key: Hex;
  datanetId: bigint;
  curator: Address;
  enabled: boolean;
}

export interface SetCuratorReturnType extends TxResult {
  datanetId: bigint;
  curator: Address;
  enabled: boolean;
}

/** Adds (enabled) or removes a curator of a datanet. Owner only. */
export async function setCurator(ctx: ChainContext, p: SetCuratorParameters): Promise<SetCuratorReturnType> {
  const action = `cannot ${p.enabled ? 'add' : 'remove'} curator ${p.curator} ${p.enabled ? 'to' : 'from'} datanet ${p.datanetId}`;
  checkAddress('curator', p.curator, action);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.DatanetRegistry,
        abi: DatanetRegistryAbi,
        functionName: 'setCurator',
        args: [p.datanetId, getAddress(p.curator), p.enabled],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'CuratorSet');
  return { ...txResult(receipt), datanetId: ev.datanetId, curator: ev.curator, enabled: ev.enabled };
}

export interface SetAccessParameters {
  /** The datanet owner's private key. */
  key: Hex;
  datanetId: bigint;
  account: Address;
  granted: boolean;
}

export interface SetAccessReturnType extends TxResult {
  datanetId: bigint;
  account: Address;
  granted: boolean;
}

/** Grants or revokes a model builder's access to a (permissioned) datanet. Owner only. */
export async function setAccess(ctx: ChainContext, p: SetAccessParameters): Promise<SetAccessReturnType> {
  const action = `cannot ${p.granted ? 'grant' : 'revoke'} access to datanet ${p.datanetId} for ${p.account}`;
  checkAddress('account', p.account, action);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.DatanetRegistry,
        abi: DatanetRegistryAbi,
        functionName: 'setAccess',
        args: [p.datanetId, getAddress(p.account), p.granted],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'AccessChanged');
  return { ...txResult(receipt), datanetId: ev.datanetId, account: ev.account, granted: ev.granted };
}

// ----------------------------------------------------------------- publish

export interface PublishVersionParameters {
  /** The datanet owner's private key. */
  key: Hex;
  datanetId: bigint;
  /** schema's datanetVersionRoot over the version's accepted contributions. */
  root: Hex;
  contributionCount: bigint;
  uri: string;
}

export interface PublishVersionReturnType extends TxResult {
  datanetId: bigint;
  version: bigint;
  root: Hex;
  contributionCount: bigint;
  uri: string;
}

/** Publishes the next version of a datanet. Owner only. */
export async function publishVersion(ctx: ChainContext, p: PublishVersionParameters): Promise<PublishVersionReturnType> {
  const action = `cannot publish a version of datanet ${p.datanetId}`;
  checkHash('root', p.root, action);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.DatanetRegistry,
        abi: DatanetRegistryAbi,
        functionName: 'publishVersion',
        args: [p.datanetId, p.root, p.contributionCount, p.uri],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request);
  const ev = registryEvent(ctx, receipt, 'DatanetVersionPublished');
  return { ...txResult(receipt), datanetId: ev.datanetId, version: ev.version, root: ev.root, contributionCount: ev.contributionCount, uri: ev.uri };
}

// ---------------------------------------------------- accepted contributions

export interface AcceptedContributionsParameters {
  datanetId: bigint;
  /** Count reviews up to and including this block (default: the chain head). */
  toBlock?: bigint;
  /** Largest block range per eth_getLogs request (default 50,000); a refused range is split further. */
  maxBlockRange?: bigint;
}

export interface AcceptedContribution {
  contributionId: bigint;
  contentHash: Hex;
  contributor: Address;
}

/**
 * The contributions of a datanet accepted as of `toBlock`, sorted by id: the membership of a version
 * published after that block. Read from the registry's logs (the chain is the truth; no store needed),
 * filtered by the indexed datanetId topic; rejected and pending contributions are left out.
 */
export async function acceptedContributions(ctx: ChainContext, p: AcceptedContributionsParameters): Promise<AcceptedContribution[]> {
  const action = `cannot read the accepted contributions of datanet ${p.datanetId}`;
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.DatanetRegistry;
  const fromBlock = ctx.deployment.deploymentBlock.number;
  const toBlock = p.toBlock ?? (await guarded(action, () => pc.getBlockNumber()));
  if (toBlock < fromBlock) return [];
  const maxRange = p.maxBlockRange ?? 50_000n;
  const args = { datanetId: p.datanetId };
  const submittedEvent = getAbiItem({ abi: DatanetRegistryAbi, name: 'ContributionSubmitted' });
  const reviewedEvent = getAbiItem({ abi: DatanetRegistryAbi, name: 'ContributionReviewed' });
  const [submitted, reviewed] = await guarded(action, () =>
    Promise.all([
      logsInRanges(fromBlock, toBlock, maxRange, (from, to) => pc.getLogs({ address, event: submittedEvent, args, fromBlock: from, toBlock: to, strict: true })),
      logsInRanges(fromBlock, toBlock, maxRange, (from, to) => pc.getLogs({ address, event: reviewedEvent, args, fromBlock: from, toBlock: to, strict: true })),
    ]),
  );
  const byId = new Map(submitted.map((l) => [l.args.contributionId, l.args]));
  const accepted: AcceptedContribution[] = [];
  for (const { args: r } of reviewed) {
    if (!r.accepted) continue;
    const s = byId.get(r.contributionId);
    // A review implies its submission, earlier and in the same datanet; a gap means the RPC lost logs.
    if (!s) throw new ChainError(`${action}: contribution ${r.contributionId} was reviewed but its submission was not found in the logs`, { retryable: true });
    accepted.push({ contributionId: s.contributionId, contentHash: s.contentHash, contributor: s.contributor });
  }
  return accepted.sort((a, b) => (a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0));
}

/**
 * Fetches logs over [from, to] in windows of at most `maxRange` blocks. When the RPC refuses a window
 * (too many results, response too large, range too wide), the window is halved and kept at that size
 * for the rest of the range, down to a single block. An RPC that cannot be reached at all is not
 * retried in smaller pieces: that would only multiply the failures.
 */
async function logsInRanges<T>(from: bigint, to: bigint, maxRange: bigint, fetch: (from: bigint, to: bigint) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  let span = maxRange > 0n ? maxRange : 1n;
  for (let a = from; a <= to; ) {
    const b = a + span - 1n < to ? a + span - 1n : to;
    try {
      out.push(...(await fetch(a, b)));
      a = b + 1n;
    } catch (e) {
      const unreachable = e instanceof BaseError && e.walk((x) => x instanceof HttpRequestError && x.status === undefined);
      if (unreachable || a === b) throw e;
      span = (b - a + 2n) / 2n;
    }
  }
  return out;
}

// --------------------------------------------------------------- metadata

/** What a datanet's metadata URI describes. */
export interface DatanetMetadata {
  name: string;
  description?: string;
}

const DATA_JSON = 'data:application/json,';

/**
 * A self-contained metadata URI: `data:application/json,` + the percent-encoded JSON {description?, name}
 * (keys sorted), so a datanet's name lives on-chain in its DatanetCreated event with no server to host it.
 */
export function datanetMetadataURI(m: DatanetMetadata): string {
  const json = m.description === undefined ? { name: m.name } : { description: m.description, name: m.name };
  return DATA_JSON + encodeURIComponent(JSON.stringify(json));
}

/** The metadata in a `data:application/json` URI (percent-encoded or base64); undefined for anything else. */
export function readDatanetMetadataURI(uri: string): DatanetMetadata | undefined {
  const m = /^data:application\/json(;charset=[\w-]+)?(;base64)?,(.*)$/is.exec(uri);
  if (!m) return undefined;
  try {
    const text = m[2] ? Buffer.from(m[3]!, 'base64').toString('utf8') : decodeURIComponent(m[3]!);
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || typeof (v as { name?: unknown }).name !== 'string') return undefined;
    const { name, description } = v as { name: string; description?: unknown };
    return typeof description === 'string' ? { name, description } : { name };
  } catch {
    return undefined;
  }
}
