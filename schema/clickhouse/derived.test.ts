import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import type { ContractName } from '../../contracts/index.ts';
import { openClickHouse, type ClickHouseStore } from './connect.ts';
import { DERIVED_FEEDERS, DERIVED_RELATIONS, derivedRelation, derivedSelectList } from './derived.ts';
import { claimableEpochs } from './inferenceLog.ts';
import { eventRowTsv, eventTable, insertEventRows, type ContractEvent, type EventTable, type LogPosition } from './eventTables.ts';
import { migrate, migrationChecksum } from './migrate.ts';
import { CLICKHOUSE_MIGRATIONS } from './migrations/index.ts';
import { m0003 } from './migrations/0003_derived.ts';
import { m0004 } from './migrations/0004_content.ts';

// chDB binds one data dir per process, so the tests share one dir; each test migrates a database of
// its own, so that the views, which read whole tables, see only that test's events.
let dir: string;
const stores: ClickHouseStore[] = [];
let nextDb = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-derived-'));
});
afterAll(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function freshStore(migrations = CLICKHOUSE_MIGRATIONS): Promise<ClickHouseStore> {
  const store = await openClickHouse({ dataDir: dir, database: `derived_${nextDb++}` });
  stores.push(store);
  await migrate(store, migrations);
  return store;
}

const rows = async <T = Record<string, unknown>>(store: ClickHouseStore, query: string, query_params?: Record<string, unknown>) =>
  (await store.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

// ------------------------------------------------------------------------------ synthetic chain

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2025, 2, 1, 9, 30); // 2025-03-01 09:30 UTC
const hex32 = (prefix: number, n: bigint | number) => `0x${prefix.toString(16).padStart(2, '0')}${BigInt(n).toString(16).padStart(62, '0')}` as Hex;
const hash = (n: bigint | number) => hex32(0x11, n);
const addr = (n: number) => `0x${'a0'}${n.toString(16).padStart(38, '0')}` as Hex;
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3' as Hex;

/** Block `block` on fork `fork` (a reorg replaces fork 0's block with fork 1's at the same height). */
const at = (block: number, logIndex = 0, o: { fork?: number; ms?: number } = {}): LogPosition => ({
  blockNumber: BigInt(block),
  blockHash: hex32(0xb0 + (o.fork ?? 0), block),
  timestampMs: o.ms ?? T0 + block * 12_000,
  logIndex,
  transactionHash: hex32(0xc0 + (o.fork ?? 0), block * 1000 + logIndex),
  address: CONTRACT,
});

interface Ev {
  table: EventTable;
  pos: LogPosition;
  args: Record<string, unknown>;
}
const ev = <C extends ContractName>(contract: C, event: ContractEvent<C>, pos: LogPosition, args: Record<string, unknown>): Ev => ({
  table: eventTable(contract, event),
  pos,
  args,
});

/** Writes the events as the indexer does (one insert per table), or their cancelling rows (sign -1). */
async function write(store: ClickHouseStore, evs: readonly Ev[], sign: 1 | -1 = 1): Promise<void> {
  const byTable = new Map<EventTable, string[]>();
  for (const e of evs) {
    const lines = byTable.get(e.table) ?? [];
    lines.push(eventRowTsv(e.table, e.pos, e.args, sign));
    byTable.set(e.table, lines);
  }
  for (const [table, lines] of byTable) await insertEventRows(store.client, table, lines);
}
const put = (store: ClickHouseStore, ...evs: Ev[]) => write(store, evs, 1);
const cancel = (store: ClickHouseStore, ...evs: Ev[]) => write(store, evs, -1);

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  /** A bigint in [0, 2^bits). */
  const big = (bits: number) => {
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(65536));
    return v & ((1n << BigInt(bits)) - 1n);
  };
  return { int, big };
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const sel = (relation: string, columns?: readonly string[]) => derivedSelectList(relation, columns);

// ------------------------------------------------------------------------- per-day usage oracle

const MODELS = [7n, 2n ** 160n + 3n, 42n];
const USAGE_FIELDS = ['tokensIn', 'tokensOut', 'fee', 'ownerAmount', 'poolAmount', 'treasuryAmount'] as const;

function settled(r: ReturnType<typeof random>, pos: LogPosition, i: number): Ev {
  const fee = r.big(130) + 2n ** 129n; // above 2^128: the sums must stay exact
  const ownerAmount = (fee * 5000n) / 10000n;
  const treasuryAmount = (fee * 1000n) / 10000n;
  return ev('InferenceRouter', 'InferenceSettled', pos, {
    requestId: hash(i),
    modelId: MODELS[r.int(MODELS.length)],
    payer: addr(1 + r.int(5)),
    epoch: 3n,
    batchNumber: 1n,
    modelOwner: addr(100),
    tokensIn: BigInt(200 + r.int(1800)),
    tokensOut: BigInt(50 + r.int(700)),
    fee,
    ownerAmount,
    poolAmount: fee - ownerAmount - treasuryAmount,
    treasuryAmount,
  });
}

function rejected(r: ReturnType<typeof random>, pos: LogPosition, i: number): Ev {
  return ev('InferenceRouter', 'InferenceRejected', pos, {
    requestId: hash(1_000_000 + i),
    modelId: MODELS[r.int(MODELS.length)],
    payer: addr(1 + r.int(5)),
    operator: addr(50),
    batchNumber: 1n,
    fee: r.big(140),
    reason: r.int(3),
  });
}

/** model_usage_daily as it must read, computed here from the live events with bigints. */
function usageOracle(live: readonly Ev[]) {
  const days = new Map<string, Record<string, bigint> & { model: bigint; day: string }>();
  for (const e of live) {
    const model = e.args.modelId as bigint;
    const day = dayOf(e.pos.timestampMs);
    const k = `${model}|${day}`;
    const acc =
      days.get(k) ??
      Object.assign({ model, day }, Object.fromEntries([...USAGE_FIELDS, 'settled', 'rejected', 'rejectedFee'].map((f) => [f, 0n])));
    if (e.table.event === 'InferenceSettled') {
      acc.settled! += 1n;
      for (const f of USAGE_FIELDS) acc[f]! += e.args[f] as bigint;
    } else {
      acc.rejected! += 1n;
      acc.rejectedFee! += e.args.fee as bigint;
    }
    days.set(k, acc);
  }
  return [...days.values()]
    .sort((a, b) => (a.model !== b.model ? (a.model < b.model ? -1 : 1) : a.day < b.day ? -1 : 1))
    .map((a) => ({
      model_id: String(a.model),
      day: a.day,
      settled_count: String(a.settled),
      tokens_in: String(a.tokensIn),
      tokens_out: String(a.tokensOut),
      fee: String(a.fee),
      owner_amount: String(a.ownerAmount),
      pool_amount: String(a.poolAmount),
      treasury_amount: String(a.treasuryAmount),
      rejected_count: String(a.rejected),
      rejected_fee: String(a.rejectedFee),
    }));
}

// The same aggregate recomputed straight from the raw event tables: sum(sign × x) grouped the same way.
const USAGE_FROM_RAW = `
SELECT model_id, day,
       sum(settled_count) AS settled_count, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out, sum(fee) AS fee,
       sum(owner_amount) AS owner_amount, sum(pool_amount) AS pool_amount, sum(treasury_amount) AS treasury_amount,
       sum(rejected_count) AS rejected_count, sum(rejected_fee) AS rejected_fee
FROM (
    SELECT model_id, toDate(block_timestamp) AS day, toInt64(sign) AS settled_count,
           toInt256(tokens_in) * sign AS tokens_in, toInt256(tokens_out) * sign AS tokens_out, toInt256(fee) * sign AS fee,
           toInt256(owner_amount) * sign AS owner_amount, toInt256(pool_amount) * sign AS pool_amount,
           toInt256(treasury_amount) * sign AS treasury_amount, toInt64(0) AS rejected_count, toInt256(0) AS rejected_fee
    FROM ev_inference_router_inference_settled
    UNION ALL
    SELECT model_id, toDate(block_timestamp), 0, 0, 0, 0, 0, 0, 0, toInt64(sign), toInt256(fee) * sign
    FROM ev_inference_router_inference_rejected
)
GROUP BY model_id, day
HAVING settled_count != 0 OR rejected_count != 0
ORDER BY model_id, day`;

const CLAIMS_FROM_RAW = `
SELECT concat('0x', lower(hex(account))) AS account, toDate(block_timestamp) AS day,
       sum(toInt256(amount) * sign) AS claimed_amount, sum(toInt64(sign)) AS claim_count
FROM ev_attribution_settlement_claimed
GROUP BY account, day
HAVING claim_count != 0
ORDER BY account, day`;

const readUsage = (store: ClickHouseStore) => rows(store, `SELECT ${sel('model_usage_daily')} FROM model_usage_daily ORDER BY model_id, day`);
const readClaimsDaily = (store: ClickHouseStore) =>
  rows(store, `SELECT ${sel('account_claims_daily')} FROM account_claims_daily ORDER BY account, day`);

/** A day's worth of blocks: `count` events from block `first`, several per block, at day `day`. */
function usageEvents(r: ReturnType<typeof random>, first: number, count: number, day: number, fork = 0): Ev[] {
  return Array.from({ length: count }, (_, i) => {
    const block = first + Math.floor(i / 4);
    const pos = at(block, i % 4, { fork, ms: T0 + day * DAY_MS + block * 1000 });
    return i % 9 === 8 ? rejected(r, pos, block * 10 + (i % 4) + fork * 1_000_000) : settled(r, pos, block * 10 + (i % 4) + fork * 1_000_000);
  });
}

function claimedEvents(r: ReturnType<typeof random>, first: number, count: number, day: number, fork = 0): Ev[] {
  const cumulative = new Map<Hex, bigint>();
  return Array.from({ length: count }, (_, i) => {
    const block = first + Math.floor(i / 3);
    const account = addr(200 + r.int(6));
    const amount = r.big(135) + 1n;
    const total = (cumulative.get(account) ?? 0n) + amount;
    cumulative.set(account, total);
    return ev('AttributionSettlement', 'Claimed', at(block, i % 3, { fork, ms: T0 + day * DAY_MS + block * 1000 }), {
      account,
      epoch: 4n,
      caller: account,
      amount,
      cumulativeClaimed: total,
    });
  });
}

function claimsOracle(live: readonly Ev[]) {
  const days = new Map<string, { account: string; day: string; amount: bigint; count: bigint }>();
  for (const e of live) {
    const account = (e.args.account as string).toLowerCase();
    const day = dayOf(e.pos.timestampMs);
    const acc = days.get(`${account}|${day}`) ?? { account, day, amount: 0n, count: 0n };
    acc.amount += e.args.amount as bigint;
    acc.count += 1n;
    days.set(`${account}|${day}`, acc);
  }
  return [...days.values()]
    .sort((a, b) => (a.account !== b.account ? (a.account < b.account ? -1 : 1) : a.day < b.day ? -1 : 1))
    .map((a) => ({ account: a.account, day: a.day, claimed_amount: String(a.amount), claim_count: String(a.count) }));
}

describe('per-day aggregates', () => {
  it('model_usage_daily equals the sums recomputed from the raw InferenceSettled and InferenceRejected rows, before and after a reorg', async () => {
    const store = await freshStore();
    const r = random(1);
    // Four days, written in several inserts as the indexer's batches would be.
    const day0 = usageEvents(r, 100, 120, 0);
    const day1 = usageEvents(r, 200, 90, 1);
    const day2 = usageEvents(r, 300, 60, 2);
    const day3 = usageEvents(r, 400, 8, 3);
    for (const batch of [day0.slice(0, 50), day0.slice(50), day1, day2, day3]) await put(store, ...batch);
    let live = [...day0, ...day1, ...day2, ...day3];
    const expected = usageOracle(live);
    expect(expected.length).toBeGreaterThan(8);
    expect(await readUsage(store)).toEqual(expected);
    expect(await rows(store, `SELECT ${sel('model_usage_daily')} FROM (${USAGE_FROM_RAW})`)).toEqual(expected);
    // One figure checked by hand: a sum of fees above 2^128 is exact.
    expect(BigInt((await readUsage(store))[0]!.fee as string)).toBe(
      live.filter((e) => e.table.event === 'InferenceSettled' && e.args.modelId === 7n && dayOf(e.pos.timestampMs) === '2025-03-01').reduce((s, e) => s + (e.args.fee as bigint), 0n),
    );

    // A reorg of day 2's last 8 blocks: their rows are cancelled and other events take their heights.
    const orphaned = day2.filter((e) => Number(e.pos.blockNumber) >= 307);
    const replacement = usageEvents(random(2), 307, 20, 2, 1);
    await cancel(store, ...orphaned);
    await put(store, ...replacement);
    // And day 3 is reorged away entirely, with nothing in its place yet.
    await cancel(store, ...day3);
    live = [...day0, ...day1, ...day2.filter((e) => !orphaned.includes(e)), ...replacement];
    const afterReorg = usageOracle(live);
    expect(afterReorg).not.toEqual(expected);
    expect(afterReorg.some((row) => row.day === '2025-03-04')).toBe(false);
    expect(await readUsage(store)).toEqual(afterReorg);
    expect(await rows(store, `SELECT ${sel('model_usage_daily')} FROM (${USAGE_FROM_RAW})`)).toEqual(afterReorg);

    // Merging the aggregate changes nothing, and drops the days that summed to zero.
    await store.client.command({ query: 'OPTIMIZE TABLE agg_model_usage_daily FINAL' });
    expect(await readUsage(store)).toEqual(afterReorg);
    expect(await rows(store, 'SELECT count() AS n FROM agg_model_usage_daily')).toEqual([{ n: String(afterReorg.length) }]);
  });

  it('account_claims_daily equals the sums recomputed from the raw Claimed rows, before and after a reorg', async () => {
    const store = await freshStore();
    const r = random(3);
    const day0 = claimedEvents(r, 100, 40, 0);
    const day1 = claimedEvents(r, 200, 30, 1);
    await put(store, ...day0);
    await put(store, ...day1);
    const expected = claimsOracle([...day0, ...day1]);
    expect(await readClaimsDaily(store)).toEqual(expected);
    expect(await rows(store, CLAIMS_FROM_RAW)).toEqual(expected);

    const orphaned = day1.slice(-7);
    const replacement = claimedEvents(random(4), Number(orphaned[0]!.pos.blockNumber), 5, 1, 1);
    await cancel(store, ...orphaned);
    await put(store, ...replacement);
    const afterReorg = claimsOracle([...day0, ...day1.slice(0, -7), ...replacement]);
    expect(afterReorg).not.toEqual(expected);
    expect(await readClaimsDaily(store)).toEqual(afterReorg);
    expect(await rows(store, CLAIMS_FROM_RAW)).toEqual(afterReorg);
    await store.client.command({ query: 'OPTIMIZE TABLE agg_account_claims_daily FINAL' });
    expect(await readClaimsDaily(store)).toEqual(afterReorg);
  });

  it('count the events indexed before migration 3 exactly once, also when its statements run a second time', async () => {
    const store = await freshStore(CLICKHOUSE_MIGRATIONS.filter((m) => m.id < 3));
    const r = random(5);
    const usage = usageEvents(r, 100, 60, 0);
    const claimed = claimedEvents(r, 500, 20, 1);
    await put(store, ...usage, ...claimed);
    await cancel(store, ...usage.slice(-6)); // a reorg the old indexer already handled
    expect((await migrate(store, CLICKHOUSE_MIGRATIONS.filter((m) => m.id <= 3))).map((m) => m.id)).toEqual([3]);
    const live = usage.slice(0, -6);
    expect(await readUsage(store)).toEqual(usageOracle(live));
    expect(await readClaimsDaily(store)).toEqual(claimsOracle(claimed));

    // A start that failed after the backfill reruns the whole migration: the backfill replaces, not adds.
    for (const statement of m0003.statements) await store.client.command({ query: statement });
    expect(await readUsage(store)).toEqual(usageOracle(live));
    expect(await readClaimsDaily(store)).toEqual(claimsOracle(claimed));

    // And the materialized views keep feeding the aggregates afterwards.
    const more = usageEvents(r, 150, 12, 0);
    await put(store, ...more);
    expect(await readUsage(store)).toEqual(usageOracle([...live, ...more]));
    expect(await rows(store, `SELECT ${sel('model_usage_daily')} FROM (${USAGE_FROM_RAW})`)).toEqual(usageOracle([...live, ...more]));
  });
});

// ----------------------------------------------------------------------------- current state

const OWNER = addr(1);
const CURATOR = addr(2);
const ALICE = addr(3);
const BOB = addr(4);
const TREASURY = addr(9);
const lower = (a: string) => a.toLowerCase();
const BIG = 2n ** 129n + 5n; // stakes above 2^128

const created = (pos: LogPosition, datanetId: bigint, owner = OWNER) =>
  ev('DatanetRegistry', 'DatanetCreated', pos, {
    datanetId,
    owner,
    metadataURI: `ipfs://datanet-${datanetId}`,
    modality: 'text',
    license: 'CC-BY-4.0',
    requiredStake: 10n ** 18n,
    permissioned: datanetId === 2n,
    feePaid: 5n * 10n ** 18n,
  });
const submitted = (pos: LogPosition, contributionId: bigint, datanetId: bigint, contributor: Hex, stake: bigint) =>
  ev('DatanetRegistry', 'ContributionSubmitted', pos, {
    contributionId,
    datanetId,
    contributor,
    contentHash: hash(0xc000n + contributionId),
    size: 1234n * contributionId,
    uri: `content://${contributionId}`,
    stake,
  });
const reviewed = (pos: LogPosition, contributionId: bigint, accepted: boolean, quality: number) =>
  ev('DatanetRegistry', 'ContributionReviewed', pos, {
    contributionId,
    datanetId: 1n,
    reviewer: CURATOR,
    accepted,
    quality,
    reviewedAt: BigInt(Math.floor(pos.timestampMs / 1000)),
  });
const slashed = (pos: LogPosition, contributionId: bigint, amount: bigint, remainingStake: bigint) =>
  ev('DatanetRegistry', 'ContributionSlashed', pos, {
    contributionId,
    datanetId: 1n,
    by: CURATOR,
    amount,
    remainingStake,
    treasury: TREASURY,
    reason: 'duplicate rows',
  });
const withdrawn = (pos: LogPosition, contributionId: bigint, contributor: Hex, amount: bigint) =>
  ev('DatanetRegistry', 'StakeWithdrawn', pos, { contributionId, contributor, amount });
const cooldown = (pos: LogPosition, seconds: bigint) => ev('DatanetRegistry', 'StakeCooldownSet', pos, { cooldown: seconds });

const CONTRIBUTION_COLUMNS = ['contribution_id', 'status', 'quality', 'reviewer', 'stake_submitted', 'stake_slashed', 'stake_withdrawn', 'stake', 'slash_count'];
const readContributions = (store: ClickHouseStore) =>
  rows(store, `SELECT ${sel('contributions', CONTRIBUTION_COLUMNS)} FROM contributions ORDER BY contribution_id`);
const contribution = (id: bigint, status: string, o: { quality?: number; submitted: bigint; slashed?: bigint; withdrawn?: bigint; slashes?: number }) => ({
  contribution_id: String(id),
  status,
  quality: o.quality ?? null,
  reviewer: o.quality === undefined ? null : lower(CURATOR),
  stake_submitted: String(o.submitted),
  stake_slashed: String(o.slashed ?? 0n),
  stake_withdrawn: String(o.withdrawn ?? 0n),
  stake: String(o.submitted - (o.slashed ?? 0n) - (o.withdrawn ?? 0n)),
  slash_count: String(o.slashes ?? 0),
});

describe('contributions', () => {
  it('follow review, slash and withdrawal, and go back when a reorg cancels the latest of them', async () => {
    const store = await freshStore();
    const stake2 = 3n * 10n ** 18n;
    await put(
      store,
      cooldown(at(10), 3600n),
      created(at(11), 1n),
      submitted(at(12, 0), 1n, 1n, ALICE, BIG),
      submitted(at(12, 1), 2n, 1n, BOB, stake2),
      submitted(at(13), 3n, 1n, ALICE, 10n ** 18n),
    );
    expect(await readContributions(store)).toEqual([
      contribution(1n, 'pending', { submitted: BIG }),
      contribution(2n, 'pending', { submitted: stake2 }),
      contribution(3n, 'pending', { submitted: 10n ** 18n }),
    ]);

    const review1 = reviewed(at(20), 1n, true, 8500);
    const review2 = reviewed(at(21), 2n, false, 1200);
    const slash1 = slashed(at(22), 1n, 2n ** 128n, BIG - 2n ** 128n);
    const slash2 = slashed(at(23), 1n, 7n, BIG - 2n ** 128n - 7n);
    const withdraw2 = withdrawn(at(24), 2n, BOB, stake2);
    await put(store, review1, review2, slash1, slash2, withdraw2, cooldown(at(25), 7200n));
    expect(await readContributions(store)).toEqual([
      contribution(1n, 'accepted', { quality: 8500, submitted: BIG, slashed: 2n ** 128n + 7n, slashes: 2 }),
      contribution(2n, 'rejected', { quality: 1200, submitted: stake2, withdrawn: stake2 }),
      contribution(3n, 'pending', { submitted: 10n ** 18n }),
    ]);
    // Unlocks at review time + the cooldown now in force (the later StakeCooldownSet).
    expect(
      await rows(store, `SELECT ${sel('contributions', ['contribution_id', 'reviewed_at', 'stake_unlocks_at', 'reviewed_tx', 'content_hash', 'contributor', 'size', 'uri'])} FROM contributions ORDER BY contribution_id`),
    ).toEqual([
      {
        contribution_id: '1',
        reviewed_at: '2025-03-01 09:34:00.000',
        stake_unlocks_at: '2025-03-01 11:34:00.000',
        reviewed_tx: at(20).transactionHash,
        content_hash: hash(0xc001n),
        contributor: lower(ALICE),
        size: '1234',
        uri: 'content://1',
      },
      {
        contribution_id: '2',
        reviewed_at: '2025-03-01 09:34:12.000',
        stake_unlocks_at: '2025-03-01 11:34:12.000',
        reviewed_tx: at(21).transactionHash,
        content_hash: hash(0xc002n),
        contributor: lower(BOB),
        size: '2468',
        uri: 'content://2',
      },
      { contribution_id: '3', reviewed_at: null, stake_unlocks_at: null, reviewed_tx: null, content_hash: hash(0xc003n), contributor: lower(ALICE), size: '3702', uri: 'content://3' },
    ]);

    // A reorg removes blocks 23 and 24: the second slash and the withdrawal never happened.
    await cancel(store, slash2, withdraw2);
    expect(await readContributions(store)).toEqual([
      contribution(1n, 'accepted', { quality: 8500, submitted: BIG, slashed: 2n ** 128n, slashes: 1 }),
      contribution(2n, 'rejected', { quality: 1200, submitted: stake2 }),
      contribution(3n, 'pending', { submitted: 10n ** 18n }),
    ]);

    // A deeper one removes blocks 20–22; on the new fork contribution 1 is rejected instead.
    await cancel(store, review1, review2, slash1);
    expect(await readContributions(store)).toEqual([
      contribution(1n, 'pending', { submitted: BIG }),
      contribution(2n, 'pending', { submitted: stake2 }),
      contribution(3n, 'pending', { submitted: 10n ** 18n }),
    ]);
    await put(store, reviewed(at(20, 0, { fork: 1 }), 1n, false, 10));
    expect(await readContributions(store)).toEqual([
      contribution(1n, 'rejected', { quality: 10, submitted: BIG }),
      contribution(2n, 'pending', { submitted: stake2 }),
      contribution(3n, 'pending', { submitted: 10n ** 18n }),
    ]);
    expect(await rows(store, `SELECT ${sel('contributions', ['reviewed_tx'])} FROM contributions WHERE contribution_id = 1`)).toEqual([
      { reviewed_tx: at(20, 0, { fork: 1 }).transactionHash },
    ]);
    // Filtered as the API filters: by contributor and status, with bound parameters.
    expect(
      await rows(
        store,
        `SELECT contribution_id FROM contributions WHERE contributor = unhex(substring({addr:String}, 3)) AND status = {status:String} ORDER BY contribution_id`,
        { addr: ALICE, status: 'pending' },
      ),
    ).toEqual([{ contribution_id: '3' }]);
  });
});

describe('datanets', () => {
  it('show the current owner, versions, curators, access and contribution counts, and undo a reorged transfer', async () => {
    const store = await freshStore();
    const v1 = ev('DatanetRegistry', 'DatanetVersionPublished', at(30), { datanetId: 1n, version: 1n, root: hash(0x7001), contributionCount: 1n, uri: 'v1' });
    const v2 = ev('DatanetRegistry', 'DatanetVersionPublished', at(31), { datanetId: 1n, version: 2n, root: hash(0x7002), contributionCount: 2n, uri: 'v2' });
    const transfer = ev('DatanetRegistry', 'DatanetOwnershipTransferred', at(32), { datanetId: 1n, previousOwner: OWNER, newOwner: BOB });
    const curatorOff = ev('DatanetRegistry', 'CuratorSet', at(33), { datanetId: 1n, curator: CURATOR, enabled: false });
    await put(
      store,
      created(at(10), 1n),
      created(at(11), 2n, ALICE),
      ev('DatanetRegistry', 'CuratorSet', at(12), { datanetId: 1n, curator: CURATOR, enabled: true }),
      ev('DatanetRegistry', 'AccessChanged', at(13), { datanetId: 2n, account: BOB, granted: true }),
      submitted(at(14, 0), 1n, 1n, ALICE, BIG),
      submitted(at(14, 1), 2n, 1n, BOB, 10n ** 18n),
      submitted(at(14, 2), 3n, 2n, BOB, 10n ** 18n),
      reviewed(at(15), 1n, true, 9000),
      reviewed(at(16), 2n, false, 100),
      withdrawn(at(17), 2n, BOB, 10n ** 18n),
      v1,
      v2,
      transfer,
      curatorOff,
    );
    const columns = ['datanet_id', 'owner', 'creator', 'permissioned', 'required_stake', 'version_count', 'latest_root', 'contribution_count', 'pending_count', 'accepted_count', 'rejected_count', 'stake'];
    const read = () => rows(store, `SELECT ${sel('datanets', columns)} FROM datanets ORDER BY datanet_id`);
    const datanet1 = {
      datanet_id: '1',
      owner: lower(BOB),
      creator: lower(OWNER),
      permissioned: false,
      required_stake: String(10n ** 18n),
      version_count: '2',
      latest_root: hash(0x7002),
      contribution_count: '2',
      pending_count: '0',
      accepted_count: '1',
      rejected_count: '1',
      stake: String(BIG),
    };
    const datanet2 = {
      datanet_id: '2',
      owner: lower(ALICE),
      creator: lower(ALICE),
      permissioned: true,
      required_stake: String(10n ** 18n),
      version_count: '0',
      latest_root: `0x${'00'.repeat(32)}`,
      contribution_count: '1',
      pending_count: '1',
      accepted_count: '0',
      rejected_count: '0',
      stake: String(10n ** 18n),
    };
    expect(await read()).toEqual([datanet1, datanet2]);
    expect(await rows(store, `SELECT ${sel('datanet_versions', ['datanet_id', 'version', 'root', 'contribution_count', 'uri', 'published_block'])} FROM datanet_versions ORDER BY version`)).toEqual([
      { datanet_id: '1', version: '1', root: hash(0x7001), contribution_count: '1', uri: 'v1', published_block: '30' },
      { datanet_id: '1', version: '2', root: hash(0x7002), contribution_count: '2', uri: 'v2', published_block: '31' },
    ]);
    expect(await rows(store, `SELECT ${sel('datanet_curators', ['datanet_id', 'curator', 'enabled'])} FROM datanet_curators`)).toEqual([
      { datanet_id: '1', curator: lower(CURATOR), enabled: false },
    ]);
    expect(await rows(store, `SELECT ${sel('datanet_access', ['datanet_id', 'account', 'granted'])} FROM datanet_access`)).toEqual([
      { datanet_id: '2', account: lower(BOB), granted: true },
    ]);

    // A reorg removes blocks 31–33: no transfer, one version, the curator still enabled.
    await cancel(store, v2, transfer, curatorOff);
    expect(await read()).toEqual([{ ...datanet1, owner: lower(OWNER), version_count: '1', latest_root: hash(0x7001) }, datanet2]);
    expect(await rows(store, `SELECT ${sel('datanet_curators', ['curator', 'enabled'])} FROM datanet_curators`)).toEqual([
      { curator: lower(CURATOR), enabled: true },
    ]);
  });
});

describe('models', () => {
  it('show the current owner, prices and state with versions and training runs, and undo reorged changes', async () => {
    const store = await freshStore();
    const registered = ev('ModelRegistry', 'ModelRegistered', at(40, 0), {
      modelId: 1n,
      owner: ALICE,
      name: 'poet',
      baseModel: 'tiny-gpt',
      metadataURI: 'ipfs://poet',
      priceIn: 10n ** 14n,
      priceOut: 2n * 10n ** 14n,
      feePaid: 0n,
    });
    const run1 = ev('ModelRegistry', 'TrainingRunRecorded', at(40, 1), {
      runId: 1n,
      modelId: 1n,
      submitter: ALICE,
      datanetIds: [1n, 2n],
      datanetVersions: [1n, 3n],
      manifestHash: hash(0xaa01),
    });
    const version1 = ev('ModelRegistry', 'ModelVersionPublished', at(40, 2), { modelId: 1n, version: 1n, runId: 1n, adapterHash: hash(0xad01), adapterURI: 'adapters/1' });
    const run2 = ev('ModelRegistry', 'TrainingRunRecorded', at(41), { runId: 2n, modelId: 1n, submitter: ALICE, datanetIds: [1n], datanetVersions: [2n], manifestHash: hash(0xaa02) });
    const version2 = ev('ModelRegistry', 'ModelVersionPublished', at(42), { modelId: 1n, version: 2n, runId: 2n, adapterHash: hash(0xad02), adapterURI: 'adapters/2' });
    const prices = ev('ModelRegistry', 'ModelPricesSet', at(43), { modelId: 1n, priceIn: 2n ** 130n, priceOut: 2n ** 131n + 1n });
    const inactive = ev('ModelRegistry', 'ModelActiveSet', at(44), { modelId: 1n, active: false });
    const transfer = ev('ModelRegistry', 'ModelOwnershipTransferred', at(45), { modelId: 1n, previousOwner: ALICE, newOwner: BOB });
    await put(store, registered, run1, version1, run2, version2, prices, inactive, transfer);

    const columns = ['model_id', 'owner', 'registrant', 'name', 'base_model', 'price_in', 'price_out', 'active', 'version_count', 'latest_run_id', 'latest_adapter_hash', 'latest_adapter_uri', 'training_run_count'];
    const read = () => rows(store, `SELECT ${sel('models', columns)} FROM models`);
    const model = {
      model_id: '1',
      owner: lower(BOB),
      registrant: lower(ALICE),
      name: 'poet',
      base_model: 'tiny-gpt',
      price_in: String(2n ** 130n),
      price_out: String(2n ** 131n + 1n),
      active: false,
      version_count: '2',
      latest_run_id: '2',
      latest_adapter_hash: hash(0xad02),
      latest_adapter_uri: 'adapters/2',
      training_run_count: '2',
    };
    expect(await read()).toEqual([model]);
    expect(await rows(store, `SELECT ${sel('training_runs', ['run_id', 'model_id', 'submitter', 'datanet_ids', 'datanet_versions', 'manifest_hash'])} FROM training_runs ORDER BY run_id`)).toEqual([
      { run_id: '1', model_id: '1', submitter: lower(ALICE), datanet_ids: ['1', '2'], datanet_versions: ['1', '3'], manifest_hash: hash(0xaa01) },
      { run_id: '2', model_id: '1', submitter: lower(ALICE), datanet_ids: ['1'], datanet_versions: ['2'], manifest_hash: hash(0xaa02) },
    ]);
    expect(await rows(store, 'SELECT * FROM training_run_datanet_versions ORDER BY run_id, datanet_id')).toEqual([
      { run_id: '1', model_id: '1', datanet_id: '1', version: '1' },
      { run_id: '1', model_id: '1', datanet_id: '2', version: '3' },
      { run_id: '2', model_id: '1', datanet_id: '1', version: '2' },
    ]);
    expect(await rows(store, `SELECT ${sel('model_versions', ['model_id', 'version', 'run_id', 'adapter_hash', 'adapter_uri'])} FROM model_versions ORDER BY version`)).toEqual([
      { model_id: '1', version: '1', run_id: '1', adapter_hash: hash(0xad01), adapter_uri: 'adapters/1' },
      { model_id: '1', version: '2', run_id: '2', adapter_hash: hash(0xad02), adapter_uri: 'adapters/2' },
    ]);
    // Which models trained on datanet 1, as the provenance report asks.
    expect(await rows(store, 'SELECT DISTINCT model_id FROM training_run_datanet_versions WHERE datanet_id = {d:UInt256}', { d: '1' })).toEqual([{ model_id: '1' }]);

    // A reorg removes blocks 42–45: back to the registered prices, active, Alice's, one version.
    await cancel(store, version2, prices, inactive, transfer);
    expect(await read()).toEqual([
      {
        ...model,
        owner: lower(ALICE),
        price_in: String(10n ** 14n),
        price_out: String(2n * 10n ** 14n),
        active: true,
        version_count: '1',
        latest_run_id: '1',
        latest_adapter_hash: hash(0xad01),
        latest_adapter_uri: 'adapters/1',
      },
    ]);
  });
});

describe('payout batches and claims', () => {
  it('claimableEpochs() are the epochs with a posted batch past its dispute window; revoked batches do not count', async () => {
    const store = await freshStore();
    const claimableAt = (epoch: number) => BigInt(Math.floor(T0 / 1000) + epoch * 3600);
    const batch = (block: number, epoch: bigint) =>
      ev('AttributionSettlement', 'BatchPosted', at(block, 0), {
        epoch,
        nonce: 0n,
        root: hash(0x6000n + epoch),
        total: 1n,
        cumulativeTotal: 1n,
        scoreFileHash: hash(0x7000n + epoch),
        signerSetVersion: 1n,
        available: 1n,
        claimableAt: claimableAt(Number(epoch)),
        poster: addr(20),
      });
    expect(await claimableEpochs(store.client, T0 + 10 * 3_600_000)).toEqual([]);
    await put(store, batch(10, 1n), batch(11, 2n), batch(12, 3n));
    await put(store, ev('AttributionSettlement', 'BatchRevoked', at(13), { epoch: 2n, nonce: 0n, by: addr(21), reason: 'bad', carryRestored: 0n, restoredEpoch: 0n }));
    expect(await claimableEpochs(store.client, T0 + 3_600_000 - 1000)).toEqual([]);
    expect(await claimableEpochs(store.client, T0 + 3_600_000)).toEqual([1n]);
    // Epoch 2's batch is revoked: past its window it is still not final.
    expect(await claimableEpochs(store.client, T0 + 2 * 3_600_000 + 5000)).toEqual([1n]);
    expect(await claimableEpochs(store.client, T0 + 3 * 3_600_000)).toEqual([1n, 3n]);
  });

  it('show posted and revoked batches with their rollover, claims and pools, and undo a reorged revocation', async () => {
    const store = await freshStore();
    const posted = (block: number, nonce: bigint, total: bigint, available: bigint) => [
      ev('AttributionSettlement', 'BatchPosted', at(block, 0), {
        epoch: 1n,
        nonce,
        root: hash(0x4000n + nonce),
        total,
        cumulativeTotal: total,
        scoreFileHash: hash(0x5000n + nonce),
        signerSetVersion: 1n,
        available,
        claimableAt: BigInt(Math.floor(T0 / 1000) + 3600),
        poster: addr(20),
      }),
      ev('AttributionSettlement', 'RemainderRolledOver', at(block, 1), { fromEpoch: 1n, amount: available - total }),
    ];
    const pool = 2n ** 140n + 17n;
    const revoke = ev('AttributionSettlement', 'BatchRevoked', at(61), { epoch: 1n, nonce: 0n, by: addr(21), reason: 'bad score file', carryRestored: 0n, restoredEpoch: 0n });
    await put(
      store,
      ev('AttributionSettlement', 'PoolFunded', at(50), { epoch: 1n, amount: pool - 17n, poolTotal: pool - 17n }),
      ev('AttributionSettlement', 'PoolFunded', at(51), { epoch: 1n, amount: 17n, poolTotal: pool }),
      ...posted(60, 0n, pool - 1000n, pool),
      revoke,
      ...posted(62, 1n, pool - 5n, pool),
      ev('AttributionSettlement', 'Claimed', at(70), { account: ALICE, epoch: 1n, caller: ALICE, amount: 2n ** 129n, cumulativeClaimed: 2n ** 129n }),
      ev('AttributionSettlement', 'Claimed', at(71), { account: ALICE, epoch: 1n, caller: BOB, amount: 3n, cumulativeClaimed: 2n ** 129n + 3n }),
    );
    const columns = ['epoch', 'nonce', 'root', 'total', 'available', 'rolled_over', 'claimable_at', 'status', 'revoked_by', 'revoke_reason', 'carry_restored', 'posted_block'];
    const read = () => rows(store, `SELECT ${sel('payout_batches', columns)} FROM payout_batches ORDER BY epoch, nonce`);
    const batch0 = {
      epoch: '1',
      nonce: '0',
      root: hash(0x4000),
      total: String(pool - 1000n),
      available: String(pool),
      rolled_over: '1000',
      claimable_at: '2025-03-01 10:30:00.000',
      status: 'revoked',
      revoked_by: lower(addr(21)),
      revoke_reason: 'bad score file',
      carry_restored: '0',
      posted_block: '60',
    };
    const batch1 = { ...batch0, nonce: '1', root: hash(0x4001), total: String(pool - 5n), rolled_over: '5', status: 'posted', revoked_by: null, revoke_reason: null, carry_restored: null, posted_block: '62' };
    expect(await read()).toEqual([batch0, batch1]);
    expect(await rows(store, 'SELECT epoch, pool_total, funding_count FROM epoch_pools')).toEqual([{ epoch: '1', pool_total: String(pool), funding_count: '2' }]);
    expect(await rows(store, `SELECT ${sel('account_claims', ['account', 'claimed_total', 'claim_count'])} FROM account_claims`)).toEqual([
      { account: lower(ALICE), claimed_total: String(2n ** 129n + 3n), claim_count: '2' },
    ]);
    expect(await rows(store, `SELECT ${sel('claims', ['account', 'caller', 'amount', 'cumulative_claimed', 'block_number'])} FROM claims ORDER BY block_number, log_index`)).toEqual([
      { account: lower(ALICE), caller: lower(ALICE), amount: String(2n ** 129n), cumulative_claimed: String(2n ** 129n), block_number: '70' },
      { account: lower(ALICE), caller: lower(BOB), amount: '3', cumulative_claimed: String(2n ** 129n + 3n), block_number: '71' },
    ]);

    // A reorg drops the revocation (and what came after it): batch 0 stands.
    await cancel(store, revoke);
    expect((await read())[0]).toEqual({ ...batch0, status: 'posted', revoked_by: null, revoke_reason: null, carry_restored: null });
  });
});

describe('governance', () => {
  it('show proposals with their status and tallies, and votes, and undo a reorged execution and vote', async () => {
    const store = await freshStore();
    const proposal = (pos: LogPosition, proposalId: bigint, description: string) =>
      ev('TributaryGovernor', 'ProposalCreated', pos, {
        proposalId,
        proposer: ALICE,
        targets: [CONTRACT],
        values: [0n],
        signatures: [''],
        calldatas: ['0xdeadbeef'],
        voteStart: 101n,
        voteEnd: 150n,
        description,
      });
    const idA = 2n ** 250n + 1n;
    const idB = 12345n;
    const bobVote = ev('TributaryGovernor', 'VoteCast', at(110), { voter: BOB, proposalId: idA, support: 0, weight: 5n, reason: 'no' });
    const executed = ev('TributaryGovernor', 'ProposalExecuted', at(200), { proposalId: idA });
    await put(
      store,
      proposal(at(100), idA, 'Set fee shares to 50/40/10'),
      proposal(at(100, 1), idB, 'Withdrawn idea'),
      ev('TributaryGovernor', 'VoteCast', at(105), { voter: ALICE, proposalId: idA, support: 1, weight: 2n ** 200n, reason: 'yes' }),
      bobVote,
      ev('TributaryGovernor', 'VoteCastWithParams', at(111), { voter: CURATOR, proposalId: idA, support: 2, weight: 7n, reason: '', params: '0x0102' }),
      ev('TributaryGovernor', 'ProposalCanceled', at(112), { proposalId: idB }),
      ev('TributaryGovernor', 'ProposalQueued', at(160), { proposalId: idA, etaSeconds: 1_800_000_000n }),
      executed,
    );
    const columns = ['proposal_id', 'proposer', 'targets', 'calldatas', 'status', 'eta_seconds', 'against_votes', 'for_votes', 'abstain_votes', 'voter_count'];
    const read = () => rows(store, `SELECT ${sel('governance_proposals', columns)} FROM governance_proposals ORDER BY created_block, proposal_id`);
    const a = {
      proposal_id: String(idA),
      proposer: lower(ALICE),
      targets: [CONTRACT],
      calldatas: ['0xdeadbeef'],
      status: 'executed',
      eta_seconds: '1800000000',
      against_votes: '5',
      for_votes: String(2n ** 200n),
      abstain_votes: '7',
      voter_count: '3',
    };
    const b = { ...a, proposal_id: String(idB), status: 'canceled', eta_seconds: null, against_votes: '0', for_votes: '0', abstain_votes: '0', voter_count: '0' };
    expect(await read()).toEqual([b, a]);
    expect(await rows(store, `SELECT ${sel('governance_votes', ['voter', 'support', 'weight', 'params'])} FROM governance_votes ORDER BY block_number`)).toEqual([
      { voter: lower(ALICE), support: 1, weight: String(2n ** 200n), params: '0x' },
      { voter: lower(BOB), support: 0, weight: '5', params: '0x' },
      { voter: lower(CURATOR), support: 2, weight: '7', params: '0x0102' },
    ]);

    await cancel(store, executed);
    expect((await read())[1]).toEqual({ ...a, status: 'queued' });
    await cancel(store, bobVote);
    expect((await read())[1]).toEqual({ ...a, status: 'queued', against_votes: '0', voter_count: '2' });
  });
});

describe('derived schema', () => {
  it('has exactly the relations and columns DERIVED_RELATIONS documents, binary columns marked', async () => {
    const store = await freshStore();
    const applied = await rows<{ table: string; name: string; type: string }>(
      store,
      `SELECT table, name, type FROM system.columns
       WHERE database = {db:String} AND NOT startsWith(table, 'ev_') AND table NOT IN ('schema_migrations', 'indexer_status')
         AND NOT startsWith(table, 'mv_') AND default_kind != 'EPHEMERAL'
       ORDER BY table, position`,
      { db: store.database },
    );
    const actual: Record<string, string[]> = {};
    for (const c of applied) (actual[c.table] ??= []).push(`${c.name} ${c.type}`);
    const documented = Object.fromEntries(
      [...DERIVED_RELATIONS].sort((x, y) => (x.name < y.name ? -1 : 1)).map((r) => [r.name, r.columns.map((c) => `${c.name} ${c.chType}`)]),
    );
    expect(actual).toEqual(documented);
    for (const r of DERIVED_RELATIONS) {
      for (const c of r.columns) {
        if (/FixedString/.test(c.chType)) expect(c.hex, `${r.name}.${c.name}`).toBe(true);
      }
      for (const k of r.key) expect(r.columns.map((c) => c.name), `${r.name} key ${k}`).toContain(k);
    }

    const tables = await rows<{ name: string; engine: string; sorting_key: string }>(
      store,
      `SELECT name, engine, sorting_key FROM system.tables
       WHERE database = {db:String} AND NOT startsWith(name, 'ev_') AND name NOT IN ('schema_migrations', 'indexer_status') ORDER BY name`,
      { db: store.database },
    );
    const expected = [
      ...DERIVED_RELATIONS.map((r) =>
        r.kind === 'view' ? { name: r.name, engine: 'View', sorting_key: '' } : { name: r.name, engine: r.engine ?? 'SummingMergeTree', sorting_key: r.key.join(', ') },
      ),
      ...DERIVED_FEEDERS.map((f) => ({ name: f.name, engine: 'MaterializedView', sorting_key: '' })),
    ].sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(tables).toEqual(expected);
    // Each feeder reads its event table and writes its aggregate.
    for (const f of DERIVED_FEEDERS) {
      const [mv] = await rows<{ create_table_query: string }>(store, 'SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = {name:String}', {
        db: store.database,
        name: f.name,
      });
      expect(mv!.create_table_query).toContain(`TO ${store.database}.${f.to}`);
      expect(mv!.create_table_query).toContain(`FROM ${store.database}.${f.from} AS e`);
    }
  });

  // Databases that applied migration 3 refuse a changed one at start: put a change in a new migration.
  it('pins migration 3: an applied migration never changes', () => {
    expect(m0003.id).toBe(3);
    expect(CLICKHOUSE_MIGRATIONS.find((m) => m.id === 3)).toBe(m0003);
    expect(migrationChecksum(m0003)).toBe('4a1503675c078338d2f210788f54ba3e20fa83d7a75b7cb583b686526821de15');
  });

  it('pins migration 4', () => {
    expect(CLICKHOUSE_MIGRATIONS.find((m) => m.id === 4)).toBe(m0004);
    expect(migrationChecksum(m0004)).toBe('d6322f3f59919ded6556b2e3dd78dcd4c1f083d918aa47ed8156b679b83ffeec');
  });

  it('writes select lists that print binary columns as 0x-hex and refuses unknown names', () => {
    expect(derivedSelectList('claims', ['account', 'amount', 'claimed_tx'])).toBe(
      "concat('0x', lower(hex(`account`))) AS `account`, `amount`, concat('0x', lower(hex(`claimed_tx`))) AS `claimed_tx`",
    );
    expect(derivedSelectList('governance_proposals', ['targets', 'values'])).toBe("arrayMap(x -> concat('0x', lower(hex(x))), `targets`) AS `targets`, `values`");
    expect(derivedRelation('models').key).toEqual(['model_id']);
    expect(() => derivedSelectList('claims', ['amount; DROP TABLE claims'])).toThrow(
      'claims has no column "amount; DROP TABLE claims": it has account, epoch, caller, amount, cumulative_claimed, block_number, log_index, claimed_at, claimed_tx',
    );
    expect(() => derivedRelation('ev_open_token_transfer')).toThrow('No derived relation "ev_open_token_transfer": known are datanets, datanet_versions');
  });
});
