// What a contribution's contributor uploaded (migration 4): whether the rows are there at all, the file,
// and how many of its rows it owns (can earn) against how many are copies of rows an earlier contribution
// owns. Loadable by contribution id, so a page of contributions costs one query for all of them.
// DatanetRow: one uploaded row of a contribution, from the `datanet_rows` view.
import type { ApiContext, Builder } from '../builder.ts';
import { selectRows } from '../clickhouse.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';

export interface ContributionContentRow {
  contribution_id: string;
  rows_present: boolean;
  row_count: number;
  shape: string;
  filename: string;
  file_bytes: string;
  file_sha256: string;
  uploaded_at: string | null;
  owned_rows: string;
  copied_rows: string;
}

export interface DatanetRowRow {
  contribution_id: string;
  row_index: number;
  row_hash: string;
  shape: string;
  text: string;
  prompt: string;
  completion: string;
  label: string;
  owned: boolean;
  owner_contribution_id: string | null;
}

function loadContents(ids: readonly string[], ctx: ApiContext): Promise<ContributionContentRow[]> {
  return selectRows<ContributionContentRow>(
    ctx,
    `SELECT toString(c.contribution_id) AS contribution_id, c.rows_present AS rows_present, c.row_count AS row_count, c.shape AS shape,
            c.filename AS filename, toString(c.file_bytes) AS file_bytes, lower(hex(c.file_sha256)) AS file_sha256, c.uploaded_at AS uploaded_at,
            toString(r.owned_rows) AS owned_rows, toString(r.copied_rows) AS copied_rows
     FROM (SELECT * FROM contribution_content WHERE contribution_id IN {ids:Array(UInt256)}) AS c
     LEFT JOIN (
         SELECT contribution_id, countIf(owned) AS owned_rows, countIf(NOT owned) AS copied_rows
         FROM datanet_rows WHERE contribution_id IN {ids:Array(UInt256)} GROUP BY contribution_id
     ) AS r ON r.contribution_id = c.contribution_id
     SETTINGS join_use_nulls = 0`,
    { ids: ids.map((id) => BigInt(id)) },
  );
}

export function createContributionContentRef(builder: Builder) {
  return builder.loadableObjectRef('ContributionContent', {
    load: (ids: string[], ctx: ApiContext) => loadContents(ids, ctx),
    sort: (row) => row.contribution_id,
  });
}

export function createDatanetRowRef(builder: Builder) {
  return builder.objectRef<DatanetRowRow>('DatanetRow');
}

export function implementContributionContent(_builder: Builder, refs: Refs): void {
  refs.ContributionContent.implement({
    description:
      "A contribution's rows as its contributor uploaded them. Rows count only when the address that contributed on chain uploaded them; a row already owned by an earlier contribution is a copy and earns nothing.",
    fields: (t) => ({
      rowsPresent: t.exposeBoolean('rows_present', {
        description: 'False: the contributor never uploaded rows with this content hash; the contribution is flagged and earns nothing.',
      }),
      rowCount: t.int({ description: 'Rows uploaded (0 when missing).', resolve: (c) => c.row_count }),
      ownedRows: t.int({ description: 'Rows this contribution owns: the first on-chain contribution to carry them.', resolve: (c) => toInt(c.owned_rows, 'owned_rows') }),
      copiedRows: t.int({ description: 'Rows an earlier contribution owns (flagged copies).', resolve: (c) => toInt(c.copied_rows, 'copied_rows') }),
      shape: t.string({ nullable: true, description: '"text", "prompt-completion" or "text-label"; null when missing.', resolve: (c) => c.shape || null }),
      filename: t.string({ nullable: true, description: "The uploaded file's name; null when missing.", resolve: (c) => c.filename || null }),
      fileBytes: t.expose('file_bytes', { type: 'BigInt', description: 'Size of the uploaded file (0 when missing).' }),
      fileSha256: t.string({
        nullable: true,
        description: 'SHA-256 of the uploaded file, 64 hex digits (its name in the content store); null when missing.',
        resolve: (c) => (c.rows_present ? c.file_sha256 : null),
      }),
      uploadedAt: t.expose('uploaded_at', { type: 'DateTime', nullable: true, description: "The contributor's first upload of these rows." }),
    }),
  });

  refs.DatanetRow.implement({
    description: 'One row of a contribution, in its canonical form.',
    fields: (t) => ({
      rowIndex: t.int({ description: 'Position in the contributed file, from 0.', resolve: (r) => r.row_index }),
      rowHash: t.expose('row_hash', { type: 'Bytes32', description: "keccak256 of the row's canonical encoding." }),
      shape: t.exposeString('shape', { description: '"text", "prompt-completion" or "text-label".' }),
      text: t.string({ nullable: true, description: 'The text (text and text-label rows).', resolve: (r) => (r.shape === 'prompt-completion' ? null : r.text) }),
      prompt: t.string({ nullable: true, description: 'The prompt (prompt-completion rows).', resolve: (r) => (r.shape === 'prompt-completion' ? r.prompt : null) }),
      completion: t.string({ nullable: true, description: 'The completion (prompt-completion rows).', resolve: (r) => (r.shape === 'prompt-completion' ? r.completion : null) }),
      label: t.string({ nullable: true, description: 'The label (text-label rows).', resolve: (r) => (r.shape === 'text-label' ? r.label : null) }),
      owned: t.exposeBoolean('owned', { description: 'False: an earlier contribution owns this row; here it is a flagged copy.' }),
      ownerContributionId: t.exposeID('owner_contribution_id', { nullable: true, description: 'The contribution that owns the row; null when none does (e.g. every copy was rejected).' }),
    }),
  });
}
