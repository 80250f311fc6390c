// Migration 3: what the API serves, derived from the event tables of migration 1 so that it stays
// right under reorgs. Column lists, types and meanings: schema/clickhouse/derived.ts (DERIVED_RELATIONS;
// a test checks them against the applied schema). Never edit this file once applied: add a migration.
//
// Reorgs. The indexer writes each event once with sign = 1 and cancels it, after a reorg or a crash,
// with an identical row with sign = -1. So every view below starts from the *live* rows of an event
// table (GROUP BY block_number, log_index, block_hash HAVING sum(sign) > 0), which never depends on
// background merges, and the daily aggregates sum sign-weighted values (a cancelling row subtracts).
//
// Two kinds of relations:
// - Plain VIEWs: the current state, recomputed from the live event rows on every read ("latest wins":
//   argMax(value, (block_number, log_index))). Always exact. A view has no sort key of its own: the
//   "key" below is the column set that identifies one row, then the columns worth filtering on.
//   Filter in the outer query with bound parameters:
//     SELECT … FROM contributions WHERE contributor = unhex(substring({addr:String}, 3))
//   Each read still scans the view's event tables whole (measured: ~150 ms for 100k contributions
//   on 2 cores, filtered or not); when one grows too slow, materialize it in a new migration.
// - Per-day aggregates: a SummingMergeTree table (agg_*) fed by materialized views (mv_*) on inserts
//   into the event table, plus a plain VIEW over it that finishes the sum (rows of one key are merged
//   only eventually, so never read agg_* without GROUP BY). Sums are Int256 and counts Int64 so that
//   cancelling rows subtract; a day whose rows were all cancelled disappears. Days are UTC dates of
//   the block timestamp. Int256 holds every amount below 2^255; OPEN amounts are far below (the
//   contracts keep balances in uint128).
//
// Addresses and hashes are raw bytes, as in the event tables: compare with
// unhex(substring({addr:String}, 3)), print with concat('0x', lower(hex(col))) (derivedSelectList()
// in derived.ts writes the select list). Review, revoke and similar "not yet" fields are NULL when the
// event has not happened. Statuses are lower-case strings.
//
// Relations (key → purpose):
//   datanets                       datanet_id → current owner (after transfers), creator, metadata, modality, license,
//                                  required stake, permissioned, version count and latest root, contribution counts by status
//   datanet_versions               (datanet_id, version) → published root, contribution count, URI, block/time/tx
//   datanet_curators               (datanet_id, curator) → enabled now (latest CuratorSet)
//   datanet_access                 (datanet_id, account) → granted now (latest AccessChanged)
//   contributions                  contribution_id (filter: datanet_id, contributor, status) → content hash, size, URI,
//                                  review status pending|accepted|rejected, quality, reviewer, stake now (submitted −
//                                  slashed − withdrawn), when the stake unlocks (review time + the current cooldown)
//   models                         model_id (filter: owner) → current owner, name, base model, prices now, active now,
//                                  version count and latest adapter, training run count
//   model_versions                 (model_id, version) → training run, adapter hash and URI
//   training_runs                  run_id (filter: model_id) → datanet ids and versions used, manifest hash, submitter
//   training_run_datanet_versions  (run_id, datanet_id, version) → one row per datanet version a run used
//                                  (which models were trained on a datanet)
//   agg_model_usage_daily          ORDER BY (model_id, day), SummingMergeTree; fed by mv_model_usage_daily_settled
//                                  (InferenceSettled) and mv_model_usage_daily_rejected (InferenceRejected)
//   model_usage_daily              (model_id, day) → settled inferences, tokens in/out, fee, owner/pool/treasury amounts,
//                                  rejected inferences and their fees
//   agg_account_claims_daily       ORDER BY (account, day), SummingMergeTree; fed by mv_account_claims_daily (Claimed)
//   account_claims_daily           (account, day) → amount claimed and number of claims that day
//   account_claims                 account → claimed total (the chain's cumulative), claim count, last claim
//   claims                         (block_number, log_index) (filter: account, epoch) → each claim
//   payout_batches                 (epoch, nonce) → posted batch: root, total, cumulative total, score-file hash, signer-set
//                                  version, available, rolled over, claimable_at, status posted|revoked and the revocation
//   epoch_pools                    epoch → contributor pool funded by the router, number of fundings
//   governance_proposals           proposal_id → proposer, actions, description, vote window (blocks), status
//                                  created|queued|executed|canceled, eta, vote tallies
//   governance_votes               (proposal_id, voter) → support (0 against, 1 for, 2 abstain), weight, reason, params
//
// Earnings: a payout batch commits to cumulative leaves (account, totalEarnedSoFar) off-chain, so the
// chain tells only what was claimed (Claimed events). Earned-but-unclaimed (pending, claimable)
// amounts per account come from the attribution part's own tables, not from these.
//
// The daily aggregates are backfilled from the event tables when this migration runs (TRUNCATE, then
// INSERT … SELECT, so a retry after a failure counts nothing twice). That assumes no events are
// written while it runs: every process migrates before it starts indexing, and against a shared
// ClickHouse server migration 3 must not run from two processes at once.
import type { Migration } from '../migrate.ts';
import { JOIN_DEFAULTS, POSITION, live } from './sql.ts';

const USAGE_COLUMNS = `
    "model_id" UInt256,
    "day" Date,
    "settled_count" Int64,
    "tokens_in" Int256,
    "tokens_out" Int256,
    "fee" Int256,
    "owner_amount" Int256,
    "pool_amount" Int256,
    "treasury_amount" Int256,
    "rejected_count" Int64,
    "rejected_fee" Int256`;

const USAGE_FROM_SETTLED = `SELECT
    e.model_id AS model_id,
    toDate(e.block_timestamp) AS day,
    sum(toInt64(e.sign)) AS settled_count,
    sum(toInt256(e.tokens_in) * e.sign) AS tokens_in,
    sum(toInt256(e.tokens_out) * e.sign) AS tokens_out,
    sum(toInt256(e.fee) * e.sign) AS fee,
    sum(toInt256(e.owner_amount) * e.sign) AS owner_amount,
    sum(toInt256(e.pool_amount) * e.sign) AS pool_amount,
    sum(toInt256(e.treasury_amount) * e.sign) AS treasury_amount,
    toInt64(0) AS rejected_count,
    toInt256(0) AS rejected_fee
FROM ev_inference_router_inference_settled AS e
GROUP BY model_id, day`;

const USAGE_FROM_REJECTED = `SELECT
    e.model_id AS model_id,
    toDate(e.block_timestamp) AS day,
    toInt64(0) AS settled_count,
    toInt256(0) AS tokens_in,
    toInt256(0) AS tokens_out,
    toInt256(0) AS fee,
    toInt256(0) AS owner_amount,
    toInt256(0) AS pool_amount,
    toInt256(0) AS treasury_amount,
    sum(toInt64(e.sign)) AS rejected_count,
    sum(toInt256(e.fee) * e.sign) AS rejected_fee
FROM ev_inference_router_inference_rejected AS e
GROUP BY model_id, day`;

const CLAIMS_FROM_CLAIMED = `SELECT
    e.account AS account,
    toDate(e.block_timestamp) AS day,
    sum(toInt256(e.amount) * e.sign) AS claimed_amount,
    sum(toInt64(e.sign)) AS claim_count
FROM ev_attribution_settlement_claimed AS e
GROUP BY account, day`;

export const m0003: Migration = {
  id: 3,
  name: 'derived',
  statements: [
    // ------------------------------------------------------------------------------------ datanets
    `CREATE VIEW IF NOT EXISTS datanet_versions AS
SELECT
    datanet_id,
    version,
    root,
    contribution_count,
    uri,
    block_number AS published_block,
    block_timestamp AS published_at,
    tx_hash AS published_tx
FROM ${live('ev_datanet_registry_datanet_version_published', ['datanet_id', 'version', 'root', 'contribution_count', 'uri'])}`,

    `CREATE VIEW IF NOT EXISTS datanet_curators AS
SELECT
    datanet_id,
    curator,
    argMax(enabled, ${POSITION}) AS enabled,
    argMax(block_timestamp, ${POSITION}) AS updated_at,
    argMax(tx_hash, ${POSITION}) AS updated_tx
FROM ${live('ev_datanet_registry_curator_set', ['datanet_id', 'curator', 'enabled'])}
GROUP BY datanet_id, curator`,

    `CREATE VIEW IF NOT EXISTS datanet_access AS
SELECT
    datanet_id,
    account,
    argMax(granted, ${POSITION}) AS granted,
    argMax(block_timestamp, ${POSITION}) AS updated_at,
    argMax(tx_hash, ${POSITION}) AS updated_tx
FROM ${live('ev_datanet_registry_access_changed', ['datanet_id', 'account', 'granted'])}
GROUP BY datanet_id, account`,

    `CREATE VIEW IF NOT EXISTS contributions AS
SELECT
    s.contribution_id AS contribution_id,
    s.datanet_id AS datanet_id,
    s.contributor AS contributor,
    s.content_hash AS content_hash,
    s.size AS size,
    s.uri AS uri,
    multiIf(r.reviewed = 0, 'pending', r.accepted, 'accepted', 'rejected') AS status,
    if(r.reviewed = 1, r.quality, NULL) AS quality,
    if(r.reviewed = 1, r.reviewer, NULL) AS reviewer,
    if(r.reviewed = 1, r.reviewed_at, NULL) AS reviewed_at,
    if(r.reviewed = 1, r.reviewed_tx, NULL) AS reviewed_tx,
    s.stake AS stake_submitted,
    sl.slashed AS stake_slashed,
    w.withdrawn AS stake_withdrawn,
    toUInt256(s.stake - sl.slashed - w.withdrawn) AS stake,
    sl.slash_count AS slash_count,
    if(r.reviewed = 1, r.reviewed_at + toIntervalSecond(
        (SELECT argMax(cooldown, ${POSITION}) FROM ${live('ev_datanet_registry_stake_cooldown_set', ['cooldown'])})
    ), NULL) AS stake_unlocks_at,
    s.block_number AS submitted_block,
    s.block_timestamp AS submitted_at,
    s.tx_hash AS submitted_tx
FROM ${live('ev_datanet_registry_contribution_submitted', ['contribution_id', 'datanet_id', 'contributor', 'content_hash', 'size', 'uri', 'stake'])} AS s
LEFT JOIN (
    SELECT
        contribution_id,
        toUInt8(1) AS reviewed,
        argMax(accepted, ${POSITION}) AS accepted,
        argMax(quality, ${POSITION}) AS quality,
        argMax(reviewer, ${POSITION}) AS reviewer,
        argMax(block_timestamp, ${POSITION}) AS reviewed_at,
        argMax(tx_hash, ${POSITION}) AS reviewed_tx
    FROM ${live('ev_datanet_registry_contribution_reviewed', ['contribution_id', 'accepted', 'quality', 'reviewer'])}
    GROUP BY contribution_id
) AS r ON r.contribution_id = s.contribution_id
LEFT JOIN (
    SELECT contribution_id, sum(amount) AS slashed, count() AS slash_count
    FROM ${live('ev_datanet_registry_contribution_slashed', ['contribution_id', 'amount'])}
    GROUP BY contribution_id
) AS sl ON sl.contribution_id = s.contribution_id
LEFT JOIN (
    SELECT contribution_id, sum(amount) AS withdrawn
    FROM ${live('ev_datanet_registry_stake_withdrawn', ['contribution_id', 'amount'])}
    GROUP BY contribution_id
) AS w ON w.contribution_id = s.contribution_id
${JOIN_DEFAULTS}`,

    `CREATE VIEW IF NOT EXISTS datanets AS
SELECT
    c.datanet_id AS datanet_id,
    if(t.transferred = 1, t.owner, c.owner) AS owner,
    c.owner AS creator,
    c.metadata_uri AS metadata_uri,
    c.modality AS modality,
    c.license AS license,
    c.required_stake AS required_stake,
    c.permissioned AS permissioned,
    c.fee_paid AS creation_fee_paid,
    v.version_count AS version_count,
    v.latest_root AS latest_root,
    k.contribution_count AS contribution_count,
    k.pending_count AS pending_count,
    k.accepted_count AS accepted_count,
    k.rejected_count AS rejected_count,
    k.stake AS stake,
    c.block_number AS created_block,
    c.block_timestamp AS created_at,
    c.tx_hash AS created_tx
FROM ${live('ev_datanet_registry_datanet_created', ['datanet_id', 'owner', 'metadata_uri', 'modality', 'license', 'required_stake', 'permissioned', 'fee_paid'])} AS c
LEFT JOIN (
    SELECT datanet_id, toUInt8(1) AS transferred, argMax(new_owner, ${POSITION}) AS owner
    FROM ${live('ev_datanet_registry_datanet_ownership_transferred', ['datanet_id', 'new_owner'])}
    GROUP BY datanet_id
) AS t ON t.datanet_id = c.datanet_id
LEFT JOIN (
    SELECT datanet_id, count() AS version_count, argMax(root, version) AS latest_root
    FROM datanet_versions
    GROUP BY datanet_id
) AS v ON v.datanet_id = c.datanet_id
LEFT JOIN (
    SELECT
        datanet_id,
        count() AS contribution_count,
        countIf(status = 'pending') AS pending_count,
        countIf(status = 'accepted') AS accepted_count,
        countIf(status = 'rejected') AS rejected_count,
        sum(stake) AS stake
    FROM contributions
    GROUP BY datanet_id
) AS k ON k.datanet_id = c.datanet_id
${JOIN_DEFAULTS}`,

    // -------------------------------------------------------------------------------------- models
    `CREATE VIEW IF NOT EXISTS model_versions AS
SELECT
    model_id,
    version,
    run_id,
    adapter_hash,
    adapter_uri,
    block_number AS published_block,
    block_timestamp AS published_at,
    tx_hash AS published_tx
FROM ${live('ev_model_registry_model_version_published', ['model_id', 'version', 'run_id', 'adapter_hash', 'adapter_uri'])}`,

    `CREATE VIEW IF NOT EXISTS training_runs AS
SELECT
    run_id,
    model_id,
    submitter,
    datanet_ids,
    datanet_versions,
    manifest_hash,
    block_number AS recorded_block,
    block_timestamp AS recorded_at,
    tx_hash AS recorded_tx
FROM ${live('ev_model_registry_training_run_recorded', ['run_id', 'model_id', 'submitter', 'datanet_ids', 'datanet_versions', 'manifest_hash'])}`,

    `CREATE VIEW IF NOT EXISTS training_run_datanet_versions AS
SELECT run_id, model_id, toUInt256(tupleElement(dv, 1)) AS datanet_id, toUInt256(tupleElement(dv, 2)) AS version
FROM training_runs
ARRAY JOIN arrayZip(datanet_ids, datanet_versions) AS dv`,

    `CREATE VIEW IF NOT EXISTS models AS
SELECT
    r.model_id AS model_id,
    if(t.transferred = 1, t.owner, r.owner) AS owner,
    r.owner AS registrant,
    r.name AS name,
    r.base_model AS base_model,
    r.metadata_uri AS metadata_uri,
    if(p.repriced = 1, p.price_in, r.price_in) AS price_in,
    if(p.repriced = 1, p.price_out, r.price_out) AS price_out,
    if(a.toggled = 1, a.active, true) AS active,
    r.fee_paid AS registration_fee_paid,
    v.version_count AS version_count,
    v.latest_run_id AS latest_run_id,
    v.latest_adapter_hash AS latest_adapter_hash,
    v.latest_adapter_uri AS latest_adapter_uri,
    n.training_run_count AS training_run_count,
    r.block_number AS registered_block,
    r.block_timestamp AS registered_at,
    r.tx_hash AS registered_tx
FROM ${live('ev_model_registry_model_registered', ['model_id', 'owner', 'name', 'base_model', 'metadata_uri', 'price_in', 'price_out', 'fee_paid'])} AS r
LEFT JOIN (
    SELECT model_id, toUInt8(1) AS transferred, argMax(new_owner, ${POSITION}) AS owner
    FROM ${live('ev_model_registry_model_ownership_transferred', ['model_id', 'new_owner'])}
    GROUP BY model_id
) AS t ON t.model_id = r.model_id
LEFT JOIN (
    SELECT model_id, toUInt8(1) AS repriced, argMax(price_in, ${POSITION}) AS price_in, argMax(price_out, ${POSITION}) AS price_out
    FROM ${live('ev_model_registry_model_prices_set', ['model_id', 'price_in', 'price_out'])}
    GROUP BY model_id
) AS p ON p.model_id = r.model_id
LEFT JOIN (
    SELECT model_id, toUInt8(1) AS toggled, argMax(active, ${POSITION}) AS active
    FROM ${live('ev_model_registry_model_active_set', ['model_id', 'active'])}
    GROUP BY model_id
) AS a ON a.model_id = r.model_id
LEFT JOIN (
    SELECT
        model_id,
        count() AS version_count,
        argMax(run_id, version) AS latest_run_id,
        argMax(adapter_hash, version) AS latest_adapter_hash,
        argMax(adapter_uri, version) AS latest_adapter_uri
    FROM model_versions
    GROUP BY model_id
) AS v ON v.model_id = r.model_id
LEFT JOIN (
    SELECT model_id, count() AS training_run_count FROM training_runs GROUP BY model_id
) AS n ON n.model_id = r.model_id
${JOIN_DEFAULTS}`,

    // ------------------------------------------------------------------------------ usage per day
    `CREATE TABLE IF NOT EXISTS agg_model_usage_daily
(${USAGE_COLUMNS}
)
ENGINE = SummingMergeTree
ORDER BY (model_id, day)
COMMENT 'Per model and UTC day, sign-weighted sums of InferenceSettled and InferenceRejected; read through model_usage_daily'`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS mv_model_usage_daily_settled TO agg_model_usage_daily AS
${USAGE_FROM_SETTLED}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS mv_model_usage_daily_rejected TO agg_model_usage_daily AS
${USAGE_FROM_REJECTED}`,
    'TRUNCATE TABLE agg_model_usage_daily',
    `INSERT INTO agg_model_usage_daily
${USAGE_FROM_SETTLED}`,
    `INSERT INTO agg_model_usage_daily
${USAGE_FROM_REJECTED}`,
    `CREATE VIEW IF NOT EXISTS model_usage_daily AS
SELECT
    model_id,
    day,
    sum(settled_count) AS settled_count,
    sum(tokens_in) AS tokens_in,
    sum(tokens_out) AS tokens_out,
    sum(fee) AS fee,
    sum(owner_amount) AS owner_amount,
    sum(pool_amount) AS pool_amount,
    sum(treasury_amount) AS treasury_amount,
    sum(rejected_count) AS rejected_count,
    sum(rejected_fee) AS rejected_fee
FROM agg_model_usage_daily
GROUP BY model_id, day
HAVING settled_count != 0 OR rejected_count != 0`,

    // ------------------------------------------------------------------------------ claims per day
    `CREATE TABLE IF NOT EXISTS agg_account_claims_daily
(
    "account" FixedString(20),
    "day" Date,
    "claimed_amount" Int256,
    "claim_count" Int64
)
ENGINE = SummingMergeTree
ORDER BY (account, day)
COMMENT 'Per account and UTC day, sign-weighted sums of Claimed; read through account_claims_daily'`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS mv_account_claims_daily TO agg_account_claims_daily AS
${CLAIMS_FROM_CLAIMED}`,
    'TRUNCATE TABLE agg_account_claims_daily',
    `INSERT INTO agg_account_claims_daily
${CLAIMS_FROM_CLAIMED}`,
    `CREATE VIEW IF NOT EXISTS account_claims_daily AS
SELECT account, day, sum(claimed_amount) AS claimed_amount, sum(claim_count) AS claim_count
FROM agg_account_claims_daily
GROUP BY account, day
HAVING claim_count != 0`,

    // ---------------------------------------------------------------------- payouts and claims
    `CREATE VIEW IF NOT EXISTS claims AS
SELECT
    account,
    epoch,
    caller,
    amount,
    cumulative_claimed,
    block_number,
    log_index,
    block_timestamp AS claimed_at,
    tx_hash AS claimed_tx
FROM ${live('ev_attribution_settlement_claimed', ['account', 'epoch', 'caller', 'amount', 'cumulative_claimed'])}`,

    `CREATE VIEW IF NOT EXISTS account_claims AS
SELECT
    account,
    argMax(cumulative_claimed, ${POSITION}) AS claimed_total,
    count() AS claim_count,
    max(block_timestamp) AS last_claimed_at
FROM ${live('ev_attribution_settlement_claimed', ['account', 'cumulative_claimed'])}
GROUP BY account`,

    `CREATE VIEW IF NOT EXISTS payout_batches AS
SELECT
    p.epoch AS epoch,
    p.nonce AS nonce,
    p.root AS root,
    p.total AS total,
    p.cumulative_total AS cumulative_total,
    p.score_file_hash AS score_file_hash,
    p.signer_set_version AS signer_set_version,
    p.available AS available,
    ro.amount AS rolled_over,
    toDateTime64(p.claimable_at, 3, 'UTC') AS claimable_at,
    p.poster AS poster,
    if(rv.revoked = 1, 'revoked', 'posted') AS status,
    if(rv.revoked = 1, rv.revoked_by, NULL) AS revoked_by,
    if(rv.revoked = 1, rv.reason, NULL) AS revoke_reason,
    if(rv.revoked = 1, rv.carry_restored, NULL) AS carry_restored,
    if(rv.revoked = 1, rv.revoked_at, NULL) AS revoked_at,
    if(rv.revoked = 1, rv.revoked_tx, NULL) AS revoked_tx,
    p.block_number AS posted_block,
    p.block_timestamp AS posted_at,
    p.tx_hash AS posted_tx
FROM ${live('ev_attribution_settlement_batch_posted', ['epoch', 'nonce', 'root', 'total', 'cumulative_total', 'score_file_hash', 'signer_set_version', 'available', 'claimable_at', 'poster'])} AS p
LEFT JOIN (
    SELECT
        epoch,
        nonce,
        toUInt8(1) AS revoked,
        argMax(\`by\`, ${POSITION}) AS revoked_by,
        argMax(reason, ${POSITION}) AS reason,
        argMax(carry_restored, ${POSITION}) AS carry_restored,
        argMax(block_timestamp, ${POSITION}) AS revoked_at,
        argMax(tx_hash, ${POSITION}) AS revoked_tx
    FROM ${live('ev_attribution_settlement_batch_revoked', ['epoch', 'nonce', '`by`', 'reason', 'carry_restored'])}
    GROUP BY epoch, nonce
) AS rv ON rv.epoch = p.epoch AND rv.nonce = p.nonce
-- postBatch emits RemainderRolledOver right after BatchPosted: the next log of the same block.
LEFT JOIN ${live('ev_attribution_settlement_remainder_rolled_over', ['amount'])} AS ro
    ON ro.block_number = p.block_number AND ro.block_hash = p.block_hash AND ro.log_index = p.log_index + 1
${JOIN_DEFAULTS}`,

    `CREATE VIEW IF NOT EXISTS epoch_pools AS
SELECT epoch, argMax(pool_total, ${POSITION}) AS pool_total, count() AS funding_count, max(block_timestamp) AS last_funded_at
FROM ${live('ev_attribution_settlement_pool_funded', ['epoch', 'pool_total'])}
GROUP BY epoch`,

    // ------------------------------------------------------------------------------- governance
    `CREATE VIEW IF NOT EXISTS governance_votes AS
SELECT proposal_id, voter, support, weight, reason, '' AS params, block_number, log_index, block_timestamp AS cast_at, tx_hash AS cast_tx
FROM ${live('ev_tributary_governor_vote_cast', ['proposal_id', 'voter', 'support', 'weight', 'reason'])}
UNION ALL
SELECT proposal_id, voter, support, weight, reason, params, block_number, log_index, block_timestamp AS cast_at, tx_hash AS cast_tx
FROM ${live('ev_tributary_governor_vote_cast_with_params', ['proposal_id', 'voter', 'support', 'weight', 'reason', 'params'])}`,

    `CREATE VIEW IF NOT EXISTS governance_proposals AS
SELECT
    c.proposal_id AS proposal_id,
    c.proposer AS proposer,
    c.targets AS targets,
    c.\`values\` AS \`values\`,
    c.signatures AS signatures,
    c.calldatas AS calldatas,
    c.description AS description,
    c.vote_start AS vote_start,
    c.vote_end AS vote_end,
    multiIf(x.canceled = 1, 'canceled', e.executed = 1, 'executed', q.queued = 1, 'queued', 'created') AS status,
    if(q.queued = 1, q.eta_seconds, NULL) AS eta_seconds,
    if(q.queued = 1, q.queued_at, NULL) AS queued_at,
    if(e.executed = 1, e.executed_at, NULL) AS executed_at,
    if(x.canceled = 1, x.canceled_at, NULL) AS canceled_at,
    v.against_votes AS against_votes,
    v.for_votes AS for_votes,
    v.abstain_votes AS abstain_votes,
    v.voter_count AS voter_count,
    c.block_number AS created_block,
    c.block_timestamp AS created_at,
    c.tx_hash AS created_tx
FROM ${live('ev_tributary_governor_proposal_created', ['proposal_id', 'proposer', 'targets', '`values`', 'signatures', 'calldatas', 'vote_start', 'vote_end', 'description'])} AS c
LEFT JOIN (
    SELECT proposal_id, toUInt8(1) AS queued, argMax(eta_seconds, ${POSITION}) AS eta_seconds, argMax(block_timestamp, ${POSITION}) AS queued_at
    FROM ${live('ev_tributary_governor_proposal_queued', ['proposal_id', 'eta_seconds'])}
    GROUP BY proposal_id
) AS q ON q.proposal_id = c.proposal_id
LEFT JOIN (
    SELECT proposal_id, toUInt8(1) AS executed, argMax(block_timestamp, ${POSITION}) AS executed_at
    FROM ${live('ev_tributary_governor_proposal_executed', ['proposal_id'])}
    GROUP BY proposal_id
) AS e ON e.proposal_id = c.proposal_id
LEFT JOIN (
    SELECT proposal_id, toUInt8(1) AS canceled, argMax(block_timestamp, ${POSITION}) AS canceled_at
    FROM ${live('ev_tributary_governor_proposal_canceled', ['proposal_id'])}
    GROUP BY proposal_id
) AS x ON x.proposal_id = c.proposal_id
LEFT JOIN (
    SELECT
        proposal_id,
        sumIf(weight, support = 0) AS against_votes,
        sumIf(weight, support = 1) AS for_votes,
        sumIf(weight, support = 2) AS abstain_votes,
        count() AS voter_count
    FROM governance_votes
    GROUP BY proposal_id
) AS v ON v.proposal_id = c.proposal_id
${JOIN_DEFAULTS}`,
  ],
};
