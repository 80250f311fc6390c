// One batch from its inputs: the canonical score file, the pool amounts of the inferences of the epochs it
// covers, and the previous batch's cumulative leaves. The attributor computes a batch with this, and a
// second signer rebuilds it with the same function to check before co-signing (verifyBatch.ts).
import type { Hex } from 'viem';
import { allocateBatch, type BatchAllocation, type InferencePool } from './allocate.ts';
import { cumulativeLeaves, type PayoutLeaf } from './cumulativeLeaves.ts';
import { buildPayoutTree, type PayoutTree } from './payoutTree.ts';
import { encodeScoreFile, parseScoreFile, scoreFileHash, type ScoreFile } from './scoreFile.ts';

export interface BuildPayoutBatchParameters {
  /** The score file: its canonical bytes (checked), or the entries to encode. */
  scores: Uint8Array | ScoreFile;
  /** Every inference settled in the epochs the batch covers (InferenceSettled's poolAmount). */
  pools: readonly InferencePool[];
  /** The previous batch's leaves (none for the first batch). */
  previous: readonly PayoutLeaf[];
  /** The first epoch covered: the previous batch's epoch + 1 (default: the score file's epoch only). */
  fromEpoch?: bigint;
}

export interface ComputedPayoutBatch {
  epoch: bigint;
  fromEpoch: bigint;
  /** The canonical bytes that `scoreFileHash` hashes. */
  scoreFile: Uint8Array;
  scoreFileHash: Hex;
  allocation: BatchAllocation;
  /** The cumulative leaves: what the tree holds. */
  tree: PayoutTree;
  root: Hex;
  /** Wei this batch pays out: allocation.total. */
  total: bigint;
  /** Σ leaves: the previous cumulative total plus `total`. */
  cumulativeTotal: bigint;
}

/** Computes a batch. Throws ScoreFileError or AllocationError when the inputs are not valid together. */
export function buildPayoutBatch(p: BuildPayoutBatchParameters): ComputedPayoutBatch {
  const bytes = p.scores instanceof Uint8Array ? p.scores : encodeScoreFile(p.scores);
  const scores = parseScoreFile(bytes);
  const fromEpoch = p.fromEpoch ?? scores.epoch;
  const allocation = allocateBatch({ scores, pools: p.pools, fromEpoch });
  const tree = buildPayoutTree(cumulativeLeaves(p.previous, allocation.amounts));
  return {
    epoch: scores.epoch,
    fromEpoch,
    scoreFile: bytes,
    scoreFileHash: scoreFileHash(bytes),
    allocation,
    tree,
    root: tree.root,
    total: allocation.total,
    cumulativeTotal: tree.cumulativeTotal,
  };
}
