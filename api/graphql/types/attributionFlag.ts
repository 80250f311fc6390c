// AttributionFlag: a contribution whose gradient influence on an epoch's inferences was negative in most of
// them (attribution_flags, written by the epoch's attribution job), with the most negative inferences as
// evidence. Listed by the root field attributionFlags for curators; slashing stays their decision.
import type { Builder } from '../builder.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { contributionLoader, type AttributionRefs } from './attribution.ts';
import { tableConnection } from './attributionQueries.ts';

export interface AttributionFlagRow {
  epoch: string;
  contribution_id: string;
  account: string;
  inferences: number;
  negative_inferences: number;
  mean_influence: number;
  /** JSON: [{ requestId, influence }], most negative first. */
  evidence: string;
}

interface FlagEvidence {
  requestId: string;
  influence: number;
}

const FLAGS = {
  from: 'attribution_flags FINAL',
  select: "epoch, contribution_id, concat('0x', lower(hex(account))) AS account, inferences, negative_inferences, mean_influence, evidence",
};

/** The evidence column as written by the job; a row that does not parse shows no evidence rather than failing the query. */
function parseEvidence(json: string): FlagEvidence[] {
  try {
    const list = JSON.parse(json) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter((e): e is FlagEvidence => typeof e?.requestId === 'string' && typeof e?.influence === 'number').map((e) => ({ requestId: e.requestId.toLowerCase(), influence: e.influence }));
  } catch {
    return [];
  }
}

export function implementAttributionFlag(builder: Builder, refs: Refs, a: AttributionRefs): void {
  const Evidence = builder.objectRef<FlagEvidence>('AttributionFlagEvidence').implement({
    description: 'One inference behind a flag: the contribution’s summed influence on it.',
    fields: (t) => ({
      requestId: t.expose('requestId', { type: 'Bytes32', description: 'The inference.' }),
      influence: t.exposeFloat('influence', { description: 'The contribution’s rows’ summed gradient influence on it (negative).' }),
      inference: t.field({ type: a.Inference, nullable: true, description: 'The settled inference; null if its settlement is not indexed.', resolve: (e) => e.requestId }),
    }),
  });

  const Flag = builder.objectRef<AttributionFlagRow>('AttributionFlag').implement({
    description: 'A contribution whose influence was negative in most of the inferences of an epoch that its rows were scored in: a sign of mislabeled or harmful data, for a curator to review.',
    fields: (t) => ({
      epoch: t.expose('epoch', { type: 'BigInt', description: 'The epoch whose inferences it was scored in.' }),
      contributionId: t.exposeID('contribution_id', { description: 'The flagged contribution.' }),
      contribution: t.field({ type: refs.Contribution, nullable: true, description: 'That contribution; null if it is not indexed.', resolve: (f, _args, ctx) => contributionLoader(ctx).load(f.contribution_id) }),
      contributor: t.expose('account', { type: 'Address', description: 'Who the contribution pays.' }),
      inferences: t.exposeInt('inferences', { description: 'Inferences of the epoch in which its rows were scored.' }),
      negativeInferences: t.exposeInt('negative_inferences', { description: 'Of those, how many it influenced negatively.' }),
      meanInfluence: t.exposeFloat('mean_influence', { description: 'Its mean influence over those inferences.' }),
      evidence: t.field({ type: [Evidence], description: 'The most negative inferences (up to 5), most negative first.', resolve: (f) => parseEvidence(f.evidence) }),
    }),
  });

  const FlagConnection = builder.connectionObject({
    type: Flag,
    name: 'AttributionFlagConnection',
    description: 'A page of attribution flags, by epoch and contribution, with the total across all pages.',
    fields: (t) => ({
      totalCount: t.int({ description: 'How many items the whole list has (every page together).', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }),
    }),
  });

  builder.queryFields((t) => ({
    attributionFlags: t.connection(
      {
        type: Flag,
        description: 'Contributions flagged by the attribution jobs for consistently negative influence, by epoch and contribution; optionally one epoch’s, one contributor’s or one contribution’s.',
        complexity: connectionComplexity,
        args: {
          epoch: t.arg({ type: 'BigInt', description: 'Only this epoch’s.' }),
          contributor: t.arg({ type: 'Address', description: 'Only contributions paying this account.' }),
          contributionId: t.arg({ type: 'BigInt', description: 'Only this contribution.' }),
        },
        resolve: (_root, args, ctx) =>
          tableConnection<AttributionFlagRow>(ctx, args, {
            ...FLAGS,
            filters: [
              ...(args.epoch == null ? [] : [{ sql: 'epoch = {epoch:UInt64}', params: { epoch: args.epoch } }]),
              ...(args.contributor == null ? [] : [{ sql: 'account = unhex(substring({account:String}, 3))', params: { account: args.contributor } }]),
              ...(args.contributionId == null ? [] : [{ sql: 'contribution_id = {contribution:UInt256}', params: { contribution: args.contributionId } }]),
            ],
            orderBy: 'epoch, contribution_id',
          }),
      },
      FlagConnection,
    ),
  }));
}
