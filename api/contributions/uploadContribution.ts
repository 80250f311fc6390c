// Uploading a contribution file: checked, stored in the content store (the source of truth), copied into
// ClickHouse, and answered with the content hash and the unsigned transactions the contributor's wallet
// signs to make the contribution on-chain. Until that transaction is mined the rows count for nothing;
// they count only for the address that uploaded them (rows are matched to contributions by content hash
// and contributor).
//
// Order matters so that a refused upload changes nothing: size, signature, datanet, parse and the
// contribution's own checks (stake, balance) all come before the quota is charged and anything is stored.
// A failure while storing gives the quota back. Uploading the same rows again from the same address is
// free and idempotent: it re-copies them into ClickHouse (harmless) and answers as the first time.
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { getAddress, type Address, type Hex } from 'viem';
import {
  buildContributeTransactions,
  ContractRevertError,
  getDatanet,
  type ChainContext,
  type UnsignedTransaction,
} from '../../contracts/index.ts';
import {
  contentHash as contentHashOf,
  ContentStoreError,
  getUploadQuota,
  loadContribution,
  insertContentRows,
  insertContentUpload,
  loadUpload,
  parseRows,
  recordUpload,
  releaseUploadQuota,
  reserveUploadQuota,
  rowHash,
  RowFormatError,
  storeContribution,
  type ContentStore,
  type OperationalDb,
  type RowLimits,
  type Row,
  type RowShape,
} from '../../schema/index.ts';
import {
  BadUploadError,
  UploadDatanetNotFoundError,
  UploadQuotaExceededError,
  UploadRefusedError,
  UploadSignatureError,
  UploadTooLargeError,
} from './errors.ts';
import { recoverUploader } from './uploadSignature.ts';

export interface UploadLimits {
  /** Largest file accepted, bytes. */
  maxFileBytes: number;
  /** Bytes one address may upload per UTC day. */
  dailyBytes: number;
  /** Row limits (the file limit above replaces theirs). */
  rows: Omit<RowLimits, 'maxFileBytes'>;
}

export interface UploadContext {
  clickhouse: ClickHouseClient;
  db: OperationalDb;
  content: ContentStore;
  chain: ChainContext;
  limits: UploadLimits;
  now?: () => Date;
}

export interface UploadContributionParameters {
  datanetId: bigint;
  /** The address that signed the upload and will sign the contribution. */
  contributor: string;
  /** EIP-712 signature over (datanetId, SHA-256 of the file); see uploadSignature.ts. */
  signature: Hex;
  filename: string;
  bytes: Uint8Array;
  /** Stake to lock, wei; default the datanet's required stake. */
  stake?: bigint;
}

export interface UploadContributionReturnType {
  datanetId: bigint;
  contributor: Address;
  /** What the on-chain contribution carries: the Merkle root of the row hashes. */
  contentHash: Hex;
  fileSha256: string;
  manifestSha256: string;
  receiptSha256: string;
  filename: string;
  fileBytes: number;
  rowCount: number;
  shape: RowShape;
  /** False when this address had uploaded these rows before (nothing was charged or stored again). */
  created: boolean;
  /** Rows already owned by an earlier on-chain contribution: they will be flagged and earn nothing. */
  duplicateRows: number;
  quota: { day: string; usedBytes: number; limitBytes: number; resetsAt: string };
  /** The contribution the transactions make. */
  contribution: { size: bigint; uri: string; stake: bigint };
  /** Send `approve` first when present, then `contribute`. */
  transactions: { approve: UnsignedTransaction | undefined; contribute: UnsignedTransaction };
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
const nextUtcMidnight = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));

export async function uploadContribution(ctx: UploadContext, p: UploadContributionParameters): Promise<UploadContributionReturnType> {
  const { limits } = ctx;
  const now = (ctx.now ?? (() => new Date()))();
  if (!/^0x[0-9a-fA-F]{40}$/.test(p.contributor)) throw new BadUploadError(`contributor must be an address (0x and 40 hex digits), got "${p.contributor}"`);
  const contributor = getAddress(p.contributor);
  if (p.bytes.length > limits.maxFileBytes) {
    throw new UploadTooLargeError(`the file is ${p.bytes.length} bytes; the limit is ${limits.maxFileBytes} bytes per file`);
  }
  if (p.bytes.length === 0) throw new BadUploadError('the file is empty');

  const fileSha256 = createHash('sha256').update(p.bytes).digest('hex');
  const registry = ctx.chain.deployment.contracts.DatanetRegistry;
  const chainId = ctx.chain.deployment.chainId;
  const signer = await recoverUploader({ chainId, registry, datanetId: p.datanetId, fileSha256, signature: p.signature });
  if (signer === undefined) throw new UploadSignatureError('the signature is malformed: expected a 65-byte EIP-712 signature as 0x-hex');
  if (signer !== contributor) {
    throw new UploadSignatureError(
      `the signature is not ${contributor}'s over this file for datanet ${p.datanetId} on chain ${chainId} (it recovers to ${signer})`,
    );
  }

  let requiredStake: bigint;
  try {
    requiredStake = (await getDatanet(ctx.chain, p.datanetId)).requiredStake;
  } catch (e) {
    if (e instanceof ContractRevertError && e.errorName === 'DatanetNotFound') throw new UploadDatanetNotFoundError(`datanet ${p.datanetId} does not exist`);
    throw e;
  }

  let parsed;
  try {
    parsed = parseRows({ bytes: p.bytes, filename: p.filename, limits: { ...limits.rows, maxFileBytes: limits.maxFileBytes } });
  } catch (e) {
    if (e instanceof RowFormatError) throw new BadUploadError(e.message, { cause: e });
    throw e;
  }
  const rowHashes = parsed.rows.map(rowHash);
  const contentHash = contentHashOf(rowHashes);
  const stake = p.stake ?? requiredStake;
  const contribution = { size: BigInt(p.bytes.length), uri: `sha256:${fileSha256}`, stake };

  let transactions;
  try {
    transactions = await buildContributeTransactions(ctx.chain, { from: contributor, datanetId: p.datanetId, contentHash, ...contribution });
  } catch (e) {
    if (e instanceof ContractRevertError) throw new UploadRefusedError(e.message.split('\n')[0]!, { details: e.details, cause: e });
    throw e;
  }

  const day = utcDay(now);
  const earlier = await loadUpload(ctx.content, contentHash, contributor.toLowerCase() as Address);
  let upload = earlier && { ...earlier, created: false };
  // The rows in the order of the first upload of this content hash (by anyone): the same rows may come
  // in another order or format later, and row indexes must not change.
  let stored: { rows: Row[]; rowHashes: Hex[] } | undefined;
  let usedBytes: number;
  if (upload) {
    usedBytes = (await getUploadQuota(ctx.db, { address: contributor, day })).usedBytes;
    stored = await loadContribution(ctx.content, contentHash);
    if (!stored) throw new ContentStoreError(`upload receipt ${upload.receiptHash} names rows ${contentHash} that the store does not hold`);
  } else {
    const reserved = await reserveUploadQuota(ctx.db, { address: contributor, day, bytes: p.bytes.length, limit: limits.dailyBytes });
    if (!reserved.granted) {
      const resetsAt = nextUtcMidnight(now);
      throw new UploadQuotaExceededError(
        `${contributor} has uploaded ${reserved.usedBytes} of its ${limits.dailyBytes} bytes today (UTC ${day}); this file is ${p.bytes.length} bytes. The quota resets at ${resetsAt.toISOString()}`,
        Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)),
      );
    }
    usedBytes = reserved.usedBytes;
    try {
      const contribution = await storeContribution({ store: ctx.content, bytes: p.bytes, filename: p.filename, limits: { ...limits.rows, maxFileBytes: limits.maxFileBytes }, parsed });
      stored = contribution;
      upload = await recordUpload(ctx.content, {
        format: 'tributary-upload-v1',
        contentHash,
        uploader: contributor.toLowerCase() as Address,
        datanetId: p.datanetId.toString(),
        fileSha256,
        manifestSha256: contribution.manifestHash,
        filename: contribution.manifest.original.filename,
        fileBytes: p.bytes.length,
        rowCount: parsed.rows.length,
        shape: parsed.shape,
        signature: p.signature.toLowerCase() as Hex,
        uploadedAt: now.toISOString(),
      });
    } catch (e) {
      await releaseUploadQuota(ctx.db, { address: contributor, day, bytes: p.bytes.length });
      throw e;
    }
  }

  // The files are committed; the copy in ClickHouse is re-made at every upload and at every start.
  await insertContentRows(ctx.clickhouse, contentHash, stored.rows, stored.rowHashes);
  await insertContentUpload(ctx.clickhouse, upload);
  const [dup] = await (
    await ctx.clickhouse.query({
      query: `SELECT toUInt64(count()) AS n FROM row_owners
              WHERE row_hash IN (SELECT row_hash FROM content_rows FINAL WHERE content_hash = unhex(substring({h:String}, 3)))`,
      query_params: { h: contentHash },
      format: 'JSONEachRow',
    })
  ).json<{ n: string }>();

  const r = upload.receipt;
  return {
    datanetId: p.datanetId,
    contributor,
    contentHash,
    fileSha256: r.fileSha256,
    manifestSha256: r.manifestSha256,
    receiptSha256: upload.receiptHash,
    filename: r.filename,
    fileBytes: r.fileBytes,
    rowCount: r.rowCount,
    shape: r.shape,
    created: upload.created,
    duplicateRows: Number(dup?.n ?? 0),
    quota: { day, usedBytes, limitBytes: limits.dailyBytes, resetsAt: nextUtcMidnight(now).toISOString() },
    contribution,
    transactions,
  };
}
