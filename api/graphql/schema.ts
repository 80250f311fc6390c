// The GraphQL schema: scalars, every object type (one file each under types/), and the Query fields
// they add. A new schema per call (no module-level state), so each API instance owns its own.
import type { GraphQLSchema } from 'graphql';
import { createBuilder } from './builder.ts';
import { createRefs } from './refs.ts';
import { defineScalars } from './scalars.ts';
import { implementAttribution } from './types/attribution.ts';
import { implementClaim } from './types/claim.ts';
import { implementContribution } from './types/contribution.ts';
import { implementContributionContent } from './types/contributionContent.ts';
import { implementContributor } from './types/contributor.ts';
import { implementDatanet } from './types/datanet.ts';
import { implementDatanetVersion } from './types/datanetVersion.ts';
import { implementEarningsDay } from './types/earningsDay.ts';
import { implementModel } from './types/model.ts';
import { implementModelVersion } from './types/modelVersion.ts';
import { implementPayoutBatch } from './types/payoutBatch.ts';
import { implementTrainingRun } from './types/trainingRun.ts';
import { implementUsageDay } from './types/usageDay.ts';

export function buildSchema(): GraphQLSchema {
  const builder = createBuilder();
  defineScalars(builder);
  builder.queryType({ description: 'Read-only views of what the chain recorded, as indexed into ClickHouse.' });
  const refs = createRefs(builder);
  for (const implement of [
    implementDatanet,
    implementDatanetVersion,
    implementContribution,
    implementContributionContent,
    implementModel,
    implementModelVersion,
    implementTrainingRun,
    implementUsageDay,
    implementContributor,
    implementClaim,
    implementEarningsDay,
    implementPayoutBatch,
    implementAttribution,
  ]) {
    implement(builder, refs);
  }
  return builder.toSchema({ sortSchema: true });
}
