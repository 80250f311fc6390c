// Datanet: a community dataset on DatanetRegistry, from the `datanets` view. Query.datanets,
// Query.datanet(id), and its versions, contributions and the training runs that used it.
import type { ApiContext, Builder } from '../builder.ts';
import { filters, relationConnection, selectByIds } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { hashOrNull, toInt } from '../rows.ts';
import { parseId } from '../scalars.ts';
import type { ContributionRow } from './contribution.ts';
import type { DatanetVersionRow } from './datanetVersion.ts';
import type { TrainingRunRow } from './trainingRun.ts';

export interface DatanetRow {
  datanet_id: string;
  owner: string;
  creator: string;
  metadata_uri: string;
  modality: string;
  license: string;
  required_stake: string;
  permissioned: boolean;
  creation_fee_paid: string;
  version_count: string;
  latest_root: string;
  contribution_count: string;
  pending_count: string;
  accepted_count: string;
  rejected_count: string;
  stake: string;
  created_block: string;
  created_at: string;
  created_tx: string;
}

export function createDatanetRef(builder: Builder) {
  return builder.loadableObjectRef('Datanet', {
    load: (ids: string[], ctx: ApiContext) => selectByIds<DatanetRow>(ctx, 'datanets', 'datanet_id', ids),
    sort: (row) => row.datanet_id,
  });
}

export function implementDatanet(builder: Builder, refs: Refs): void {
  refs.Datanet.implement({
    description: 'A community dataset (datanet) registered on DatanetRegistry, as it stands now.',
    fields: (t) => ({
      id: t.exposeID('datanet_id', { description: 'The datanet id on chain (1, 2, 3…).' }),
      owner: t.expose('owner', { type: 'Address', description: 'Owner now, after any ownership transfers.' }),
      creator: t.expose('creator', { type: 'Address', description: 'Who created it.' }),
      metadataUri: t.exposeString('metadata_uri', { description: 'Metadata URI given at creation.' }),
      modality: t.exposeString('modality', { description: 'Kind of data, e.g. "text".' }),
      license: t.exposeString('license', { description: 'License of the contributed data.' }),
      requiredStake: t.expose('required_stake', { type: 'Wei', description: 'Minimum stake per contribution.' }),
      permissioned: t.exposeBoolean('permissioned', {
        description: 'true: only the owner and accounts granted access may train models on it.',
      }),
      creationFeePaid: t.expose('creation_fee_paid', { type: 'Wei', description: 'Creation fee paid to the treasury.' }),
      versionCount: t.int({
        description: 'Published versions, numbered 1 to versionCount.',
        resolve: (d) => toInt(d.version_count, 'version_count'),
      }),
      latestRoot: t.field({
        type: 'Bytes32',
        nullable: true,
        description: 'Merkle root of the latest published version; null before the first.',
        resolve: (d) => hashOrNull(d.latest_root),
      }),
      contributionCount: t.int({ description: 'Contributions submitted.', resolve: (d) => toInt(d.contribution_count, 'contribution_count') }),
      pendingCount: t.int({ description: 'Contributions awaiting review.', resolve: (d) => toInt(d.pending_count, 'pending_count') }),
      acceptedCount: t.int({ description: 'Contributions accepted.', resolve: (d) => toInt(d.accepted_count, 'accepted_count') }),
      rejectedCount: t.int({ description: 'Contributions rejected.', resolve: (d) => toInt(d.rejected_count, 'rejected_count') }),
      stake: t.expose('stake', { type: 'Wei', description: 'Stake locked in its contributions now.' }),
      createdBlock: t.expose('created_block', { type: 'BigInt', description: 'Block of the DatanetCreated event.' }),
      createdAt: t.expose('created_at', { type: 'DateTime', description: 'Block time of the DatanetCreated event.' }),
      createdTx: t.expose('created_tx', { type: 'Bytes32', description: 'Transaction of the DatanetCreated event.' }),
      versions: t.connection(
        {
          type: refs.DatanetVersion,
          description: 'Its published versions, oldest first.',
          complexity: connectionComplexity,
          resolve: (d, args, ctx) =>
            relationConnection<DatanetVersionRow>(ctx, args, {
              relation: 'datanet_versions',
              filters: [filters.uint('datanet_id', 'datanetId', BigInt(d.datanet_id))],
              orderBy: 'version',
            }),
        },
        refs.DatanetVersionConnection,
      ),
      contributions: t.connection(
        {
          type: refs.Contribution,
          description: 'Its contributions in the order they were submitted, optionally only one contributor’s or one status.',
          complexity: connectionComplexity,
          args: {
            contributor: t.arg({ type: 'Address', description: 'Only this contributor’s.' }),
            status: t.arg({ type: refs.ContributionStatus, description: 'Only those with this review status.' }),
          },
          resolve: (d, args, ctx) =>
            relationConnection<ContributionRow>(ctx, args, {
              relation: 'contributions',
              filters: [
                filters.uint('datanet_id', 'datanetId', BigInt(d.datanet_id)),
                filters.bytes('contributor', 'contributor', args.contributor),
                filters.string('status', 'status', args.status),
              ],
              orderBy: 'contribution_id',
            }),
        },
        refs.ContributionConnection,
      ),
      trainingRuns: t.connection(
        {
          type: refs.TrainingRun,
          description: 'Training runs that used any version of this datanet, in the order they were recorded.',
          complexity: connectionComplexity,
          resolve: (d, args, ctx) =>
            relationConnection<TrainingRunRow>(ctx, args, {
              relation: 'training_runs',
              filters: [
                {
                  sql: 'run_id IN (SELECT run_id FROM training_run_datanet_versions WHERE datanet_id = {datanetId:UInt256})',
                  params: { datanetId: BigInt(d.datanet_id) },
                },
              ],
              orderBy: 'run_id',
            }),
        },
        refs.TrainingRunConnection,
      ),
    }),
  });

  builder.queryFields((t) => ({
    datanets: t.connection(
      {
        type: refs.Datanet,
        description: 'Every datanet, by id, optionally only those one account owns now.',
        complexity: connectionComplexity,
        args: { owner: t.arg({ type: 'Address', description: 'Only datanets this account owns now.' }) },
        resolve: (_root, args, ctx) =>
          relationConnection<DatanetRow>(ctx, args, {
            relation: 'datanets',
            filters: [filters.bytes('owner', 'owner', args.owner)],
            orderBy: 'datanet_id',
          }),
      },
      refs.DatanetConnection,
    ),
    datanet: t.field({
      type: refs.Datanet,
      nullable: true,
      description: 'One datanet by id; null when there is none with that id.',
      args: { id: t.arg.id({ required: true, description: 'The datanet id, a decimal whole number.' }) },
      resolve: (_root, args) => parseId(args.id, 'id').toString(),
    }),
  }));
}
