// Writes the queryable copy of uploaded content (migration 4: content_rows, content_uploads) and
// re-syncs it from the content store, which is the source of truth: an upload whose ClickHouse insert
// never happened (a crash, ClickHouse down) is copied at the next start, and a wiped ClickHouse is
// refilled from the files.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { loadContribution } from '../content/contributionFiles.ts';
import type { ContentStore } from '../content/store.ts';
import { listUploads, type StoredUpload } from '../content/uploads.ts';
import type { Row } from '../rows/row.ts';
import { ContentStoreError } from '../content/errors.ts';
import { tsvDateTime64, tsvString } from './tsv.ts';

const ROW_COLUMNS = ['content_hash_hex', 'row_index', 'row_hash_hex', 'shape', 'text', 'prompt', 'completion', 'label'] as const;
const UPLOAD_COLUMNS = [
  'content_hash_hex', 'uploader_hex', 'datanet_id', 'file_sha256_hex', 'manifest_sha256_hex', 'receipt_sha256_hex',
  'filename', 'file_bytes', 'row_count', 'shape', 'uploaded_at',
] as const;

const field = (row: Row, key: 'text' | 'prompt' | 'completion' | 'label') => tsvString((row as unknown as Record<string, string>)[key] ?? '');

function shapeOf(row: Row): string {
  if ('prompt' in row) return 'prompt-completion';
  return 'label' in row ? 'text-label' : 'text';
}

/** Inserts a content hash's rows (identical rows inserted again are merged away: read with FINAL). */
export async function insertContentRows(client: ClickHouseClient, contentHash: Hex, rows: readonly Row[], rowHashes: readonly Hex[]): Promise<void> {
  const ch = contentHash.slice(2);
  const lines = rows.map(
    (r, i) =>
      `${ch}\t${i}\t${rowHashes[i]!.slice(2)}\t${shapeOf(r)}\t${field(r, 'text')}\t${field(r, 'prompt')}\t${field(r, 'completion')}\t${field(r, 'label')}\n`,
  );
  // Batches keep one insert body well under chDB's and the server's limits for a 100k-row file.
  for (let i = 0; i < lines.length; i += 20_000) {
    await client.insert({
      table: 'content_rows',
      columns: [...ROW_COLUMNS],
      format: 'TabSeparated',
      values: Readable.from([lines.slice(i, i + 20_000).join('')], { objectMode: false }),
    });
  }
}

/** Inserts one upload receipt. */
export async function insertContentUpload(client: ClickHouseClient, upload: Omit<StoredUpload, 'created'>): Promise<void> {
  const r = upload.receipt;
  const line = [
    r.contentHash.slice(2), r.uploader.slice(2), r.datanetId, r.fileSha256, r.manifestSha256, upload.receiptHash,
    tsvString(r.filename), r.fileBytes, r.rowCount, r.shape, tsvDateTime64(Date.parse(r.uploadedAt)),
  ].join('\t');
  await client.insert({
    table: 'content_uploads',
    columns: [...UPLOAD_COLUMNS],
    format: 'TabSeparated',
    values: Readable.from([`${line}\n`], { objectMode: false }),
  });
}

export interface SyncContentResult {
  /** Upload receipts in the content store. */
  uploads: number;
  /** Of those, the ones copied now because ClickHouse lacked them. */
  copied: number;
}

/**
 * Copies into ClickHouse every upload in the content store that it lacks (with its rows). Throws a
 * ContentStoreError naming the upload when the store's files are inconsistent.
 */
export async function syncContentRows(client: ClickHouseClient, store: ContentStore): Promise<SyncContentResult> {
  const have = new Set(
    (
      await (
        await client.query({
          query: `SELECT DISTINCT concat('0x', lower(hex(content_hash)), '/0x', lower(hex(uploader))) AS k FROM content_uploads`,
          format: 'JSONEachRow',
        })
      ).json<{ k: string }>()
    ).map((r) => r.k),
  );
  const rowsPresent = new Set<string>();
  let uploads = 0;
  let copied = 0;
  for await (const upload of listUploads(store)) {
    uploads++;
    const { contentHash, uploader } = upload.receipt;
    if (have.has(`${contentHash}/${uploader}`)) continue;
    if (!rowsPresent.has(contentHash)) {
      const c = await loadContribution(store, contentHash);
      if (!c) throw new ContentStoreError(`upload receipt ${upload.receiptHash} names rows ${contentHash} that the store does not hold`);
      await insertContentRows(client, contentHash, c.rows, c.rowHashes);
      rowsPresent.add(contentHash);
    }
    await insertContentUpload(client, upload);
    copied++;
  }
  return { uploads, copied };
}
