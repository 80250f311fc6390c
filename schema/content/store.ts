// The content store: the off-chain source of truth for contributed files and adapters (DESIGN.md, "Data:
// where the truth lives"). Content is addressed by the SHA-256 of its bytes, as 64 lowercase hex digits
// with no 0x: a standard any tool can check (`sha256sum`), and separate from the keccak256 row hashes and
// Merkle roots that go on-chain. Put is idempotent and atomic; stored bytes never change.
// Refs are the one mutable-looking part, and even they are write-once: a ref name (such as
// `contributions/<contentHash>`) is bound to a content hash by the first writer and never rebound.
import { createHash } from 'node:crypto';
import { InvalidContentKeyError } from './errors.ts';

export interface PutResult {
  /** SHA-256 of the bytes, 64 lowercase hex digits. */
  hash: string;
  size: number;
  /** Where the store keeps the bytes: a file path, or an object key in an object store. */
  path: string;
  /** False when the same content was already stored. */
  created: boolean;
}

export type VerifyResult =
  | { status: 'ok'; size: number }
  | { status: 'missing' }
  | { status: 'corrupt'; actualHash: string; path: string };

export interface ContentStore {
  /** Stores `bytes` under their hash; storing the same bytes again changes nothing. */
  put(bytes: Uint8Array): Promise<PutResult>;
  /** The bytes stored under `hash`, checked against it. Throws ContentNotFoundError or ContentCorruptError. */
  get(hash: string): Promise<Uint8Array>;
  has(hash: string): Promise<boolean>;
  /** Re-hashes the stored bytes. */
  verify(hash: string): Promise<VerifyResult>;
  /**
   * Binds `ref` to `hash` unless `ref` is already bound; returns the hash `ref` is bound to afterwards
   * (the earlier one when there was one). `hash` must already be stored.
   */
  bindRef(ref: string, hash: string): Promise<string>;
  /** The hash `ref` is bound to, or undefined. */
  getRef(ref: string): Promise<string | undefined>;
  /** Every bound ref under `prefix` (a ref name's leading segments), sorted. */
  listRefs(prefix: string): Promise<string[]>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
// Segments of letters, digits, _ and -, joined by "/": no ".", so no way out of the refs folder.
const REF = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** SHA-256 of `bytes` as 64 lowercase hex digits: the name content is stored under. */
export function contentKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws InvalidContentKeyError unless `hash` is 64 lowercase hex digits. */
export function checkContentKey(hash: string): string {
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
    throw new InvalidContentKeyError(`not a content hash: ${JSON.stringify(hash)}; expected 64 lowercase hex digits of SHA-256 (no 0x)`);
  }
  return hash;
}

/** Throws InvalidContentKeyError unless `ref` is a valid ref name. */
export function checkRefName(ref: string): string {
  if (typeof ref !== 'string' || ref.length > 200 || !REF.test(ref)) {
    throw new InvalidContentKeyError(`not a ref name: ${JSON.stringify(ref)}; expected segments of letters, digits, _ and - joined by /`);
  }
  return ref;
}
