// A computed batch in the content store: stored once under its (epoch, root) ref, read back checked,
// and a different batch under the same ref refused.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress } from 'viem';
import { openFsContentStore, sortedJson } from '../../schema/index.ts';
import { loadPayoutBatchFiles, payoutBatchRef, storePayoutBatchFiles } from './batchFiles.ts';
import { buildPayoutBatch } from './buildBatch.ts';
import { WEIGHT_SCALE } from './scoreFile.ts';
import { addressOf, id32 } from './testing/random.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshStore = () => {
  const root = mkdtempSync(join(tmpdir(), 'tributary-batch-files-'));
  dirs.push(root);
  return openFsContentStore({ root });
};

const A = getAddress(addressOf('a'));
const r = id32('r');
const pools = [{ requestId: r, epoch: 2n, poolAmount: 99n }];
const batch = buildPayoutBatch({ scores: { epoch: 2n, entries: [{ requestId: r, contributionId: 1n, account: A, weight: WEIGHT_SCALE }] }, pools, previous: [{ account: getAddress(addressOf('b')), cumulative: 5n }] });

describe('storePayoutBatchFiles() / loadPayoutBatchFiles()', () => {
  it('stores the score file and leaves once, and reads them back checked', async () => {
    const store = await freshStore();
    expect(await loadPayoutBatchFiles(store, 2n, batch.root)).toBeUndefined();
    const first = await storePayoutBatchFiles(store, batch);
    expect(first.ref).toBe(payoutBatchRef(2n, batch.root));
    expect(await storePayoutBatchFiles(store, batch)).toEqual(first);
    const loaded = (await loadPayoutBatchFiles(store, 2n, batch.root))!;
    expect({ ...loaded, tree: undefined }).toEqual({
      epoch: 2n,
      fromEpoch: 2n,
      root: batch.root,
      total: 99n,
      cumulativeTotal: 104n,
      scoreFileHash: batch.scoreFileHash,
      scoreFile: batch.scoreFile,
      leaves: batch.tree.leaves,
      tree: undefined,
      manifestSha256: first.manifestSha256,
    });
    expect(loaded.tree.proof(A)).toEqual(batch.tree.proof(A));
  });

  it('refuses another batch under the same ref, and a manifest whose leaves do not give its root', async () => {
    const store = await freshStore();
    await storePayoutBatchFiles(store, batch);
    await expect(storePayoutBatchFiles(store, { ...batch, total: 98n })).rejects.toThrow(`${payoutBatchRef(2n, batch.root)} is already bound to another batch (total 99, score file ${batch.scoreFileHash})`);

    const other = await freshStore();
    const file = await other.put(batch.scoreFile);
    const forged = {
      format: 'tributary-payout-batch-v1',
      epoch: '2',
      fromEpoch: '2',
      root: batch.root,
      total: '99',
      cumulativeTotal: '104',
      scoreFileHash: batch.scoreFileHash,
      scoreFile: { sha256: file.hash, size: file.size },
      leaves: [[A.toLowerCase(), '1000000']],
    };
    const put = await other.put(new TextEncoder().encode(sortedJson(forged)));
    await other.bindRef(payoutBatchRef(2n, batch.root), put.hash);
    await expect(loadPayoutBatchFiles(other, 2n, batch.root)).rejects.toThrow(`stored payout batch ${payoutBatchRef(2n, batch.root)} is inconsistent: its leaves give root`);
  });
});
