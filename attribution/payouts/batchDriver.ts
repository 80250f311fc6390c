// The payout batch driver: takes an epoch's computed batch through the Postgres lifecycle
//   pending (recorded) → signed (threshold of signatures) → posted (transaction sent) → confirmed (mined)
// so that a crash between any two steps, followed by a run of the driver, neither posts twice nor loses
// the batch.
//
// Why it is safe. The batch's leaves and score file go to the content store before the batch is recorded
// (so a recorded batch can always be proven and built upon). AttributionSettlement accepts (epoch, nonce)
// once: it refuses a repeated nonce (WrongNonce) and a covered epoch (EpochAlreadyPosted). So before every
// step the driver asks the chain whether (epoch, nonce) is already used (nextNonce, then the BatchPosted
// log of that pair):
//   - used by this very batch (same root, total, score file hash): the crash came after sending. The store
//     catches up from the log (signed → posted with the log's transaction → confirmed), sending nothing;
//     or, if the chain has since revoked it, the store marks it revoked;
//   - used by another batch: this one can never be posted; it is marked failed with both roots;
//   - unused: the next step runs. Signing is deterministic (RFC 6979), so signing again after a crash gives
//     the same signatures; sending is simulated first, and the transaction hash is recorded (→ posted)
//     before waiting for it to be mined.
// Statuses move one legal step at a time with the store's optimistic check, so two drivers on one store
// cannot both move a batch.
//
// Failures. The epoch not over yet, the previous batch still in its dispute window, an unreachable RPC, a
// co-signer missing: the batch keeps its status and the error says a retry can help. A batch the contract
// can never accept as it is (another signer set, a total above what is available, an epoch already
// covered, bad signatures) is marked failed with the contract's reason. NotAttributor and the like keep
// the status: governance can fix them without a new batch.
import type { Hash, Hex } from 'viem';
import { ContractRevertError, TributaryError, type ChainContext } from '../../contracts/index.ts';
import {
  createPayoutBatch,
  getPayoutBatch,
  listPayoutBatches,
  transitionPayoutBatch,
  type BatchSignature,
  type ContentStore,
  type OperationalDb,
  type PayoutBatch,
  type PayoutBatchStatus,
} from '../../schema/index.ts';
import { collectSignatures, type PayoutBatchMessage, type SettlementDomain } from './batchSigning.ts';
import { storePayoutBatchFiles } from './batchFiles.ts';
import type { ComputedPayoutBatch } from './buildBatch.ts';
import { BatchDriverError } from './errors.ts';
import {
  findPostedBatch,
  getEpochClock,
  getNextBatchNonce,
  getPostedBatch,
  getSettlementState,
  postPayoutBatch,
  type PostedBatchEvent,
} from '../../contracts/index.ts';

/** Where a driver can be stopped on purpose, to test crashes: after each step is committed or sent. */
export type BatchDriverFaultPoint = 'after-create' | 'after-sign' | 'after-send' | 'after-mark-posted' | 'after-confirm';

export interface BatchDriverFaultContext {
  epoch: bigint;
  nonce: bigint;
  txHash?: Hash;
}

export interface BatchDriverLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface BatchDriverOptions {
  db: OperationalDb;
  chain: ChainContext;
  /** Where the batch's score file and leaves are kept (before the batch is recorded). */
  content: ContentStore;
  /** An attributor's key: it sends postBatch. */
  attributorKey: Hex;
  /**
   * Signatures over a batch from members of the signer set: local keys (`keySigner`), or co-signers who
   * rebuild the batch and sign only if it matches (`cosignPayoutBatch`). The driver checks and orders them.
   */
  sign: (message: PayoutBatchMessage, domain: SettlementDomain) => Promise<BatchSignature[]>;
  /** Recorded in the audit log (default "attribution"). */
  actor?: string;
  log?: BatchDriverLogger;
  /** Called at each fault point; a test throws or kills the process there. */
  faults?: (point: BatchDriverFaultPoint, ctx: BatchDriverFaultContext) => void | Promise<void>;
}

export interface DriveResult {
  epoch: bigint;
  nonce: bigint;
  /** confirmed, or revoked when the chain revoked the batch meanwhile. */
  status: PayoutBatchStatus;
  txHash: Hex | undefined;
  /** True when the post was found on chain instead of being sent by this run (a crash came after sending). */
  recovered: boolean;
  /** The BatchPosted and RemainderRolledOver values, when the batch is on chain. */
  posted: PostedBatchEvent | undefined;
}

export interface BatchDriver {
  /** Records `batch` (or finds it recorded) and moves it to confirmed. Runs never overlap. */
  drive(batch: ComputedPayoutBatch): Promise<DriveResult>;
  /** Moves every pending, signed or posted batch in the store forward, oldest first (after a restart). */
  resume(): Promise<DriveResult[]>;
}

const ACTIVE: readonly PayoutBatchStatus[] = ['pending', 'signed', 'posted', 'confirmed'];
// Reverts that make this batch unpostable forever: it is marked failed.
const BATCH_INVALID = new Set([
  'WrongSignerSet',
  'TotalExceedsAvailable',
  'EpochAlreadyPosted',
  'UnknownSigner',
  'NotEnoughSignatures',
  'SignersNotSorted',
  'ECDSAInvalidSignature',
  'ECDSAInvalidSignatureLength',
  'ECDSAInvalidSignatureS',
]);
// Reverts that time or another transaction will clear.
const TRANSIENT = new Set(['EpochNotEnded', 'PreviousBatchInDispute', 'WrongNonce']);

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
const nothing = () => {};

type ChainView =
  | { kind: 'unused' }
  | { kind: 'ours'; event: PostedBatchEvent; revoked: boolean }
  | { kind: 'theirs'; event: PostedBatchEvent };

export function createBatchDriver(o: BatchDriverOptions): BatchDriver {
  const actor = o.actor ?? 'attribution';
  const log = o.log ?? { info: nothing, warn: nothing };
  const domain: SettlementDomain = { chainId: o.chain.deployment.chainId, verifyingContract: o.chain.deployment.contracts.AttributionSettlement };
  const fault = async (point: BatchDriverFaultPoint, ctx: BatchDriverFaultContext) => o.faults?.(point, ctx);
  const label = (r: { epoch: bigint; nonce: bigint }) => `payout batch of epoch ${r.epoch} (nonce ${r.nonce})`;

  const message = (r: PayoutBatch): PayoutBatchMessage => ({
    epoch: r.epoch,
    nonce: r.nonce,
    root: r.root,
    total: r.total,
    scoreFileHash: r.scoreFileHash,
    signerSetVersion: r.signerSetVersion,
  });

  const move = (r: PayoutBatch, to: PayoutBatchStatus, extra: { signatures?: BatchSignature[]; txHash?: Hex; error?: string } = {}) =>
    transitionPayoutBatch(o.db, { epoch: r.epoch, nonce: r.nonce, from: r.status, to, actor, ...extra });

  /** Whether (epoch, nonce) is used on chain, and by this batch or another. */
  async function chainView(r: PayoutBatch): Promise<ChainView> {
    const next = await getNextBatchNonce(o.chain, r.epoch);
    if (next <= r.nonce) return { kind: 'unused' };
    const event = await findPostedBatch(o.chain, { epoch: r.epoch, nonce: r.nonce });
    if (!event) {
      throw new BatchDriverError(`${label(r)}: the chain's next nonce is ${next}, but no BatchPosted log for nonce ${r.nonce} was found`, {
        details: 'the RPC may not serve old logs yet (or prunes them); retrying',
        retryable: true,
      });
    }
    if (event.root !== r.root || event.total !== r.total || event.scoreFileHash !== r.scoreFileHash) return { kind: 'theirs', event };
    // A later nonce can only be posted after this one was revoked.
    const latest = await getPostedBatch(o.chain, r.epoch);
    const revoked = next > r.nonce + 1n || (latest !== undefined && latest.nonce === r.nonce && latest.revoked);
    return { kind: 'ours', event, revoked };
  }

  async function fail(r: PayoutBatch, error: string, cause?: unknown): Promise<never> {
    await move(r, 'failed', { error });
    log.warn('payout batch failed', { epoch: r.epoch, nonce: r.nonce, error });
    throw new BatchDriverError(`${label(r)} was marked failed: ${error}`, {
      details: 'compute the batch again (`tributary attribute` does): the new batch takes the same nonce, and the failed row stays in the audit log',
      cause,
    });
  }

  async function sign(r: PayoutBatch): Promise<PayoutBatch> {
    const state = await getSettlementState(o.chain);
    if (state.signerSetVersion !== r.signerSetVersion) {
      return fail(r, `the signer set is at version ${state.signerSetVersion}, but the batch was recorded for version ${r.signerSetVersion}`);
    }
    let signatures: BatchSignature[];
    try {
      const given = await o.sign(message(r), domain);
      signatures = await collectSignatures({ domain, batch: message(r), signatures: given, signers: state.signers, threshold: Number(state.threshold) });
    } catch (e) {
      // A co-signer that finds a mismatch refuses for good; a missing signature or an RPC may come back.
      throw new BatchDriverError(`cannot sign the ${label(r)}: ${firstLine(e)}`, { retryable: e instanceof TributaryError ? e.retryable : true, cause: e });
    }
    const signed = await move(r, 'signed', { signatures });
    log.info('payout batch signed', { epoch: r.epoch, nonce: r.nonce, signers: signatures.map((s) => s.signer) });
    await fault('after-sign', { epoch: r.epoch, nonce: r.nonce });
    return signed;
  }

  async function send(r: PayoutBatch): Promise<{ row: PayoutBatch; posted: PostedBatchEvent }> {
    let marked: PayoutBatch | undefined;
    let posted: PostedBatchEvent;
    try {
      posted = await postPayoutBatch(o.chain, {
        key: o.attributorKey,
        batch: message(r),
        signatures: r.signatures.map((s) => s.signature),
        onSent: async (txHash) => {
          await fault('after-send', { epoch: r.epoch, nonce: r.nonce, txHash });
          marked = await move(r, 'posted', { txHash });
          await fault('after-mark-posted', { epoch: r.epoch, nonce: r.nonce, txHash });
        },
      });
    } catch (e) {
      if (e instanceof ContractRevertError && BATCH_INVALID.has(e.errorName)) return fail(r, firstLine(e), e);
      if (e instanceof ContractRevertError) {
        throw new BatchDriverError(`cannot post the ${label(r)} yet: ${firstLine(e)}`, { retryable: TRANSIENT.has(e.errorName), cause: e });
      }
      throw new BatchDriverError(`could not post the ${label(r)}: ${firstLine(e)}`, { retryable: true, cause: e });
    }
    return { row: marked ?? r, posted };
  }

  async function confirm(r: PayoutBatch, posted: PostedBatchEvent, recovered: boolean): Promise<DriveResult> {
    await move(r, 'confirmed');
    log.info(recovered ? 'payout batch was already on chain; marked confirmed without sending again' : 'payout batch posted and confirmed', {
      epoch: r.epoch,
      nonce: r.nonce,
      tx: posted.txHash,
      total: posted.total,
      rolledOver: posted.rolledOver,
    });
    await fault('after-confirm', { epoch: r.epoch, nonce: r.nonce, txHash: posted.txHash });
    return { epoch: r.epoch, nonce: r.nonce, status: 'confirmed', txHash: posted.txHash, recovered, posted };
  }

  /** Moves one recorded batch forward until it is confirmed (or revoked, or failed). */
  async function advance(start: PayoutBatch): Promise<DriveResult> {
    let r = start;
    let recovered = false;
    for (;;) {
      if (r.status === 'revoked' || r.status === 'failed') {
        return { epoch: r.epoch, nonce: r.nonce, status: r.status, txHash: r.txHash ?? undefined, recovered, posted: undefined };
      }
      const view = await chainView(r);
      if (view.kind === 'theirs') {
        return fail(r, `nonce ${r.nonce} of epoch ${r.epoch} was used on chain by another batch (root ${view.event.root}, total ${view.event.total}, tx ${view.event.txHash}); ours has root ${r.root}, total ${r.total}`);
      }
      if (view.kind === 'ours') {
        // This run did not send it: an earlier run did, and crashed before the store caught up.
        recovered = true;
        if (view.revoked) {
          r = await move(r, 'revoked');
          log.warn('payout batch was revoked on chain', { epoch: r.epoch, nonce: r.nonce });
          continue;
        }
        if (r.status === 'confirmed') return { epoch: r.epoch, nonce: r.nonce, status: r.status, txHash: view.event.txHash, recovered, posted: view.event };
        if (r.status === 'pending') {
          throw new BatchDriverError(`${label(r)} is on chain (tx ${view.event.txHash}) while the store has it pending`, {
            details: 'this driver records the signatures before sending, so another process posted it: run one driver per store',
          });
        }
        if (r.status === 'signed') {
          r = await move(r, 'posted', { txHash: view.event.txHash });
        }
        return confirm(r, view.event, recovered);
      }
      // Not on chain yet.
      if (r.status === 'pending') r = await sign(r);
      else if (r.status === 'signed') {
        const { row, posted } = await send(r);
        return confirm(row, posted, false);
      } else if (r.status === 'posted') {
        r = await awaitSent(r);
      } else {
        throw new BatchDriverError(`${label(r)} is confirmed in the store but not on chain (nonce ${r.nonce} unused)`, {
          details: 'the store belongs to another chain or deployment (a reset devnet?): point the driver at the right chain, or at a fresh store',
        });
      }
    }
  }

  /**
   * A batch whose transaction was sent but whose (epoch, nonce) is unused: wait for the transaction if it is
   * still pending; if it reverted or was dropped, the batch is marked failed (the lifecycle has no edge to
   * record a second transaction for one batch).
   */
  async function awaitSent(r: PayoutBatch): Promise<PayoutBatch> {
    const pc = o.chain.conn.publicClient;
    const hash = r.txHash!;
    const receipt = await pc.getTransactionReceipt({ hash }).catch(() => undefined);
    if (receipt?.status === 'reverted') return fail(r, `its transaction ${hash} reverted in block ${receipt.blockNumber}`);
    if (receipt?.status === 'success') {
      throw new BatchDriverError(`${label(r)}: transaction ${hash} was mined but nonce ${r.nonce} looks unused`, { details: 'the RPC may lag; retrying', retryable: true });
    }
    const tx = await pc.getTransaction({ hash }).catch(() => undefined);
    if (!tx) return fail(r, `its transaction ${hash} is neither mined nor pending (dropped)`);
    await pc.waitForTransactionReceipt({ hash, timeout: 120_000 }).catch((e: unknown) => {
      throw new BatchDriverError(`${label(r)}: transaction ${hash} is still pending`, { retryable: true, cause: e });
    });
    return r;
  }

  async function drive(batch: ComputedPayoutBatch): Promise<DriveResult> {
    const clock = await getEpochClock(o.chain);
    if (clock.currentEpoch <= batch.epoch) {
      throw new BatchDriverError(`epoch ${batch.epoch} has not ended yet (the current epoch is ${clock.currentEpoch})`, {
        details: 'a batch is computed and posted only after its epoch ends',
        retryable: true,
      });
    }
    await storePayoutBatchFiles(o.content, batch);
    const same = (r: PayoutBatch) => r.root === batch.root.toLowerCase() && r.total === batch.total && r.scoreFileHash === batch.scoreFileHash.toLowerCase();
    for (let attempt = 0; ; attempt++) {
      const active = (await listPayoutBatches(o.db, { epoch: batch.epoch, status: ACTIVE })).at(-1);
      if (active && same(active)) return advance(active);
      if (active) {
        // A posted batch may have been revoked on chain since: catch up, then look again.
        if (attempt === 0 && (active.status === 'posted' || active.status === 'confirmed')) {
          await advance(active);
          continue;
        }
        throw new BatchDriverError(
          `epoch ${batch.epoch} already has a different ${active.status} batch in the store (nonce ${active.nonce}, root ${active.root}, total ${active.total})`,
          { details: 'a different batch for an epoch can follow only once that one is revoked on chain (or marked failed before it was posted)' },
        );
      }
      const [nonce, state] = await Promise.all([getNextBatchNonce(o.chain, batch.epoch), getSettlementState(o.chain)]);
      // The contract pays a batch out of the pools of every epoch after the newest batch: the batch must
      // have allocated exactly those epochs' inferences.
      if (batch.fromEpoch !== state.lastPostedEpoch + 1n) {
        throw new BatchDriverError(
          `the payout batch of epoch ${batch.epoch} covers epochs ${batch.fromEpoch}..${batch.epoch}, but the chain's newest batch is for epoch ${state.lastPostedEpoch}, so it must cover ${state.lastPostedEpoch + 1n}..${batch.epoch}`,
          { details: 'compute the batch again from the inferences of those epochs' },
        );
      }
      // A failed batch never reached the chain: its nonce is free, and this batch takes it.
      const taken = await getPayoutBatch(o.db, batch.epoch, nonce);
      if (taken && taken.status !== 'failed') {
        throw new BatchDriverError(`cannot record the payout batch of epoch ${batch.epoch}: the store already has nonce ${nonce} for it, ${taken.status}`, {
          details: `the chain's next nonce for the epoch is ${nonce}; a ${taken.status} batch that never reached the chain keeps that (epoch, nonce) in the store`,
        });
      }
      const { batch: row } = await createPayoutBatch(o.db, {
        epoch: batch.epoch,
        nonce,
        root: batch.root.toLowerCase() as Hex,
        total: batch.total,
        scoreFileHash: batch.scoreFileHash.toLowerCase() as Hex,
        signerSetVersion: state.signerSetVersion,
        actor,
      });
      log.info('payout batch recorded', { epoch: batch.epoch, nonce, root: batch.root, total: batch.total });
      await fault('after-create', { epoch: batch.epoch, nonce });
      return advance(row);
    }
  }

  // Runs one at a time, whoever asks.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f);
    queue = next.catch(() => {});
    return next;
  };

  return {
    drive: (batch) => serial(() => drive(batch)),
    resume: () =>
      serial(async () => {
        const out: DriveResult[] = [];
        for (const r of await listPayoutBatches(o.db, { status: ['pending', 'signed', 'posted'] })) out.push(await advance(r));
        return out;
      }),
  };
}
