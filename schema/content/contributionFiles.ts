// How a contribution's files sit in the content store. An upload stores three objects:
//   - the original bytes, exactly as uploaded (what the contributor can always get back);
//   - the canonical rows file: each row's canonical JSON and "\n", in file order (what training,
//     attribution and ClickHouse read; hashing a line's bytes gives its row hash);
//   - a manifest (canonical JSON: sorted keys, no whitespace) naming both, with the content hash;
// and then binds the ref `contributions/<contentHash>` to the manifest. That binding is the commit point:
// a crash before it leaves unreferenced objects and nothing else. The first manifest bound to a content
// hash stays: a later upload of the same rows (in any order or format, see rows/contentHash.ts) gets
// that manifest back and stores nothing.
import { basename } from 'node:path';
import { z } from 'zod';
import type { Hex } from 'viem';
import { decodeCanonicalJsonl, encodeCanonicalJsonl, rowHash } from '../rows/canonical.ts';
import { contentHash as contentHashOf } from '../rows/contentHash.ts';
import { parseRows, type ParsedRows, type RowLimits } from '../rows/parse.ts';
import type { Row } from '../rows/row.ts';
import { ContentStoreError } from './errors.ts';
import { sortedJson } from './sortedJson.ts';
import type { ContentStore } from './store.ts';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const contributionManifestSchema = z.strictObject({
  format: z.literal('tributary-contribution-v1'),
  /** Merkle root of the row hashes: what the on-chain contribution carries. */
  contentHash: z.string().regex(/^0x[0-9a-f]{64}$/).transform((v) => v as Hex),
  shape: z.enum(['text', 'prompt-completion', 'text-label']),
  rowCount: z.number().int().positive(),
  original: z.strictObject({
    /** The uploaded file's base name. */
    filename: z.string().min(1),
    format: z.enum(['text', 'csv', 'jsonl']),
    sha256,
    size: z.number().int().nonnegative(),
  }),
  /** The canonical rows file. */
  rows: z.strictObject({ sha256, size: z.number().int().positive() }),
});

export type ContributionManifest = z.infer<typeof contributionManifestSchema>;

/** The ref under which a content hash's manifest is bound. */
export function contributionRef(contentHash: Hex): string {
  return `contributions/${contentHash}`;
}

export interface StoreContributionParameters {
  store: ContentStore;
  bytes: Uint8Array;
  filename: string;
  limits: RowLimits;
  /** `bytes` already parsed by parseRows (with the same filename and limits): skips parsing them again. */
  parsed?: ParsedRows;
}

export interface StoredContribution {
  contentHash: Hex;
  /** SHA-256 of the manifest: its name in the store. */
  manifestHash: string;
  manifest: ContributionManifest;
  /** Canonical rows, in the order of the stored canonical rows file. */
  rows: Row[];
  rowHashes: Hex[];
  /** False when these rows were stored before: everything above is the earlier upload's. */
  created: boolean;
}

/**
 * Parses an uploaded file and stores it with its canonical rows and manifest. Throws RowFormatError for a
 * bad file (and stores nothing), ContentStoreError when the store fails.
 */
export async function storeContribution({ store, bytes, filename, limits, parsed: given }: StoreContributionParameters): Promise<StoredContribution> {
  const parsed = given ?? parseRows({ bytes, filename, limits });
  const rowHashes = parsed.rows.map(rowHash);
  const contentHash = contentHashOf(rowHashes);

  const earlier = await loadContribution(store, contentHash);
  if (earlier) return { ...earlier, created: false };

  const original = await store.put(bytes);
  const rowsFile = await store.put(encodeCanonicalJsonl(parsed.rows));
  const manifest: ContributionManifest = {
    format: 'tributary-contribution-v1',
    contentHash,
    shape: parsed.shape,
    rowCount: parsed.rows.length,
    original: { filename: basename(filename.replaceAll('\\', '/')) || filename, format: parsed.format, sha256: original.hash, size: original.size },
    rows: { sha256: rowsFile.hash, size: rowsFile.size },
  };
  const stored = await store.put(new TextEncoder().encode(sortedJson(manifest)));
  const bound = await store.bindRef(contributionRef(contentHash), stored.hash);
  if (bound !== stored.hash) {
    // Another upload of the same rows bound its manifest first.
    const winner = await loadContribution(store, contentHash);
    if (!winner) throw new ContentStoreError(`contribution ${contentHash} vanished while being stored`, { retryable: true });
    return { ...winner, created: false };
  }
  return { contentHash, manifestHash: stored.hash, manifest, rows: parsed.rows, rowHashes, created: true };
}

export type LoadedContribution = Omit<StoredContribution, 'created'>;

/**
 * The stored contribution with this content hash, or undefined if none is bound. Everything is checked:
 * the manifest's form, every object's hash, and that the rows file's rows hash to the content hash.
 * Throws ContentStoreError (or a subclass) when something stored is wrong.
 */
export async function loadContribution(store: ContentStore, contentHash: Hex): Promise<LoadedContribution | undefined> {
  const manifestHash = await store.getRef(contributionRef(contentHash));
  if (manifestHash === undefined) return undefined;
  const bad = (why: string) => new ContentStoreError(`stored contribution ${contentHash} is inconsistent: ${why}`);

  let manifest: ContributionManifest;
  try {
    manifest = contributionManifestSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(manifestHash))));
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw bad(`manifest ${manifestHash} is not a contribution manifest (${(e as Error).message})`);
  }
  let rows: Row[];
  try {
    rows = decodeCanonicalJsonl(await store.get(manifest.rows.sha256), `rows file ${manifest.rows.sha256}`);
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw bad((e as Error).message);
  }
  const rowHashes = rows.map(rowHash);
  const actual = contentHashOf(rowHashes);
  if (manifest.contentHash !== contentHash || actual !== contentHash) {
    throw bad(`the manifest says ${manifest.contentHash} and its rows hash to ${actual}`);
  }
  if (rows.length !== manifest.rowCount) throw bad(`the manifest says ${manifest.rowCount} rows, the rows file has ${rows.length}`);
  return { contentHash, manifestHash, manifest, rows, rowHashes };
}
