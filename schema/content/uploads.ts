// Upload receipts: who uploaded which rows, kept in the content store beside the rows themselves, so that
// the queryable copy in ClickHouse (content_uploads, content_rows) can be rebuilt from the files alone.
// A receipt names the uploader, the datanet the upload was signed for, the file and the contribution
// manifest, with the uploader's signature. It is bound to the ref `uploads/<contentHash>/<uploader>`:
// the first upload of these rows by an address is the one kept (the binding is the commit point).
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { ContentStoreError } from './errors.ts';
import { sortedJson } from './sortedJson.ts';
import type { ContentStore } from './store.ts';

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`));
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const uploadReceiptSchema = z.strictObject({
  format: z.literal('tributary-upload-v1'),
  contentHash: hex(32).transform((v) => v as Hex),
  /** Lowercase 0x-hex. */
  uploader: hex(20).transform((v) => v as Address),
  /** Decimal string. */
  datanetId: z.string().regex(/^(0|[1-9][0-9]*)$/),
  fileSha256: sha256,
  manifestSha256: sha256,
  filename: z.string().min(1),
  fileBytes: z.number().int().nonnegative(),
  rowCount: z.number().int().positive(),
  shape: z.enum(['text', 'prompt-completion', 'text-label']),
  /** The uploader's EIP-712 signature over (datanetId, fileSha256); see api/contributions. */
  signature: z.string().regex(/^0x[0-9a-f]+$/).transform((v) => v as Hex),
  /** ISO-8601 UTC. */
  uploadedAt: z.string().datetime(),
});

export type UploadReceipt = z.infer<typeof uploadReceiptSchema>;

export interface StoredUpload {
  receipt: UploadReceipt;
  /** SHA-256 of the receipt: its name in the store. */
  receiptHash: string;
  /** False when this address had uploaded these rows before: the receipt is the earlier one. */
  created: boolean;
}

export function uploadRef(contentHash: Hex, uploader: Address): string {
  return `uploads/${contentHash.toLowerCase()}/${uploader.toLowerCase()}`;
}

/** Stores the receipt and binds it, unless the address already has one for these rows (then returns that). */
export async function recordUpload(store: ContentStore, receipt: UploadReceipt): Promise<StoredUpload> {
  const checked = uploadReceiptSchema.parse(receipt);
  const put = await store.put(new TextEncoder().encode(sortedJson(checked)));
  const bound = await store.bindRef(uploadRef(checked.contentHash, checked.uploader), put.hash);
  if (bound === put.hash) return { receipt: checked, receiptHash: put.hash, created: true };
  return { ...(await readReceipt(store, bound)), created: false };
}

/** The receipt of `uploader`'s upload of `contentHash`, or undefined. */
export async function loadUpload(store: ContentStore, contentHash: Hex, uploader: Address): Promise<Omit<StoredUpload, 'created'> | undefined> {
  const hash = await store.getRef(uploadRef(contentHash, uploader));
  return hash === undefined ? undefined : readReceipt(store, hash);
}

/** Every upload receipt in the store. */
export async function* listUploads(store: ContentStore): AsyncGenerator<Omit<StoredUpload, 'created'>> {
  for (const ref of await store.listRefs('uploads')) {
    const hash = await store.getRef(ref);
    if (hash !== undefined) yield readReceipt(store, hash);
  }
}

async function readReceipt(store: ContentStore, hash: string): Promise<Omit<StoredUpload, 'created'>> {
  try {
    return { receipt: uploadReceiptSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(hash)))), receiptHash: hash };
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw new ContentStoreError(`upload receipt ${hash} is not a receipt: ${(e as Error).message}`);
  }
}
