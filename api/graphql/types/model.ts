// Model: a LoRA adapter model registered on ModelRegistry, from the `models` view. Query.models,
// Query.model(id), and its versions, training runs and daily usage.
import type { ApiContext, Builder } from '../builder.ts';
import { filters, relationConnection, selectByIds } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';
import { parseId } from '../scalars.ts';
import type { ModelVersionRow } from './modelVersion.ts';
import type { TrainingRunRow } from './trainingRun.ts';
import { usageDayFilters, type UsageDayRow } from './usageDay.ts';

export interface ModelRow {
  model_id: string;
  owner: string;
  registrant: string;
  name: string;
  base_model: string;
  metadata_uri: string;
  price_in: string;
  price_out: string;
  active: boolean;
  registration_fee_paid: string;
  version_count: string;
  latest_run_id: string;
  latest_adapter_hash: string;
  latest_adapter_uri: string;
  training_run_count: string;
  registered_block: string;
  registered_at: string;
  registered_tx: string;
}

export function createModelRef(builder: Builder) {
  return builder.loadableObjectRef('Model', {
    load: (ids: string[], ctx: ApiContext) => selectByIds<ModelRow>(ctx, 'models', 'model_id', ids),
    sort: (row) => row.model_id,
  });
}

export function implementModel(builder: Builder, refs: Refs): void {
  refs.Model.implement({
    description: 'A model (a LoRA adapter on a base model) registered on ModelRegistry, as it stands now.',
    fields: (t) => ({
      id: t.exposeID('model_id', { description: 'The model id on chain (1, 2, 3…).' }),
      owner: t.expose('owner', { type: 'Address', description: 'Owner now, after any transfers; receives the owner share of fees.' }),
      registrant: t.expose('registrant', { type: 'Address', description: 'Who registered it.' }),
      name: t.exposeString('name', { description: 'Model name; the OpenAI-compatible API serves it under this name.' }),
      baseModel: t.exposeString('base_model', { description: 'Base model id.' }),
      metadataUri: t.exposeString('metadata_uri', { description: 'Metadata URI.' }),
      priceIn: t.expose('price_in', { type: 'Wei', description: 'Price per 1000 input tokens now.' }),
      priceOut: t.expose('price_out', { type: 'Wei', description: 'Price per 1000 output tokens now.' }),
      active: t.exposeBoolean('active', { description: 'Billable now; the router rejects inferences of inactive models.' }),
      registrationFeePaid: t.expose('registration_fee_paid', { type: 'Wei', description: 'Registration fee paid to the treasury.' }),
      versionCount: t.int({ description: 'Published versions, numbered 1 to versionCount.', resolve: (m) => toInt(m.version_count, 'version_count') }),
      latestVersion: t.field({
        type: refs.ModelVersion,
        nullable: true,
        description: 'The latest published version; null before the first.',
        resolve: (m) => (m.version_count === '0' ? null : (`${m.model_id}:${m.version_count}` as const)),
      }),
      trainingRunCount: t.int({ description: 'Training runs recorded.', resolve: (m) => toInt(m.training_run_count, 'training_run_count') }),
      registeredBlock: t.expose('registered_block', { type: 'BigInt', description: 'Block of the ModelRegistered event.' }),
      registeredAt: t.expose('registered_at', { type: 'DateTime', description: 'Its block time.' }),
      registeredTx: t.expose('registered_tx', { type: 'Bytes32', description: 'Its transaction.' }),
      versions: t.connection(
        {
          type: refs.ModelVersion,
          description: 'Its published versions, oldest first.',
          complexity: connectionComplexity,
          resolve: (m, args, ctx) =>
            relationConnection<ModelVersionRow>(ctx, args, {
              relation: 'model_versions',
              filters: [filters.uint('model_id', 'modelId', BigInt(m.model_id))],
              orderBy: 'version',
            }),
        },
        refs.ModelVersionConnection,
      ),
      trainingRuns: t.connection(
        {
          type: refs.TrainingRun,
          description: 'Its training runs in the order they were recorded, each with the datanet versions it used.',
          complexity: connectionComplexity,
          resolve: (m, args, ctx) =>
            relationConnection<TrainingRunRow>(ctx, args, {
              relation: 'training_runs',
              filters: [filters.uint('model_id', 'modelId', BigInt(m.model_id))],
              orderBy: 'run_id',
            }),
        },
        refs.TrainingRunConnection,
      ),
      usage: t.connection(
        {
          type: refs.UsageDay,
          description: 'Its usage and fees per UTC day, oldest first; days without inferences are absent.',
          complexity: connectionComplexity,
          args: {
            from: t.arg({ type: 'Date', description: 'First day included.' }),
            to: t.arg({ type: 'Date', description: 'Last day included.' }),
          },
          resolve: (m, args, ctx) =>
            relationConnection<UsageDayRow>(ctx, args, {
              relation: 'model_usage_daily',
              filters: usageDayFilters(BigInt(m.model_id), args.from, args.to),
              orderBy: 'day, model_id',
            }),
        },
        refs.UsageDayConnection,
      ),
    }),
  });

  builder.queryFields((t) => ({
    models: t.connection(
      {
        type: refs.Model,
        description: 'Every registered model, by id, optionally only those one account owns now.',
        complexity: connectionComplexity,
        args: { owner: t.arg({ type: 'Address', description: 'Only models this account owns now.' }) },
        resolve: (_root, args, ctx) =>
          relationConnection<ModelRow>(ctx, args, {
            relation: 'models',
            filters: [filters.bytes('owner', 'owner', args.owner)],
            orderBy: 'model_id',
          }),
      },
      refs.ModelConnection,
    ),
    model: t.field({
      type: refs.Model,
      nullable: true,
      description: 'One model by id; null when there is none with that id.',
      args: { id: t.arg.id({ required: true, description: 'The model id, a decimal whole number.' }) },
      resolve: (_root, args) => parseId(args.id, 'id').toString(),
    }),
  }));
}
