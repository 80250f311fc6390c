// Writes an epoch's attribution into ClickHouse (migration 7): scores per (inference, contribution) with
// their score-file weights, the spans behind the span evidence, what the batch allocates per account with
// its cumulative leaf, and the flagged contributions. TabSeparated inserts, binary values as hex that the
// tables unhex; every table is a ReplacingMergeTree, so writing an epoch again changes nothing.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { tsvString } from '../../schema/index.ts';
import type { ComputedPayoutBatch } from '../payouts/buildBatch.ts';
import type { ScoreEntry } from '../payouts/scoreFile.ts';
import type { ContributionFlag } from './flags.ts';
import type { InferenceAttribution } from './modelAttribution.ts';

export interface EpochAttributionRecord {
  epoch: bigint;
  /** Attributed inferences with the model that answered each. */
  inferences: readonly (InferenceAttribution & { modelId: bigint })[];
  entries: readonly ScoreEntry[];
  batch: ComputedPayoutBatch;
  flags: readonly ContributionFlag[];
}

const hex = (h: string) => h.replace(/^0x/, '').toLowerCase();
const BATCH = 20_000;

/** Inserts `lines` BATCH at a time, taking them lazily: an epoch at scale has millions of score rows. */
async function insert(client: ClickHouseClient, table: string, columns: string[], lines: Iterable<string>): Promise<void> {
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const values = batch.join('');
    batch = [];
    await client.insert({ table, columns: columns as [string, ...string[]], format: 'TabSeparated', values: Readable.from([values], { objectMode: false }) });
  };
  for (const line of lines) {
    batch.push(line);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
}

/** Writes the epoch's scores, spans, flags and rewards. */
export async function recordEpochAttribution(client: ClickHouseClient, r: EpochAttributionRecord): Promise<void> {
  const epoch = r.epoch.toString();
  const weights = new Map(r.entries.map((e) => [`${e.requestId.toLowerCase()}/${e.contributionId}`, e.weight]));
  const scoreHash = hex(r.batch.scoreFileHash);
  function* scores() {
    for (const inf of r.inferences) {
      const request = hex(inf.requestId);
      for (const c of inf.contributions) {
        const weight = weights.get(`0x${request}/${c.contributionId}`) ?? 0n;
        yield [epoch, request, c.contributionId, inf.modelId, hex(c.account), c.rows, c.influence, Math.round(c.spanTokens), c.score, weight, scoreHash].join('\t') + '\n';
      }
    }
  }
  function* spans() {
    for (const inf of r.inferences) {
      const request = hex(inf.requestId);
      for (const s of inf.spans) yield [epoch, request, s.contributionId, s.rowIndex, s.start, s.length, tsvString(s.text)].join('\t') + '\n';
    }
  }
  await insert(client, 'attribution_scores', ['epoch', 'request_id_hex', 'contribution_id', 'model_id', 'account_hex', 'rows', 'influence', 'span_tokens', 'score', 'weight', 'score_file_hash_hex'], scores());
  await insert(client, 'attribution_spans', ['epoch', 'request_id_hex', 'contribution_id', 'row_index', 'start', 'length', 'text'], spans());
  await insert(
    client,
    'attribution_flags',
    ['epoch', 'contribution_id', 'account_hex', 'inferences', 'negative_inferences', 'mean_influence', 'evidence'],
    r.flags.map((f) => [epoch, f.contributionId, hex(f.account), f.inferences, f.negativeInferences, f.meanInfluence, tsvString(JSON.stringify(f.evidence))].join('\t') + '\n'),
  );
  const amounts = new Map(r.batch.allocation.amounts.map((a) => [a.account.toLowerCase(), a.amount]));
  const inferencesOf = new Map<string, number>();
  for (const e of r.entries) {
    const a = e.account.toLowerCase();
    inferencesOf.set(a, (inferencesOf.get(a) ?? 0) + 1);
  }
  await insert(
    client,
    'attribution_rewards',
    ['account_hex', 'epoch', 'root_hex', 'amount', 'cumulative', 'inferences', 'proof'],
    r.batch.tree.leaves.map((l) => {
      const a = l.account.toLowerCase();
      const proof = r.batch.tree.proof(l.account)!.proof;
      return [hex(a), epoch, hex(r.batch.root), amounts.get(a) ?? 0n, l.cumulative, inferencesOf.get(a) ?? 0, `[${proof.map((h) => `'${h.toLowerCase()}'`).join(',')}]`].join('\t') + '\n';
    }),
  );
}

/** The request ids whose scores ClickHouse holds for an epoch (for reports and tests). */
export async function attributedRequestIds(client: ClickHouseClient, epoch: bigint): Promise<Hex[]> {
  const rs = await client.query({
    query: `SELECT DISTINCT concat('0x', lower(hex(request_id))) AS id FROM attribution_scores FINAL WHERE epoch = {epoch:UInt64} ORDER BY id`,
    query_params: { epoch: epoch.toString() },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ id: Hex }>()).map((r) => r.id);
}
