// Proof of Attribution in GraphQL (issue #5): Attribution, one scored (inference, contribution) pair from
// attribution_scores; Contributor gains attributedInferences, cumulativeEarned and claimable; and the
// Inference type (inference.ts) with its attributions and spans (attributionSpan.ts), and the flags
// (attributionFlag.ts). The types are made here, beside the shared refs, because they point at each other.
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { ApiContext, Builder } from '../builder.ts';
import { selectByIds } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { ATTRIBUTION_SCORES, selectAccountEarnings, selectSettledInferences, tableConnection, type AccountEarningsRow, type AttributionRow, type AttributionSpanRow } from './attributionQueries.ts';
import { implementAttributionFlag } from './attributionFlag.ts';
import { implementAttributionSpan } from './attributionSpan.ts';
import type { ContributionRow } from './contribution.ts';
import { implementInference, type InferenceLogShape } from './inference.ts';

export function createAttributionRefs(builder: Builder) {
  const Attribution = builder.objectRef<AttributionRow>('Attribution');
  const AttributionSpan = builder.objectRef<AttributionSpanRow>('AttributionSpan');
  const Inference = builder.loadableObjectRef('Inference', {
    load: (ids: string[], ctx: ApiContext) => selectSettledInferences(ctx, ids),
    sort: (row) => row.request_id,
  });
  const InferenceLog = builder.objectRef<InferenceLogShape>('InferenceLog');
  const connection = <T extends typeof Attribution | typeof AttributionSpan>(type: T, name: string, what: string) =>
    builder.connectionObject({
      type,
      name,
      description: `A page of ${what}, in a fixed order, with the total across all pages.`,
      fields: (t) => ({
        totalCount: t.int({ description: 'How many items the whole list has (every page together).', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }),
      }),
    });
  return {
    Attribution,
    AttributionSpan,
    Inference,
    InferenceLog,
    AttributionConnection: connection(Attribution, 'AttributionConnection', 'attributions'),
    AttributionSpanConnection: connection(AttributionSpan, 'AttributionSpanConnection', 'matched spans'),
  };
}

export type AttributionRefs = ReturnType<typeof createAttributionRefs>;

/** Contributions by id, once per request for all the rows that name one. */
export const contributionLoader = createContextCache(
  (ctx: ApiContext) =>
    new DataLoader<string, ContributionRow | null>(async (ids) => {
      const rows = await selectByIds<ContributionRow>(ctx, 'contributions', 'contribution_id', ids);
      const byId = new Map(rows.map((r) => [r.contribution_id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
);

const accountEarnings = createContextCache(
  (ctx: ApiContext) =>
    new DataLoader<string, AccountEarningsRow | undefined>(async (accounts) => {
      const rows = await selectAccountEarnings(ctx, accounts);
      const byAccount = new Map(rows.map((r) => [r.account, r]));
      return accounts.map((a) => byAccount.get(a));
    }),
);

export const WEIGHT_DESCRIPTION =
  "Its share of the inference's contributor pool in the epoch's score file, in units of 10⁻¹⁸ (an inference's weights add up to 10¹⁸); 0 when its score was not positive.";

export function implementAttribution(builder: Builder, refs: Refs): void {
  const a = createAttributionRefs(builder);

  a.Attribution.implement({
    description: "One contribution's attribution in one settled inference (its training rows' influence and matched spans), as the epoch's attribution job scored it.",
    fields: (t) => ({
      requestId: t.expose('request_id', { type: 'Bytes32', description: 'The inference (its InferenceSettled request id).' }),
      epoch: t.expose('epoch', { type: 'BigInt', description: 'The epoch whose pool the inference funded.' }),
      modelId: t.exposeID('model_id', { description: 'The model that answered.' }),
      model: t.field({ type: refs.Model, nullable: true, description: 'The model that answered; null if it is not indexed.', resolve: (r) => r.model_id }),
      contributionId: t.exposeID('contribution_id', { description: 'The contribution whose rows it is attributed to.' }),
      contribution: t.field({
        type: refs.Contribution,
        nullable: true,
        description: 'That contribution; null if it is not indexed.',
        resolve: (r, _args, ctx) => contributionLoader(ctx).load(r.contribution_id),
      }),
      contributor: t.expose('account', { type: 'Address', description: 'Who the contribution pays.' }),
      rows: t.exposeInt('rows', { description: 'Training rows of the contribution that were scored.' }),
      influence: t.exposeFloat('influence', { description: 'Gradient influence of those rows on the inference, summed (negative: they pushed the other way).' }),
      spanTokens: t.exposeInt('span_tokens', { description: 'Output tokens found verbatim in its rows.' }),
      score: t.exposeFloat('score', { description: 'The combined score the weight was computed from.' }),
      weight: t.expose('weight', { type: 'BigInt', description: WEIGHT_DESCRIPTION }),
      scoreFileHash: t.expose('score_file_hash', { type: 'Bytes32', description: 'The score file (batch input) it is part of.' }),
      inference: t.field({ type: a.Inference, nullable: true, description: 'The settled inference; null if its settlement is not indexed (or was reorged out).', resolve: (r) => r.request_id }),
    }),
  });

  const ClaimProof = builder.objectRef<AccountEarningsRow>('ClaimProof').implement({
    description: 'What AttributionSettlement.claim takes for an account: the cumulative amount and the proof of its leaf.',
    fields: (t) => ({
      epoch: t.expose('claimable_epoch', { type: 'BigInt', description: 'The epoch of the batch whose root the proof is for.' }),
      root: t.expose('claimable_root', { type: 'Bytes32', description: 'That batch’s Merkle root.' }),
      cumulativeAmount: t.expose('claimable_leaf', { type: 'Wei', description: 'The leaf: OPEN earned in every batch up to that one.' }),
      proof: t.field({ type: ['Bytes32'], description: 'Sibling hashes from the leaf to the root.', resolve: (e) => e.claimable_proof }),
    }),
  });

  builder.objectFields(refs.Contributor, (t) => ({
    attributedInferences: t.connection(
      {
        type: a.Attribution,
        description: "Settled inferences attributed to its contributions, one item per (inference, contribution), by epoch, inference and contribution; optionally one epoch's.",
        complexity: connectionComplexity,
        args: { epoch: t.arg({ type: 'BigInt', description: 'Only this epoch’s.' }) },
        resolve: (c, args, ctx) =>
          tableConnection<AttributionRow>(ctx, args, {
            ...ATTRIBUTION_SCORES,
            filters: [
              { sql: 'account = unhex(substring({account:String}, 3))', params: { account: c.address } },
              ...(args.epoch == null ? [] : [{ sql: 'epoch = {epoch:UInt256}', params: { epoch: args.epoch } }]),
            ],
            orderBy: 'epoch, request_id, contribution_id',
          }),
      },
      a.AttributionConnection,
    ),
    cumulativeEarned: t.field({
      type: 'Wei',
      description: 'OPEN earned in total: its cumulative leaf in the newest posted, unrevoked payout batch (claimed or not, claimable or still in its dispute window).',
      resolve: async (c, _args, ctx) => (await accountEarnings(ctx).load(c.address))?.cumulative_earned ?? '0',
    }),
    claimable: t.field({
      type: 'Wei',
      description: 'OPEN a claim would pay now: its leaf in the newest posted batch past its dispute window, minus claimedTotal (never negative). Proofs: GET /proofs/{address}.',
      resolve: async (c, _args, ctx) => {
        const e = await accountEarnings(ctx).load(c.address);
        const owed = BigInt(e?.claimable_leaf ?? 0) - BigInt(e?.claimed_total ?? 0);
        return owed > 0n ? owed : 0n;
      },
    }),
    claimProof: t.field({
      type: ClaimProof,
      nullable: true,
      description: 'The arguments of a claim: its leaf in the newest batch past its dispute window and the Merkle proof (the same as GET /proofs/{address}); null when it has none.',
      resolve: async (c, _args, ctx) => {
        const e = await accountEarnings(ctx).load(c.address);
        return e && BigInt(e.claimable_leaf) > 0n ? e : null;
      },
    }),
  }));

  implementInference(builder, refs, a);
  implementAttributionSpan(builder, refs, a);
  implementAttributionFlag(builder, refs, a);
}
