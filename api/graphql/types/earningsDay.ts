// EarningsDay: OPEN an account claimed on one UTC day, from the `account_claims_daily` view
// (materialized as Claimed events arrive). Listed by Contributor.dailyEarnings.
import type { Builder } from '../builder.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';

export interface EarningsDayRow {
  account: string;
  day: string;
  claimed_amount: string;
  claim_count: string;
}

/** Where the rest of an account's earnings are: a day's figure counts claims only. */
export const PENDING_NOT_SERVED =
  'Earned but not yet claimed amounts are on Contributor (cumulativeEarned, claimable) and per inference on attributedInferences.';

export function createEarningsDayRef(builder: Builder) {
  return builder.objectRef<EarningsDayRow>('EarningsDay');
}

export function implementEarningsDay(_builder: Builder, refs: Refs): void {
  refs.EarningsDay.implement({
    description: `One UTC day of an account’s earnings, as far as the chain shows them: the OPEN it claimed that day. ${PENDING_NOT_SERVED}`,
    fields: (t) => ({
      day: t.expose('day', { type: 'Date', description: 'The UTC day (of the block time).' }),
      claimedTotal: t.expose('claimed_amount', {
        type: 'Wei',
        description: `OPEN claimed that day (sum of its Claimed events). ${PENDING_NOT_SERVED}`,
      }),
      claimCount: t.int({ description: 'Claims that day.', resolve: (d) => toInt(d.claim_count, 'claim_count') }),
    }),
  });
}
