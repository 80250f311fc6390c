// What a contributor's wallet does with the contribution path, for `tributary contribute` and the demo:
// sign the upload, POST the file to a running platform (or hand it to the upload service in-process),
// then sign and send the transactions the upload answered with.
import { createHash } from 'node:crypto';
import { parseEventLogs, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainError, DatanetRegistryAbi, TributaryError, type ChainContext } from '../contracts/index.ts';
import { uploadTypedData, type UploadJson } from '../api/index.ts';

export interface ContributionFile {
  datanetId: bigint;
  filename: string;
  bytes: Uint8Array;
  /** Stake in wei; default the datanet's required stake. */
  stake?: bigint;
}

/** The platform refused the upload: its HTTP status and message. */
export class UploadRefusedByServerError extends TributaryError {
  override name = 'UploadRefusedByServerError';
  constructor(
    message: string,
    readonly status: number,
    opts: { details?: string; retryable?: boolean } = {},
  ) {
    super(message, opts);
  }
}

/** Signs the upload with `key` and POSTs it to the platform at `baseUrl`. */
export async function postContribution(p: { baseUrl: string; chain: ChainContext; key: Hex } & ContributionFile): Promise<UploadJson> {
  const account = privateKeyToAccount(p.key);
  const signature = await signUpload(p.chain, p.key, p.datanetId, p.bytes);
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(p.bytes)]), p.filename);
  form.set('contributor', account.address);
  form.set('signature', signature);
  if (p.stake !== undefined) form.set('stake', p.stake.toString());
  const url = `${p.baseUrl}/datanets/${p.datanetId}/contributions`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: form });
  } catch (e) {
    throw new TributaryError(`cannot reach the platform at ${url}`, { details: (e as Error).message, retryable: true, cause: e });
  }
  const body = (await res.json().catch(() => ({}))) as Partial<UploadJson> & { error?: string; details?: string };
  if (!res.ok) {
    throw new UploadRefusedByServerError(body.error ?? `the upload failed with HTTP ${res.status}`, res.status, {
      details: body.details,
      retryable: res.status === 429 || res.status >= 500,
    });
  }
  return body as UploadJson;
}

/** The EIP-712 upload signature (see api/contributions/uploadSignature.ts). */
export async function signUpload(chain: ChainContext, key: Hex, datanetId: bigint, bytes: Uint8Array): Promise<Hex> {
  const fileSha256 = createHash('sha256').update(bytes).digest('hex');
  return privateKeyToAccount(key).signTypedData(
    uploadTypedData({ chainId: chain.deployment.chainId, registry: chain.deployment.contracts.DatanetRegistry, datanetId, fileSha256 }),
  );
}

export interface SentContribution {
  contributionId: bigint;
  contributor: Address;
  txHash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
  /** The stake approval, when one was needed. */
  approveTxHash: Hex | undefined;
}

/** Signs and sends the upload's transactions (approve first, when present) and waits for them. */
export async function sendContributionTransactions(chain: ChainContext, key: Hex, upload: UploadJson): Promise<SentContribution> {
  const wallet = chain.conn.wallet(key);
  const send = async (tx: { to: string; data: Hex; value: string }, what: string) => {
    const hash = await wallet.sendTransaction({ to: tx.to as Address, data: tx.data, value: BigInt(tx.value) });
    const receipt = await chain.conn.publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
    if (receipt.status !== 'success') throw new ChainError(`the ${what} transaction ${hash} reverted in block ${receipt.blockNumber}`, { retryable: true });
    return receipt;
  };
  const approve = upload.transactions.approve ? await send(upload.transactions.approve, 'stake approval') : undefined;
  const receipt = await send(upload.transactions.contribute, 'contribute');
  const [ev] = parseEventLogs({ abi: DatanetRegistryAbi, logs: receipt.logs, eventName: 'ContributionSubmitted' });
  if (!ev) throw new ChainError(`transaction ${receipt.transactionHash} emitted no ContributionSubmitted event`);
  return {
    contributionId: ev.args.contributionId,
    contributor: ev.args.contributor,
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    approveTxHash: approve?.transactionHash,
  };
}
