// UsageDay: one model's settled and rejected inferences, tokens and fees on one UTC day, from the
// `model_usage_daily` view (materialized as events arrive). Query.usage and Model.usage.
import type { Builder } from '../builder.ts';
import { filters, relationConnection, type Filter } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { parseId } from '../scalars.ts';

export interface UsageDayRow {
  model_id: string;
  day: string;
  settled_count: string;
  tokens_in: string;
  tokens_out: string;
  fee: string;
  owner_amount: string;
  pool_amount: string;
  treasury_amount: string;
  rejected_count: string;
  rejected_fee: string;
}

/** The WHERE conditions of a usage query: one model (or all), days from…to (both included). */
export function usageDayFilters(modelId: bigint | undefined, from: string | null | undefined, to: string | null | undefined): (Filter | undefined)[] {
  return [filters.uint('model_id', 'modelId', modelId), ...filters.days(from, to)];
}

export function createUsageDayRef(builder: Builder) {
  return builder.objectRef<UsageDayRow>('UsageDay');
}

export function implementUsageDay(builder: Builder, refs: Refs): void {
  refs.UsageDay.implement({
    description:
      'One model’s usage on one UTC day (of the block time): inferences settled and rejected, tokens, and how the fees were split. ' +
      'Every figure is the sum of the InferenceSettled / InferenceRejected events of that day, as the chain emitted them.',
    fields: (t) => ({
      modelId: t.exposeID('model_id', { description: 'The model.' }),
      model: t.field({ type: refs.Model, description: 'The model.', resolve: (u) => u.model_id }),
      day: t.expose('day', { type: 'Date', description: 'The UTC day.' }),
      settledCount: t.expose('settled_count', { type: 'BigInt', description: 'Inferences settled (paid).' }),
      tokensIn: t.expose('tokens_in', { type: 'BigInt', description: 'Input tokens of the settled inferences.' }),
      tokensOut: t.expose('tokens_out', { type: 'BigInt', description: 'Output tokens of the settled inferences.' }),
      fee: t.expose('fee', { type: 'Wei', description: 'Fees paid: ownerAmount + poolAmount + treasuryAmount.' }),
      ownerAmount: t.expose('owner_amount', { type: 'Wei', description: 'The model owner’s share.' }),
      poolAmount: t.expose('pool_amount', { type: 'Wei', description: 'The contributor pool’s share (paid out by attribution).' }),
      treasuryAmount: t.expose('treasury_amount', { type: 'Wei', description: 'The treasury’s share.' }),
      rejectedCount: t.expose('rejected_count', { type: 'BigInt', description: 'Inferences refused at settlement (escrow or allowance too low).' }),
      rejectedFee: t.expose('rejected_fee', { type: 'Wei', description: 'What the rejected inferences would have cost.' }),
    }),
  });

  builder.queryFields((t) => ({
    usage: t.connection(
      {
        type: refs.UsageDay,
        description: 'Usage per model per UTC day, by day then model id; days without inferences are absent. Filters combine with AND.',
        complexity: connectionComplexity,
        args: {
          modelId: t.arg.id({ description: 'Only this model.' }),
          from: t.arg({ type: 'Date', description: 'First day included.' }),
          to: t.arg({ type: 'Date', description: 'Last day included.' }),
        },
        resolve: (_root, args, ctx) =>
          relationConnection<UsageDayRow>(ctx, args, {
            relation: 'model_usage_daily',
            filters: usageDayFilters(args.modelId == null ? undefined : parseId(args.modelId, 'modelId'), args.from, args.to),
            orderBy: 'day, model_id',
          }),
      },
      refs.UsageDayConnection,
    ),
  }));
}
