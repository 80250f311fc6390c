// What the API refuses and what it costs: BAD_USER_INPUT errors, depth/breadth/complexity limits,
// and the number of ClickHouse queries a request makes (dataloaders against N+1), counted through
// a store that records every query.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, type ClickHouseStore } from '../../schema/index.ts';
import { createApi } from '../createApi.ts';
import { QUERY_LIMITS } from './builder.ts';
import { gql, recordingStore, serveApi, type GraphQLResponse, type TestServer } from './testing/http.ts';
import { ALICE, seedPlatform } from './testing/seed.ts';

let dir: string;
let store: ClickHouseStore;
let server: TestServer;
let queries: string[];
const unexpected: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-api-limits-'));
  store = await openClickHouse({ dataDir: dir });
  await migrate(store, CLICKHOUSE_MIGRATIONS);
  await seedPlatform(store);
  const recording = recordingStore(store);
  queries = recording.queries;
  server = await serveApi(createApi({ ch: recording.store, onError: (e) => unexpected.push(e), graphiql: false }));
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  queries.length = 0;
});

/** The queries that read `relation`. */
const reading = (relation: string) => queries.filter((q) => new RegExp(`FROM ${relation}\\b`).test(q));

describe('dataloaders', () => {
  it('a page of 100 contributions with their datanets issues one datanet query, not 100', async () => {
    const r = await gql(server.url, '{ contributions(first: 100) { nodes { id datanet { id owner versionCount } } } }');
    expect(r.errors).toBeUndefined();
    const nodes = r.data!.contributions.nodes as { id: string; datanet: { id: string } }[];
    expect(nodes).toHaveLength(100);
    expect(nodes.map((n) => n.datanet.id)).toEqual(nodes.map((n) => String(((Number(n.id) - 1) % 3) + 1)));
    // The count, the page, and one batched lookup of the three datanets.
    expect(queries).toHaveLength(3);
    expect(reading('contributions')).toHaveLength(2);
    expect(reading('datanets')).toHaveLength(1);
    expect(reading('datanets')[0]).toContain('`datanet_id` IN {ids:Array(UInt256)}');
  });

  it('nested lookups batch per type: the rows of a page share one read of what they point at', async () => {
    const runs = await gql(server.url, '{ model(id: 1) { trainingRuns { nodes { datanetVersions { datanet { id } datanetVersion { root } } } } } }');
    expect(runs.errors).toBeUndefined();
    expect(runs.data!.model.trainingRuns.nodes.flatMap((n: { datanetVersions: { datanet: { id: string } }[] }) => n.datanetVersions.map((v) => v.datanet.id))).toEqual(['1', '2', '1']);
    // The model, the runs' count and page, then one read of each kind for three datanet versions.
    expect(reading('models')).toHaveLength(1);
    expect(reading('training_runs')).toHaveLength(2);
    expect(reading('datanets')).toHaveLength(1);
    expect(reading('datanet_versions')).toHaveLength(1);
    expect(queries).toHaveLength(5);

    queries.length = 0;
    const usage = await gql(server.url, '{ usage { nodes { model { name } } } }');
    expect(usage.errors).toBeUndefined();
    expect(usage.data!.usage.nodes).toEqual([{ model: { name: 'poet' } }, { model: { name: 'poet' } }, { model: { name: 'critic' } }]);
    expect(reading('models')).toEqual([expect.stringContaining('`model_id` IN {ids:Array(UInt256)}')]);
    expect(queries).toHaveLength(3);

    // What a request has loaded once it does not read again: model 2 for its own training run.
    queries.length = 0;
    const versions = await gql(server.url, '{ model(id: 2) { versions { nodes { trainingRun { id model { name } } } } } }');
    expect(versions.data!.model.versions.nodes).toEqual([{ trainingRun: { id: '3', model: { name: 'critic' } } }]);
    expect(reading('models')).toHaveLength(1);
    expect(reading('training_runs')).toHaveLength(1);
  });

  it('caches per request only: the next request reads again', async () => {
    await gql(server.url, '{ datanet(id: 1) { id } }');
    await gql(server.url, '{ datanet(id: 1) { id } }');
    expect(reading('datanets')).toHaveLength(2);
  });
});

/** One error, checked whole, and no ClickHouse query made for it. */
function expectOnlyError(r: GraphQLResponse, message: string, code = 'BAD_USER_INPUT') {
  expect(r.errors).toHaveLength(1);
  expect(r.errors![0]!.message).toBe(message);
  expect(r.errors![0]!.extensions?.code).toBe(code);
  expect(queries).toEqual([]);
}

describe('bad input is a BAD_USER_INPUT error that says what was wrong', () => {
  it('a malformed address, written in the query or passed as a variable', async () => {
    const literal = await gql(server.url, '{ contributor(address: "0x12") { claimedTotal } }');
    expect(literal.status).toBe(400);
    expectOnlyError(literal, 'Address must be 0x followed by 40 hex digits, got "0x12"');

    const variable = await gql(server.url, 'query($a: Address!) { contributor(address: $a) { claimedTotal } }', { a: `${ALICE}0` });
    expect(variable.status).toBe(400);
    expectOnlyError(variable, `Variable "$a" got invalid value "${ALICE}0"; Address must be 0x followed by 40 hex digits, got "${ALICE}0"`);

    const filter = await gql(server.url, '{ contributions(contributor: 42) { totalCount } }');
    expectOnlyError(filter, 'Address must be 0x followed by 40 hex digits, got 42');
    const quoted = await gql(server.url, '{ contributions(contributor: "42") { totalCount } }');
    expectOnlyError(quoted, 'Address must be 0x followed by 40 hex digits, got "42"');
  });

  it('a cursor this API did not issue', async () => {
    const r = await gql(server.url, '{ datanets(after: "zzz") { totalCount } }');
    expect(r.status).toBe(200);
    expect(r.errors![0]!.path).toEqual(['datanets']);
    expectOnlyError(r, '`after` is not a cursor returned by this API: "zzz"');
    const before = await gql(server.url, `{ contributions(before: "${Buffer.from('offset:-4').toString('base64')}") { totalCount } }`);
    expectOnlyError(before, '`before` is not a cursor returned by this API: "b2Zmc2V0Oi00"');
  });

  it('`first` or `last` above the maximum page size', async () => {
    expectOnlyError(await gql(server.url, '{ contributions(first: 101) { totalCount } }'), '`first` is 101, above the maximum page size of 100');
    expectOnlyError(await gql(server.url, '{ contributions(last: 500) { totalCount } }'), '`last` is 500, above the maximum page size of 100');
    expectOnlyError(await gql(server.url, '{ payoutBatches(first: -1) { totalCount } }'), '`first` must be a whole number from 0 to 100, got -1');
  });

  it('a negative id', async () => {
    const r = await gql(server.url, '{ datanet(id: "-1") { id } }');
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ datanet: null });
    expectOnlyError(r, '`id` must not be negative: ids are whole numbers from 0, got "-1"');
    expectOnlyError(await gql(server.url, '{ model(id: -5) { id } }'), '`id` must not be negative: ids are whole numbers from 0, got "-5"');
    expectOnlyError(await gql(server.url, '{ usage(modelId: "-2") { totalCount } }'), '`modelId` must not be negative: ids are whole numbers from 0, got "-2"');
  });

  it('a non-numeric id', async () => {
    expectOnlyError(await gql(server.url, '{ model(id: "abc") { id } }'), '`id` must be a decimal whole number such as "1", got "abc"');
    expectOnlyError(await gql(server.url, '{ datanet(id: "0x01") { id } }'), '`id` must be a decimal whole number such as "1", got "0x01"');
    expectOnlyError(await gql(server.url, '{ contributions(datanetId: "one") { totalCount } }'), '`datanetId` must be a decimal whole number such as "1", got "one"');
  });

  it('a day that does not exist, or a range that ends before it starts', async () => {
    expectOnlyError(await gql(server.url, '{ usage(from: "2025-02-30") { totalCount } }'), 'Date must be a day that exists in the calendar, got "2025-02-30"');
    expectOnlyError(await gql(server.url, '{ usage(from: "2025-03-05", to: "2025-03-01") { totalCount } }'), '`from` (2025-03-05) is after `to` (2025-03-01)');
    expectOnlyError(
      await gql(server.url, `{ contributor(address: "${ALICE}") { dailyEarnings(from: "2025-03-05", to: "2025-03-01") { totalCount } } }`),
      '`from` (2025-03-05) is after `to` (2025-03-01)',
    );
  });
});

describe('query limits', () => {
  // model → trainingRuns → edges → node → datanetVersions → datanet → contributions → edges → node → X
  const walk = (leaf: string) =>
    `{ model(id: 1) { trainingRuns { edges { node { datanetVersions { datanet { contributions(first: 2) { edges { node { ${leaf} } } } } } } } } } }`;

  it('a query deeper than the limit is refused before anything runs, with the depth and the limit', async () => {
    expect(QUERY_LIMITS.depth).toBe(10);
    const ok = await gql(server.url, walk('id'));
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.model.trainingRuns.edges[0].node.datanetVersions[0].datanet.contributions.edges).toEqual([{ node: { id: '1' } }, { node: { id: '4' } }]);
    queries.length = 0;

    const deep = await gql(server.url, walk('datanet { id }'));
    expect(deep.status).toBe(400);
    expect(deep.data).toBeUndefined();
    expectOnlyError(deep, 'Query depth is 11, above the maximum of 10: nest fewer fields', 'QUERY_TOO_COMPLEX');
    expect(deep.errors![0]!.extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      // model(1 + trainingRuns(1 + 20 × edges(1 + node(1 + datanetVersions(1 + datanet(1 + contributions(1 + 2 × edges(1 + node(1 + datanet(1 + id(1)))))))))))
      cost: { depth: 11, breadth: 11, complexity: 1 + (1 + 20 * (1 + 1 + 1 + 1 + (1 + 2 * (1 + 1 + (1 + 1))))) },
      limits: QUERY_LIMITS,
    });
  });

  it('complexity follows the page sizes the variables ask for', async () => {
    const nested = 'query($n: Int) { datanets(first: $n) { nodes { contributions(first: $n) { nodes { id } } } } }';
    const small = await gql(server.url, nested, { n: 10 });
    expect(small.errors).toBeUndefined();
    expect(small.data!.datanets.nodes).toHaveLength(3);
    queries.length = 0;
    // The same document with bigger pages: 1 + 100 × (1 + 1 + 100 × (1 + 1)).
    const big = await gql(server.url, nested, { n: 100 });
    expect(big.status).toBe(400);
    expectOnlyError(big, 'Query complexity is 20201, above the maximum of 10000: ask for smaller pages (first/last) or fewer nested lists', 'QUERY_TOO_COMPLEX');
  });

  it('more fields than the breadth limit are refused', async () => {
    const fields = Array.from({ length: 201 }, (_, i) => `f${i}: __typename`).join(' ');
    expectOnlyError(await gql(server.url, `{ ${fields} }`), 'Query breadth is 201, above the maximum of 200: select fewer fields', 'QUERY_TOO_COMPLEX');
    expect(unexpected).toEqual([]);
  });
});
