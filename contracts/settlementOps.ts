// AttributionSettlement as typed functions: the epoch clock, the pools, posted payout batches, posting a
// signed batch, claiming (for oneself or, permissionlessly, for another account), revoking in the dispute
// window, and finding a posted batch again from its BatchPosted log (a poster that crashed after sending
// looks its batch up instead of sending it again). Each write is simulated first, so a refusal costs no
// gas and is reported in words before anything is signed. The attribution payout driver, `tributary
// claim` and the tests go through here.
import { getAbiItem, getAddress, isAddress, isHex, parseEventLogs, type Address, type ContractEventName, type Hash, type Hex, type ParseEventLogsReturnType, type TransactionReceipt } from 'viem';
import { AttributionSettlementAbi } from './generated/artifacts.ts';
import type { ChainContext, TxResult } from './datanetOps.ts';
import { ChainError, type TributaryError } from './errors.ts';
import { ContractRevertError, describeRevert, toChainError } from './revertMessage.ts';
import { formatOpen } from './openAmount.ts';
import { sendSimulated, txResult } from './sendSimulated.ts';

// ------------------------------------------------------------------ errors

const at = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();

/** Sentences for AttributionSettlement's errors (revertMessage.ts has the shared ones). */
export function describeSettlementRevert(errorName: string, args: readonly unknown[]): string {
  const a = args as readonly any[]; // shapes follow each error's ABI entry
  switch (errorName) {
    case 'NotAttributor':
      return `${a[0]} is not an attributor of AttributionSettlement (governance enables attributors with setAttributor)`;
    case 'NotGuardian':
      return `${a[0]} may not revoke batches: only the guardian or governance may`;
    case 'NotRouter':
      return `${a[0]} is not the InferenceRouter`;
    case 'EpochNotEnded':
      return `epoch ${a[0]} has not ended yet (the current epoch is ${a[1]})`;
    case 'EpochAlreadyPosted':
      return `epoch ${a[0]} is already covered: the newest batch is for epoch ${a[1]}`;
    case 'PreviousBatchInDispute':
      return `the batch of epoch ${a[0]} is still in its dispute window until ${at(a[1])}`;
    case 'WrongNonce':
      return `epoch ${a[0]}'s next batch nonce is ${a[1]}, not ${a[2]}`;
    case 'WrongSignerSet':
      return `the batch was signed for signer set version ${a[1]}, but the current version is ${a[0]}`;
    case 'TotalExceedsAvailable':
      return `the batch pays ${formatOpen(a[0])}, more than the ${formatOpen(a[1])} available (the epochs' pools plus the carry)`;
    case 'NotEnoughSignatures':
      return `the batch has ${a[0]} valid signatures, fewer than the threshold of ${a[1]}`;
    case 'UnknownSigner':
      return `a signature recovers to ${a[0]}, which is not in the signer set (signed over another batch, deployment or chain?)`;
    case 'SignersNotSorted':
      return `signatures must be ordered by signer address, each signer once: ${a[1]} comes after ${a[0]}`;
    case 'NotRevocable':
      return `the batch of epoch ${a[0]} cannot be revoked: it is not the newest non-revoked batch`;
    case 'DisputeWindowOver':
      return `the dispute window of epoch ${a[0]}'s batch ended at ${at(a[1])}`;
    case 'NothingClaimable':
      return 'no payout batch is claimable yet (none posted, or the first is still in its dispute window)';
    case 'InvalidProof':
      return `the proof does not show that ${a[0]} earned ${formatOpen(a[1])} in total in the claimable batch`;
    case 'NothingToClaim':
      return `${a[0]} has already claimed ${formatOpen(a[2])}, which covers the ${formatOpen(a[1])} proven`;
    case 'ClaimExceedsPosted':
      return `the claim would bring the total claimed to ${formatOpen(a[0])}, more than the ${formatOpen(a[1])} posted`;
    case 'InvalidThreshold':
      return `threshold ${a[0]} is not between 1 and the ${a[1]} signers`;
    case 'DuplicateSigner':
      return `${a[0]} is listed twice in the signer set`;
    case 'ZeroEpochLength':
      return 'the epoch length must not be zero';
    case 'ECDSAInvalidSignature':
      return 'a signature is not a valid ECDSA signature';
    case 'ECDSAInvalidSignatureLength':
      return `a signature is ${a[0]} bytes long, not 65`;
    case 'ECDSAInvalidSignatureS':
      return 'a signature has a high s value (malleated)';
    default:
      return describeRevert(errorName, args);
  }
}

// The contract's ABI lists the errors of the libraries it uses too (ECDSA, SafeCast, Ownable).
const SETTLEMENT_ERRORS = new Set<string>(AttributionSettlementAbi.flatMap((i) => (i.type === 'error' ? [i.name] : [])));

/** toChainError, with the settlement's errors in words. */
function settlementError(e: unknown, action: string, account?: Address): TributaryError {
  const err = toChainError(e, action, { account });
  if (err instanceof ContractRevertError && SETTLEMENT_ERRORS.has(err.errorName)) {
    return new ContractRevertError(`${action}: ${describeSettlementRevert(err.errorName, err.errorArgs)}`, err.errorName, err.errorArgs, {
      details: err.details,
      cause: err.cause,
    });
  }
  return err;
}

async function guarded<T>(action: string, f: () => Promise<T>, account?: Address): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw settlementError(e, action, account);
  }
}

function checkAddress(name: string, v: string, action: string): void {
  if (!isAddress(v, { strict: false })) throw new ChainError(`${action}: ${name} is not an address: ${String(v)}`);
}

function checkBytes32(name: string, v: string, action: string): void {
  if (!isHex(v, { strict: true }) || v.length !== 66) throw new ChainError(`${action}: ${name} must be 0x followed by 64 hex digits, got ${String(v)}`);
}

function checkUint(name: string, v: bigint, action: string): void {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 256n) throw new ChainError(`${action}: ${name} must be a uint256 bigint, got ${String(v)}`);
}

/** The one `eventName` event the settlement contract emitted in `receipt`. */
function settlementEvent<N extends ContractEventName<typeof AttributionSettlementAbi>>(
  ctx: ChainContext,
  receipt: TransactionReceipt,
  eventName: N,
): ParseEventLogsReturnType<typeof AttributionSettlementAbi, N, true>[number]['args'] {
  const address = ctx.deployment.contracts.AttributionSettlement.toLowerCase();
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === address);
  const [ev] = parseEventLogs({ abi: AttributionSettlementAbi, logs, eventName, strict: true });
  if (!ev) {
    throw new ChainError(`transaction ${receipt.transactionHash} succeeded but AttributionSettlement emitted no ${eventName}`, {
      details: 'the deployment manifest may not describe this chain',
    });
  }
  return ev.args as ParseEventLogsReturnType<typeof AttributionSettlementAbi, N, true>[number]['args'];
}

const read = <T>(ctx: ChainContext, functionName: string, args: readonly unknown[] = []): Promise<T> =>
  (ctx.conn.publicClient.readContract as (p: unknown) => Promise<T>)({ address: ctx.deployment.contracts.AttributionSettlement, abi: AttributionSettlementAbi, functionName, args });

// ------------------------------------------------------------------ reads

export interface EpochClock {
  /** The epoch that inferences settled now belong to. */
  currentEpoch: bigint;
  /** Epoch `anchorEpoch` started at `anchorTime` (unix seconds); each lasts `epochLength` seconds. */
  anchorEpoch: bigint;
  anchorTime: bigint;
  epochLength: bigint;
  /** Seconds a batch posted now stays revocable before it can be claimed. */
  disputeWindow: bigint;
}

/** The epoch clock as the contract holds it now. */
export async function getEpochClock(ctx: ChainContext): Promise<EpochClock> {
  return guarded('cannot read the epoch clock', async () => {
    const [currentEpoch, anchorEpoch, anchorTime, epochLength, disputeWindow] = await Promise.all(
      ['currentEpoch', 'anchorEpoch', 'anchorTime', 'epochLength', 'disputeWindow'].map((f) => read<bigint>(ctx, f)),
    );
    return { currentEpoch: currentEpoch!, anchorEpoch: anchorEpoch!, anchorTime: anchorTime!, epochLength: epochLength!, disputeWindow: disputeWindow! };
  });
}

/** When `epoch` ends, in unix seconds (for epochs before the last clock change, a time in the past). */
export async function getEpochEnd(ctx: ChainContext, epoch: bigint): Promise<bigint> {
  const action = `cannot read when epoch ${epoch} ends`;
  checkUint('epoch', epoch, action);
  return guarded(action, () => read<bigint>(ctx, 'epochEnd', [epoch]));
}

export interface SettlementState {
  /** Epoch of the newest non-revoked batch (0: none). */
  lastPostedEpoch: bigint;
  /** Epoch of the newest batch past its dispute window (0: none): the one claims are checked against. */
  claimableEpoch: bigint;
  /** What the last posted batch left unpaid: the next batch may pay it out. */
  carry: bigint;
  signerSetVersion: bigint;
  signers: Address[];
  threshold: bigint;
  totalFunded: bigint;
  totalClaimed: bigint;
}

/** The settlement's batch-wide state now. */
export async function getSettlementState(ctx: ChainContext): Promise<SettlementState> {
  return guarded('cannot read the settlement state', async () => {
    const [lastPostedEpoch, claimableEpoch, carry, signerSetVersion, threshold, totalFunded, totalClaimed] = await Promise.all(
      ['lastPostedEpoch', 'claimableEpoch', 'carry', 'signerSetVersion', 'threshold', 'totalFunded', 'totalClaimed'].map((f) => read<bigint>(ctx, f)),
    );
    const signers = await read<readonly Address[]>(ctx, 'signers');
    return {
      lastPostedEpoch: lastPostedEpoch!,
      claimableEpoch: claimableEpoch!,
      carry: carry!,
      signerSetVersion: signerSetVersion!,
      signers: [...signers],
      threshold: threshold!,
      totalFunded: totalFunded!,
      totalClaimed: totalClaimed!,
    };
  });
}

/** Wei the router moved into `epoch`'s pool. */
export async function getEpochPool(ctx: ChainContext, epoch: bigint): Promise<bigint> {
  const action = `cannot read the pool of epoch ${epoch}`;
  checkUint('epoch', epoch, action);
  return guarded(action, () => read<bigint>(ctx, 'poolOf', [epoch]));
}

/** The nonce the next batch of `epoch` must carry (0 until one is posted; +1 after each post). */
export async function getNextBatchNonce(ctx: ChainContext, epoch: bigint): Promise<bigint> {
  const action = `cannot read the next batch nonce of epoch ${epoch}`;
  checkUint('epoch', epoch, action);
  return guarded(action, () => read<bigint>(ctx, 'nextNonce', [epoch]));
}

/** An epoch's newest posted batch as the contract stores it. */
export interface PostedBatch {
  epoch: bigint;
  nonce: bigint;
  root: Hex;
  total: bigint;
  /** Σ of every batch's total up to this one: the most all claims against it may add up to. */
  cumulativeTotal: bigint;
  /** The carry when it was posted. */
  carryIn: bigint;
  scoreFileHash: Hex;
  /** Unix seconds. */
  postedAt: bigint;
  claimableAt: bigint;
  /** The batch before it (0: none). */
  prevEpoch: bigint;
  revoked: boolean;
}

/** The newest batch posted for `epoch` (revoked or not); undefined when none was ever posted. */
export async function getPostedBatch(ctx: ChainContext, epoch: bigint): Promise<PostedBatch | undefined> {
  const action = `cannot read the payout batch of epoch ${epoch}`;
  checkUint('epoch', epoch, action);
  const b = await guarded(action, () =>
    ctx.conn.publicClient.readContract({ address: ctx.deployment.contracts.AttributionSettlement, abi: AttributionSettlementAbi, functionName: 'getBatch', args: [epoch] }),
  );
  if (b.postedAt === 0n) return undefined;
  return {
    epoch,
    nonce: BigInt(b.nonce),
    root: b.root,
    total: b.total,
    cumulativeTotal: b.cumulativeTotal,
    carryIn: b.carryIn,
    scoreFileHash: b.scoreFileHash,
    postedAt: b.postedAt,
    claimableAt: b.claimableAt,
    prevEpoch: b.prevEpoch,
    revoked: b.revoked,
  };
}

/** Wei `account` has claimed in total. */
export async function getClaimed(ctx: ChainContext, account: Address): Promise<bigint> {
  const action = `cannot read what ${account} has claimed`;
  checkAddress('account', account, action);
  return guarded(action, () => read<bigint>(ctx, 'claimed', [getAddress(account)]));
}

/** The batch struct signers sign (AttributionSettlement.PayoutBatch). */
export interface SettlementBatch {
  epoch: bigint;
  nonce: bigint;
  root: Hex;
  total: bigint;
  scoreFileHash: Hex;
  signerSetVersion: bigint;
}

/** The EIP-712 digest the contract itself computes for `batch` (to check an off-chain digest against). */
export async function readBatchDigest(ctx: ChainContext, batch: SettlementBatch): Promise<Hex> {
  return guarded(`cannot compute the digest of batch ${batch.epoch}/${batch.nonce}`, () => read<Hex>(ctx, 'batchDigest', [batch]));
}

// ------------------------------------------------------------------ post

/** A batch as its BatchPosted and RemainderRolledOver events record it. */
export interface PostedBatchEvent extends TxResult {
  epoch: bigint;
  nonce: bigint;
  root: Hex;
  total: bigint;
  cumulativeTotal: bigint;
  scoreFileHash: Hex;
  signerSetVersion: bigint;
  /** The pools of the epochs covered plus the carry. */
  available: bigint;
  /** available − total: what rolls over to the next batch. */
  rolledOver: bigint;
  claimableAt: bigint;
  poster: Address;
}

function decodePosted(ctx: ChainContext, receipt: TransactionReceipt): PostedBatchEvent {
  const p = settlementEvent(ctx, receipt, 'BatchPosted');
  const r = settlementEvent(ctx, receipt, 'RemainderRolledOver');
  return {
    ...txResult(receipt),
    epoch: p.epoch,
    nonce: p.nonce,
    root: p.root,
    total: p.total,
    cumulativeTotal: p.cumulativeTotal,
    scoreFileHash: p.scoreFileHash,
    signerSetVersion: p.signerSetVersion,
    available: p.available,
    rolledOver: r.amount,
    claimableAt: p.claimableAt,
    poster: p.poster,
  };
}

export interface PostPayoutBatchParameters {
  /** An attributor's private key. */
  key: Hex;
  batch: SettlementBatch;
  /** EIP-712 signatures over the batch, ordered by signer address. */
  signatures: readonly Hex[];
  /** Called once the transaction is sent, before waiting for it to be mined (crash tests stop here). */
  onSent?: (hash: Hash) => void | Promise<void>;
}

/**
 * Posts a signed payout batch. Refuses without sending what the simulation shows (EpochNotEnded,
 * PreviousBatchInDispute, WrongNonce, UnknownSigner, TotalExceedsAvailable…), each as a
 * ContractRevertError in words.
 */
export async function postPayoutBatch(ctx: ChainContext, p: PostPayoutBatchParameters): Promise<PostedBatchEvent> {
  const b = p.batch;
  const action = `cannot post the payout batch of epoch ${b.epoch} (nonce ${b.nonce})`;
  for (const k of ['epoch', 'nonce', 'total', 'signerSetVersion'] as const) checkUint(k, b[k], action);
  checkBytes32('root', b.root, action);
  checkBytes32('scoreFileHash', b.scoreFileHash, action);
  p.signatures.forEach((s, i) => {
    if (!isHex(s, { strict: true })) throw new ChainError(`${action}: signature ${i} is not hex: ${String(s)}`);
  });
  const wallet = ctx.conn.wallet(p.key);
  const poster = wallet.account.address;
  const batch = { epoch: b.epoch, nonce: b.nonce, root: b.root, total: b.total, scoreFileHash: b.scoreFileHash, signerSetVersion: b.signerSetVersion };
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.AttributionSettlement,
        abi: AttributionSettlementAbi,
        functionName: 'postBatch',
        args: [batch, [...p.signatures]],
        account: wallet.account,
      }),
    poster,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: settlementError, onSent: p.onSent });
  return decodePosted(ctx, receipt);
}

export interface FindPostedBatchParameters {
  epoch: bigint;
  nonce: bigint;
  /** Largest block range per eth_getLogs request (default 10,000). */
  maxBlockRange?: bigint;
}

/**
 * The batch (epoch, nonce) as its BatchPosted log recorded it, read back with its transaction's receipt;
 * undefined when the chain has no such post. Searches backwards from the head to the deployment block.
 */
export async function findPostedBatch(ctx: ChainContext, p: FindPostedBatchParameters): Promise<PostedBatchEvent | undefined> {
  const action = `cannot look up the payout batch of epoch ${p.epoch} (nonce ${p.nonce})`;
  checkUint('epoch', p.epoch, action);
  checkUint('nonce', p.nonce, action);
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.AttributionSettlement;
  const event = getAbiItem({ abi: AttributionSettlementAbi, name: 'BatchPosted' });
  const floor = ctx.deployment.deploymentBlock.number;
  const span = p.maxBlockRange !== undefined && p.maxBlockRange > 0n ? p.maxBlockRange : 10_000n;
  const head = await guarded(action, () => pc.getBlockNumber());
  for (let to = head; to >= floor; to -= span) {
    const from = to - span + 1n > floor ? to - span + 1n : floor;
    const logs = await guarded(action, () => pc.getLogs({ address, event, args: { epoch: p.epoch, nonce: p.nonce }, fromBlock: from, toBlock: to, strict: true }));
    const log = logs[0];
    if (!log) continue;
    const receipt = await guarded(action, () => pc.getTransactionReceipt({ hash: log.transactionHash }));
    return decodePosted(ctx, receipt);
  }
  return undefined;
}

// ------------------------------------------------------------------ claims

/** A payment, as its Claimed event records it. */
export interface ClaimedPayout extends TxResult {
  account: Address;
  /** The claimable batch the proof was checked against. */
  epoch: bigint;
  caller: Address;
  /** Wei paid now. */
  amount: bigint;
  /** Wei the account has claimed in total after this payment. */
  cumulativeClaimed: bigint;
}

export interface ClaimPayoutParameters {
  /** The signer's private key: the claimant for claimPayout, anyone (who pays the gas) for claimPayoutFor. */
  key: Hex;
  /** The account's leaf in the claimable batch: what it has earned in total. */
  cumulativeAmount: bigint;
  proof: readonly Hex[];
}

export interface ClaimPayoutForParameters extends ClaimPayoutParameters {
  /** Who is paid (the tokens go to this account, not to the caller). */
  account: Address;
}

async function claimWith(ctx: ChainContext, key: Hex, account: Address | undefined, cumulativeAmount: bigint, proof: readonly Hex[]): Promise<ClaimedPayout> {
  const wallet = ctx.conn.wallet(key);
  const caller = wallet.account.address;
  const who = account ?? caller;
  const action = `cannot claim the payout of ${who}${account ? ` (as ${caller})` : ''}`;
  if (account !== undefined) checkAddress('account', account, action);
  checkUint('cumulativeAmount', cumulativeAmount, action);
  proof.forEach((h, i) => checkBytes32(`proof[${i}]`, h, action));
  const address = ctx.deployment.contracts.AttributionSettlement;
  const { request } = await guarded<{ request: unknown }>(
    action,
    () =>
      account === undefined
        ? ctx.conn.publicClient.simulateContract({ address, abi: AttributionSettlementAbi, functionName: 'claim', args: [cumulativeAmount, [...proof]], account: wallet.account })
        : ctx.conn.publicClient.simulateContract({
            address,
            abi: AttributionSettlementAbi,
            functionName: 'claimFor',
            args: [getAddress(account), cumulativeAmount, [...proof]],
            account: wallet.account,
          }),
    caller,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: settlementError });
  const ev = settlementEvent(ctx, receipt, 'Claimed');
  return { ...txResult(receipt), account: ev.account, epoch: ev.epoch, caller: ev.caller, amount: ev.amount, cumulativeClaimed: ev.cumulativeClaimed };
}

/** Claims the signer's own payout: its leaf minus what it already claimed. */
export function claimPayout(ctx: ChainContext, p: ClaimPayoutParameters): Promise<ClaimedPayout> {
  return claimWith(ctx, p.key, undefined, p.cumulativeAmount, p.proof);
}

/** Claims `account`'s payout on its behalf (permissionless): the tokens go to `account`. */
export function claimPayoutFor(ctx: ChainContext, p: ClaimPayoutForParameters): Promise<ClaimedPayout> {
  return claimWith(ctx, p.key, p.account, p.cumulativeAmount, p.proof);
}

// ------------------------------------------------------------------ revoke

export interface RevokePayoutBatchParameters {
  /** The guardian's (or, through the timelock, governance's) key. */
  key: Hex;
  epoch: bigint;
  reason: string;
}

export interface RevokedBatch extends TxResult {
  epoch: bigint;
  nonce: bigint;
  by: Address;
  reason: string;
  carryRestored: bigint;
  restoredEpoch: bigint;
}

/** Revokes the newest batch while it is in its dispute window; a re-post of the epoch uses the next nonce. */
export async function revokePayoutBatch(ctx: ChainContext, p: RevokePayoutBatchParameters): Promise<RevokedBatch> {
  const action = `cannot revoke the payout batch of epoch ${p.epoch}`;
  checkUint('epoch', p.epoch, action);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.AttributionSettlement,
        abi: AttributionSettlementAbi,
        functionName: 'revokeBatch',
        args: [p.epoch, p.reason],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: settlementError });
  const ev = settlementEvent(ctx, receipt, 'BatchRevoked');
  return { ...txResult(receipt), epoch: ev.epoch, nonce: ev.nonce, by: ev.by, reason: ev.reason, carryRestored: ev.carryRestored, restoredEpoch: ev.restoredEpoch };
}
