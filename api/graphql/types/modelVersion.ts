// ModelVersion: a published version of a model (an adapter from one training run), from the
// `model_versions` view. Loadable by the key `<modelId>:<version>` (Model.latestVersion).
import type { ApiContext, Builder } from '../builder.ts';
import { selectRelation } from '../clickhouse.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';

export interface ModelVersionRow {
  model_id: string;
  version: string;
  run_id: string;
  adapter_hash: string;
  adapter_uri: string;
  published_block: string;
  published_at: string;
  published_tx: string;
}

function loadModelVersions(keys: readonly string[], ctx: ApiContext): Promise<ModelVersionRow[]> {
  const pairs = keys.map((k) => k.split(':'));
  return selectRelation<ModelVersionRow>(
    ctx,
    'model_versions',
    'has(arrayZip({models:Array(UInt256)}, {versions:Array(UInt256)}), (model_id, version))',
    { models: pairs.map(([m]) => BigInt(m!)), versions: pairs.map(([, v]) => BigInt(v!)) },
  );
}

export function createModelVersionRef(builder: Builder) {
  return builder.loadableObjectRef('ModelVersion', {
    load: (keys: string[], ctx: ApiContext) => loadModelVersions(keys, ctx),
    sort: (row) => `${row.model_id}:${row.version}`,
  });
}

export function implementModelVersion(_builder: Builder, refs: Refs): void {
  refs.ModelVersion.implement({
    description: 'A published version of a model: the LoRA adapter one training run produced.',
    fields: (t) => ({
      modelId: t.exposeID('model_id', { description: 'The model.' }),
      model: t.field({ type: refs.Model, description: 'The model.', resolve: (v) => v.model_id }),
      version: t.int({ description: '1, 2, 3…', resolve: (v) => toInt(v.version, 'version') }),
      trainingRunId: t.exposeID('run_id', { description: 'The training run it came from.' }),
      trainingRun: t.field({
        type: refs.TrainingRun,
        nullable: true,
        description: 'The training run it came from (null only if that run is not indexed yet).',
        resolve: (v) => v.run_id,
      }),
      adapterHash: t.expose('adapter_hash', { type: 'Bytes32', description: 'Hash of the LoRA adapter file.' }),
      adapterUri: t.exposeString('adapter_uri', { description: 'Where the adapter lives.' }),
      publishedBlock: t.expose('published_block', { type: 'BigInt', description: 'Block of the ModelVersionPublished event.' }),
      publishedAt: t.expose('published_at', { type: 'DateTime', description: 'Its block time.' }),
      publishedTx: t.expose('published_tx', { type: 'Bytes32', description: 'Its transaction.' }),
    }),
  });
}
