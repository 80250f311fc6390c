// TrainingRun: one fine-tuning run recorded on ModelRegistry with the datanet versions it trained
// on, from the `training_runs` view. Loadable by run id (ModelVersion.trainingRun).
import type { ApiContext, Builder } from '../builder.ts';
import { selectByIds } from '../clickhouse.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';
import { datanetVersionKey } from './datanetVersion.ts';

export interface TrainingRunRow {
  run_id: string;
  model_id: string;
  submitter: string;
  datanet_ids: string[];
  datanet_versions: string[];
  manifest_hash: string;
  recorded_block: string;
  recorded_at: string;
  recorded_tx: string;
}

/** One datanet version a run used (the pairwise arrays of the TrainingRunRecorded event). */
export interface TrainingRunDatanetVersionShape {
  datanetId: string;
  version: string;
}

export function createTrainingRunRef(builder: Builder) {
  return builder.loadableObjectRef('TrainingRun', {
    load: (ids: string[], ctx: ApiContext) => selectByIds<TrainingRunRow>(ctx, 'training_runs', 'run_id', ids),
    sort: (row) => row.run_id,
  });
}

export function createTrainingRunDatanetVersionRef(builder: Builder) {
  return builder.objectRef<TrainingRunDatanetVersionShape>('TrainingRunDatanetVersion');
}

export function implementTrainingRun(_builder: Builder, refs: Refs): void {
  refs.TrainingRun.implement({
    description: 'A fine-tuning run recorded on ModelRegistry, with the datanet versions it trained on.',
    fields: (t) => ({
      id: t.exposeID('run_id', { description: 'The run id on chain (1, 2, 3… across all models).' }),
      modelId: t.exposeID('model_id', { description: 'The model it trained.' }),
      model: t.field({ type: refs.Model, description: 'The model it trained.', resolve: (r) => r.model_id }),
      submitter: t.expose('submitter', { type: 'Address', description: 'Who recorded it.' }),
      manifestHash: t.expose('manifest_hash', { type: 'Bytes32', description: 'Hash of the training manifest.' }),
      datanetVersions: t.field({
        type: [refs.TrainingRunDatanetVersion],
        description: 'The datanet versions it trained on, in the order the run lists them.',
        resolve: (r) => r.datanet_ids.map((datanetId, i) => ({ datanetId, version: r.datanet_versions[i]! })),
      }),
      recordedBlock: t.expose('recorded_block', { type: 'BigInt', description: 'Block of the TrainingRunRecorded event.' }),
      recordedAt: t.expose('recorded_at', { type: 'DateTime', description: 'Its block time.' }),
      recordedTx: t.expose('recorded_tx', { type: 'Bytes32', description: 'Its transaction.' }),
    }),
  });

  refs.TrainingRunDatanetVersion.implement({
    description: 'One datanet version a training run used.',
    fields: (t) => ({
      datanetId: t.exposeID('datanetId', { description: 'The datanet.' }),
      version: t.int({ description: 'The version of that datanet.', resolve: (v) => toInt(v.version, 'version') }),
      datanet: t.field({ type: refs.Datanet, description: 'The datanet.', resolve: (v) => v.datanetId }),
      datanetVersion: t.field({
        type: refs.DatanetVersion,
        nullable: true,
        description: 'The published version itself (root, contribution count); null if it is not indexed.',
        resolve: (v) => datanetVersionKey(v.datanetId, v.version),
      }),
    }),
  });
}
