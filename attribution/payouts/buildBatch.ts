// One batch from its inputs: the canonical score file, the pool amounts of the inferences of the epochs it
// covers, and the previous batch's cumulative leaves. The attributor computes a batch with this, and a
// second signer rebuilds it with the same function to check before co-signing (verifyBatch.ts).
//
// The score file can be larger than one string or buffer should be (scoreFile.ts), so it is handled in
// parts throughout: encoded into parts from entries, or read from parts line by line straight into the
// allocation, without a list of its entries; its hash is updated part by part.
import type { Hex } from 'viem';
import { startAllocation, type AllocationAccumulator, type BatchAllocation, type InferencePool } from './allocate.ts';
import { cumulativeLeaves, type PayoutLeaf } from './cumulativeLeaves.ts';
import { buildPayoutTree, type PayoutTree } from './payoutTree.ts';
import { encodeCanonicalScoreFile, scoreFileHash, scoreFileSize, type ScoreFileParts } from './scoreFile.ts';
import { canonicalEntries, checkEpoch, type ScoreFile } from './scoreFileFormat.ts';
import { createScoreFileReader } from './scoreFileReader.ts';

export interface BuildPayoutBatchParameters {
  /** The score file: its canonical bytes (checked), in one buffer or in parts, or the entries to encode. */
  scores: Uint8Array | ScoreFileParts | ScoreFile;
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
  /** The canonical bytes that `scoreFileHash` hashes, in parts (their concatenation is the file). */
  scoreFile: ScoreFileParts;
  /** Bytes of the score file. */
  scoreFileSize: number;
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
  let parts: ScoreFileParts;
  let allocation: BatchAllocation;
  let epoch: bigint;
  if (p.scores instanceof Uint8Array || Array.isArray(p.scores)) {
    parts = p.scores instanceof Uint8Array ? [p.scores] : (p.scores as ScoreFileParts);
    let accumulator: AllocationAccumulator | undefined;
    const reader = createScoreFileReader({
      onEpoch: (e) => (accumulator = startAllocation({ epoch: e, pools: p.pools, fromEpoch: p.fromEpoch })),
      onEntry: (e) => accumulator!.add(e),
    });
    for (const part of parts) reader.push(part);
    epoch = reader.end().epoch;
    allocation = accumulator!.finish();
  } else {
    const file = p.scores as ScoreFile;
    checkEpoch(file.epoch);
    epoch = file.epoch;
    const canonical = canonicalEntries(file.entries);
    parts = encodeCanonicalScoreFile(epoch, canonical);
    const accumulator = startAllocation({ epoch, pools: p.pools, fromEpoch: p.fromEpoch });
    for (const e of canonical) accumulator.add(e);
    allocation = accumulator.finish();
  }
  const tree = buildPayoutTree(cumulativeLeaves(p.previous, allocation.amounts));
  return {
    epoch,
    fromEpoch: p.fromEpoch ?? epoch,
    scoreFile: parts,
    scoreFileSize: scoreFileSize(parts),
    scoreFileHash: scoreFileHash(parts),
    allocation,
    tree,
    root: tree.root,
    total: allocation.total,
    cumulativeTotal: tree.cumulativeTotal,
  };
}
