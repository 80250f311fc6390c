// A computed batch in the content store, beside contributed files and adapters: its score file and a
// manifest with its cumulative leaves, so that proofs can be served and the next batch can add to these
// totals after any restart. The manifest (canonical JSON) is bound to the ref
// `payout-batches/<epoch>-<root>`; the score file is stored under its SHA-256 like any file, and the
// manifest names it. Stored before the batch is recorded in Postgres, so a batch on its way to the chain
// always has its leaves on disk. The score file can be hundreds of MB, so it is written from its parts and
// read back in parts, and only when asked for (proofs and the next batch need the leaves alone).
import { z } from 'zod';
import { getAddress, type Address, type Hex } from 'viem';
import { ContentNotFoundError, ContentStoreError, sortedJson, type ContentStore } from '../../schema/index.ts';
import type { ComputedPayoutBatch } from './buildBatch.ts';
import type { PayoutLeaf } from './cumulativeLeaves.ts';
import { buildPayoutTree, type PayoutTree } from './payoutTree.ts';
import { scoreFileHash, type ScoreFileParts } from './scoreFile.ts';

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const hash0x = z.string().regex(/^0x[0-9a-f]{64}$/);

export const payoutBatchManifestSchema = z.strictObject({
  format: z.literal('tributary-payout-batch-v1'),
  epoch: decimal,
  fromEpoch: decimal,
  root: hash0x,
  total: decimal,
  cumulativeTotal: decimal,
  scoreFileHash: hash0x,
  scoreFile: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }),
  /** [account (lowercase), cumulative wei (decimal)], by address. */
  leaves: z.array(z.tuple([z.string().regex(/^0x[0-9a-f]{40}$/), decimal])),
});

export type PayoutBatchManifest = z.infer<typeof payoutBatchManifestSchema>;

export interface StoredPayoutBatch {
  epoch: bigint;
  fromEpoch: bigint;
  root: Hex;
  total: bigint;
  cumulativeTotal: bigint;
  scoreFileHash: Hex;
  /** The score file's SHA-256 in the content store, and its size in bytes. */
  scoreFileSha256: string;
  scoreFileSize: number;
  /**
   * The score file's bytes in parts, read from the store and checked against its SHA-256 and, unless
   * `checkHash` is false, its keccak256 `scoreFileHash`. A caller that rebuilds the batch from the parts
   * (verifyPayoutBatch compares the rebuilt hash anyway) can skip the second: keccak256 runs at about
   * 15 MB/s here, a minute for a 650 MB file.
   */
  readScoreFile(opts?: { checkHash?: boolean }): Promise<ScoreFileParts>;
  leaves: PayoutLeaf[];
  tree: PayoutTree;
  /** SHA-256 of the manifest. */
  manifestSha256: string;
}

export function payoutBatchRef(epoch: bigint, root: Hex): string {
  return `payout-batches/${epoch}-${root.toLowerCase()}`;
}

/** Stores a batch's score file and manifest and binds its ref; storing it again changes nothing. */
export async function storePayoutBatchFiles(store: ContentStore, b: ComputedPayoutBatch): Promise<{ ref: string; manifestSha256: string }> {
  const ref = payoutBatchRef(b.epoch, b.root);
  const file = await store.putStream(b.scoreFile);
  const manifest: PayoutBatchManifest = {
    format: 'tributary-payout-batch-v1',
    epoch: b.epoch.toString(),
    fromEpoch: b.fromEpoch.toString(),
    root: b.root.toLowerCase(),
    total: b.total.toString(),
    cumulativeTotal: b.cumulativeTotal.toString(),
    scoreFileHash: b.scoreFileHash.toLowerCase(),
    scoreFile: { sha256: file.hash, size: file.size },
    leaves: b.tree.leaves.map((l) => [l.account.toLowerCase(), l.cumulative.toString()]),
  };
  const put = await store.put(new TextEncoder().encode(sortedJson(manifest)));
  const bound = await store.bindRef(ref, put.hash);
  // The same (epoch, root) always has the same leaves; a different manifest differs in total or score file.
  if (bound !== put.hash) {
    const earlier = await loadPayoutBatchFiles(store, b.epoch, b.root);
    if (earlier && (earlier.total !== b.total || earlier.scoreFileHash !== b.scoreFileHash.toLowerCase())) {
      throw new ContentStoreError(`${ref} is already bound to another batch (total ${earlier.total}, score file ${earlier.scoreFileHash})`);
    }
  }
  return { ref, manifestSha256: bound };
}

/** The stored batch of (epoch, root), checked (the score file's hash, the leaves' root); undefined when none. */
export async function loadPayoutBatchFiles(store: ContentStore, epoch: bigint, root: Hex): Promise<StoredPayoutBatch | undefined> {
  const ref = payoutBatchRef(epoch, root);
  const manifestSha256 = await store.getRef(ref);
  if (manifestSha256 === undefined) return undefined;
  let m: PayoutBatchManifest;
  try {
    m = payoutBatchManifestSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(manifestSha256))));
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw new ContentStoreError(`stored payout batch ${ref} is inconsistent: manifest ${manifestSha256} is not a payout batch manifest (${(e as Error).message})`);
  }
  if (!(await store.has(m.scoreFile.sha256))) throw new ContentNotFoundError(m.scoreFile.sha256);
  const readScoreFile = async (opts: { checkHash?: boolean } = {}): Promise<ScoreFileParts> => {
    const parts: Uint8Array[] = [];
    for await (const part of store.getStream(m.scoreFile.sha256)) parts.push(part);
    if (opts.checkHash !== false && scoreFileHash(parts) !== m.scoreFileHash) throw new ContentStoreError(`stored payout batch ${ref} is inconsistent: its score file does not hash to ${m.scoreFileHash}`);
    return parts;
  };
  const leaves = m.leaves.map(([a, c]) => ({ account: getAddress(a) as Address, cumulative: BigInt(c) }));
  const tree = buildPayoutTree(leaves);
  if (tree.root !== m.root || m.root !== root.toLowerCase() || m.epoch !== epoch.toString()) {
    throw new ContentStoreError(`stored payout batch ${ref} is inconsistent: its leaves give root ${tree.root}, its manifest says epoch ${m.epoch} root ${m.root}`);
  }
  return {
    epoch,
    fromEpoch: BigInt(m.fromEpoch),
    root: m.root as Hex,
    total: BigInt(m.total),
    cumulativeTotal: BigInt(m.cumulativeTotal),
    scoreFileHash: m.scoreFileHash as Hex,
    scoreFileSha256: m.scoreFile.sha256,
    scoreFileSize: m.scoreFile.size,
    readScoreFile,
    leaves,
    tree,
    manifestSha256,
  };
}
