// A computed batch in the content store: stored once under its (epoch, root) ref, read back checked,
// and a different batch under the same ref refused.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress } from 'viem';
import { ContentCorruptError, contentKey, openFsContentStore, sortedJson } from '../../schema/index.ts';
import { loadPayoutBatchFiles, payoutBatchRef, storePayoutBatchFiles } from './batchFiles.ts';
import { buildPayoutBatch } from './buildBatch.ts';
import { WEIGHT_SCALE, encodeScoreFile, encodeScoreFileParts, scoreFileHash } from './scoreFile.ts';
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
const file = { epoch: 2n, entries: [{ requestId: r, contributionId: 1n, account: A, weight: WEIGHT_SCALE }] };
const batch = buildPayoutBatch({ scores: file, pools, previous: [{ account: getAddress(addressOf('b')), cumulative: 5n }] });

describe('storePayoutBatchFiles() / loadPayoutBatchFiles()', () => {
  it('stores the score file and leaves once, and reads them back checked', async () => {
    const store = await freshStore();
    expect(await loadPayoutBatchFiles(store, 2n, batch.root)).toBeUndefined();
    const first = await storePayoutBatchFiles(store, batch);
    expect(first.ref).toBe(payoutBatchRef(2n, batch.root));
    expect(await storePayoutBatchFiles(store, batch)).toEqual(first);
    const loaded = (await loadPayoutBatchFiles(store, 2n, batch.root))!;
    expect({ ...loaded, tree: undefined, readScoreFile: undefined }).toEqual({
      epoch: 2n,
      fromEpoch: 2n,
      root: batch.root,
      total: 99n,
      cumulativeTotal: 104n,
      scoreFileHash: batch.scoreFileHash,
      scoreFileSha256: contentKey(encodeScoreFile(file)),
      scoreFileSize: batch.scoreFileSize,
      readScoreFile: undefined,
      leaves: batch.tree.leaves,
      tree: undefined,
      manifestSha256: first.manifestSha256,
    });
    expect(loaded.tree.proof(A)).toEqual(batch.tree.proof(A));
    expect(Buffer.concat(await loaded.readScoreFile())).toEqual(Buffer.concat(batch.scoreFile));
  });

  it('stores a score file of many parts as their concatenation, and reads it back checked against scoreFileHash', async () => {
    const store = await freshStore();
    const entries = Array.from({ length: 3000 }, (_, i) => ({ requestId: id32(`big ${i}`), contributionId: BigInt(i % 7), account: getAddress(addressOf(`acct ${i % 7}`)), weight: WEIGHT_SCALE }));
    const big = buildPayoutBatch({ scores: { epoch: 2n, entries }, pools: entries.map((e) => ({ requestId: e.requestId, epoch: 2n, poolAmount: 10n })), previous: [] });
    const parts = encodeScoreFileParts({ epoch: 2n, entries }, { partBytes: 4096 });
    expect(parts.length).toBeGreaterThan(50);
    const stored = await storePayoutBatchFiles(store, { ...big, scoreFile: parts });
    const loaded = (await loadPayoutBatchFiles(store, 2n, big.root))!;
    expect(loaded.scoreFileSize).toBe(big.scoreFileSize);
    expect(loaded.scoreFileSha256).toBe(contentKey(new Uint8Array(Buffer.concat(parts))));
    expect(scoreFileHash(await loaded.readScoreFile())).toBe(big.scoreFileHash);
    expect(stored.ref).toBe(payoutBatchRef(2n, big.root));

    // A score file swapped under the manifest's SHA-256 cannot be: the store refuses its bytes as corrupt.
    const path = (store as Awaited<ReturnType<typeof openFsContentStore>>).pathOf(loaded.scoreFileSha256);
    chmodSync(path, 0o644);
    writeFileSync(path, 'tributary-score-file 1\nepoch 2\n');
    await expect(loaded.readScoreFile()).rejects.toThrow(ContentCorruptError);
  });

  it('refuses another batch under the same ref, and a manifest whose leaves do not give its root', async () => {
    const store = await freshStore();
    await storePayoutBatchFiles(store, batch);
    await expect(storePayoutBatchFiles(store, { ...batch, total: 98n })).rejects.toThrow(`${payoutBatchRef(2n, batch.root)} is already bound to another batch (total 99, score file ${batch.scoreFileHash})`);

    const other = await freshStore();
    const stored = await other.putStream(batch.scoreFile);
    const forged = {
      format: 'tributary-payout-batch-v1',
      epoch: '2',
      fromEpoch: '2',
      root: batch.root,
      total: '99',
      cumulativeTotal: '104',
      scoreFileHash: batch.scoreFileHash,
      scoreFile: { sha256: stored.hash, size: stored.size },
      leaves: [[A.toLowerCase(), '1000000']],
    };
    // Leaves that give the root but a score file hash that is not its bytes': the check on reading says so.
    const third = await freshStore();
    await third.putStream(batch.scoreFile);
    const misnamed = { ...forged, scoreFileHash: `0x${'11'.repeat(32)}`, leaves: batch.tree.leaves.map((l) => [l.account.toLowerCase(), l.cumulative.toString()]) };
    await third.bindRef(payoutBatchRef(2n, batch.root), (await third.put(new TextEncoder().encode(sortedJson(misnamed)))).hash);
    const loaded = (await loadPayoutBatchFiles(third, 2n, batch.root))!;
    await expect(loaded.readScoreFile()).rejects.toThrow(`stored payout batch ${payoutBatchRef(2n, batch.root)} is inconsistent: its score file does not hash to 0x${'11'.repeat(32)}`);
    expect(scoreFileHash(await loaded.readScoreFile({ checkHash: false }))).toBe(batch.scoreFileHash); // a rebuild compares the hash itself

    const put = await other.put(new TextEncoder().encode(sortedJson(forged)));
    await other.bindRef(payoutBatchRef(2n, batch.root), put.hash);
    await expect(loadPayoutBatchFiles(other, 2n, batch.root)).rejects.toThrow(`stored payout batch ${payoutBatchRef(2n, batch.root)} is inconsistent: its leaves give root`);
  });
});
