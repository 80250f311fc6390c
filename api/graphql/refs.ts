// The schema's object types as refs, made before any is implemented so that types can point at each
// other (a contribution at its datanet, a datanet at its contributions). Loadable refs batch their
// lookups by id per request (plugin-dataloader): resolvers return an id and a page of 100 rows
// that each name a datanet costs one datanet query, not 100.
import type { Builder } from './builder.ts';
import { createDatanetRef } from './types/datanet.ts';
import { createDatanetVersionRef } from './types/datanetVersion.ts';
import { createContributionRef, createContributionStatusEnum } from './types/contribution.ts';
import { createContributionContentRef, createDatanetRowRef } from './types/contributionContent.ts';
import { createModelRef } from './types/model.ts';
import { createModelVersionRef } from './types/modelVersion.ts';
import { createTrainingRunRef, createTrainingRunDatanetVersionRef } from './types/trainingRun.ts';
import { createContributorRef } from './types/contributor.ts';
import { createClaimRef } from './types/claim.ts';
import { createEarningsDayRef } from './types/earningsDay.ts';
import { createPayoutBatchRef, createPayoutBatchStatusEnum } from './types/payoutBatch.ts';
import { createUsageDayRef } from './types/usageDay.ts';

export function createRefs(builder: Builder) {
  const nodes = {
    Datanet: createDatanetRef(builder),
    DatanetVersion: createDatanetVersionRef(builder),
    Contribution: createContributionRef(builder),
    ContributionContent: createContributionContentRef(builder),
    DatanetRow: createDatanetRowRef(builder),
    Model: createModelRef(builder),
    ModelVersion: createModelVersionRef(builder),
    TrainingRun: createTrainingRunRef(builder),
    TrainingRunDatanetVersion: createTrainingRunDatanetVersionRef(builder),
    Contributor: createContributorRef(builder),
    Claim: createClaimRef(builder),
    EarningsDay: createEarningsDayRef(builder),
    PayoutBatch: createPayoutBatchRef(builder),
    UsageDay: createUsageDayRef(builder),
  };
  // One connection type per node type, shared by every field that lists it.
  const connection = <T extends (typeof nodes)[keyof typeof nodes]>(type: T, name: string, what: string) =>
    builder.connectionObject({
      type,
      name,
      description: `A page of ${what}, in a fixed order, with the total across all pages.`,
      fields: (t) => ({
        totalCount: t.int({
          description: 'How many items the whole list has (every page together).',
          resolve: (c) => (c as unknown as { totalCount: number }).totalCount,
        }),
      }),
    });
  return {
    ...nodes,
    ContributionStatus: createContributionStatusEnum(builder),
    PayoutBatchStatus: createPayoutBatchStatusEnum(builder),
    DatanetConnection: connection(nodes.Datanet, 'DatanetConnection', 'datanets'),
    DatanetVersionConnection: connection(nodes.DatanetVersion, 'DatanetVersionConnection', 'datanet versions'),
    ContributionConnection: connection(nodes.Contribution, 'ContributionConnection', 'contributions'),
    DatanetRowConnection: connection(nodes.DatanetRow, 'DatanetRowConnection', 'rows'),
    ModelConnection: connection(nodes.Model, 'ModelConnection', 'models'),
    ModelVersionConnection: connection(nodes.ModelVersion, 'ModelVersionConnection', 'model versions'),
    TrainingRunConnection: connection(nodes.TrainingRun, 'TrainingRunConnection', 'training runs'),
    ClaimConnection: connection(nodes.Claim, 'ClaimConnection', 'claims'),
    EarningsDayConnection: connection(nodes.EarningsDay, 'EarningsDayConnection', 'days of earnings'),
    PayoutBatchConnection: connection(nodes.PayoutBatch, 'PayoutBatchConnection', 'payout batches'),
    UsageDayConnection: connection(nodes.UsageDay, 'UsageDayConnection', 'days of model usage'),
  };
}

export type Refs = ReturnType<typeof createRefs>;
