// Contribution: a file of rows submitted to a datanet, with its review status and stake now, from
// the `contributions` view. Query.contributions filters by datanet, contributor and status.
import type { Builder } from '../builder.ts';
import { filters, relationConnection } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';
import { parseId } from '../scalars.ts';
import type { DatanetRowRow } from './contributionContent.ts';

export interface ContributionRow {
  contribution_id: string;
  datanet_id: string;
  contributor: string;
  content_hash: string;
  size: string;
  uri: string;
  status: 'pending' | 'accepted' | 'rejected';
  quality: number | null;
  reviewer: string | null;
  reviewed_at: string | null;
  reviewed_tx: string | null;
  stake_submitted: string;
  stake_slashed: string;
  stake_withdrawn: string;
  stake: string;
  slash_count: string;
  stake_unlocks_at: string | null;
  submitted_block: string;
  submitted_at: string;
  submitted_tx: string;
}

export function createContributionRef(builder: Builder) {
  return builder.objectRef<ContributionRow>('Contribution');
}

export function createContributionStatusEnum(builder: Builder) {
  return builder.enumType('ContributionStatus', {
    description: 'Where a contribution stands in review.',
    values: {
      PENDING: { value: 'pending', description: 'Submitted, not reviewed yet.' },
      ACCEPTED: { value: 'accepted', description: 'Accepted by a curator: it goes into the next version.' },
      REJECTED: { value: 'rejected', description: 'Rejected by a curator.' },
    } as const,
  });
}

export function implementContribution(builder: Builder, refs: Refs): void {
  refs.Contribution.implement({
    description: 'A file of rows submitted to a datanet, with its review and stake as they stand now.',
    fields: (t) => ({
      id: t.exposeID('contribution_id', { description: 'The contribution id on chain (1, 2, 3… across all datanets).' }),
      datanetId: t.exposeID('datanet_id', { description: 'The datanet it was submitted to.' }),
      datanet: t.field({ type: refs.Datanet, description: 'The datanet it was submitted to.', resolve: (c) => c.datanet_id }),
      contributor: t.expose('contributor', { type: 'Address', description: 'Who submitted it.' }),
      contentHash: t.expose('content_hash', { type: 'Bytes32', description: 'Merkle root of its row hashes (contentHash).' }),
      size: t.expose('size', { type: 'BigInt', description: 'Size of the file in bytes.' }),
      uri: t.exposeString('uri', { description: 'Where its file lives.' }),
      status: t.field({ type: refs.ContributionStatus, description: 'Review status now.', resolve: (c) => c.status }),
      quality: t.int({
        nullable: true,
        description: 'Quality the reviewer gave, in basis points (0–10000); null while pending.',
        resolve: (c) => c.quality,
      }),
      reviewer: t.expose('reviewer', { type: 'Address', nullable: true, description: 'Who reviewed it; null while pending.' }),
      reviewedAt: t.expose('reviewed_at', { type: 'DateTime', nullable: true, description: 'Block time of the review; null while pending.' }),
      reviewedTx: t.expose('reviewed_tx', { type: 'Bytes32', nullable: true, description: 'Transaction of the review; null while pending.' }),
      stakeSubmitted: t.expose('stake_submitted', { type: 'Wei', description: 'Stake locked at submission.' }),
      stakeSlashed: t.expose('stake_slashed', { type: 'Wei', description: 'Stake slashed to the treasury so far.' }),
      stakeWithdrawn: t.expose('stake_withdrawn', { type: 'Wei', description: 'Stake returned to the contributor so far.' }),
      stake: t.expose('stake', { type: 'Wei', description: 'Stake locked now: submitted − slashed − withdrawn.' }),
      slashCount: t.int({ description: 'Slashes so far.', resolve: (c) => toInt(c.slash_count, 'slash_count') }),
      stakeUnlocksAt: t.expose('stake_unlocks_at', {
        type: 'DateTime',
        nullable: true,
        description: 'When the stake may be withdrawn (review time + the cooldown now in force); null while pending.',
      }),
      submittedBlock: t.expose('submitted_block', { type: 'BigInt', description: 'Block of the ContributionSubmitted event.' }),
      submittedAt: t.expose('submitted_at', { type: 'DateTime', description: 'Its block time.' }),
      submittedTx: t.expose('submitted_tx', { type: 'Bytes32', description: 'Its transaction.' }),
      content: t.field({
        type: refs.ContributionContent,
        description: 'Its uploaded rows: present or missing (flagged), owned or copied.',
        resolve: (c) => c.contribution_id,
      }),
      rows: t.connection(
        {
          type: refs.DatanetRow,
          description: 'Its uploaded rows in file order (none when its rows are missing).',
          complexity: connectionComplexity,
          resolve: (c, args, ctx) =>
            relationConnection<DatanetRowRow>(ctx, args, {
              relation: 'datanet_rows',
              filters: [filters.uint('contribution_id', 'contributionId', BigInt(c.contribution_id))],
              orderBy: 'row_index',
            }),
        },
        refs.DatanetRowConnection,
      ),
    }),
  });

  builder.queryFields((t) => ({
    contributions: t.connection(
      {
        type: refs.Contribution,
        description: 'Contributions in the order they were submitted (by id), optionally filtered; filters combine with AND.',
        complexity: connectionComplexity,
        args: {
          datanetId: t.arg.id({ description: 'Only those submitted to this datanet.' }),
          contributor: t.arg({ type: 'Address', description: 'Only those this account submitted.' }),
          status: t.arg({ type: refs.ContributionStatus, description: 'Only those with this review status.' }),
        },
        resolve: (_root, args, ctx) =>
          relationConnection<ContributionRow>(ctx, args, {
            relation: 'contributions',
            filters: [
              filters.uint('datanet_id', 'datanetId', args.datanetId == null ? undefined : parseId(args.datanetId, 'datanetId')),
              filters.bytes('contributor', 'contributor', args.contributor),
              filters.string('status', 'status', args.status),
            ],
            orderBy: 'contribution_id',
          }),
      },
      refs.ContributionConnection,
    ),
  }));
}
