// Contributor: everything about one account as a data contributor: its contributions, claims,
// claimed totals and daily earnings (and, from attribution.ts, what it earned and can claim).
// Query.contributor(address) answers for any well-formed address (one with no activity has empty
// lists and zero totals).
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { ApiContext, Builder } from '../builder.ts';
import { filters, relationConnection, selectRelation } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';
import { parseId } from '../scalars.ts';
import type { ClaimRow } from './claim.ts';
import type { ContributionRow } from './contribution.ts';
import type { EarningsDayRow } from './earningsDay.ts';

export interface ContributorShape {
  /** Lowercase 0x-hex. */
  address: string;
}

interface AccountClaimsRow {
  account: string;
  claimed_total: string;
  claim_count: string;
  last_claimed_at: string;
}

export function createContributorRef(builder: Builder) {
  return builder.objectRef<ContributorShape>('Contributor');
}

export function implementContributor(builder: Builder, refs: Refs): void {
  // claimedTotal, claimCount and lastClaimedAt share one read per request (for all addresses asked).
  const accountClaims = createContextCache(
    (ctx: ApiContext) =>
      new DataLoader<string, AccountClaimsRow | undefined>(async (addresses) => {
        const rows = await selectRelation<AccountClaimsRow>(
          ctx,
          'account_claims',
          // toFixedString: IN a set of plain Strings misses an address that ends in a zero byte.
          'account IN (SELECT toFixedString(unhex(substring(arrayJoin({accounts:Array(String)}), 3)), 20))',
          { accounts: [...addresses] },
        );
        const byAccount = new Map(rows.map((r) => [r.account, r]));
        return addresses.map((a) => byAccount.get(a));
      }),
  );

  refs.Contributor.implement({
    description: 'An account as a data contributor: its contributions, the inferences attributed to them, what it earned, can claim and claimed.',
    fields: (t) => ({
      address: t.expose('address', { type: 'Address', description: 'The account.' }),
      claimedTotal: t.field({
        type: 'Wei',
        description: 'OPEN claimed so far (the chain’s cumulative claimed total); cumulativeEarned and claimable say what it earned and can claim.',
        resolve: async (c, _args, ctx) => (await accountClaims(ctx).load(c.address))?.claimed_total ?? '0',
      }),
      claimCount: t.int({
        description: 'Claims so far.',
        resolve: async (c, _args, ctx) => toInt((await accountClaims(ctx).load(c.address))?.claim_count ?? 0, 'claim_count'),
      }),
      lastClaimedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'Block time of the latest claim; null before the first.',
        resolve: async (c, _args, ctx) => (await accountClaims(ctx).load(c.address))?.last_claimed_at ?? null,
      }),
      contributions: t.connection(
        {
          type: refs.Contribution,
          description: 'Its contributions in the order they were submitted, optionally to one datanet or with one status.',
          complexity: connectionComplexity,
          args: {
            datanetId: t.arg.id({ description: 'Only those submitted to this datanet.' }),
            status: t.arg({ type: refs.ContributionStatus, description: 'Only those with this review status.' }),
          },
          resolve: (c, args, ctx) =>
            relationConnection<ContributionRow>(ctx, args, {
              relation: 'contributions',
              filters: [
                filters.bytes('contributor', 'contributor', c.address),
                filters.uint('datanet_id', 'datanetId', args.datanetId == null ? undefined : parseId(args.datanetId, 'datanetId')),
                filters.string('status', 'status', args.status),
              ],
              orderBy: 'contribution_id',
            }),
        },
        refs.ContributionConnection,
      ),
      claims: t.connection(
        {
          type: refs.Claim,
          description: 'Its claims, oldest first, optionally only those against one epoch’s batch.',
          complexity: connectionComplexity,
          args: { epoch: t.arg({ type: 'BigInt', description: 'Only claims against this epoch.' }) },
          resolve: (c, args, ctx) =>
            relationConnection<ClaimRow>(ctx, args, {
              relation: 'claims',
              filters: [filters.bytes('account', 'account', c.address), filters.uint('epoch', 'epoch', args.epoch)],
              orderBy: 'block_number, log_index',
            }),
        },
        refs.ClaimConnection,
      ),
      dailyEarnings: t.connection(
        {
          type: refs.EarningsDay,
          description: 'OPEN it claimed per UTC day, oldest first; days without claims are absent.',
          complexity: connectionComplexity,
          args: {
            from: t.arg({ type: 'Date', description: 'First day included.' }),
            to: t.arg({ type: 'Date', description: 'Last day included.' }),
          },
          resolve: (c, args, ctx) =>
            relationConnection<EarningsDayRow>(ctx, args, {
              relation: 'account_claims_daily',
              filters: [filters.bytes('account', 'account', c.address), ...filters.days(args.from, args.to)],
              orderBy: 'day',
            }),
        },
        refs.EarningsDayConnection,
      ),
    }),
  });

  builder.queryFields((t) => ({
    contributor: t.field({
      type: refs.Contributor,
      description: 'One account as a contributor. Any well-formed address has one; with no activity its lists are empty.',
      args: { address: t.arg({ type: 'Address', required: true, description: 'The account.' }) },
      resolve: (_root, args) => ({ address: args.address }),
    }),
  }));
}
