// A published datanet version as training and attribution read it: its contributions (accepted before
// it was published, checked against the published root) and a stream of their rows. Rows come from the
// queryable copy (migration 4), each with its row hash so a reader can check it against the files.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Address, Hex } from 'viem';
import { datanetVersionRoot } from '../rows/datanetVersionRoot.ts';
import type { Row, RowShape } from '../rows/row.ts';
import { DatanetVersionMismatchError, DatanetVersionNotFoundError } from './errors.ts';

export interface DatanetVersionContribution {
  contributionId: bigint;
  contentHash: Hex;
  contributor: Address;
  /** False: the contributor never uploaded its rows (flagged; it adds no rows to the version). */
  rowsPresent: boolean;
  rowCount: number;
}

export interface DatanetVersionRow {
  contributionId: bigint;
  rowIndex: number;
  rowHash: Hex;
  contributor: Address;
  shape: RowShape;
  row: Row;
  /** False: an earlier contribution owns this row; it is part of the data but earns nothing here. */
  owned: boolean;
}

export interface DatanetVersion {
  datanetId: bigint;
  version: bigint;
  root: Hex;
  contributions: DatanetVersionContribution[];
  /** Rows of the version's contributions in (contribution, row index) order, read a page at a time. */
  rows(options?: { pageSize?: number }): AsyncGenerator<DatanetVersionRow>;
}

const q = async <T>(client: ClickHouseClient, query: string, query_params: Record<string, unknown>) =>
  (await client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

/**
 * Opens a published version. Throws DatanetVersionNotFoundError when it is not indexed, and
 * DatanetVersionMismatchError when its root is not the root of its accepted contributions.
 */
export async function openDatanetVersion(client: ClickHouseClient, p: { datanetId: bigint; version: bigint }): Promise<DatanetVersion> {
  const params = { datanet: p.datanetId.toString(), version: p.version.toString() };
  const [head] = await q<{ root: Hex; contribution_count: string }>(
    client,
    `SELECT concat('0x', lower(hex(root))) AS root, toString(contribution_count) AS contribution_count
     FROM datanet_versions WHERE datanet_id = {datanet:UInt256} AND version = {version:UInt256}`,
    params,
  );
  if (!head) {
    throw new DatanetVersionNotFoundError(`datanet ${p.datanetId} has no version ${p.version} (or the indexer has not reached it yet)`, { retryable: true });
  }
  const members = await q<{ contribution_id: string; content_hash: Hex; contributor: Address; rows_present: boolean; row_count: number }>(
    client,
    `SELECT toString(v.contribution_id) AS contribution_id, concat('0x', lower(hex(v.content_hash))) AS content_hash,
            concat('0x', lower(hex(v.contributor))) AS contributor, c.rows_present AS rows_present, c.row_count AS row_count
     FROM (SELECT contribution_id, content_hash, contributor FROM datanet_version_contributions
           WHERE datanet_id = {datanet:UInt256} AND version = {version:UInt256}) AS v
     LEFT JOIN (SELECT contribution_id, rows_present, row_count FROM contribution_content WHERE datanet_id = {datanet:UInt256}) AS c
       ON c.contribution_id = v.contribution_id
     ORDER BY v.contribution_id
     SETTINGS join_use_nulls = 0`,
    params,
  );
  const contributions = members.map((m) => ({
    contributionId: BigInt(m.contribution_id),
    contentHash: m.content_hash,
    contributor: m.contributor,
    rowsPresent: Boolean(m.rows_present),
    rowCount: Number(m.row_count),
  }));
  const computed = contributions.length ? datanetVersionRoot(contributions) : undefined;
  if (computed !== head.root || BigInt(head.contribution_count) !== BigInt(contributions.length)) {
    throw new DatanetVersionMismatchError(`datanet ${p.datanetId} version ${p.version} does not match its accepted contributions`, {
      details: `published root ${head.root} over ${head.contribution_count} contributions; the ${contributions.length} accepted before it give ${computed ?? 'no root'}`,
    });
  }
  return {
    datanetId: p.datanetId,
    version: p.version,
    root: head.root,
    contributions,
    rows: (options) => versionRows(client, params, options?.pageSize ?? 5000),
  };
}

type RowRecord = {
  contribution_id: string; row_index: number; row_hash: Hex; contributor: Address; shape: RowShape;
  text: string; prompt: string; completion: string; label: string; owned: boolean;
};

async function* versionRows(client: ClickHouseClient, params: Record<string, string>, pageSize: number): AsyncGenerator<DatanetVersionRow> {
  // Keyset pages over (contribution_id, row_index): memory stays at one page whatever the version's size.
  let after = { id: '0', index: -1 };
  for (;;) {
    const page = await q<RowRecord>(
      client,
      `SELECT toString(r.contribution_id) AS contribution_id, r.row_index AS row_index, concat('0x', lower(hex(r.row_hash))) AS row_hash,
              concat('0x', lower(hex(r.contributor))) AS contributor, r.shape AS shape, r.text AS text, r.prompt AS prompt,
              r.completion AS completion, r.label AS label, r.owned AS owned
       FROM datanet_rows AS r
       WHERE r.contribution_id IN (SELECT contribution_id FROM datanet_version_contributions
                                   WHERE datanet_id = {datanet:UInt256} AND version = {version:UInt256})
         AND (r.contribution_id, r.row_index) > ({after_id:UInt256}, {after_index:Int64})
       ORDER BY r.contribution_id, r.row_index
       LIMIT {limit:UInt32}`,
      { ...params, after_id: after.id, after_index: after.index, limit: pageSize },
    );
    for (const r of page) {
      yield {
        contributionId: BigInt(r.contribution_id),
        rowIndex: r.row_index,
        rowHash: r.row_hash,
        contributor: r.contributor,
        shape: r.shape,
        row: rowOf(r),
        owned: Boolean(r.owned),
      };
    }
    if (page.length < pageSize) return;
    const last = page.at(-1)!;
    after = { id: last.contribution_id, index: last.row_index };
  }
}

function rowOf(r: RowRecord): Row {
  if (r.shape === 'prompt-completion') return { prompt: r.prompt, completion: r.completion };
  if (r.shape === 'text-label') return { text: r.text, label: r.label };
  return { text: r.text };
}
