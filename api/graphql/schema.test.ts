// The schema end to end: synthetic chain events in a temp chDB, read through the real HTTP handler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, type ClickHouseStore } from '../../schema/index.ts';
import { createApi } from '../createApi.ts';
import { hex32, T0 } from './testing/events.ts';
import { gql, serveApi, type TestServer } from './testing/http.ts';
import {
  ALICE,
  BIG_STAKE,
  BOB,
  CAROL,
  CLAIMS,
  CONTRIBUTIONS,
  contributionOf,
  CURATOR,
  E18,
  GUARDIAN,
  onDay,
  OWNER,
  POOL,
  POSTER,
  REJECTED_FEE,
  seedPlatform,
  split,
  USAGE,
} from './testing/seed.ts';

let dir: string;
let store: ClickHouseStore;
let server: TestServer;
const unexpected: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-api-schema-'));
  store = await openClickHouse({ dataDir: dir });
  await migrate(store, CLICKHOUSE_MIGRATIONS);
  await seedPlatform(store);
  server = await serveApi(createApi({ ch: store, onError: (e) => unexpected.push(e), graphiql: false }));
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `query` and returns its data, failing on any error. */
async function data(query: string, variables?: Record<string, unknown>) {
  const r = await gql(server.url, query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  expect(r.status).toBe(200);
  return r.data!;
}

const lower = (a: string) => a.toLowerCase();
const iso = (ms: number) => new Date(ms).toISOString();
/** Block time of block `n` in the seed (12 s apart from T0). */
const blockTime = (n: number) => iso(T0 + n * 12_000);
const tx = (block: number, log = 0) => hex32(0xc0, block * 1000 + log);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Pages through a connection field with `first: size`, returning every node id seen, in order. */
async function pageAll(field: string, args: string, size: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const d = await data(`query($after: String) { ${field}(${args}${args ? ', ' : ''}first: ${size}, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }`, { after });
    const conn = d[field];
    ids.push(...conn.nodes.map((n: { id: string }) => n.id));
    if (!conn.pageInfo.hasNextPage) return ids;
    after = conn.pageInfo.endCursor;
  }
  throw new Error('did not reach the last page');
}

describe('datanets', () => {
  it('datanet(id) returns every field of the datanet as the events left it, amounts exact', async () => {
    const d = await data(`{ datanet(id: "1") {
      id owner creator metadataUri modality license requiredStake permissioned creationFeePaid versionCount latestRoot
      contributionCount pendingCount acceptedCount rejectedCount stake createdBlock createdAt createdTx } }`);
    // Stake now: every stake of datanet 1, less contribution 1's slash and contribution 4's withdrawal.
    const ids = range(CONTRIBUTIONS).filter((i) => contributionOf(i).datanetId === 1);
    const stake = ids.reduce((s, i) => s + contributionOf(i).stake, 0n) - 2n ** 128n - contributionOf(4).stake;
    expect(stake).toBe(340282366920938463501374607431768213836n);
    expect(d.datanet).toEqual({
      id: '1',
      owner: lower(OWNER),
      creator: lower(OWNER),
      metadataUri: 'ipfs://datanet-1',
      modality: 'text',
      license: 'CC-BY-4.0',
      requiredStake: String(E18),
      permissioned: false,
      creationFeePaid: String(5n * E18),
      versionCount: 2,
      latestRoot: hex32(0x71, 2),
      contributionCount: 40,
      pendingCount: 20,
      acceptedCount: 15,
      rejectedCount: 5,
      stake: '340282366920938463501374607431768213836',
      createdBlock: '10',
      createdAt: '2025-03-01T09:32:00.000Z',
      createdTx: tx(10),
    });
  });

  it('datanet(id) is null for an id with no datanet, and latestRoot is null before the first version', async () => {
    expect(await data('{ datanet(id: "4") { id } }')).toEqual({ datanet: null });
    expect(await data(`{ datanet(id: "${2n ** 256n - 1n}") { id } }`)).toEqual({ datanet: null });
    expect(await data('{ datanet(id: 3) { id versionCount latestRoot versions { totalCount nodes { version } } } }')).toEqual({
      datanet: { id: '3', versionCount: 0, latestRoot: null, versions: { totalCount: 0, nodes: [] } },
    });
  });

  it('datanets lists every datanet by id with owner filter, versions and the training runs that used each', async () => {
    const d = await data(`{
      all: datanets { totalCount nodes { id owner permissioned
        versions { totalCount nodes { datanetId version root contributionCount uri publishedBlock publishedAt publishedTx } }
        trainingRuns { totalCount nodes { id } } } }
      alices: datanets(owner: "${ALICE.toUpperCase().replace('0X', '0x')}") { totalCount nodes { id } }
    }`);
    const version = (datanetId: number, v: number, count: number, block: number) => ({
      datanetId: String(datanetId),
      version: v,
      root: hex32(0x70 + datanetId, v),
      contributionCount: count,
      uri: `versions/${datanetId}/${v}`,
      publishedBlock: String(block),
      publishedAt: blockTime(block),
      publishedTx: tx(block),
    });
    expect(d.all).toEqual({
      totalCount: 3,
      nodes: [
        {
          id: '1',
          owner: lower(OWNER),
          permissioned: false,
          versions: { totalCount: 2, nodes: [version(1, 1, 5, 400), version(1, 2, 15, 401)] },
          trainingRuns: { totalCount: 3, nodes: [{ id: '1' }, { id: '2' }, { id: '3' }] },
        },
        { id: '2', owner: lower(ALICE), permissioned: true, versions: { totalCount: 1, nodes: [version(2, 1, 15, 402)] }, trainingRuns: { totalCount: 1, nodes: [{ id: '1' }] } },
        { id: '3', owner: lower(BOB), permissioned: false, versions: { totalCount: 0, nodes: [] }, trainingRuns: { totalCount: 0, nodes: [] } },
      ],
    });
    // The owner filter compares bytes, so a checksummed (mixed-case) address matches too.
    expect(d.alices).toEqual({ totalCount: 1, nodes: [{ id: '2' }] });
  });
});

describe('contributions', () => {
  it('a contribution has its review, stake history and unlock time, and its datanet', async () => {
    const d = await data(`{ contributions(first: 1) { nodes {
      id datanetId datanet { id owner } contributor contentHash size uri status quality reviewer reviewedAt reviewedTx
      stakeSubmitted stakeSlashed stakeWithdrawn stake slashCount stakeUnlocksAt submittedBlock submittedAt submittedTx } } }`);
    expect(d.contributions.nodes).toEqual([
      {
        id: '1',
        datanetId: '1',
        datanet: { id: '1', owner: lower(OWNER) },
        contributor: lower(ALICE),
        contentHash: hex32(0xcc, 1),
        size: '1000',
        uri: 'content://1',
        status: 'ACCEPTED',
        quality: 5001,
        reviewer: lower(CURATOR),
        reviewedAt: '2025-03-01T10:30:12.000Z',
        reviewedTx: tx(301),
        stakeSubmitted: String(BIG_STAKE),
        stakeSlashed: String(2n ** 128n),
        stakeWithdrawn: '0',
        stake: String(BIG_STAKE - 2n ** 128n),
        slashCount: 1,
        stakeUnlocksAt: '2025-03-01T11:30:12.000Z', // reviewed + the 3600 s cooldown
        submittedBlock: '101',
        submittedAt: '2025-03-01T09:50:12.000Z',
        submittedTx: tx(101),
      },
    ]);
    const pending = await data('{ contributions(status: PENDING, first: 1) { nodes { id status quality reviewer reviewedAt reviewedTx stakeUnlocksAt } } }');
    expect(pending.contributions.nodes).toEqual([{ id: '61', status: 'PENDING', quality: null, reviewer: null, reviewedAt: null, reviewedTx: null, stakeUnlocksAt: null }]);
    const withdrawn = await data('{ contributions(first: 1, after: "b2Zmc2V0OjI=") { nodes { id status stakeWithdrawn stake } } }');
    expect(withdrawn.contributions.nodes).toEqual([{ id: '4', status: 'REJECTED', stakeWithdrawn: String(E18 + 4n), stake: '0' }]);
  });

  it('filters by datanet, contributor and status together, and pages through all matches without overlap', async () => {
    const expected = (f: (i: number) => boolean) => range(CONTRIBUTIONS).filter(f).map(String);
    const accepted2 = expected((i) => contributionOf(i).datanetId === 2 && contributionOf(i).status === 'accepted');
    expect(accepted2).toEqual(['2', '5', '11', '14', '17', '23', '26', '29', '35', '38', '41', '47', '50', '53', '59']);
    expect(await pageAll('contributions', 'datanetId: "2", status: ACCEPTED', 4)).toEqual(accepted2);

    const bobs = expected((i) => contributionOf(i).contributor === BOB);
    expect(bobs).toHaveLength(39);
    expect(await pageAll('contributions', `contributor: "${BOB}"`, 10)).toEqual(bobs);

    const carolPending3 = expected((i) => contributionOf(i).contributor === CAROL && contributionOf(i).status === 'pending' && contributionOf(i).datanetId === 3);
    expect(carolPending3).toEqual(['63', '72', '81', '90', '99', '108', '117']);
    expect(await pageAll('contributions', `datanetId: 3, contributor: "${CAROL}", status: PENDING`, 100)).toEqual(carolPending3);
    // The same filters from the datanet's side.
    const fromDatanet = await data(`{ datanet(id: 3) { contributions(contributor: "${CAROL}", status: PENDING) { totalCount nodes { id } } } }`);
    expect(fromDatanet.datanet.contributions).toEqual({ totalCount: 7, nodes: carolPending3.map((id) => ({ id })) });

    expect(await pageAll('contributions', '', 100)).toEqual(range(CONTRIBUTIONS).map(String));
  });

  it('pages backward with last/before, with edges, cursors and pageInfo consistent', async () => {
    const tail = await data('{ contributions(last: 3) { totalCount edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }');
    const cursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');
    expect(tail.contributions).toEqual({
      totalCount: 120,
      edges: [118, 119, 120].map((id) => ({ cursor: cursor(id - 1), node: { id: String(id) } })),
      pageInfo: { hasPreviousPage: true, hasNextPage: false, startCursor: cursor(117), endCursor: cursor(119) },
    });
    const before = await data(`{ contributions(last: 2, before: "${cursor(117)}") { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }`);
    expect(before.contributions).toEqual({ nodes: [{ id: '116' }, { id: '117' }], pageInfo: { hasPreviousPage: true, hasNextPage: true } });
    const empty = await data(`{ contributions(contributor: "0x${'ff'.repeat(20)}") { totalCount nodes { id } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`);
    expect(empty.contributions).toEqual({ totalCount: 0, nodes: [], pageInfo: { startCursor: null, endCursor: null, hasNextPage: false, hasPreviousPage: false } });
  });
});

describe('models', () => {
  it('models lists each model with its owner, prices and latest version, and filters by owner', async () => {
    const d = await data(`{
      models { totalCount nodes { id owner registrant name baseModel metadataUri priceIn priceOut active registrationFeePaid versionCount
        trainingRunCount registeredBlock registeredAt registeredTx latestVersion { version adapterHash adapterUri trainingRunId } } }
      bobs: models(owner: "${BOB}") { nodes { id name } }
    }`);
    const model = (id: number, owner: string, name: string, block: number, versions: number, runs: number) => ({
      id: String(id),
      owner: lower(owner),
      registrant: lower(owner),
      name,
      baseModel: 'tiny-gpt',
      metadataUri: `ipfs://${name}`,
      priceIn: String(10n ** 14n),
      priceOut: String(2n * 10n ** 14n),
      active: true,
      registrationFeePaid: '0',
      versionCount: versions,
      trainingRunCount: runs,
      registeredBlock: String(block),
      registeredAt: blockTime(block),
      registeredTx: tx(block),
      latestVersion: { version: versions, adapterHash: hex32(0xad, id * 100 + versions), adapterUri: `adapters/${id}/${versions}`, trainingRunId: String(id === 1 ? 2 : 3) },
    });
    expect(d.models).toEqual({ totalCount: 2, nodes: [model(1, ALICE, 'poet', 500, 2, 2), model(2, BOB, 'critic', 520, 1, 1)] });
    expect(d.bobs).toEqual({ nodes: [{ id: '2', name: 'critic' }] });
  });

  it('model(id) walks versions → training runs → the datanet versions each run used', async () => {
    const d = await data(`{ model(id: "1") {
      versions { totalCount nodes { modelId model { name } version trainingRunId adapterHash adapterUri publishedBlock publishedAt publishedTx
        trainingRun { id } } }
      trainingRuns { totalCount nodes { id modelId model { id } submitter manifestHash recordedBlock recordedAt recordedTx
        datanetVersions { datanetId version datanet { id } datanetVersion { datanetId version root uri } } } } } }`);
    const dv = (datanetId: number, version: number) => ({
      datanetId: String(datanetId),
      version,
      datanet: { id: String(datanetId) },
      datanetVersion: { datanetId: String(datanetId), version, root: hex32(0x70 + datanetId, version), uri: `versions/${datanetId}/${version}` },
    });
    expect(d.model).toEqual({
      versions: {
        totalCount: 2,
        nodes: [
          { modelId: '1', model: { name: 'poet' }, version: 1, trainingRunId: '1', adapterHash: hex32(0xad, 101), adapterUri: 'adapters/1/1', publishedBlock: '500', publishedAt: blockTime(500), publishedTx: tx(500, 2), trainingRun: { id: '1' } },
          { modelId: '1', model: { name: 'poet' }, version: 2, trainingRunId: '2', adapterHash: hex32(0xad, 102), adapterUri: 'adapters/1/2', publishedBlock: '511', publishedAt: blockTime(511), publishedTx: tx(511), trainingRun: { id: '2' } },
        ],
      },
      trainingRuns: {
        totalCount: 2,
        nodes: [
          { id: '1', modelId: '1', model: { id: '1' }, submitter: lower(ALICE), manifestHash: hex32(0xaa, 1), recordedBlock: '500', recordedAt: blockTime(500), recordedTx: tx(500, 1), datanetVersions: [dv(1, 1), dv(2, 1)] },
          { id: '2', modelId: '1', model: { id: '1' }, submitter: lower(ALICE), manifestHash: hex32(0xaa, 2), recordedBlock: '510', recordedAt: blockTime(510), recordedTx: tx(510), datanetVersions: [dv(1, 2)] },
        ],
      },
    });
    expect(await data('{ model(id: 3) { id } }')).toEqual({ model: null });
  });
});

describe('usage', () => {
  const day = (n: number) => new Date(onDay(n)).toISOString().slice(0, 10);
  /** What model_usage_daily must say for (model, day), summed here from the seeded events. */
  function expectedUsage(modelId: bigint, d: number) {
    const events = USAGE.filter((u) => u.modelId === modelId && u.day === d);
    const sum = (f: (u: (typeof USAGE)[number]) => bigint) => String(events.reduce((s, u) => s + f(u), 0n));
    const rejected = modelId === 2n && d === 1;
    return {
      modelId: String(modelId),
      day: day(d),
      settledCount: String(events.length),
      tokensIn: sum((u) => u.tokensIn),
      tokensOut: sum((u) => u.tokensOut),
      fee: sum((u) => u.fee),
      ownerAmount: sum((u) => split(u.fee).owner),
      poolAmount: sum((u) => split(u.fee).pool),
      treasuryAmount: sum((u) => split(u.fee).treasury),
      rejectedCount: rejected ? '1' : '0',
      rejectedFee: rejected ? String(REJECTED_FEE) : '0',
    };
  }
  const FIELDS = 'modelId day settledCount tokensIn tokensOut fee ownerAmount poolAmount treasuryAmount rejectedCount rejectedFee';

  it('usage gives per model per day settled and rejected counts, tokens and the exact fee split', async () => {
    const d = await data(`{ usage { totalCount nodes { ${FIELDS} model { name } } } }`);
    expect(d.usage.totalCount).toBe(3);
    expect(d.usage.nodes).toEqual([
      { ...expectedUsage(1n, 0), model: { name: 'poet' } },
      { ...expectedUsage(1n, 1), model: { name: 'poet' } },
      { ...expectedUsage(2n, 1), model: { name: 'critic' } },
    ]);
    // One day checked by hand: 2e17 + (2^70 + 3) wei, split 50/40/10 with the pool taking the rounding.
    expect(d.usage.nodes[0]).toMatchObject({ day: '2025-03-01', fee: '1180791620717411303427', ownerAmount: '590395810358705651713', treasuryAmount: '118079162071741130342', poolAmount: '472316648286964521372' });
  });

  it('usage filters by model and by an inclusive day range, also from the model’s side', async () => {
    const d = await data(`{
      m1from2: usage(modelId: "1", from: "2025-03-02") { nodes { ${FIELDS} } }
      day1: usage(from: "2025-03-02", to: "2025-03-02") { nodes { modelId day } }
      later: usage(from: "2025-03-03") { totalCount nodes { day } }
      model(id: 2) { usage(to: "2025-03-02") { totalCount nodes { ${FIELDS} } } }
    }`);
    expect(d.m1from2.nodes).toEqual([expectedUsage(1n, 1)]);
    expect(d.day1.nodes).toEqual([
      { modelId: '1', day: '2025-03-02' },
      { modelId: '2', day: '2025-03-02' },
    ]);
    expect(d.later).toEqual({ totalCount: 0, nodes: [] });
    expect(d.model.usage).toEqual({ totalCount: 1, nodes: [expectedUsage(2n, 1)] });
  });
});

describe('contributor', () => {
  it('shows claimed totals, each claim and OPEN claimed per day', async () => {
    const d = await data(`{ contributor(address: "${ALICE}") {
      address claimedTotal claimCount lastClaimedAt
      claims { totalCount nodes { account epoch caller amount cumulativeClaimed blockNumber logIndex claimedAt claimedTx } }
      dailyEarnings { totalCount nodes { day claimedTotal claimCount } }
      recent: dailyEarnings(from: "2025-03-02") { nodes { day claimedTotal } }
      contributions(first: 4) { totalCount nodes { id contributor } } } }`);
    const total = 3n * E18 + 2n + 2n ** 100n;
    const claim = (i: number, cumulative: bigint) => ({
      account: lower(ALICE),
      epoch: '1',
      caller: lower(ALICE),
      amount: String(CLAIMS[i]!.amount),
      cumulativeClaimed: String(cumulative),
      blockNumber: String(700 + i),
      logIndex: 0,
      claimedAt: iso(onDay(CLAIMS[i]!.day, 100 + i)),
      claimedTx: tx(700 + i),
    });
    expect(d.contributor).toEqual({
      address: lower(ALICE),
      claimedTotal: String(total),
      claimCount: 3,
      lastClaimedAt: '2025-03-03T09:31:43.000Z',
      claims: { totalCount: 3, nodes: [claim(0, 3n * E18), claim(1, 3n * E18 + 2n), claim(3, total)] },
      dailyEarnings: {
        totalCount: 2,
        nodes: [
          { day: '2025-03-01', claimedTotal: String(3n * E18 + 2n), claimCount: 2 },
          { day: '2025-03-03', claimedTotal: String(2n ** 100n), claimCount: 1 },
        ],
      },
      recent: { nodes: [{ day: '2025-03-03', claimedTotal: String(2n ** 100n) }] },
      contributions: { totalCount: 42, nodes: ['1', '2', '3', '10'].map((id) => ({ id, contributor: lower(ALICE) })) },
    });
  });

  it('answers for an address with no activity with zero totals and empty lists', async () => {
    const nobody = `0x${'12'.repeat(20)}`;
    expect(await data(`{ contributor(address: "${nobody}") { address claimedTotal claimCount lastClaimedAt claims { totalCount } dailyEarnings { totalCount } contributions { totalCount } } }`)).toEqual({
      contributor: { address: nobody, claimedTotal: '0', claimCount: 0, lastClaimedAt: null, claims: { totalCount: 0 }, dailyEarnings: { totalCount: 0 }, contributions: { totalCount: 0 } },
    });
    const bob = await data(`{ contributor(address: "${BOB}") { claimedTotal claims(epoch: "1") { nodes { amount } } other: claims(epoch: "2") { totalCount } } }`);
    expect(bob).toEqual({ contributor: { claimedTotal: '7', claims: { nodes: [{ amount: '7' }] }, other: { totalCount: 0 } } });
  });

  it('serves what was earned and can be claimed beside the claimed total (attribution; tested in types/attribution.test.ts)', async () => {
    const d = await data('{ __type(name: "Contributor") { fields { name description } } }');
    const claimedTotal = d.__type.fields.find((f: { name: string }) => f.name === 'claimedTotal');
    expect(claimedTotal.description).toContain('cumulativeEarned and claimable say what it earned and can claim');
    expect(d.__type.fields.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['cumulativeEarned', 'claimable', 'attributedInferences']));
  });
});

describe('payout batches', () => {
  it('lists posted and revoked batches with rollover, filtered by epoch and status', async () => {
    const d = await data(`{
      all: payoutBatches { totalCount nodes { epoch nonce root total cumulativeTotal scoreFileHash signerSetVersion available rolledOver claimableAt
        poster status revokedBy revokeReason carryRestored revokedAt revokedTx postedBlock postedAt postedTx } }
      posted: payoutBatches(status: POSTED) { nodes { epoch nonce } }
      epoch2: payoutBatches(epoch: 2) { nodes { epoch nonce total } }
    }`);
    const batch = (epoch: number, nonce: number, total: bigint, available: bigint, block: number) => ({
      epoch: String(epoch),
      nonce: String(nonce),
      root: hex32(0x40, epoch * 10 + nonce),
      total: String(total),
      cumulativeTotal: String(total),
      scoreFileHash: hex32(0x50, epoch * 10 + nonce),
      signerSetVersion: '1',
      available: String(available),
      rolledOver: String(available - total),
      claimableAt: '2025-03-01T10:30:00.000Z',
      poster: lower(POSTER),
      status: 'POSTED',
      revokedBy: null,
      revokeReason: null,
      carryRestored: null,
      revokedAt: null,
      revokedTx: null,
      postedBlock: String(block),
      postedAt: blockTime(block),
      postedTx: tx(block),
    });
    expect(d.all).toEqual({
      totalCount: 3,
      nodes: [
        { ...batch(1, 0, POOL - 1000n, POOL, 650), status: 'REVOKED', revokedBy: lower(GUARDIAN), revokeReason: 'bad score file', carryRestored: '0', revokedAt: blockTime(651), revokedTx: tx(651) },
        batch(1, 1, POOL - 5n, POOL, 652),
        batch(2, 0, 100n, 100n, 660),
      ],
    });
    expect(d.posted.nodes).toEqual([
      { epoch: '1', nonce: '1' },
      { epoch: '2', nonce: '0' },
    ]);
    expect(d.epoch2.nodes).toEqual([{ epoch: '2', nonce: '0', total: '100' }]);
    expect(unexpected).toEqual([]);
  });
});
