// The relations of migration 7 (Proof of Attribution), documented as derived.ts documents the others and
// spread into DERIVED_RELATIONS. The attribution part writes them (attribution/epochs/); the API reads them.
import type { DerivedColumn, DerivedRelation } from './derived.ts';

const HASH = 'FixedString(32)';
const ADDRESS = 'FixedString(20)';
const col = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, doc });
const bin = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, hex: true, doc });

export const ATTRIBUTION_RELATIONS: readonly DerivedRelation[] = [
  {
    name: 'training_sketches',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['manifest_hash'],
    purpose: "Where a training run's gradient sketches are (content store: training-sketches/<manifest hash>); read with FINAL",
    columns: [
      bin('manifest_hash', HASH, 'the training run'),
      bin('sketch_sha256', HASH, 'SHA-256 of the sketch file (safetensors: one matrix per checkpoint)'),
      col('projection_seed', 'UInt64', 'seed of the random projection'),
      col('dims', 'UInt32', 'numbers per sketch'),
      col('example_count', 'UInt32', 'training examples sketched (the train split)'),
      col('checkpoint_steps', 'Array(UInt32)', 'steps of the checkpoints sketched'),
      col('created_at', "DateTime64(3, 'UTC')", 'when the row was written'),
    ],
  },
  {
    name: 'attribution_scores',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['epoch', 'request_id', 'contribution_id'],
    purpose: 'Attribution of each settled inference to the contributions whose rows trained its model; read with FINAL',
    columns: [
      col('epoch', 'UInt64', 'the epoch of the payout batch (the newest epoch it covers)'),
      bin('request_id', HASH, 'the inference'),
      col('contribution_id', 'UInt256', 'the contribution'),
      col('model_id', 'UInt64', 'the model that answered'),
      bin('account', ADDRESS, 'who the contribution pays'),
      col('rows', 'UInt32', 'training rows of the contribution that carry credit'),
      col('influence', 'Float64', 'gradient influence summed over those rows'),
      col('span_tokens', 'UInt32', 'output tokens found verbatim in those rows'),
      col('score', 'Float64', 'influence and span evidence combined, summed'),
      col('weight', 'UInt64', "the score file's weight, of 10^18 per inference (0 when not positive)"),
      bin('score_file_hash', HASH, 'keccak256 of the score file the weight is in'),
    ],
  },
  {
    name: 'attribution_spans',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['epoch', 'request_id', 'contribution_id', 'row_index', 'start', 'length'],
    purpose: 'Spans of inference outputs found verbatim in contributed rows; read with FINAL',
    columns: [
      col('epoch', 'UInt64', 'the epoch of the payout batch'),
      bin('request_id', HASH, 'the inference'),
      col('contribution_id', 'UInt256', 'the contribution holding the row'),
      col('row_index', 'UInt32', 'the row'),
      col('start', 'UInt32', 'offset in the output, in tokens'),
      col('length', 'UInt32', 'tokens in the span'),
      col('text', 'String', 'the span as text'),
    ],
  },
  {
    name: 'attribution_rewards',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['account', 'epoch', 'root'],
    purpose: 'What each payout batch allocates to an account, its cumulative leaf and proof; paid only where (epoch, root) is a posted batch; read with FINAL',
    columns: [
      bin('account', ADDRESS, 'the account'),
      col('epoch', 'UInt64', 'the batch epoch'),
      bin('root', HASH, "the batch's Merkle root"),
      col('amount', 'UInt256', 'wei this batch adds'),
      col('cumulative', 'UInt256', 'the leaf: wei earned in every batch up to this one'),
      col('inferences', 'UInt32', "score-file entries naming the account's contributions"),
      col('proof', 'Array(String)', "the leaf's Merkle proof, 0x-hex"),
    ],
  },
  {
    name: 'attribution_flags',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['epoch', 'contribution_id'],
    purpose: 'Contributions whose influence was mostly negative in an epoch, with evidence; read with FINAL',
    columns: [
      col('epoch', 'UInt64', 'the epoch of the payout batch'),
      col('contribution_id', 'UInt256', 'the contribution'),
      bin('account', ADDRESS, 'its contributor'),
      col('inferences', 'UInt32', 'inferences that scored its rows'),
      col('negative_inferences', 'UInt32', 'of those, how many it influenced negatively'),
      col('mean_influence', 'Float64', 'mean influence over those inferences'),
      col('evidence', 'String', 'JSON: the most negative inferences with their influence'),
    ],
  },
];
