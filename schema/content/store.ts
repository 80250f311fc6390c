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

/** Content given in pieces, in order, of any sizes: an array, a generator, or a Node Readable. */
export type ContentChunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface GetStreamOptions {
  /** The largest piece yielded, in bytes (default 1 MiB). */
  chunkBytes?: number;
}

export interface ContentStore {
  /** Stores `bytes` under their hash; storing the same bytes again changes nothing. */
  put(bytes: Uint8Array): Promise<PutResult>;
  /**
   * Stores the concatenation of `chunks` as `put` stores bytes (atomically, under their hash, idempotent),
   * without ever holding it whole: each piece is hashed and written as it comes. For content too large
   * for one buffer or string (a score file of millions of lines). An error thrown by `chunks` itself is
   * passed on unchanged, and nothing is stored.
   */
  putStream(chunks: ContentChunks): Promise<PutResult>;
  /** The bytes stored under `hash`, checked against it. Throws ContentNotFoundError or ContentCorruptError. */
  get(hash: string): Promise<Uint8Array>;
  /**
   * The bytes stored under `hash` in pieces, for content too large to read at once. They are hashed as
   * they are read and the check comes last: after the final piece the iteration throws
   * ContentCorruptError if they do not hash to `hash`, so act on the pieces only once it has ended.
   * ContentNotFoundError (or InvalidContentKeyError) comes from the first step of the iteration.
   */
  getStream(hash: string, opts?: GetStreamOptions): AsyncIterable<Uint8Array>;
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

// One update takes at most 2 GiB ("data is too long"), so larger contents are hashed a slice at a time.
const HASH_SLICE_BYTES = 2 ** 30;

/** SHA-256 of `bytes` as 64 lowercase hex digits: the name content is stored under. */
export function contentKey(bytes: Uint8Array): string {
  const h = createHash('sha256');
  for (let at = 0; at < bytes.byteLength; at += HASH_SLICE_BYTES) h.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
  return h.digest('hex');
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
