// Migration 6: what LoRA training (the ModelFactory back end, issue #4) records beside the chain. The
// chain's record of a training run is the indexer's ev_model_registry_training_run_recorded (the
// `training_runs` view: run, model, datanet versions, manifest hash); these tables hold what only the
// trainer knows, copied from the training run's files in the content store (content/trainingFiles.ts),
// from which they can be rebuilt.
//
//   training_manifests   one row per training manifest: adapter and checkpoint hashes, base model, rows
//                        hash, counts, seed, hyperparameters (JSON), loss curve, eval losses.
//     ORDER BY manifest_hash.
//   training_examples    one row per example of a run (train and eval split): its contribution and row,
//                        tokens, loss under the final adapter and under each checkpoint.
//     ORDER BY (manifest_hash, contribution_id, row_index): attribution reads one run's examples, by
//     contribution. Rows are keyed by the manifest hash rather than the on-chain run id because they are
//     written before the run is registered (files, then ClickHouse, then the chain: a crash never leaves a
//     registered run without its records); a run's examples are those of its manifest hash
//     (training_runs.manifest_hash), one point lookup on the key's prefix.
//
// Both are ReplacingMergeTree: writing a run again (a re-run with the same seed, or a re-sync from the
// content store after a crash) inserts identical rows under the same key, which merge into one (read
// with FINAL). A run's examples are inserted before its manifest row, so a manifest row means its
// examples are all there.
//
// Losses are Float64 (the trainer's float32 values widened exactly); binary columns are filled from
// EPHEMERAL <column>_hex columns at insert, as in migration 1.
import type { Migration } from '../migrate.ts';

export const m0006: Migration = {
  id: 6,
  name: 'training',
  statements: [
    `CREATE TABLE IF NOT EXISTS training_manifests
(
    "manifest_hash" FixedString(32) DEFAULT unhex(manifest_hash_hex),
    "adapter_hash" FixedString(32) DEFAULT unhex(adapter_hash_hex),
    "adapter_manifest_sha256" FixedString(32) DEFAULT unhex(adapter_manifest_sha256_hex),
    "base_model" String,
    "datanet_ids" Array(UInt64),
    "datanet_versions" Array(UInt64),
    "rows_hash" FixedString(32) DEFAULT unhex(rows_hash_hex),
    "row_count" UInt32,
    "train_row_count" UInt32,
    "eval_row_count" UInt32,
    "truncated_row_count" UInt32,
    "seed" UInt64,
    "steps" UInt32,
    "hyperparameters" String,
    "loss_steps" Array(UInt32),
    "losses" Array(Float64),
    "eval_steps" Array(UInt32),
    "eval_losses" Array(Float64),
    "initial_eval_loss" Nullable(Float64),
    "eval_loss" Nullable(Float64),
    "checkpoint_steps" Array(UInt32),
    "checkpoint_adapter_hashes" Array(FixedString(32)) DEFAULT arrayMap(x -> toFixedString(unhex(x), 32), checkpoint_adapter_hashes_hex),
    "examples_sha256" FixedString(32) DEFAULT unhex(examples_sha256_hex),
    "manifest_hash_hex" String EPHEMERAL,
    "adapter_hash_hex" String EPHEMERAL,
    "adapter_manifest_sha256_hex" String EPHEMERAL,
    "rows_hash_hex" String EPHEMERAL,
    "checkpoint_adapter_hashes_hex" Array(String) EPHEMERAL,
    "examples_sha256_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY manifest_hash
COMMENT 'One row per training manifest (content store: training-runs/<manifest hash>); read with FINAL'`,
    `CREATE TABLE IF NOT EXISTS training_examples
(
    "manifest_hash" FixedString(32) DEFAULT unhex(manifest_hash_hex),
    "contribution_id" UInt256,
    "row_index" UInt32,
    "row_hash" FixedString(32) DEFAULT unhex(row_hash_hex),
    "adapter_hash" FixedString(32) DEFAULT unhex(adapter_hash_hex),
    "split" LowCardinality(String),
    "tokens" UInt32,
    "truncated" Bool,
    "loss" Float64,
    "checkpoint_losses" Array(Float64),
    "manifest_hash_hex" String EPHEMERAL,
    "row_hash_hex" String EPHEMERAL,
    "adapter_hash_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY (manifest_hash, contribution_id, row_index)
COMMENT 'One row per example of a training run, train and eval split; read with FINAL'`,
  ],
};
