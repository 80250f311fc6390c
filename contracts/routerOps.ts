// The InferenceRouter as typed functions: settling a batch of usage (simulated first, so a refusal costs
// no gas and is reported in words before anything is signed), finding a batch that was settled earlier
// (a settler that crashed after sending looks its batch up instead of sending it again), and the reads
// a payer or an operator needs (escrow, allowance, the operator's last batch). The serving settler and
// the demo go through here.
import {
  getAbiItem,
  getAddress,
  isAddress,
  isHex,
  maxUint32,
  maxUint64,
  parseEventLogs,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { InferenceRouterAbi, OpenTokenAbi } from './generated/artifacts.ts';
import type { ChainContext, TxResult } from './datanetOps.ts';
import { ChainError, type TributaryError } from './errors.ts';
import { ContractRevertError, describeRevert, toChainError } from './revertMessage.ts';
import { formatOpen } from './openAmount.ts';
import { sendSimulated, txResult } from './sendSimulated.ts';

/** One inference to bill: the contract's `InferenceRouter.Item`. */
export interface UsageItem {
  /** The serving log's id for the inference (bytes32, 0x + 64 hex digits). */
  requestId: Hex;
  payer: Address;
  /** A registered model (uint64). */
  modelId: bigint;
  /** uint32. */
  tokensIn: number;
  /** uint32. */
  tokensOut: number;
}

/** Why the router refused to bill an item (the contract's RejectReason, by index). */
export const REJECT_REASONS = ['ModelInactive', 'InsufficientEscrow', 'InsufficientAllowance'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** An item billed: the fields of its InferenceSettled event. */
export interface SettledInference {
  requestId: Hex;
  modelId: bigint;
  payer: Address;
  /** The attribution epoch whose pool received `poolAmount`. */
  epoch: bigint;
  batchNumber: bigint;
  modelOwner: Address;
  tokensIn: bigint;
  tokensOut: bigint;
  fee: bigint;
  ownerAmount: bigint;
  poolAmount: bigint;
  treasuryAmount: bigint;
  logIndex: number;
}

/** An item the router refused: nothing moved for it (InferenceRejected). */
export interface RejectedInference {
  requestId: Hex;
  modelId: bigint;
  payer: Address;
  operator: Address;
  batchNumber: bigint;
  fee: bigint;
  reason: RejectReason;
  logIndex: number;
}

/** A settled batch: the transaction, its BatchSettled totals and one entry per item, in item order. */
export interface SettledBatch extends TxResult {
  operator: Address;
  batchNumber: bigint;
  epoch: bigint;
  settledCount: bigint;
  rejectedCount: bigint;
  feeTotal: bigint;
  ownerTotal: bigint;
  poolTotal: bigint;
  treasuryTotal: bigint;
  settled: SettledInference[];
  rejected: RejectedInference[];
}

// ------------------------------------------------------------------ helpers

/** Sentences for the router's own errors (revertMessage.ts has the shared ones). */
function describeRouterRevert(errorName: string, args: readonly unknown[]): string {
  const a = args as readonly any[]; // shapes follow each error's ABI entry
  switch (errorName) {
    case 'NotOperator':
      return `${a[0]} is not an operator of the InferenceRouter (governance enables operators with setOperator)`;
    case 'BatchOutOfOrder':
      return `batch ${a[2]} is out of order: operator ${a[0]}'s next batch must be number ${a[1]}`;
    case 'EmptyBatch':
      return 'a batch must hold at least one item';
    case 'ZeroAmount':
      return 'the amount must not be zero';
    case 'InsufficientBalance':
      return `${a[0]} has ${formatOpen(a[1])} in escrow, less than the ${formatOpen(a[2])} requested`;
    default:
      return describeRevert(errorName, args);
  }
}

const ROUTER_ERRORS = new Set(['NotOperator', 'BatchOutOfOrder', 'EmptyBatch', 'ZeroAmount', 'InsufficientBalance']);

/** toChainError, with the router's errors in words. */
function routerError(e: unknown, action: string, account?: Address): TributaryError {
  const err = toChainError(e, action, { account });
  if (err instanceof ContractRevertError && ROUTER_ERRORS.has(err.errorName)) {
    return new ContractRevertError(`${action}: ${describeRouterRevert(err.errorName, err.errorArgs)}`, err.errorName, err.errorArgs, {
      details: err.details,
      cause: err.cause,
    });
  }
  return err;
}

/** A revert the chain would give, raised before sending because the arguments already show it. */
function refused(action: string, errorName: string, args: readonly unknown[]): ContractRevertError {
  return new ContractRevertError(`${action}: ${describeRouterRevert(errorName, args)}`, errorName, args, {
    details: `the contract would revert with ${errorName}(${args.map(String).join(', ')}); nothing was sent`,
  });
}

async function guarded<T>(action: string, f: () => Promise<T>, account?: Address): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw routerError(e, action, account);
  }
}

function checkAddress(name: string, v: string, action: string): void {
  if (!isAddress(v, { strict: false })) throw new ChainError(`${action}: ${name} is not an address: ${String(v)}`);
}

function checkItem(it: UsageItem, i: number, action: string): void {
  const where = `item ${i}`;
  if (!isHex(it.requestId, { strict: true }) || it.requestId.length !== 66) {
    throw new ChainError(`${action}: ${where} has requestId ${String(it.requestId)}, not 0x followed by 64 hex digits`);
  }
  checkAddress(`${where}'s payer`, it.payer, action);
  if (typeof it.modelId !== 'bigint' || it.modelId < 0n || it.modelId > maxUint64) {
    throw new ChainError(`${action}: ${where} has modelId ${String(it.modelId)}, not an integer from 0 to ${maxUint64}`);
  }
  for (const k of ['tokensIn', 'tokensOut'] as const) {
    const v = it[k];
    if (!Number.isInteger(v) || v < 0 || v > Number(maxUint32)) {
      throw new ChainError(`${action}: ${where} has ${k} ${String(v)}, not an integer from 0 to ${maxUint32}`);
    }
  }
}

/** The batch one settle transaction produced, decoded from its receipt's router logs. */
function decodeBatch(ctx: ChainContext, receipt: TransactionReceipt): SettledBatch | undefined {
  const router = ctx.deployment.contracts.InferenceRouter.toLowerCase();
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === router);
  const events = parseEventLogs({ abi: InferenceRouterAbi, logs, eventName: ['InferenceSettled', 'InferenceRejected', 'BatchSettled'], strict: true });
  const batch = events.find((e) => e.eventName === 'BatchSettled');
  if (!batch || batch.eventName !== 'BatchSettled') return undefined;
  const settled: SettledInference[] = [];
  const rejected: RejectedInference[] = [];
  for (const e of events) {
    if (e.eventName === 'InferenceSettled') {
      settled.push({ ...e.args, logIndex: e.logIndex });
    } else if (e.eventName === 'InferenceRejected') {
      const { reason, ...rest } = e.args;
      rejected.push({ ...rest, reason: REJECT_REASONS[reason] ?? (`RejectReason(${reason})` as RejectReason), logIndex: e.logIndex });
    }
  }
  const b = batch.args;
  return {
    ...txResult(receipt),
    operator: b.operator,
    batchNumber: b.batchNumber,
    epoch: b.epoch,
    settledCount: b.settledCount,
    rejectedCount: b.rejectedCount,
    feeTotal: b.feeTotal,
    ownerTotal: b.ownerTotal,
    poolTotal: b.poolTotal,
    treasuryTotal: b.treasuryTotal,
    settled,
    rejected,
  };
}

// ------------------------------------------------------------------ settle

export interface SettleUsageParameters {
  /** The operator's private key. */
  key: Hex;
  /** Must be the operator's last batch number + 1. */
  batchNumber: bigint;
  items: readonly UsageItem[];
  /** Called once the transaction is sent, before waiting for it to be mined (crash tests stop here). */
  onSent?: (hash: Hash) => void | Promise<void>;
}

export type SettleUsageReturnType = SettledBatch;

/**
 * Bills a batch of inferences through `InferenceRouter.settle`. Refuses without sending an empty batch,
 * a malformed item and whatever the simulation shows (NotOperator, BatchOutOfOrder), each as a
 * ContractRevertError in words. Items the payer cannot cover come back in `rejected`; the others in `settled`.
 */
export async function settleUsage(ctx: ChainContext, p: SettleUsageParameters): Promise<SettleUsageReturnType> {
  const action = `cannot settle usage batch ${p.batchNumber}`;
  if (typeof p.batchNumber !== 'bigint' || p.batchNumber < 1n) throw new ChainError(`${action}: batch numbers start at 1, got ${String(p.batchNumber)}`);
  if (p.items.length === 0) throw refused(action, 'EmptyBatch', []);
  p.items.forEach((it, i) => checkItem(it, i, action));
  const wallet = ctx.conn.wallet(p.key);
  const operator = wallet.account.address;
  const items = p.items.map((it) => ({ ...it, payer: getAddress(it.payer) }));
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.InferenceRouter,
        abi: InferenceRouterAbi,
        functionName: 'settle',
        args: [p.batchNumber, items],
        account: wallet.account,
      }),
    operator,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: routerError, onSent: p.onSent });
  const batch = decodeBatch(ctx, receipt);
  if (!batch) {
    throw new ChainError(`${action}: transaction ${receipt.transactionHash} succeeded but the router emitted no BatchSettled`, {
      details: 'the deployment manifest may not describe this chain',
    });
  }
  return batch;
}

// ------------------------------------------------------------ look-ups

/** The number of the operator's last settled batch (0 before the first). */
export async function lastSettledBatch(ctx: ChainContext, operator: Address): Promise<bigint> {
  const action = `cannot read the last usage batch of ${operator}`;
  checkAddress('operator', operator, action);
  return guarded(action, () =>
    ctx.conn.publicClient.readContract({
      address: ctx.deployment.contracts.InferenceRouter,
      abi: InferenceRouterAbi,
      functionName: 'lastBatch',
      args: [getAddress(operator)],
    }),
  );
}

export interface FindSettledBatchParameters {
  operator: Address;
  batchNumber: bigint;
  /** Largest block range per eth_getLogs request (default 10,000). */
  maxBlockRange?: bigint;
}

/**
 * The batch `batchNumber` of `operator` as the chain recorded it, read back from its BatchSettled log and
 * that transaction's receipt; undefined when the chain has no such batch. Searches backwards from the
 * head (a batch looked up after a crash is recent) down to the deployment block.
 */
export async function findSettledBatch(ctx: ChainContext, p: FindSettledBatchParameters): Promise<SettledBatch | undefined> {
  const action = `cannot look up usage batch ${p.batchNumber} of ${p.operator}`;
  checkAddress('operator', p.operator, action);
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.InferenceRouter;
  const event = getAbiItem({ abi: InferenceRouterAbi, name: 'BatchSettled' });
  const args = { operator: getAddress(p.operator), batchNumber: p.batchNumber };
  const floor = ctx.deployment.deploymentBlock.number;
  const span = p.maxBlockRange !== undefined && p.maxBlockRange > 0n ? p.maxBlockRange : 10_000n;
  const head = await guarded(action, () => pc.getBlockNumber());
  for (let to = head; to >= floor; to -= span) {
    const from = to - span + 1n > floor ? to - span + 1n : floor;
    const logs = await guarded(action, () => pc.getLogs({ address, event, args, fromBlock: from, toBlock: to, strict: true }));
    const log = logs[0];
    if (!log) continue;
    const receipt = await guarded(action, () => pc.getTransactionReceipt({ hash: log.transactionHash }));
    const batch = decodeBatch(ctx, receipt);
    if (!batch) throw new ChainError(`${action}: transaction ${log.transactionHash} has a BatchSettled log that does not decode`, { retryable: true });
    return batch;
  }
  return undefined;
}

// ------------------------------------------------------------ escrow

export interface Escrow {
  /** Wei the router may bill. */
  balance: bigint;
  /** Wei the payer asked to withdraw (still billable until withdrawn). */
  pendingWithdrawal: bigint;
}

/** A payer's escrow as the router holds it now. */
export async function getEscrow(ctx: ChainContext, payer: Address): Promise<Escrow> {
  const action = `cannot read the escrow of ${payer}`;
  checkAddress('payer', payer, action);
  const [balance, pendingWithdrawal] = await guarded(action, () =>
    ctx.conn.publicClient.readContract({ address: ctx.deployment.contracts.InferenceRouter, abi: InferenceRouterAbi, functionName: 'escrowOf', args: [getAddress(payer)] }),
  );
  return { balance, pendingWithdrawal };
}

/** How much of `payer`'s escrow `operator` may still bill (2**256 - 1: unlimited). */
export async function getOperatorAllowance(ctx: ChainContext, payer: Address, operator: Address): Promise<bigint> {
  const action = `cannot read the allowance of ${operator} over ${payer}'s escrow`;
  checkAddress('payer', payer, action);
  checkAddress('operator', operator, action);
  return guarded(action, () =>
    ctx.conn.publicClient.readContract({
      address: ctx.deployment.contracts.InferenceRouter,
      abi: InferenceRouterAbi,
      functionName: 'operatorAllowance',
      args: [getAddress(payer), getAddress(operator)],
    }),
  );
}

/** Whether governance has enabled `account` as a serving operator. */
export async function isRouterOperator(ctx: ChainContext, account: Address): Promise<boolean> {
  const action = `cannot read whether ${account} is an operator`;
  checkAddress('account', account, action);
  return guarded(action, () =>
    ctx.conn.publicClient.readContract({ address: ctx.deployment.contracts.InferenceRouter, abi: InferenceRouterAbi, functionName: 'isOperator', args: [getAddress(account)] }),
  );
}

export interface InferenceQuote {
  fee: bigint;
  ownerAmount: bigint;
  poolAmount: bigint;
  treasuryAmount: bigint;
}

/** The fee and its split for one inference, exactly as `settle` would compute them now. */
export async function quoteInference(ctx: ChainContext, p: { modelId: bigint; tokensIn: number; tokensOut: number }): Promise<InferenceQuote> {
  const action = `cannot quote model ${p.modelId}`;
  const [fee, ownerAmount, poolAmount, treasuryAmount] = await guarded(action, () =>
    ctx.conn.publicClient.readContract({
      address: ctx.deployment.contracts.InferenceRouter,
      abi: InferenceRouterAbi,
      functionName: 'quote',
      args: [p.modelId, BigInt(p.tokensIn), BigInt(p.tokensOut)],
    }),
  );
  return { fee, ownerAmount, poolAmount, treasuryAmount };
}

export interface DepositEscrowParameters {
  /** The payer's private key (the OPEN comes from its wallet). */
  key: Hex;
  amount: bigint;
}

export interface DepositEscrowReturnType extends TxResult {
  payer: Address;
  amount: bigint;
  /** The escrow balance after the deposit. */
  balance: bigint;
  /** The approval of the router, when the token allowance was short. */
  approval: TxResult | undefined;
}

/** Deposits OPEN into the caller's escrow, approving the router first when its token allowance is short. */
export async function depositEscrow(ctx: ChainContext, p: DepositEscrowParameters): Promise<DepositEscrowReturnType> {
  const action = `cannot deposit ${typeof p.amount === 'bigint' ? formatOpen(p.amount) : String(p.amount)} into escrow`;
  if (typeof p.amount !== 'bigint' || p.amount <= 0n) throw refused(action, 'ZeroAmount', []);
  const wallet = ctx.conn.wallet(p.key);
  const payer = wallet.account.address;
  const pc = ctx.conn.publicClient;
  const { OpenToken: token, InferenceRouter: router } = ctx.deployment.contracts;
  const [balance, allowance] = await guarded(action, () =>
    Promise.all([
      pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'balanceOf', args: [payer] }),
      pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'allowance', args: [payer, router] }),
    ]),
  );
  if (balance < p.amount) throw refused(action, 'ERC20InsufficientBalance', [payer, balance, p.amount]);
  let approval: TxResult | undefined;
  if (allowance < p.amount) {
    const { request } = await guarded(
      action,
      () => pc.simulateContract({ address: token, abi: OpenTokenAbi, functionName: 'approve', args: [router, p.amount], account: wallet.account }),
      payer,
    );
    approval = txResult(await sendSimulated(ctx, wallet, action, request, { toError: routerError }));
  }
  const { request } = await guarded(
    action,
    () => pc.simulateContract({ address: router, abi: InferenceRouterAbi, functionName: 'deposit', args: [p.amount], account: wallet.account }),
    payer,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: routerError });
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === router.toLowerCase());
  const [ev] = parseEventLogs({ abi: InferenceRouterAbi, logs, eventName: 'Deposited', strict: true });
  if (!ev) throw new ChainError(`${action}: transaction ${receipt.transactionHash} succeeded but the router emitted no Deposited`);
  return { ...txResult(receipt), payer: ev.args.payer, amount: ev.args.amount, balance: ev.args.balance, approval };
}

export interface ApproveOperatorParameters {
  /** The payer's private key. */
  key: Hex;
  operator: Address;
  /** Wei the operator may bill from now on (replaces the previous allowance; 2**256 - 1: unlimited). */
  allowance: bigint;
}

export interface ApproveOperatorReturnType extends TxResult {
  payer: Address;
  operator: Address;
  allowance: bigint;
}

/** Lets `operator` bill up to `allowance` wei of the caller's escrow. */
export async function approveOperator(ctx: ChainContext, p: ApproveOperatorParameters): Promise<ApproveOperatorReturnType> {
  const action = `cannot approve operator ${p.operator}`;
  checkAddress('operator', p.operator, action);
  const wallet = ctx.conn.wallet(p.key);
  const router = ctx.deployment.contracts.InferenceRouter;
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: router,
        abi: InferenceRouterAbi,
        functionName: 'approveOperator',
        args: [getAddress(p.operator), p.allowance],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await sendSimulated(ctx, wallet, action, request, { toError: routerError });
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === router.toLowerCase());
  const [ev] = parseEventLogs({ abi: InferenceRouterAbi, logs, eventName: 'OperatorApproved', strict: true });
  if (!ev) throw new ChainError(`${action}: transaction ${receipt.transactionHash} succeeded but the router emitted no OperatorApproved`);
  return { ...txResult(receipt), payer: ev.args.payer, operator: ev.args.operator, allowance: ev.args.allowance };
}
