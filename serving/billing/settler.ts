// The settler drains the usage outbox (Postgres) onto the chain: every interval it claims a batch of
// unbilled records and bills them with one `InferenceRouter.settle(number, items)`.
//
// Idempotency. The chain's lastBatch(operator) is the truth, and the router refuses a repeated or skipped
// number. A round:
//   1. reads L = lastBatch(operator), then claims the operator's pending batch n (left by a crash) or a
//      new one numbered max(store's last + 1, L + 1);
//   2. n ≤ L: the chain already has batch n. If its items are ours, the crash came after sending and
//      before marking: the batch is marked settled from the chain's logs, without sending anything.
//      If its items are someone else's (another store billing as this operator), ours never went out:
//      the batch is marked failed and its records go back, to be billed under a free number;
//   3. n = L + 1: send settle(n, items), then mark the batch settled with what the chain rejected;
//   4. n > L + 1: the store has batches the chain lacks (another chain, a reset devnet): refused, with both
//      numbers, until a person looks (SettlementError, not retryable).
// So a crash at any point, followed by a restart, neither bills a record twice (the number can be used
// once) nor loses one (records stay in the store until their batch is marked settled).
//
// Failures. An RPC that does not answer, a transaction not mined yet, another settle that came first
// (BatchOutOfOrder): the batch stays pending and the loop retries with backoff (0.5 s doubling to 30 s),
// logging each attempt. Any other revert (NotOperator: governance disabled the operator, …) marks the batch
// failed with the chain's reason and puts its records back among the unbilled, so they are billed when the
// cause is fixed; the loop backs off the same way meanwhile.
import { privateKeyToAddress } from 'viem/accounts';
import type { Address, Hash, Hex } from 'viem';
import { ContractRevertError, type ChainContext } from '../../contracts/index.ts';
import { findSettledBatch, lastSettledBatch, settleUsage, type SettledBatch } from '../../contracts/index.ts';
import type { OperationalDb } from '../../schema/index.ts';
import type { UsageRecord } from '../../schema/index.ts';
import { claimBatch, countUnbatchedUsage, markBatchFailed, markBatchSettled } from '../../schema/index.ts';
import { SettlementError } from './errors.ts';
import { SILENT_BILLING_LOGGER, type BillingLogger } from './log.ts';

/** Where a settler can be stopped on purpose, to test crashes: after the claim is committed, after the
 * transaction is sent (not yet marked), after the batch is marked settled. */
export type SettlerFaultPoint = 'after-claim' | 'after-send' | 'after-mark';

export interface SettlerFaultContext {
  batchNumber: bigint;
  items: number;
  /** The settle transaction (after-send, after-mark). */
  txHash?: Hash;
}

export interface SettlerOptions {
  db: OperationalDb;
  chain: ChainContext;
  /** The operator's private key: it signs `settle`, and its address numbers the batches. */
  operatorKey: Hex;
  /** Time between rounds when there is nothing more to bill (default 60 s). */
  intervalMs?: number;
  /** Most records per batch (default 200; 100 items cost about 1.2M gas). */
  maxItems?: number;
  log?: BillingLogger;
  /** First and longest wait after a failed round (default 500 ms doubling to 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Told of each settled batch (e.g. to set the inferences' epochs in ClickHouse); its errors are logged. */
  onSettled?: (result: SettleResult) => void | Promise<void>;
  /** Called at each fault point; a test throws or kills the process there. */
  faults?: (point: SettlerFaultPoint, ctx: SettlerFaultContext) => void | Promise<void>;
}

export interface SettleResult {
  /** The batch as the chain recorded it (every item's fee and split, or why it was rejected). */
  batch: SettledBatch;
  /** True when the batch was found on chain after a crash and marked settled without sending again. */
  recovered: boolean;
}

export interface Settler {
  readonly operator: Address;
  /** One round: bills at most one batch. Undefined when there was nothing to bill. Rounds never overlap. */
  settleOnce(): Promise<SettleResult | undefined>;
  /** Rounds until nothing is left to bill. */
  drain(): Promise<SettleResult[]>;
  /** Runs rounds every `intervalMs` (at once again while batches come out full), with backoff on failure. */
  start(): void;
  /** Stops the loop and waits for the round in progress. */
  stop(): Promise<void>;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Whether the chain's batch holds exactly these records (same ids, payers, models and, where settled, tokens). */
function sameItems(onChain: SettledBatch, items: readonly UsageRecord[]): boolean {
  const ours = new Map(items.map((r) => [r.requestId, r]));
  const theirs = [
    ...onChain.settled.map((s) => ({ ...s, tokens: [s.tokensIn, s.tokensOut] as const })),
    ...onChain.rejected.map((r) => ({ ...r, tokens: undefined })),
  ];
  if (theirs.length !== ours.size) return false;
  return theirs.every((t) => {
    const r = ours.get(t.requestId.toLowerCase() as Hex);
    if (!r || r.payer !== t.payer.toLowerCase() || r.modelId !== t.modelId) return false;
    return t.tokens === undefined || (BigInt(r.tokensIn) === t.tokens[0] && BigInt(r.tokensOut) === t.tokens[1]);
  });
}

export function createSettler(o: SettlerOptions): Settler {
  const operator = privateKeyToAddress(o.operatorKey);
  const intervalMs = o.intervalMs ?? 60_000;
  const maxItems = o.maxItems ?? 200;
  const initialBackoff = o.backoff?.initialMs ?? 500;
  const maxBackoff = o.backoff?.maxMs ?? 30_000;
  const log = o.log ?? SILENT_BILLING_LOGGER;
  for (const [name, v] of [['intervalMs', intervalMs], ['maxItems', maxItems], ['backoff.initialMs', initialBackoff], ['backoff.maxMs', maxBackoff]] as const) {
    if (!Number.isFinite(v) || v < 0 || (name === 'maxItems' && (!Number.isInteger(v) || v < 1))) {
      throw new SettlementError(`cannot create the settler: ${name} must be ${name === 'maxItems' ? 'a positive integer' : 'a non-negative number'}, got ${v}`);
    }
  }
  const fault = async (point: SettlerFaultPoint, ctx: SettlerFaultContext) => o.faults?.(point, ctx);

  async function mark(batch: SettledBatch, recovered: boolean, items: number): Promise<SettleResult> {
    await markBatchSettled(o.db, {
      operator,
      number: batch.batchNumber,
      txHash: batch.txHash,
      rejected: batch.rejected.map((r) => r.requestId),
    });
    await fault('after-mark', { batchNumber: batch.batchNumber, items, txHash: batch.txHash });
    const result = { batch, recovered };
    log.info(recovered ? 'usage batch was already on chain; marked settled without sending again' : 'settled usage batch', {
      operator,
      batch: batch.batchNumber,
      items,
      settled: batch.settled.length,
      rejected: batch.rejected.length,
      fee: batch.feeTotal,
      epoch: batch.epoch,
      tx: batch.txHash,
    });
    if (o.onSettled) {
      try {
        await o.onSettled(result);
      } catch (e) {
        log.warn('a usage batch settled, but its follow-up failed', { batch: batch.batchNumber, error: firstLine(e) });
      }
    }
    return result;
  }

  async function round(): Promise<SettleResult | undefined> {
    const last = await lastSettledBatch(o.chain, operator);
    const claimed = await claimBatch(o.db, { operator, maxItems, minNumber: last + 1n });
    if (!claimed) return undefined;
    const n = claimed.batch.number;
    const items = claimed.items;
    if (claimed.resumed) log.info('resuming pending usage batch', { operator, batch: n, items: items.length, lastOnChain: last });
    await fault('after-claim', { batchNumber: n, items: items.length });

    if (n <= last) {
      const onChain = await findSettledBatch(o.chain, { operator, batchNumber: n });
      if (!onChain) {
        throw new SettlementError(`usage batch ${n} of ${operator}: the chain's last batch is ${last}, but no BatchSettled log for ${n} was found`, {
          details: 'the RPC may not serve old logs yet (or prunes them); retrying',
          retryable: true,
        });
      }
      if (sameItems(onChain, items)) return mark(onChain, true, items.length);
      const error = `batch number ${n} was used on chain by other items (tx ${onChain.txHash}): another store settles as ${operator}`;
      await markBatchFailed(o.db, { operator, number: n, error });
      log.warn('usage batch number already taken on chain; its records go back to be billed under the next free number', { operator, batch: n, tx: onChain.txHash });
      return undefined;
    }
    if (n > last + 1n) {
      throw new SettlementError(`usage batch ${n} of ${operator} cannot be sent: the chain's last batch is ${last}, so the store has batches the chain does not`, {
        details: 'the store belongs to another chain or deployment (a reset devnet?): point the operator at the right chain, or at a fresh store',
      });
    }
    let batch: SettledBatch;
    try {
      batch = await settleUsage(o.chain, {
        key: o.operatorKey,
        batchNumber: n,
        items: items.map((r) => ({ requestId: r.requestId, payer: r.payer, modelId: r.modelId, tokensIn: r.tokensIn, tokensOut: r.tokensOut })),
        onSent: (txHash) => fault('after-send', { batchNumber: n, items: items.length, txHash }),
      });
    } catch (e) {
      if (e instanceof ContractRevertError && e.errorName !== 'BatchOutOfOrder') {
        // The chain refuses this batch as it is: give its records back and say why.
        await markBatchFailed(o.db, { operator, number: n, error: firstLine(e) });
        throw new SettlementError(`usage batch ${n} of ${operator} was refused and marked failed; its ${items.length} records will be billed again`, {
          details: firstLine(e),
          cause: e,
        });
      }
      if (e instanceof ContractRevertError) {
        throw new SettlementError(`usage batch ${n} of ${operator} is out of order: another settle came first`, { details: firstLine(e), retryable: true, cause: e });
      }
      throw e;
    }
    return mark(batch, false, items.length);
  }

  // Rounds run one at a time, whoever asks (the loop, a test, a shutdown flush).
  let queue: Promise<unknown> = Promise.resolve();
  const settleOnce = (): Promise<SettleResult | undefined> => {
    const next = queue.then(round);
    queue = next.catch(() => {});
    return next;
  };

  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;

  const tick = async () => {
    let delay = intervalMs;
    try {
      const r = await settleOnce();
      failures = 0;
      if (r && r.batch.settled.length + r.batch.rejected.length >= maxItems) delay = 0;
    } catch (e) {
      failures += 1;
      delay = Math.min(maxBackoff, initialBackoff * 2 ** Math.min(failures - 1, 30));
      const retryable = (e as { retryable?: unknown }).retryable === true;
      const msg = `could not settle usage: ${firstLine(e)}; retrying in ${(delay / 1000).toFixed(1)} s`;
      const fields = { operator, attempt: failures, retryable };
      if (retryable) log.warn(msg, fields);
      else log.error(msg, fields);
    }
    if (running) timer = setTimeout(() => void (inFlight = tick()), delay);
  };

  return {
    operator,
    settleOnce,
    async drain() {
      const out: SettleResult[] = [];
      // A round that gives its records back (a number taken on chain) returns undefined with records left.
      for (;;) {
        const r = await settleOnce();
        if (r) out.push(r);
        else if ((await countUnbatchedUsage(o.db)) === 0) return out;
      }
    },
    start() {
      if (running) return;
      running = true;
      inFlight = tick();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
