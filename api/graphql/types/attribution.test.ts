// The attribution fields end to end: the API's synthetic chain events plus rows written straight into
// migration 7's tables (TSV with the *_hex EPHEMERAL columns) and inference_log, read through the real
// HTTP handler. Payout batches: epoch 1's first batch revoked and re-posted, epoch 2's claimable, epoch 3's
// still in its dispute window; reward rows of the revoked batch and of a batch never posted must not count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CLICKHOUSE_MIGRATIONS, insertInferenceLog, inferenceLogRow, migrate, openClickHouse, redactSettledInferences, tsvString, type ClickHouseStore } from '../../../schema/index.ts';
import { createApi } from '../../createApi.ts';
import { addr, at, ev, hex32, put, T0 } from '../testing/events.ts';
import { gql, serveApi, type TestServer } from '../testing/http.ts';
import { ALICE, BOB, CAROL, CLAIMS, E18, PAYER, POSTER, USAGE, contributionOf, seedPlatform, split } from '../testing/seed.ts';

let dir: string;
let store: ClickHouseStore;
let server: TestServer;
const unexpected: unknown[] = [];

const FAR_FUTURE = BigInt(Date.UTC(2100, 0, 1) / 1000);
const rootOf = (epoch: number, nonce: number) => hex32(0x40, epoch * 10 + nonce); // as testing/seed.ts posts them
const NEVER_POSTED = hex32(0x41, 2);
/** The seed's settled inferences (epoch 1): request i is USAGE[i]. */
const request = (i: number) => hex32(0xee, i);
/** Scored in epoch 2 but with no InferenceSettled row indexed. */
const UNSETTLED = hex32(0xee, 99);

const claimedBy = (a: string) => CLAIMS.filter((c) => c.account === a).reduce((s, c) => s + c.amount, 0n);
// Leaves, wei. Alice's exceed 2^100 so a float anywhere would show.
const ALICE_E1 = 2n ** 100n + 11n;
const ALICE_E2 = claimedBy(ALICE) + 5n * 10n ** 17n;
const ALICE_E3 = ALICE_E2 + 123n;
const ALICE_E2_PROOF = [`0x${'a1'.repeat(32)}`, `0x${'b2'.repeat(32)}`];
const BOB_E1 = 5n; // below the 7 wei the seed has Bob claim: claimable must not go negative
const CAROL_E3 = 42n * E18;
/** An address ending in a zero byte (a set of plain Strings would miss it in `IN`). */
const DAVE = addr(0x100);

const tsv = (rows: (string | number | bigint)[][]) => rows.map((r) => r.join('\t') + '\n').join('');
const hexOf = (h: string) => h.slice(2).toLowerCase();

async function insert(table: string, columns: string[], rows: (string | number | bigint)[][]) {
  await store.client.insert({ table, columns: columns as [string, ...string[]], format: 'TabSeparated', values: Readable.from([tsv(rows)], { objectMode: false }) });
}

/** attribution_scores rows: [epoch, request, contribution, model, influence, spanTokens, score, weight]. */
const SCORES: [number, string, number, number, number, number, number, bigint][] = [
  [1, request(0), 4, 1, 0.6, 3, 0.6, 6n * 10n ** 17n],
  [1, request(0), 1, 1, 0.3, 5, 0.3, 3n * 10n ** 17n],
  [1, request(0), 7, 1, 0.1, 0, 0.1, 10n ** 17n],
  [1, request(0), 2, 1, -0.4, 0, -0.4, 0n],
  [1, request(1), 1, 1, 1.5, 0, 1.5, E18],
  [1, request(3), 4, 2, 2.0, 0, 2.0, E18],
  [2, UNSETTLED, 2, 1, 0.7, 0, 0.7, E18],
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-api-attribution-'));
  store = await openClickHouse({ dataDir: dir });
  await migrate(store, CLICKHOUSE_MIGRATIONS);
  await seedPlatform(store);
  // Epoch 3's batch, posted but claimable only in 2100.
  await put(store, [
    ev('AttributionSettlement', 'BatchPosted', at(680, 0), {
      epoch: 3n, nonce: 0n, root: rootOf(3, 0), total: 1n, cumulativeTotal: 1n, scoreFileHash: hex32(0x50, 30), signerSetVersion: 1n, available: 1n, claimableAt: FAR_FUTURE, poster: POSTER,
    }),
    ev('AttributionSettlement', 'RemainderRolledOver', at(680, 1), { fromEpoch: 3n, amount: 0n }),
    ev('AttributionSettlement', 'Claimed', at(710), { account: DAVE, epoch: 2n, caller: DAVE, amount: 3n, cumulativeClaimed: 3n }),
  ]);
  const score = hex32(0x50, 11);
  await insert(
    'attribution_scores',
    ['epoch', 'request_id_hex', 'contribution_id', 'model_id', 'account_hex', 'rows', 'influence', 'span_tokens', 'score', 'weight', 'score_file_hash_hex'],
    SCORES.map(([e, r, c, m, infl, span, s, w]) => [e, hexOf(r), c, m, hexOf(contributionOf(c).contributor), 2, infl, span, s, w, hexOf(score)]),
  );
  await insert('attribution_spans', ['epoch', 'request_id_hex', 'contribution_id', 'row_index', 'start', 'length', 'text'], [
    [1, hexOf(request(0)), 4, 1, 7, 4, tsvString('holds\tcold water')],
    [1, hexOf(request(0)), 1, 3, 0, 5, tsvString('Tide pools hold')],
    [1, hexOf(request(0)), 4, 0, 0, 2, tsvString('Tide pools')],
  ]);
  const reward = (account: string, epoch: number, root: string, amount: bigint, cumulative: bigint, proof: string[] = []) => [hexOf(account), epoch, hexOf(root), amount, cumulative, 1, `[${proof.map((h) => `'${h}'`).join(',')}]`];
  await insert('attribution_rewards', ['account_hex', 'epoch', 'root_hex', 'amount', 'cumulative', 'inferences', 'proof'], [
    reward(ALICE, 1, rootOf(1, 0), 10n ** 30n, 10n ** 30n), // the revoked batch
    reward(ALICE, 1, rootOf(1, 1), ALICE_E1, ALICE_E1),
    reward(BOB, 1, rootOf(1, 1), BOB_E1, BOB_E1),
    reward(ALICE, 2, rootOf(2, 0), ALICE_E2 - ALICE_E1, ALICE_E2, ALICE_E2_PROOF), // Bob has no row in epoch 2: his leaf carries
    reward(ALICE, 2, NEVER_POSTED, 10n ** 31n, 10n ** 31n),
    reward(ALICE, 3, rootOf(3, 0), 123n, ALICE_E3),
    reward(CAROL, 3, rootOf(3, 0), CAROL_E3, CAROL_E3),
    reward(DAVE, 2, rootOf(2, 0), 10n, 10n),
  ]);
  await insert('attribution_flags', ['epoch', 'contribution_id', 'account_hex', 'inferences', 'negative_inferences', 'mean_influence', 'evidence'], [
    [1, 2, hexOf(contributionOf(2).contributor), 4, 4, -0.35, tsvString(JSON.stringify([{ requestId: request(0), influence: -0.4 }, { requestId: UNSETTLED, influence: -0.3 }]))],
    [2, 2, hexOf(contributionOf(2).contributor), 3, 3, -0.2, tsvString('not json')],
    [2, 7, hexOf(contributionOf(7).contributor), 5, 4, -0.1, '[]'],
  ]);
  const log = (i: number, prompt: string, output: string, epoch: bigint | null, finishReason: 'stop' | 'cancelled' = 'stop') =>
    inferenceLogRow({
      requestId: request(i), modelId: USAGE[i]!.modelId, modelVersion: 2n, adapterHash: hex32(0xad, 102), payer: PAYER, tokensIn: 12, tokensOut: output ? 7 : 0,
      latencyMs: 250 + i, firstTokenMs: output ? 40 : null, finishReason, prompt, output, createdAt: new Date(T0 + i * 1000), epoch,
    });
  await insertInferenceLog(store.client, [log(0, 'Where do crabs hide?', 'Tide pools hold cold water.', null), log(1, 'secret prompt', 'secret answer', 1n), log(2, 'Stop', '', null, 'cancelled')]);
  await redactSettledInferences(store.client, { epochs: [1n] }); // blanks request 1 only: the others' epochs are not known
  server = await serveApi(createApi({ ch: store, onError: (e) => unexpected.push(e), graphiql: false }));
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function data(query: string, variables?: Record<string, unknown>) {
  const r = await gql(server.url, query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data!;
}

describe('Contributor earnings from attribution', () => {
  it('claimProof gives the leaf and Merkle proof of the newest claimable batch, null when there is none', async () => {
    const q = `query($a: Address!) { contributor(address: $a) { claimProof { epoch root cumulativeAmount proof } } }`;
    expect((await data(q, { a: ALICE })).contributor).toEqual({ claimProof: { epoch: '2', root: rootOf(2, 0), cumulativeAmount: ALICE_E2.toString(), proof: ALICE_E2_PROOF } });
    // Carol's only leaf is in epoch 3's batch, still in its dispute window.
    expect((await data(q, { a: CAROL })).contributor).toEqual({ claimProof: null });
    expect((await data(q, { a: addr(77) })).contributor).toEqual({ claimProof: null });
  });

  it('cumulativeEarned is the leaf of the newest posted, unrevoked batch; claimable that of the newest claimable one minus claimed', async () => {
    const q = `query($a: Address!) { contributor(address: $a) { cumulativeEarned claimable claimedTotal } }`;
    expect((await data(q, { a: ALICE })).contributor).toEqual({ cumulativeEarned: ALICE_E3.toString(), claimable: (5n * 10n ** 17n).toString(), claimedTotal: claimedBy(ALICE).toString() });
    // Bob's last row is in epoch 1; he claimed more than that leaf (the seed's claims): claimable stays 0.
    expect((await data(q, { a: BOB })).contributor).toEqual({ cumulativeEarned: BOB_E1.toString(), claimable: '0', claimedTotal: '7' });
    // Carol earns only in epoch 3, still in its dispute window.
    expect((await data(q, { a: CAROL })).contributor).toEqual({ cumulativeEarned: CAROL_E3.toString(), claimable: '0', claimedTotal: '0' });
    expect((await data(q, { a: DAVE })).contributor).toEqual({ cumulativeEarned: '10', claimable: '7', claimedTotal: '3' });
    expect((await data(q, { a: addr(77) })).contributor).toEqual({ cumulativeEarned: '0', claimable: '0', claimedTotal: '0' });
  });

  it('several contributors in one request share one earnings read and stay apart', async () => {
    const d = await data(`{ a: contributor(address: "${ALICE}") { cumulativeEarned } b: contributor(address: "${BOB.toUpperCase().replace('0X', '0x')}") { cumulativeEarned } d: contributor(address: "${DAVE}") { cumulativeEarned claimedTotal } }`);
    expect(d).toEqual({ a: { cumulativeEarned: ALICE_E3.toString() }, b: { cumulativeEarned: BOB_E1.toString() }, d: { cumulativeEarned: '10', claimedTotal: '3' } });
  });

  it('attributedInferences lists its scored (inference, contribution) pairs by epoch, inference and contribution, with pages and an epoch filter', async () => {
    const q = `query($a: Address!, $epoch: BigInt, $first: Int, $after: String) { contributor(address: $a) { attributedInferences(epoch: $epoch, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { requestId epoch modelId model { name } contributionId contribution { id datanetId } contributor rows influence spanTokens score weight scoreFileHash inference { requestId fee } } } } }`;
    const all = (await data(q, { a: ALICE })).contributor.attributedInferences;
    // Alice holds contributions 1 and 2 (contributionOf): request 0 (c1, c2), request 1 (c1), and the epoch 2 one.
    expect(all.totalCount).toBe(4);
    expect(all.nodes.map((n: any) => [n.epoch, n.requestId, n.contributionId, n.weight])).toEqual([
      ['1', request(0), '1', (3n * 10n ** 17n).toString()],
      ['1', request(0), '2', '0'],
      ['1', request(1), '1', E18.toString()],
      ['2', UNSETTLED, '2', E18.toString()],
    ]);
    expect(all.nodes[0]).toEqual({
      requestId: request(0), epoch: '1', modelId: '1', model: { name: 'poet' }, contributionId: '1', contribution: { id: '1', datanetId: '1' }, contributor: ALICE,
      rows: 2, influence: 0.3, spanTokens: 5, score: 0.3, weight: '300000000000000000', scoreFileHash: hex32(0x50, 11), inference: { requestId: request(0), fee: USAGE[0]!.fee.toString() },
    });
    expect(all.nodes[1].influence).toBe(-0.4);
    expect(all.nodes[3].inference).toBeNull(); // scored, but no InferenceSettled row is indexed for it

    const page1 = (await data(q, { a: ALICE, first: 3 })).contributor.attributedInferences;
    expect([page1.nodes.length, page1.pageInfo.hasNextPage]).toEqual([3, true]);
    const page2 = (await data(q, { a: ALICE, first: 3, after: page1.pageInfo.endCursor })).contributor.attributedInferences;
    expect(page2.nodes.map((n: any) => n.requestId)).toEqual([UNSETTLED]);
    const epoch2 = (await data(q, { a: ALICE, epoch: '2' })).contributor.attributedInferences;
    expect([epoch2.totalCount, epoch2.nodes[0].requestId]).toEqual([1, UNSETTLED]);
    expect((await data(q, { a: addr(77) })).contributor.attributedInferences).toMatchObject({ totalCount: 0, nodes: [] });
  });
});

describe('inference(requestId)', () => {
  const q = `query($id: Bytes32!) { inference(requestId: $id) {
    requestId modelId model { id name } payer epoch batchNumber modelOwner tokensIn tokensOut fee ownerAmount poolAmount treasuryAmount settledBlock settledAt settledTx
    log { modelVersion adapterHash tokensIn tokensOut latencyMs firstTokenMs finishReason textBlanked prompt output promptSha256 outputSha256 createdAt }
    attributions(first: 10) { totalCount nodes { contributionId contributor weight score contribution { contributor } } }
    spans { totalCount nodes { contributionId rowIndex start length text contribution { id } epoch } } } }`;

  it('answers the settled inference with its fee split, its log, its attributions by weight and its spans', async () => {
    const u = USAGE[1]!;
    const s = split(u.fee);
    const i = (await data(q, { id: request(1).toUpperCase().replace('0X', '0x') })).inference;
    expect(i).toMatchObject({
      requestId: request(1), modelId: '1', model: { id: '1', name: 'poet' }, payer: PAYER, epoch: '1', batchNumber: '1', modelOwner: ALICE,
      tokensIn: u.tokensIn.toString(), tokensOut: u.tokensOut.toString(), fee: u.fee.toString(), ownerAmount: s.owner.toString(), poolAmount: s.pool.toString(), treasuryAmount: s.treasury.toString(),
      settledBlock: '601', settledTx: hex32(0xc0, 601 * 1000),
    });
    expect(BigInt(i.ownerAmount) + BigInt(i.poolAmount) + BigInt(i.treasuryAmount)).toBe(u.fee);
    // Its text was blanked after the payout; the hashes stay.
    expect(i.log).toMatchObject({ textBlanked: true, prompt: null, output: null, promptSha256: inferenceLogRow({ ...logInput(), prompt: 'secret prompt' }).promptSha256, latencyMs: 251 });
    expect(i.attributions).toEqual({ totalCount: 1, nodes: [{ contributionId: '1', contributor: ALICE, weight: E18.toString(), score: 1.5, contribution: { contributor: ALICE } }] });
    expect(i.spans).toEqual({ totalCount: 0, nodes: [] });
  });

  it('lists the top contributions by weight (a non-positive score last) and the spans by position, longest first', async () => {
    const i = (await data(q, { id: request(0) })).inference;
    expect(i.attributions.nodes.map((n: any) => [n.contributionId, n.contributor, n.weight])).toEqual([
      ['4', BOB, (6n * 10n ** 17n).toString()],
      ['1', ALICE, (3n * 10n ** 17n).toString()],
      ['7', CAROL, (10n ** 17n).toString()],
      ['2', ALICE, '0'],
    ]);
    expect(i.spans.nodes).toEqual([
      { contributionId: '1', rowIndex: 3, start: 0, length: 5, text: 'Tide pools hold', contribution: { id: '1' }, epoch: '1' },
      { contributionId: '4', rowIndex: 0, start: 0, length: 2, text: 'Tide pools', contribution: { id: '4' }, epoch: '1' },
      { contributionId: '4', rowIndex: 1, start: 7, length: 4, text: 'holds\tcold water', contribution: { id: '4' }, epoch: '1' },
    ]);
    expect(i.log).toMatchObject({ textBlanked: false, prompt: 'Where do crabs hide?', output: 'Tide pools hold cold water.', firstTokenMs: 40, finishReason: 'stop', modelVersion: '2', createdAt: new Date(T0).toISOString() });
    const top = (await data(`{ inference(requestId: "${request(0)}") { attributions(first: 1) { totalCount pageInfo { hasNextPage } nodes { contributionId } } } }`)).inference;
    expect(top.attributions).toEqual({ totalCount: 4, pageInfo: { hasNextPage: true }, nodes: [{ contributionId: '4' }] });
  });

  it('an empty output that was never blanked is shown as empty; an inference without a log or attributions has null and empty lists', async () => {
    const cancelled = (await data(q, { id: request(2) })).inference;
    expect(cancelled.log).toMatchObject({ textBlanked: false, prompt: 'Stop', output: '', firstTokenMs: null, finishReason: 'cancelled' });
    expect(cancelled.attributions.totalCount).toBe(0);
    const plain = (await data(q, { id: request(3) })).inference;
    expect([plain.log, plain.attributions.totalCount, plain.model.name, plain.modelOwner]).toEqual([null, 1, 'critic', BOB]);
  });

  it('is null for a request id with no live settlement, and refuses a malformed one', async () => {
    expect(await data(q, { id: UNSETTLED })).toEqual({ inference: null });
    const r = await gql(server.url, '{ inference(requestId: "0x1234") { requestId } }');
    expect(r.errors?.[0]).toMatchObject({ message: 'Bytes32 must be 0x followed by 64 hex digits, got "0x1234"', extensions: { code: 'BAD_USER_INPUT' } });
    expect(unexpected).toEqual([]);
  });
});

describe('Attribution flags', () => {
  it('attributionFlags lists flagged contributions with their evidence, by epoch and contribution, filtered by epoch, contributor or contribution', async () => {
    const q = `query($epoch: BigInt, $contributor: Address, $contributionId: BigInt, $first: Int) { attributionFlags(epoch: $epoch, contributor: $contributor, contributionId: $contributionId, first: $first) {
      totalCount nodes { epoch contributionId contributor inferences negativeInferences meanInfluence contribution { id } evidence { requestId influence inference { requestId } } } } }`;
    const all = (await data(q)).attributionFlags;
    expect(all.totalCount).toBe(3);
    expect(all.nodes.map((f: { epoch: string; contributionId: string }) => `${f.epoch}/${f.contributionId}`)).toEqual(['1/2', '2/2', '2/7']);
    expect(all.nodes[0]).toEqual({
      epoch: '1', contributionId: '2', contributor: ALICE.toLowerCase(), inferences: 4, negativeInferences: 4, meanInfluence: -0.35, contribution: { id: '2' },
      evidence: [
        { requestId: request(0), influence: -0.4, inference: { requestId: request(0) } },
        { requestId: UNSETTLED, influence: -0.3, inference: null },
      ],
    });
    expect(all.nodes[1].evidence).toEqual([]); // evidence that does not parse shows none instead of failing the query
    expect((await data(q, { epoch: '2' })).attributionFlags.totalCount).toBe(2);
    expect((await data(q, { contributionId: '7' })).attributionFlags.nodes.map((f: { epoch: string }) => f.epoch)).toEqual(['2']);
    expect((await data(q, { contributor: ALICE })).attributionFlags.totalCount).toBe(2);
    expect((await data(q, { contributor: CAROL, epoch: '2' })).attributionFlags.nodes.map((f: { contributionId: string }) => f.contributionId)).toEqual(['7']);
    expect((await data(q, { contributor: BOB })).attributionFlags.totalCount).toBe(0);
    const page = (await data(q, { first: 1 })).attributionFlags;
    expect(page).toMatchObject({ totalCount: 3, nodes: [{ epoch: '1', contributionId: '2' }] });
  });
});

function logInput() {
  return { requestId: request(1), modelId: 1n, modelVersion: 2n, adapterHash: hex32(0xad, 102), payer: PAYER, tokensIn: 1, tokensOut: 1, latencyMs: 1, firstTokenMs: null, finishReason: 'stop' as const, prompt: '', output: '', createdAt: new Date(T0) };
}
