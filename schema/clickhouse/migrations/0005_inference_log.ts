// Migration 5: the serving side's own log of every inference (OpenLoRA, issue #4). The chain's record of
// what was billed is the indexer's ev_inference_router_inference_settled; this table holds what only the
// server saw: the model version and adapter that answered, the text in and out, timings and why it stopped.
//
//   inference_log   one row per inference (request_id is the bytes32 id the router's events carry).
//     ORDER BY (model_id, created_at, request_id), PARTITION BY toYYYYMM(created_at):
//       - the API's questions are per model over a time range (usage, latency percentiles, recent
//         inferences of a model): the primary key answers them with a range read;
//       - attribution reads an epoch's inferences (WHERE epoch = …) or a time range: epochs follow time,
//         so each part spans few of them and the minmax index on epoch, like the monthly partitions for
//         time, skips the rest;
//       - a provenance report looks one inference up by request id (bloom filter index), an API key's
//         owner their own inferences by payer (bloom filter index).
//     ReplacingMergeTree: the recorder's backfill may insert a row a second time after a crash; both copies
//     share the sorting key and merge into one (read with FINAL, or LIMIT 1 BY request_id).
//     epoch: the attribution epoch whose pool received the fee, known once the batch is settled on chain;
//       NULL until then. Filled by lightweight UPDATE (the _block_number/_block_offset settings below
//       allow it), from the settler's result or from the indexed InferenceSettled events.
//     prompt/output: the text, kept until the epoch's payout is past its dispute window (attribution needs
//       it); a privacy setting then blanks them (ALTER TABLE … UPDATE, a mutation that rewrites the
//       parts) and only prompt_sha256/output_sha256 (SHA-256 of the UTF-8 text) remain.
//     first_token_ms: NULL when no token came (cancelled before the first).
//
// Binary columns are filled from EPHEMERAL <column>_hex columns at insert, as in migration 1.
import type { Migration } from '../migrate.ts';

export const m0005: Migration = {
  id: 5,
  name: 'inference_log',
  statements: [
    `CREATE TABLE IF NOT EXISTS inference_log
(
    "request_id" FixedString(32) DEFAULT unhex(request_id_hex),
    "model_id" UInt64,
    "model_version" UInt64,
    "adapter_hash" FixedString(32) DEFAULT unhex(adapter_hash_hex),
    "payer" FixedString(20) DEFAULT unhex(payer_hex),
    "tokens_in" UInt32,
    "tokens_out" UInt32,
    "latency_ms" UInt32,
    "first_token_ms" Nullable(UInt32),
    "finish_reason" LowCardinality(String),
    "prompt" String,
    "output" String,
    "prompt_sha256" FixedString(32) DEFAULT unhex(prompt_sha256_hex),
    "output_sha256" FixedString(32) DEFAULT unhex(output_sha256_hex),
    "created_at" DateTime64(3, 'UTC'),
    "epoch" Nullable(UInt64),
    "request_id_hex" String EPHEMERAL,
    "adapter_hash_hex" String EPHEMERAL,
    "payer_hex" String EPHEMERAL,
    "prompt_sha256_hex" String EPHEMERAL,
    "output_sha256_hex" String EPHEMERAL,
    INDEX request_id_bloom request_id TYPE bloom_filter GRANULARITY 4,
    INDEX payer_bloom payer TYPE bloom_filter GRANULARITY 4,
    INDEX epoch_minmax epoch TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (model_id, created_at, request_id)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1`,
  ],
};
