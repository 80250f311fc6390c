// The derived relations of migrations 3 to 6 (migrations/0003_derived.ts to 0006_training.ts) as data: what
// the API reads, with every column's ClickHouse type and meaning. derived.test.ts checks this list against
// the applied schema, so it cannot drift from the migrations. How the relations stay right under reorgs, and
// which to filter on: the header of 0003_derived.ts.
//
// Binary values (addresses, hashes, calldata) are raw bytes, marked `hex` here: derivedSelectList()
// prints them as 0x-hex, and filters compare them with unhex(substring({addr:String}, 3)).
// Amounts are UInt256 or, in the per-day sums, Int256; JSON output gives both as decimal strings.

import { INFERENCE_LOG_RELATION } from './inferenceLog.ts';
import { TRAINING_RELATIONS } from './trainingRecords.ts';
import { ATTRIBUTION_RELATIONS } from './attributionRelations.ts';

export interface DerivedColumn {
  name: string;
  /** As ClickHouse spells it in system.columns. */
  chType: string;
  /** Raw bytes: print as 0x-hex. */
  hex?: true;
  doc: string;
}

export interface DerivedRelation {
  name: string;
  /** `view`: read it. `table`: stored rows (a per-day aggregate's storage, read through its view; or uploaded content). */
  kind: 'view' | 'table';
  /** A table's engine; default SummingMergeTree. */
  engine?: string;
  /** The columns that identify one row (for a table, its ORDER BY). */
  key: readonly string[];
  purpose: string;
  columns: readonly DerivedColumn[];
}

const DT = "DateTime64(3, 'UTC')";
const NDT = "Nullable(DateTime64(3, 'UTC'))";
const ADDRESS = 'FixedString(20)';
const HASH = 'FixedString(32)';

const col = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, doc });
const bin = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, hex: true, doc });
/** Where an event sits: its block, the block's time and the transaction. */
const at = (what: string, event: string): DerivedColumn[] => [
  col(`${what}_block`, 'UInt64', `block of the ${event} event`),
  col(`${what}_at`, DT, `block time of the ${event} event`),
  bin(`${what}_tx`, HASH, `transaction of the ${event} event`),
];

const USAGE_SUMS: DerivedColumn[] = [
  col('settled_count', 'Int64', 'settled inferences (InferenceSettled)'),
  col('tokens_in', 'Int256', 'input tokens of the settled inferences'),
  col('tokens_out', 'Int256', 'output tokens of the settled inferences'),
  col('fee', 'Int256', 'fees paid, wei'),
  col('owner_amount', 'Int256', "model owner's share, wei"),
  col('pool_amount', 'Int256', "contributor pool's share, wei"),
  col('treasury_amount', 'Int256', "treasury's share, wei"),
  col('rejected_count', 'Int64', 'inferences refused at settlement (InferenceRejected)'),
  col('rejected_fee', 'Int256', 'fees the rejected inferences would have cost, wei'),
];

const CLAIM_SUMS: DerivedColumn[] = [
  col('claimed_amount', 'Int256', 'OPEN claimed that day, wei'),
  col('claim_count', 'Int64', 'claims that day'),
];

/** A row's shape and fields, by shape ('' where a shape has no such field). */
const ROW_FIELDS: DerivedColumn[] = [
  col('shape', 'LowCardinality(String)', "'text', 'prompt-completion' or 'text-label'"),
  col('text', 'String', "the text ('' for prompt-completion rows)"),
  col('prompt', 'String', "the prompt ('' unless prompt-completion)"),
  col('completion', 'String', "the completion ('' unless prompt-completion)"),
  col('label', 'String', "the label ('' unless text-label)"),
];

/** Every relation migrations 3 to 6 create, except the materialized views that feed the aggregates. */
export const DERIVED_RELATIONS: readonly DerivedRelation[] = [
  {
    name: 'datanets',
    kind: 'view',
    key: ['datanet_id'],
    purpose: 'One row per datanet: its current owner, settings, versions and contributions',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet (1, 2, 3…)'),
      bin('owner', ADDRESS, 'owner now, after any transfers'),
      bin('creator', ADDRESS, 'who created it'),
      col('metadata_uri', 'String', 'metadata URI given at creation'),
      col('modality', 'String', 'e.g. text'),
      col('license', 'String', 'license of the contributed data'),
      col('required_stake', 'UInt256', 'minimum stake per contribution, wei'),
      col('permissioned', 'Bool', 'true: only the owner and granted accounts may train on it'),
      col('creation_fee_paid', 'UInt256', 'creation fee paid to the treasury, wei'),
      col('version_count', 'UInt64', 'published versions (numbered 1…version_count)'),
      bin('latest_root', HASH, 'root of the latest version; zero bytes when none'),
      col('contribution_count', 'UInt64', 'contributions submitted'),
      col('pending_count', 'UInt64', 'contributions awaiting review'),
      col('accepted_count', 'UInt64', 'contributions accepted'),
      col('rejected_count', 'UInt64', 'contributions rejected'),
      col('stake', 'UInt256', 'stake locked in its contributions now, wei'),
      ...at('created', 'DatanetCreated'),
    ],
  },
  {
    name: 'datanet_versions',
    kind: 'view',
    key: ['datanet_id', 'version'],
    purpose: 'One row per published datanet version',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet'),
      col('version', 'UInt256', '1, 2, 3…'),
      bin('root', HASH, 'Merkle root of its accepted contributions (datanetVersionRoot)'),
      col('contribution_count', 'UInt256', 'contributions in the version'),
      col('uri', 'String', 'where the version manifest lives'),
      ...at('published', 'DatanetVersionPublished'),
    ],
  },
  {
    name: 'datanet_curators',
    kind: 'view',
    key: ['datanet_id', 'curator'],
    purpose: 'Curators ever set on a datanet, with whether they are enabled now',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet'),
      bin('curator', ADDRESS, 'the curator'),
      col('enabled', 'Bool', 'may review now (latest CuratorSet)'),
      col('updated_at', DT, 'block time of the latest CuratorSet'),
      bin('updated_tx', HASH, 'its transaction'),
    ],
  },
  {
    name: 'datanet_access',
    kind: 'view',
    key: ['datanet_id', 'account'],
    purpose: 'Training access ever granted on a datanet, with whether it holds now',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet'),
      bin('account', ADDRESS, 'the model builder'),
      col('granted', 'Bool', 'has access now (latest AccessChanged)'),
      col('updated_at', DT, 'block time of the latest AccessChanged'),
      bin('updated_tx', HASH, 'its transaction'),
    ],
  },
  {
    name: 'contributions',
    kind: 'view',
    key: ['contribution_id'],
    purpose: 'One row per contribution with its review status and stake now; filter by datanet_id, contributor, status',
    columns: [
      col('contribution_id', 'UInt256', 'the contribution (1, 2, 3… across all datanets)'),
      col('datanet_id', 'UInt256', 'the datanet'),
      bin('contributor', ADDRESS, 'who submitted it'),
      bin('content_hash', HASH, 'Merkle root of its row hashes (contentHash)'),
      col('size', 'UInt256', 'bytes'),
      col('uri', 'String', 'where its file lives'),
      col('status', 'String', "'pending', 'accepted' or 'rejected'"),
      col('quality', 'Nullable(UInt16)', 'review quality in basis points; NULL while pending'),
      bin('reviewer', `Nullable(${ADDRESS})`, 'who reviewed it; NULL while pending'),
      col('reviewed_at', NDT, 'block time of the review; NULL while pending'),
      bin('reviewed_tx', `Nullable(${HASH})`, 'transaction of the review; NULL while pending'),
      col('stake_submitted', 'UInt256', 'stake locked at submission, wei'),
      col('stake_slashed', 'UInt256', 'stake slashed to the treasury so far, wei'),
      col('stake_withdrawn', 'UInt256', 'stake returned to the contributor so far, wei'),
      col('stake', 'UInt256', 'stake locked now = submitted − slashed − withdrawn, wei'),
      col('slash_count', 'UInt64', 'slashes so far'),
      col('stake_unlocks_at', NDT, 'when the stake may be withdrawn: review time + the current cooldown; NULL while pending'),
      ...at('submitted', 'ContributionSubmitted'),
    ],
  },
  {
    name: 'models',
    kind: 'view',
    key: ['model_id'],
    purpose: 'One row per registered model with its owner, prices and state now; filter by owner',
    columns: [
      col('model_id', 'UInt256', 'the model (1, 2, 3…)'),
      bin('owner', ADDRESS, 'owner now, after any transfers (receives the owner share)'),
      bin('registrant', ADDRESS, 'who registered it'),
      col('name', 'String', 'model name'),
      col('base_model', 'String', 'base model id'),
      col('metadata_uri', 'String', 'metadata URI'),
      col('price_in', 'UInt256', 'wei per 1000 input tokens now'),
      col('price_out', 'UInt256', 'wei per 1000 output tokens now'),
      col('active', 'Bool', 'billable now (the router rejects inferences of inactive models)'),
      col('registration_fee_paid', 'UInt256', 'registration fee paid to the treasury, wei'),
      col('version_count', 'UInt64', 'published versions (numbered 1…version_count)'),
      col('latest_run_id', 'UInt256', 'training run of the latest version'),
      bin('latest_adapter_hash', HASH, 'adapter hash of the latest version'),
      col('latest_adapter_uri', 'String', 'adapter URI of the latest version'),
      col('training_run_count', 'UInt64', 'training runs recorded'),
      ...at('registered', 'ModelRegistered'),
    ],
  },
  {
    name: 'model_versions',
    kind: 'view',
    key: ['model_id', 'version'],
    purpose: 'One row per published model version',
    columns: [
      col('model_id', 'UInt256', 'the model'),
      col('version', 'UInt256', '1, 2, 3…'),
      col('run_id', 'UInt256', 'the training run it came from'),
      bin('adapter_hash', HASH, 'hash of the LoRA adapter'),
      col('adapter_uri', 'String', 'where the adapter lives'),
      ...at('published', 'ModelVersionPublished'),
    ],
  },
  {
    name: 'training_runs',
    kind: 'view',
    key: ['run_id'],
    purpose: 'One row per training run; filter by model_id',
    columns: [
      col('run_id', 'UInt256', 'the run (1, 2, 3… across all models)'),
      col('model_id', 'UInt256', 'the model'),
      bin('submitter', ADDRESS, 'who recorded it'),
      col('datanet_ids', 'Array(UInt64)', 'datanets trained on, pairwise with datanet_versions'),
      col('datanet_versions', 'Array(UInt64)', 'the version of each datanet'),
      bin('manifest_hash', HASH, 'hash of the training manifest'),
      ...at('recorded', 'TrainingRunRecorded'),
    ],
  },
  {
    name: 'training_run_datanet_versions',
    kind: 'view',
    key: ['run_id', 'datanet_id', 'version'],
    purpose: 'One row per datanet version a training run used: which models were trained on a datanet',
    columns: [
      col('run_id', 'UInt256', 'the run'),
      col('model_id', 'UInt256', 'its model'),
      col('datanet_id', 'UInt256', 'a datanet it used'),
      col('version', 'UInt256', 'the version of that datanet'),
    ],
  },
  {
    name: 'agg_model_usage_daily',
    kind: 'table',
    key: ['model_id', 'day'],
    purpose: 'Storage of model_usage_daily (SummingMergeTree fed by mv_model_usage_daily_settled and _rejected); read the view',
    columns: [col('model_id', 'UInt256', 'the model'), col('day', 'Date', 'UTC day of the block'), ...USAGE_SUMS],
  },
  {
    name: 'model_usage_daily',
    kind: 'view',
    key: ['model_id', 'day'],
    purpose: 'Usage and fees per model per UTC day; days without inferences have no row',
    columns: [col('model_id', 'UInt256', 'the model'), col('day', 'Date', 'UTC day of the block'), ...USAGE_SUMS],
  },
  {
    name: 'agg_account_claims_daily',
    kind: 'table',
    key: ['account', 'day'],
    purpose: 'Storage of account_claims_daily (SummingMergeTree fed by mv_account_claims_daily); read the view',
    columns: [bin('account', ADDRESS, 'the contributor'), col('day', 'Date', 'UTC day of the block'), ...CLAIM_SUMS],
  },
  {
    name: 'account_claims_daily',
    kind: 'view',
    key: ['account', 'day'],
    purpose: 'OPEN claimed per account per UTC day; days without claims have no row',
    columns: [bin('account', ADDRESS, 'the contributor'), col('day', 'Date', 'UTC day of the block'), ...CLAIM_SUMS],
  },
  {
    name: 'account_claims',
    kind: 'view',
    key: ['account'],
    purpose: 'Claimed totals per account (earned-but-unclaimed amounts come from the attribution tables)',
    columns: [
      bin('account', ADDRESS, 'the contributor'),
      col('claimed_total', 'UInt256', 'OPEN claimed so far, wei (the chain’s cumulativeClaimed)'),
      col('claim_count', 'UInt64', 'claims so far'),
      col('last_claimed_at', DT, 'block time of the latest claim'),
    ],
  },
  {
    name: 'claims',
    kind: 'view',
    key: ['block_number', 'log_index'],
    purpose: 'One row per claim; filter by account or epoch, page by (block_number, log_index)',
    columns: [
      bin('account', ADDRESS, 'who was paid'),
      col('epoch', 'UInt256', 'epoch of the batch claimed against'),
      bin('caller', ADDRESS, 'who sent the claim (claimFor lets anyone)'),
      col('amount', 'UInt256', 'paid by this claim, wei'),
      col('cumulative_claimed', 'UInt256', "the account's claimed total after it, wei"),
      col('block_number', 'UInt64', 'block of the Claimed event'),
      col('log_index', 'UInt32', 'its log index'),
      col('claimed_at', DT, 'its block time'),
      bin('claimed_tx', HASH, 'its transaction'),
    ],
  },
  {
    name: 'payout_batches',
    kind: 'view',
    key: ['epoch', 'nonce'],
    purpose: 'One row per posted payout batch; a revoked batch is re-posted with nonce + 1',
    columns: [
      col('epoch', 'UInt256', 'the epoch it pays'),
      col('nonce', 'UInt256', '0, then 1, 2… after revocations'),
      bin('root', HASH, 'Merkle root of the cumulative leaves (account, totalEarnedSoFar)'),
      col('total', 'UInt256', 'paid out by this batch, wei'),
      col('cumulative_total', 'UInt256', 'paid out by all batches up to this one, wei'),
      bin('score_file_hash', HASH, 'hash of the canonical score file'),
      col('signer_set_version', 'UInt256', 'signer set that signed it'),
      col('available', 'UInt256', 'pool available to it (pools of the epochs covered + carry), wei'),
      col('rolled_over', 'UInt256', 'available − total, carried to the next batch (RemainderRolledOver), wei'),
      col('claimable_at', DT, 'claims open at this time (end of the dispute window)'),
      bin('poster', ADDRESS, 'the attributor who posted it'),
      col('status', 'String', "'posted' or 'revoked' (claimable once the chain's time passes claimable_at)"),
      bin('revoked_by', `Nullable(${ADDRESS})`, 'guardian or governance; NULL unless revoked'),
      col('revoke_reason', 'Nullable(String)', 'NULL unless revoked'),
      col('carry_restored', 'Nullable(UInt256)', 'carry restored by the revocation, wei; NULL unless revoked'),
      col('revoked_at', NDT, 'block time of the revocation; NULL unless revoked'),
      bin('revoked_tx', `Nullable(${HASH})`, 'its transaction; NULL unless revoked'),
      ...at('posted', 'BatchPosted'),
    ],
  },
  {
    name: 'epoch_pools',
    kind: 'view',
    key: ['epoch'],
    purpose: 'Contributor pool per epoch, funded by the router from settled fees',
    columns: [
      col('epoch', 'UInt256', 'the epoch'),
      col('pool_total', 'UInt256', 'pool of the epoch, wei (the chain’s running total)'),
      col('funding_count', 'UInt64', 'PoolFunded events (one per settled batch with a pool share)'),
      col('last_funded_at', DT, 'block time of the latest funding'),
    ],
  },
  {
    name: 'governance_proposals',
    kind: 'view',
    key: ['proposal_id'],
    purpose:
      "One row per Governor proposal. status comes from events; 'created' covers OpenZeppelin's Pending, Active, " +
      'Defeated and Succeeded, which the API tells apart from the head block, vote_start/vote_end and the tallies',
    columns: [
      col('proposal_id', 'UInt256', 'the proposal (a hash, as OpenZeppelin computes it)'),
      bin('proposer', ADDRESS, 'who proposed it'),
      bin('targets', `Array(${ADDRESS})`, 'contracts called'),
      col('values', 'Array(UInt256)', 'wei sent with each call'),
      col('signatures', 'Array(String)', 'function signatures (empty with calldata)'),
      bin('calldatas', 'Array(String)', 'calldata of each call'),
      col('description', 'String', 'the proposal text'),
      col('vote_start', 'UInt256', 'block at which voting opens'),
      col('vote_end', 'UInt256', 'last block of voting'),
      col('status', 'String', "'created', 'queued', 'executed' or 'canceled'"),
      col('eta_seconds', 'Nullable(UInt256)', 'unix time the timelock may execute it; NULL unless queued'),
      col('queued_at', NDT, 'block time of ProposalQueued; NULL unless queued'),
      col('executed_at', NDT, 'block time of ProposalExecuted; NULL unless executed'),
      col('canceled_at', NDT, 'block time of ProposalCanceled; NULL unless canceled'),
      col('against_votes', 'UInt256', 'weight voting against'),
      col('for_votes', 'UInt256', 'weight voting for'),
      col('abstain_votes', 'UInt256', 'weight abstaining'),
      col('voter_count', 'UInt64', 'votes cast'),
      ...at('created', 'ProposalCreated'),
    ],
  },
  {
    name: 'governance_votes',
    kind: 'view',
    key: ['proposal_id', 'voter'],
    purpose: 'One row per vote (VoteCast and VoteCastWithParams)',
    columns: [
      col('proposal_id', 'UInt256', 'the proposal'),
      bin('voter', ADDRESS, 'who voted'),
      col('support', 'UInt8', '0 against, 1 for, 2 abstain'),
      col('weight', 'UInt256', 'voting weight, wei of OPEN'),
      col('reason', 'String', 'the reason given, may be empty'),
      bin('params', 'String', 'extra parameters (VoteCastWithParams), else empty'),
      col('block_number', 'UInt64', 'block of the vote'),
      col('log_index', 'UInt32', 'its log index'),
      col('cast_at', DT, 'its block time'),
      bin('cast_tx', HASH, 'its transaction'),
    ],
  },
  // ------------------------------------------------------------------------- migration 4: content
  {
    name: 'content_uploads',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['content_hash', 'uploader'],
    purpose: 'One row per address that uploaded a file with these rows (a copy of the content store\'s upload receipts)',
    columns: [
      bin('content_hash', HASH, 'Merkle root of the row hashes: what an on-chain contribution carries'),
      bin('uploader', ADDRESS, 'the address that signed the upload'),
      col('datanet_id', 'UInt256', 'the datanet the upload was signed for'),
      bin('file_sha256', HASH, 'SHA-256 of the uploaded file'),
      bin('manifest_sha256', HASH, "SHA-256 of the contribution's manifest in the content store"),
      bin('receipt_sha256', HASH, "SHA-256 of the upload receipt in the content store"),
      col('filename', 'String', "the uploaded file's name"),
      col('file_bytes', 'UInt64', 'size of the uploaded file'),
      col('row_count', 'UInt32', 'rows in the file'),
      col('shape', 'LowCardinality(String)', "'text', 'prompt-completion' or 'text-label'"),
      col('uploaded_at', DT, 'when it was uploaded'),
    ],
  },
  {
    name: 'content_rows',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['content_hash', 'row_index'],
    purpose: 'The canonical rows of each uploaded content hash, in file order (read with FINAL)',
    columns: [
      bin('content_hash', HASH, 'the content hash the row belongs to'),
      col('row_index', 'UInt32', 'position in the file, from 0'),
      bin('row_hash', HASH, "keccak256 of the row's canonical encoding"),
      ...ROW_FIELDS,
    ],
  },
  {
    name: 'contribution_content',
    kind: 'view',
    key: ['contribution_id'],
    purpose: "Whether each on-chain contribution's rows were uploaded by its contributor, and the file",
    columns: [
      col('contribution_id', 'UInt256', 'the contribution'),
      col('datanet_id', 'UInt256', 'its datanet'),
      bin('contributor', ADDRESS, 'who submitted it on chain'),
      bin('content_hash', HASH, 'the content hash it carries'),
      col('status', 'String', "review status: 'pending', 'accepted' or 'rejected'"),
      col('rows_present', 'Bool', 'false: the contributor never uploaded rows with this content hash (flagged; earns nothing)'),
      col('row_count', 'UInt32', 'rows uploaded (0 when missing)'),
      col('shape', 'String', "row shape ('' when missing)"),
      col('filename', 'String', "the uploaded file's name ('' when missing)"),
      col('file_bytes', 'UInt64', 'size of the uploaded file (0 when missing)'),
      bin('file_sha256', HASH, 'SHA-256 of the uploaded file (zero bytes when missing)'),
      bin('manifest_sha256', HASH, "SHA-256 of the contribution's manifest (zero bytes when missing)"),
      col('uploaded_at', NDT, 'first upload by the contributor; NULL when missing'),
    ],
  },
  {
    name: 'row_owners',
    kind: 'view',
    key: ['row_hash'],
    purpose: 'Which contribution owns each row: the first on-chain one that carries it, has its rows and was not rejected',
    columns: [
      bin('row_hash', HASH, 'the row'),
      col('contribution_id', 'UInt256', 'the owning contribution (lowest id: ids follow chain order)'),
      col('row_index', 'UInt32', 'the row\'s index within the owning contribution (the first, if it repeats there)'),
      col('copies', 'UInt64', 'how many times the row occurs in eligible contributions'),
    ],
  },
  {
    name: 'datanet_rows',
    kind: 'view',
    key: ['contribution_id', 'row_index'],
    purpose: 'Every uploaded row of every on-chain contribution, with its status and owner (filter: datanet_id, status, owned)',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet'),
      col('contribution_id', 'UInt256', 'the contribution'),
      col('row_index', 'UInt32', 'position in the contributed file, from 0'),
      bin('row_hash', HASH, "keccak256 of the row's canonical encoding"),
      ...ROW_FIELDS,
      bin('contributor', ADDRESS, 'who contributed it'),
      col('status', 'String', "the contribution's review status"),
      col('owned', 'Bool', 'true: this contribution owns the row and it can earn; false: an earlier copy owns it (flagged)'),
      col('owner_contribution_id', 'Nullable(UInt256)', 'the contribution that owns the row; NULL when none (e.g. all copies rejected)'),
    ],
  },
  {
    name: 'datanet_version_contributions',
    kind: 'view',
    key: ['datanet_id', 'version', 'contribution_id'],
    purpose: 'The contributions of each published version: accepted before the version was published',
    columns: [
      col('datanet_id', 'UInt256', 'the datanet'),
      col('version', 'UInt256', 'the version'),
      col('contribution_id', 'UInt256', 'an accepted contribution in it'),
      bin('content_hash', HASH, 'its content hash (a leaf of the version root, with the id)'),
      bin('contributor', ADDRESS, 'who contributed it'),
    ],
  },
  INFERENCE_LOG_RELATION,
  ...TRAINING_RELATIONS,
  ...ATTRIBUTION_RELATIONS,
];

/** The materialized views that feed the aggregate tables on every insert into their event table. */
export const DERIVED_FEEDERS: readonly { name: string; from: string; to: string }[] = [
  { name: 'mv_model_usage_daily_settled', from: 'ev_inference_router_inference_settled', to: 'agg_model_usage_daily' },
  { name: 'mv_model_usage_daily_rejected', from: 'ev_inference_router_inference_rejected', to: 'agg_model_usage_daily' },
  { name: 'mv_account_claims_daily', from: 'ev_attribution_settlement_claimed', to: 'agg_account_claims_daily' },
];

const byName = new Map(DERIVED_RELATIONS.map((r) => [r.name, r]));

/** The relation called `name`; throws naming the known ones when there is none. */
export function derivedRelation(name: string): DerivedRelation {
  const r = byName.get(name);
  if (!r) throw new Error(`No derived relation ${JSON.stringify(name)}: known are ${[...byName.keys()].join(', ')}`);
  return r;
}

/**
 * A SELECT list for `relation` that prints binary columns as 0x-hex (NULL stays NULL) and keeps the
 * others as they are, each under its own name. `columns` picks some, in that order (default: all).
 * Names come only from DERIVED_RELATIONS: an unknown one throws instead of reaching the SQL.
 *
 * Beware: ClickHouse applies these aliases in the same query's WHERE, so `WHERE contributor =
 * unhex(…)` next to this list compares hex text with bytes and matches nothing. Filter in a subquery
 * and select this list outside it (as api/graphql/clickhouse.ts does).
 */
export function derivedSelectList(relation: string, columns?: readonly string[]): string {
  const r = derivedRelation(relation);
  const picked = (columns ?? r.columns.map((c) => c.name)).map((name) => {
    const c = r.columns.find((x) => x.name === name);
    if (!c) throw new Error(`${r.name} has no column ${JSON.stringify(name)}: it has ${r.columns.map((x) => x.name).join(', ')}`);
    return c;
  });
  return picked.map(selectExpression).join(', ');
}

function selectExpression(c: DerivedColumn): string {
  const id = `\`${c.name}\``;
  if (!c.hex) return id;
  const hex = (x: string) => `concat('0x', lower(hex(${x})))`;
  return `${c.chType.startsWith('Array(') ? `arrayMap(x -> ${hex('x')}, ${id})` : hex(id)} AS ${id}`;
}
