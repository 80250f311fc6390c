// How the attribution fields read ClickHouse: migration 7's tables (attribution_scores, attribution_spans,
// attribution_rewards, ReplacingMergeTrees read with FINAL), the live InferenceSettled rows and inference_log.
// These are tables, not derived relations, so the select lists (binary columns as 0x-hex) are written here;
// as in clickhouse.ts, every filter runs in an inner query on the raw columns and every value is a
// query parameter.
import type { ApiContext } from '../builder.ts';
import { selectRows, type Filter } from '../clickhouse.ts';
import { checkConnectionArgs, connectionFromPage, pageWindow, type Connection, type ConnectionArgs } from '../pagination.ts';

const hex = (column: string) => `concat('0x', lower(hex(${column}))) AS ${column}`;

/** One attribution_scores row: an inference's attribution to one contribution. */
export interface AttributionRow {
  epoch: string;
  request_id: string;
  contribution_id: string;
  model_id: string;
  account: string;
  rows: number;
  influence: number;
  span_tokens: number;
  score: number;
  weight: string;
  score_file_hash: string;
}

export interface AttributionSpanRow {
  epoch: string;
  request_id: string;
  contribution_id: string;
  row_index: number;
  start: number;
  length: number;
  text: string;
}

export interface SettledInferenceRow {
  request_id: string;
  model_id: string;
  payer: string;
  epoch: string;
  batch_number: string;
  model_owner: string;
  tokens_in: string;
  tokens_out: string;
  fee: string;
  owner_amount: string;
  pool_amount: string;
  treasury_amount: string;
  block_number: string;
  block_timestamp: string;
  tx_hash: string;
}

export interface InferenceLogRow {
  request_id: string;
  model_version: string;
  adapter_hash: string;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  first_token_ms: number | null;
  finish_reason: string;
  prompt: string;
  output: string;
  prompt_sha256: string;
  output_sha256: string;
  created_at: string;
}

export interface TableList {
  /** `table FINAL`. */
  from: string;
  /** The select list (binary columns as hex under their own names). */
  select: string;
  filters: readonly Filter[];
  /** A total order; must read the same on the hex aliases as on the raw columns. */
  orderBy: string;
}

export const ATTRIBUTION_SCORES: Omit<TableList, 'filters' | 'orderBy'> = {
  from: 'attribution_scores FINAL',
  select: ['epoch', hex('request_id'), 'contribution_id', 'model_id', hex('account'), 'rows', 'influence', 'span_tokens', 'score', 'weight', hex('score_file_hash')].join(', '),
};

export const ATTRIBUTION_SPANS: Omit<TableList, 'filters' | 'orderBy'> = {
  from: 'attribution_spans FINAL',
  select: ['epoch', hex('request_id'), 'contribution_id', 'row_index', 'start', 'length', 'text'].join(', '),
};

/** A page of a table as a Relay connection: a count of the filtered rows, then the page (LIMIT/OFFSET). */
export async function tableConnection<T>(ctx: ApiContext, args: ConnectionArgs, list: TableList): Promise<Connection<T>> {
  checkConnectionArgs(args);
  const where = list.filters.map((f) => `(${f.sql})`).join(' AND ');
  const params = Object.assign({}, ...list.filters.map((f) => f.params)) as Record<string, unknown>;
  const [{ n }] = (await selectRows<{ n: string }>(ctx, `SELECT count() AS n FROM ${list.from}${where ? ` WHERE ${where}` : ''}`, params)) as [{ n: string }];
  const window = pageWindow(args, Number(n));
  const nodes =
    window.limit === 0
      ? []
      : await selectRows<T>(
          ctx,
          `SELECT ${list.select} FROM (SELECT * FROM ${list.from}${where ? ` WHERE ${where}` : ''} ORDER BY ${list.orderBy} LIMIT {limit:UInt32} OFFSET {offset:UInt32}) ORDER BY ${list.orderBy}`,
          { ...params, limit: window.limit, offset: window.offset },
        );
  return connectionFromPage(nodes, window, Number(n));
}

/**
 * `column` (raw FixedString(`width`) bytes) is one of the checked 0x-hex `values`. The set is made of
 * FixedStrings: `IN` a set of plain Strings misses every value that ends in a zero byte.
 */
export const bytesIn = (column: string, param: string, width: 20 | 32, values: readonly string[]): Filter => ({
  sql: `\`${column}\` IN (SELECT toFixedString(unhex(substring(arrayJoin({${param}:Array(String)}), 3)), ${width}))`,
  params: { [param]: [...values] },
});

/** The first live InferenceSettled row of each request id (a cancelled one, reorged out, is not). */
export function selectSettledInferences(ctx: ApiContext, requestIds: readonly string[]): Promise<SettledInferenceRow[]> {
  const f = bytesIn('request_id', 'ids', 32, requestIds);
  const columns = ['request_id', 'model_id', 'payer', 'epoch', 'batch_number', 'model_owner', 'tokens_in', 'tokens_out', 'fee', 'owner_amount', 'pool_amount', 'treasury_amount'];
  return selectRows<SettledInferenceRow>(
    ctx,
    `SELECT ${[hex('request_id'), 'model_id', hex('payer'), 'epoch', 'batch_number', hex('model_owner'), 'tokens_in', 'tokens_out', 'fee', 'owner_amount', 'pool_amount', 'treasury_amount', 'block_number', 'block_timestamp', hex('tx_hash')].join(', ')}
     FROM (
        SELECT block_number, log_index, block_hash, any(block_timestamp) AS block_timestamp, any(tx_hash) AS tx_hash, ${columns.map((c) => `any(${c}) AS ${c}`).join(', ')}
        FROM (SELECT * FROM ev_inference_router_inference_settled WHERE ${f.sql})
        GROUP BY block_number, log_index, block_hash
        HAVING sum(sign) > 0
     )
     ORDER BY block_number, log_index
     LIMIT 1 BY request_id`,
    f.params,
  );
}

/** The inference_log row of each request id that has one. */
export function selectInferenceLogs(ctx: ApiContext, requestIds: readonly string[]): Promise<InferenceLogRow[]> {
  const f = bytesIn('request_id', 'ids', 32, requestIds);
  const select = [hex('request_id'), 'model_version', hex('adapter_hash'), 'tokens_in', 'tokens_out', 'latency_ms', 'first_token_ms', 'finish_reason', 'prompt', 'output', hex('prompt_sha256'), hex('output_sha256'), 'created_at'];
  return selectRows<InferenceLogRow>(ctx, `SELECT ${select.join(', ')} FROM (SELECT * FROM inference_log FINAL WHERE ${f.sql}) ORDER BY created_at LIMIT 1 BY request_id`, f.params);
}

export interface AccountEarningsRow {
  account: string;
  /** The account's leaf in the newest posted, unrevoked batch it has one in. */
  cumulative_earned: string;
  /** Its leaf in the newest posted batch past its dispute window (0 when none). */
  claimable_leaf: string;
  /** Where that leaf is: the batch's epoch and root, and the leaf's Merkle proof (empty when none). */
  claimable_epoch: string;
  claimable_root: string;
  claimable_proof: string[];
  claimed_total: string;
}

/**
 * Per account: its cumulative leaf in the newest posted, unrevoked batch (attribution_rewards joined with
 * payout_batches on (epoch, root): rows of a batch never posted, or revoked, do not count), the same in the
 * newest such batch whose claimable_at has passed, and what it has claimed. A leaf carries every earlier
 * epoch, so the newest batch an account has a row in gives its total. claimable_at is compared with the
 * wall clock, as the server's blanking of inference text does (schema's claimableEpochs).
 */
export function selectAccountEarnings(ctx: ApiContext, accounts: readonly string[]): Promise<AccountEarningsRow[]> {
  const f = bytesIn('account', 'accounts', 20, accounts);
  return selectRows<AccountEarningsRow>(
    ctx,
    `WITH (SELECT max(epoch) FROM payout_batches WHERE status = 'posted' AND claimable_at <= now64(3)) AS newest_claimable_epoch
     SELECT concat('0x', lower(hex(a.account))) AS account,
            toString(ifNull(e.cumulative_earned, 0)) AS cumulative_earned,
            toString(ifNull(e.claimable_leaf, 0)) AS claimable_leaf,
            toString(ifNull(e.leaf_epoch, 0)) AS claimable_epoch,
            concat('0x', lower(hex(ifNull(e.claimable_root, '')))) AS claimable_root,
            e.claimable_proof AS claimable_proof,
            toString(ifNull(c.claimed_total, 0)) AS claimed_total
     FROM (SELECT arrayJoin({accounts:Array(String)}) AS hex_account, toFixedString(unhex(substring(hex_account, 3)), 20) AS account) AS a
     LEFT JOIN (
        SELECT r.account AS account,
               argMax(r.cumulative, r.epoch) AS cumulative_earned,
               argMaxIf(r.cumulative, r.epoch, r.epoch <= newest_claimable_epoch) AS claimable_leaf,
               maxIf(r.epoch, r.epoch <= newest_claimable_epoch) AS leaf_epoch,
               argMaxIf(r.root, r.epoch, r.epoch <= newest_claimable_epoch) AS claimable_root,
               argMaxIf(r.proof, r.epoch, r.epoch <= newest_claimable_epoch) AS claimable_proof
        FROM (SELECT * FROM attribution_rewards FINAL WHERE ${f.sql}) AS r
        INNER JOIN (SELECT epoch, root FROM payout_batches WHERE status = 'posted') AS b ON r.epoch = b.epoch AND r.root = b.root
        GROUP BY r.account
     ) AS e ON e.account = a.account
     LEFT JOIN (SELECT account, claimed_total FROM account_claims WHERE ${f.sql}) AS c ON c.account = a.account
     SETTINGS join_use_nulls = 1`,
    f.params,
  );
}
