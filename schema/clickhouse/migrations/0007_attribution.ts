// Migration 7: what Proof of Attribution (issue #5) derives. Every table here can be rebuilt: the sketches
// from their files in the content store, the scores and rewards by running `tributary attribute` again
// (deterministic for an epoch's inferences and the training runs' files), and what was paid is the chain's
// (ev_attribution_settlement_*, the `payout_batches` view).
//
//   training_sketches    one row per sketched training run: the content-store file holding every training
//                        example's gradient sketch at every checkpoint (attribution/influence/sketchFile.ts,
//                        safetensors), and the projection that made them (seed, width: with the run's
//                        adapter shapes, enough to recreate it).
//     ORDER BY manifest_hash: attribution looks a run up by its manifest hash (training_runs.manifest_hash).
//   attribution_scores   one row per (epoch, inference, contribution) with a score: the gradient influence
//                        and span evidence summed over the contribution's rows, the combined score, and the
//                        fixed-point weight the score file gives it (0 when not positive).
//     ORDER BY (epoch, request_id, contribution_id): the epoch's job writes and reads by epoch; the API's
//     `inference(requestId)` finds its rows through the bloom filter on request_id, and a contribution's
//     history through the one on contribution_id.
//   attribution_spans    the matched spans behind the span evidence: (epoch, inference, contribution, row),
//                        where in the output, how long, and the text.
//   attribution_rewards  one row per (epoch, batch root, account): what the epoch's batch allocates to the
//                        account, its cumulative leaf and the leaf's Merkle proof (0x-hex siblings, what
//                        `claim` takes). Only rows whose (epoch, root) is a posted batch in `payout_batches`
//                        were paid; a batch that failed and was rebuilt has another root.
//     ORDER BY (account, epoch, root): the API's questions are per account.
//   attribution_flags    contributions whose influence on the epoch's inferences was negative in most of the
//                        inferences that touched them, with the evidence; a curator or governance decides.
//
// All ReplacingMergeTree: running an epoch's job again writes identical rows under the same keys (read with
// FINAL). Binary columns are filled from EPHEMERAL <column>_hex columns at insert, as in migration 1.
import type { Migration } from '../migrate.ts';

export const m0007: Migration = {
  id: 7,
  name: 'attribution',
  statements: [
    `CREATE TABLE IF NOT EXISTS training_sketches
(
    "manifest_hash" FixedString(32) DEFAULT unhex(manifest_hash_hex),
    "sketch_sha256" FixedString(32) DEFAULT unhex(sketch_sha256_hex),
    "projection_seed" UInt64,
    "dims" UInt32,
    "example_count" UInt32,
    "checkpoint_steps" Array(UInt32),
    "created_at" DateTime64(3, 'UTC'),
    "manifest_hash_hex" String EPHEMERAL,
    "sketch_sha256_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY manifest_hash
COMMENT 'Gradient sketches of a training run (content store: training-sketches/<manifest hash>); read with FINAL'`,
    `CREATE TABLE IF NOT EXISTS attribution_scores
(
    "epoch" UInt64,
    "request_id" FixedString(32) DEFAULT unhex(request_id_hex),
    "contribution_id" UInt256,
    "model_id" UInt64,
    "account" FixedString(20) DEFAULT unhex(account_hex),
    "rows" UInt32,
    "influence" Float64,
    "span_tokens" UInt32,
    "score" Float64,
    "weight" UInt64,
    "score_file_hash" FixedString(32) DEFAULT unhex(score_file_hash_hex),
    "request_id_hex" String EPHEMERAL,
    "account_hex" String EPHEMERAL,
    "score_file_hash_hex" String EPHEMERAL,
    INDEX request_id_bloom request_id TYPE bloom_filter GRANULARITY 4,
    INDEX contribution_bloom contribution_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, request_id, contribution_id)
COMMENT 'Attribution of each settled inference to contributions; weight is the score file''s (sum 1e18 per inference); read with FINAL'`,
    `CREATE TABLE IF NOT EXISTS attribution_spans
(
    "epoch" UInt64,
    "request_id" FixedString(32) DEFAULT unhex(request_id_hex),
    "contribution_id" UInt256,
    "row_index" UInt32,
    "start" UInt32,
    "length" UInt32,
    "text" String,
    "request_id_hex" String EPHEMERAL,
    INDEX request_id_bloom request_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, request_id, contribution_id, row_index, start, length)
COMMENT 'Spans of inference outputs found verbatim in contributed rows (start and length in output tokens); read with FINAL'`,
    `CREATE TABLE IF NOT EXISTS attribution_rewards
(
    "account" FixedString(20) DEFAULT unhex(account_hex),
    "epoch" UInt64,
    "root" FixedString(32) DEFAULT unhex(root_hex),
    "amount" UInt256,
    "cumulative" UInt256,
    "inferences" UInt32,
    "proof" Array(String),
    "account_hex" String EPHEMERAL,
    "root_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY (account, epoch, root)
COMMENT 'What each epoch batch allocates to an account, and its cumulative leaf; paid only where (epoch, root) is in payout_batches; read with FINAL'`,
    `CREATE TABLE IF NOT EXISTS attribution_flags
(
    "epoch" UInt64,
    "contribution_id" UInt256,
    "account" FixedString(20) DEFAULT unhex(account_hex),
    "inferences" UInt32,
    "negative_inferences" UInt32,
    "mean_influence" Float64,
    "evidence" String,
    "account_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, contribution_id)
COMMENT 'Contributions with mostly negative influence in an epoch (evidence: JSON of the most negative inferences); read with FINAL'`,
  ],
};
