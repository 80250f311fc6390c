// The contribution path end to end on a real anvil, chDB, PGlite and content store: POST a file over HTTP,
// sign the returned transactions, index them, and find the rows in ClickHouse — owned, flagged as
// copies, or missing — and in a published version's row stream. Bad requests change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { parseEventLogs, parseEther, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_KEYS,
  DatanetRegistryAbi,
  acceptedContributions,
  contribute,
  createDatanet,
  publishVersion,
  reviewContribution,
  type Devnet,
} from '../contracts/index.ts';
import {
  CLICKHOUSE_MIGRATIONS,
  contentHash,
  datanetVersionRoot,
  getUploadQuota,
  migrate,
  openClickHouse,
  openDatanetVersion,
  openFsContentStore,
  openPostgres,
  parseRows,
  rowHash,
  syncContentRows,
  type ClickHouseStore,
  type FsContentStore,
  type OperationalStore,
} from '../schema/index.ts';
import { startIndexer, SILENT_LOGGER, type Indexer } from '../indexer/index.ts';
import { contributionsRoute } from '../api/contributions/route.ts';
import { uploadTypedData } from '../api/contributions/uploadSignature.ts';
import type { UploadContext } from '../api/contributions/uploadContribution.ts';
import { createApi } from '../api/index.ts';
import { startTestDevnet } from '../contracts/testing/devnet.ts';

const OWNER = ANVIL_KEYS[7];
const ALICE = ANVIL_KEYS[5];
const BOB = ANVIL_KEYS[6];
const CAROL = ANVIL_KEYS[9];
const addr = (k: Hex) => privateKeyToAccount(k).address;

let dir: string;
let devnet: Devnet;
let ch: ClickHouseStore;
let pg: OperationalStore;
let content: FsContentStore;
let indexer: Indexer;
let server: Server;
let base: string;
let ctx: UploadContext;
let datanetId: bigint;
let freeDatanetId: bigint;

const DAILY = 4096;
const MAX_FILE = 2048;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-upload-'));
  devnet = await startTestDevnet(dir, { demo: true });
  ch = await openClickHouse({ dataDir: dir });
  await migrate(ch, CLICKHOUSE_MIGRATIONS);
  pg = await openPostgres({ dataDir: dir });
  content = await openFsContentStore({ root: join(dir, 'content') });
  indexer = startIndexer({ rpcUrl: devnet.rpcUrl, deployment: devnet.deployment, clickhouse: ch, finality: 0, log: SILENT_LOGGER, pollIntervalMs: 100 });
  const chain = { conn: devnet.conn, deployment: devnet.deployment };
  ctx = { clickhouse: ch.client, db: pg.db, content, chain, limits: { maxFileBytes: MAX_FILE, dailyBytes: DAILY, rows: { maxRowBytes: 1024, maxRows: 1000 } } };
  const route = contributionsRoute(ctx, { onError: (e) => console.error(e) });
  server = createServer((req, res) => {
    void route(req, res, new URL(req.url ?? '/', 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  datanetId = (await createDatanet(chain, { key: OWNER, metadataURI: 'data:,coast', modality: 'text', license: 'CC-BY-4.0', requiredStake: parseEther('10'), permissioned: false })).datanetId;
  freeDatanetId = (await createDatanet(chain, { key: OWNER, metadataURI: 'data:,free', modality: 'text', license: 'CC0', requiredStake: 0n, permissioned: false })).datanetId;
});

afterAll(async () => {
  server?.close();
  await indexer?.stop();
  await ch?.close();
  await pg?.close();
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function sign(key: Hex, id: bigint, bytes: Uint8Array): Promise<Hex> {
  return privateKeyToAccount(key).signTypedData(
    uploadTypedData({ chainId: devnet.deployment.chainId, registry: devnet.deployment.contracts.DatanetRegistry, datanetId: id, fileSha256: sha(bytes) }),
  );
}

interface Post {
  key?: Hex;
  id?: bigint;
  filename?: string;
  body: string;
  signature?: Hex;
  contributor?: string;
  stake?: string;
  path?: string;
}
async function post(p: Post): Promise<{ status: number; json: any; headers: Headers }> {
  const bytes = enc(p.body);
  const key = p.key ?? ALICE;
  const id = p.id ?? datanetId;
  const form = new FormData();
  form.set('file', new Blob([bytes]), p.filename ?? 'rows.txt');
  form.set('contributor', p.contributor ?? addr(key));
  form.set('signature', p.signature ?? (await sign(key, id, bytes)));
  if (p.stake !== undefined) form.set('stake', p.stake);
  const res = await fetch(`${base}${p.path ?? `/datanets/${id}/contributions`}`, { method: 'POST', body: form });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** Signs and sends what the upload returned; returns the new contribution's id. */
async function sendReturned(key: Hex, json: any): Promise<bigint> {
  const wallet = devnet.conn.wallet(key);
  let receipt;
  for (const tx of [json.transactions.approve, json.transactions.contribute].filter(Boolean)) {
    expect(tx.from).toBe(addr(key));
    const hash = await wallet.sendTransaction({ to: tx.to, data: tx.data, value: BigInt(tx.value) });
    receipt = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
  }
  const [ev] = parseEventLogs({ abi: DatanetRegistryAbi, logs: receipt!.logs, eventName: 'ContributionSubmitted' });
  return ev!.args.contributionId;
}

async function indexed(): Promise<void> {
  const head = Number(await devnet.conn.publicClient.getBlockNumber());
  const until = Date.now() + 30_000;
  while (indexer.progress().head < head) {
    if (Date.now() > until) throw new Error(`indexer stuck at ${indexer.progress().head}, head ${head}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rows = async <T = Record<string, unknown>>(query: string, query_params: Record<string, unknown> = {}) =>
  (await ch.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

const contentFiles = () => readdirSync(join(dir, 'content'), { recursive: true }).filter((f) => !String(f).startsWith('tmp')).sort();

const TIDES = 'Tides rise twice a day.\nBarnacles close at low tide.\nSea stars pry open mussels.\n';
const KELP = 'Kelp grows fast.\nSea otters eat urchins.\n';

describe('POST /datanets/{id}/contributions', () => {
  let aliceId: bigint;

  it('stores the file, answers the content hash and the transactions, and the indexed contribution owns its rows', async () => {
    const { status, json } = await post({ body: TIDES, filename: 'tides.txt' });
    expect(status).toBe(201);
    const parsed = parseRows({ bytes: enc(TIDES), filename: 'tides.txt' });
    const expectedHash = contentHash(parsed.rows.map(rowHash));
    expect(json).toMatchObject({
      datanetId: datanetId.toString(),
      contributor: addr(ALICE),
      contentHash: expectedHash,
      fileSha256: sha(enc(TIDES)),
      filename: 'tides.txt',
      fileBytes: enc(TIDES).length,
      rowCount: 3,
      shape: 'text',
      created: true,
      duplicateRows: 0,
      quota: { usedBytes: enc(TIDES).length, limitBytes: DAILY },
      contribution: { size: String(enc(TIDES).length), uri: `sha256:${sha(enc(TIDES))}`, stake: parseEther('10').toString() },
    });
    expect(json.transactions.approve).toMatchObject({ to: devnet.deployment.contracts.OpenToken, value: '0', chainId: devnet.deployment.chainId });
    expect(json.transactions.contribute).toMatchObject({ to: devnet.deployment.contracts.DatanetRegistry, value: '0' });

    aliceId = await sendReturned(ALICE, json);
    await indexed();
    expect(await rows(`SELECT toString(contribution_id) AS id, rows_present, row_count, filename FROM contribution_content`)).toEqual([
      { id: aliceId.toString(), rows_present: true, row_count: 3, filename: 'tides.txt' },
    ]);
    const stored = await rows<{ row_index: number; text: string; owned: boolean; row_hash: string }>(
      `SELECT row_index, text, owned, concat('0x', lower(hex(row_hash))) AS row_hash FROM datanet_rows WHERE datanet_id = {d:UInt256} ORDER BY row_index`,
      { d: datanetId.toString() },
    );
    expect(stored).toEqual(parsed.rows.map((r, i) => ({ row_index: i, text: (r as { text: string }).text, owned: true, row_hash: rowHash(r) })));
  });

  it('answers 200 and charges nothing when the same address uploads the same rows again, in any format', async () => {
    const before = await getUploadQuota(pg.db, { address: addr(ALICE), day: new Date().toISOString().slice(0, 10) });
    const jsonl = TIDES.trim().split('\n').reverse().map((text) => JSON.stringify({ text })).join('\n');
    const { status, json } = await post({ body: jsonl, filename: 'tides.jsonl' });
    expect(status).toBe(200);
    expect(json.created).toBe(false);
    expect(json.filename).toBe('tides.txt'); // the first upload's file stays
    expect(json.duplicateRows).toBe(3); // Alice's own contribution owns them now
    expect(await getUploadQuota(pg.db, { address: addr(ALICE), day: new Date().toISOString().slice(0, 10) })).toEqual(before);
  });

  it('flags copied rows: they belong to the first on-chain contribution and earn nothing in the later one', async () => {
    const body = `Kelp grows fast.\nBarnacles close at low tide.\n`;
    const { status, json } = await post({ key: BOB, body });
    expect(status).toBe(201);
    expect(json.duplicateRows).toBe(1);
    const bobId = await sendReturned(BOB, json);
    await indexed();
    const bobRows = await rows<{ text: string; owned: boolean; owner: string }>(
      `SELECT text, owned, toString(owner_contribution_id) AS owner FROM datanet_rows WHERE contribution_id = {c:UInt256} ORDER BY row_index`,
      { c: bobId.toString() },
    );
    expect(bobRows).toEqual([
      { text: 'Kelp grows fast.', owned: true, owner: bobId.toString() },
      { text: 'Barnacles close at low tide.', owned: false, owner: aliceId.toString() },
    ]);
  });

  it('serves the flags in GraphQL: each contribution with its content and rows', async () => {
    const api = createApi({ ch });
    const res = await api.fetch(
      new Request('http://x/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `{ contributions(datanetId: "${datanetId}") { nodes { id content { rowsPresent rowCount ownedRows copiedRows filename shape }
                    rows(first: 1, after: null) { totalCount nodes { rowIndex text prompt owned ownerContributionId } } } } }`,
        }),
      }),
    );
    const { data, errors } = (await res.json()) as { data: { contributions: { nodes: unknown[] } }; errors?: unknown };
    expect(errors).toBeUndefined();
    expect(data.contributions.nodes).toEqual([
      {
        id: aliceId.toString(),
        content: { rowsPresent: true, rowCount: 3, ownedRows: 3, copiedRows: 0, filename: 'tides.txt', shape: 'text' },
        rows: { totalCount: 3, nodes: [{ rowIndex: 0, text: 'Tides rise twice a day.', prompt: null, owned: true, ownerContributionId: aliceId.toString() }] },
      },
      {
        id: (aliceId + 1n).toString(),
        content: { rowsPresent: true, rowCount: 2, ownedRows: 1, copiedRows: 1, filename: 'rows.txt', shape: 'text' },
        rows: { totalCount: 2, nodes: [{ rowIndex: 0, text: 'Kelp grows fast.', prompt: null, owned: true, ownerContributionId: (aliceId + 1n).toString() }] },
      },
    ]);
  });

  it('flags an on-chain contribution whose contributor never uploaded its rows', async () => {
    // Carol copies Alice's content hash on-chain without uploading: the rows are Alice's upload, not hers.
    const aliceHash = contentHash(parseRows({ bytes: enc(TIDES), filename: 'x.txt' }).rows.map(rowHash));
    const c = await contribute({ conn: devnet.conn, deployment: devnet.deployment }, {
      key: CAROL, datanetId, contentHash: aliceHash, size: 10n, uri: 'sha256:none', stake: parseEther('10'),
    });
    await indexed();
    expect(await rows(`SELECT rows_present, row_count FROM contribution_content WHERE contribution_id = {c:UInt256}`, { c: c.contributionId.toString() })).toEqual([
      { rows_present: false, row_count: 0 },
    ]);
    expect(await rows(`SELECT count() AS n FROM datanet_rows WHERE contribution_id = {c:UInt256}`, { c: c.contributionId.toString() })).toEqual([{ n: '0' }]);
  });

  it("publishes a version whose row stream is exactly the accepted contributions' rows", async () => {
    const chain = { conn: devnet.conn, deployment: devnet.deployment };
    const all = await rows<{ id: string; contributor: string }>(
      `SELECT toString(contribution_id) AS id, concat('0x', lower(hex(contributor))) AS contributor FROM contribution_content ORDER BY contribution_id`,
    );
    // Accept Alice's and Bob's, reject Carol's (rows missing).
    for (const c of all) {
      const accepted = c.contributor !== addr(CAROL).toLowerCase();
      await reviewContribution(chain, { key: OWNER, contributionId: BigInt(c.id), accepted, quality: accepted ? 8000 : 100 });
    }
    const members = await acceptedContributions(chain, { datanetId });
    expect(members.map((m) => m.contributionId)).toEqual(all.filter((c) => c.contributor !== addr(CAROL).toLowerCase()).map((c) => BigInt(c.id)));
    await publishVersion(chain, { key: OWNER, datanetId, root: datanetVersionRoot(members), contributionCount: BigInt(members.length), uri: '' });
    await indexed();

    const version = await openDatanetVersion(ch.client, { datanetId, version: 1n });
    expect(version.contributions.map((c) => [c.contributionId, c.rowsPresent, c.rowCount])).toEqual(members.map((m, i) => [m.contributionId, true, i === 0 ? 3 : 2]));
    const streamed = [];
    for await (const r of version.rows({ pageSize: 2 })) streamed.push([r.contributionId, r.rowIndex, (r.row as { text: string }).text, r.owned, r.rowHash === rowHash(r.row)]);
    expect(streamed).toEqual([
      [members[0]!.contributionId, 0, 'Tides rise twice a day.', true, true],
      [members[0]!.contributionId, 1, 'Barnacles close at low tide.', true, true],
      [members[0]!.contributionId, 2, 'Sea stars pry open mussels.', true, true],
      [members[1]!.contributionId, 0, 'Kelp grows fast.', true, true],
      [members[1]!.contributionId, 1, 'Barnacles close at low tide.', false, true],
    ]);
    await expect(openDatanetVersion(ch.client, { datanetId, version: 2n })).rejects.toThrow(`datanet ${datanetId} has no version 2`);
    // A root that is not the accepted set's cannot be read: its rows are unknowable.
    await publishVersion(chain, { key: OWNER, datanetId, root: `0x${'ab'.repeat(32)}`, contributionCount: 1n, uri: '' });
    await indexed();
    await expect(openDatanetVersion(ch.client, { datanetId, version: 2n })).rejects.toThrow(
      `datanet ${datanetId} version 2 does not match its accepted contributions\n  published root 0x${'ab'.repeat(32)} over 1 contributions; the 2 accepted before it give ${version.root}`,
    );
  });

  it('refuses bad requests with a clear status and message, storing and charging nothing', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const quotaBefore = await getUploadQuota(pg.db, { address: addr(ALICE), day });
    const filesBefore = contentFiles();
    const wrongSigner = await post({ key: ALICE, body: KELP, signature: await sign(BOB, datanetId, enc(KELP)) });
    expect(wrongSigner.status).toBe(401);
    expect(wrongSigner.json.error).toBe(`the signature is not ${addr(ALICE)}'s over this file for datanet ${datanetId} on chain ${devnet.deployment.chainId} (it recovers to ${addr(BOB)})`);
    const otherFile = await post({ body: KELP, signature: await sign(ALICE, datanetId, enc('something else')) });
    expect(otherFile.status).toBe(401);
    const otherDatanet = await post({ body: KELP, signature: await sign(ALICE, freeDatanetId, enc(KELP)) });
    expect(otherDatanet.status).toBe(401);
    expect((await post({ body: KELP, signature: '0x1234' })).json.error).toBe('the signature is malformed: expected a 65-byte EIP-712 signature as 0x-hex');

    const unknown = await post({ body: KELP, id: 999n });
    expect(unknown).toMatchObject({ status: 404, json: { error: 'datanet 999 does not exist' } });
    const badFile = await post({ body: '{"text": "ok"}\n{"txt": "typo"}\n', filename: 'rows.jsonl' });
    expect(badFile.status).toBe(400);
    expect(badFile.json.error).toMatch(/line 2/);
    const badExt = await post({ body: 'a,b\n', filename: 'rows.xlsx' });
    expect(badExt.status).toBe(400);
    const tooLarge = await post({ body: 'x'.repeat(MAX_FILE + 1) });
    expect(tooLarge).toMatchObject({ status: 413, json: { error: `the file is ${MAX_FILE + 1} bytes; the limit is ${MAX_FILE} bytes per file` } });
    const lowStake = await post({ body: KELP, stake: '1' });
    expect(lowStake.status).toBe(422);
    expect(lowStake.json.error).toMatch(/stake/i);
    expect((await post({ body: KELP, contributor: '0x12' })).status).toBe(400);
    expect((await post({ body: KELP, stake: '1.5' })).json.error).toBe('stake must be a whole number of wei, got "1.5"');
    expect((await post({ body: KELP, path: '/datanets/abc/contributions' })).json.error).toBe('datanet id must be a positive integer, got "abc"');

    const notMultipart = await fetch(`${base}/datanets/${datanetId}/contributions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: KELP });
    expect(notMultipart.status).toBe(400);
    expect((await notMultipart.json()).error).toBe('send the file as multipart/form-data (fields file, contributor, signature, optional stake), not "text/plain"');
    const get = await fetch(`${base}/datanets/${datanetId}/contributions`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');

    expect(contentFiles()).toEqual(filesBefore);
    expect(await getUploadQuota(pg.db, { address: addr(ALICE), day })).toEqual(quotaBefore);
  });

  it('answers 429 with Retry-After once an address has used its daily quota; other addresses go on', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const used = (await getUploadQuota(pg.db, { address: addr(ALICE), day })).usedBytes;
    const line = (i: number) => `Row ${i} about the intertidal zone and what lives there.\n`;
    let filler = '';
    for (let i = 0; enc(filler + line(i)).length <= DAILY - used; i++) filler += line(i);
    // Exactly fills the day: granted (its size is under the per-file limit only if small enough; split in two).
    const half = filler.split('\n').filter(Boolean);
    const first = half.slice(0, Math.floor(half.length / 2)).join('\n') + '\n';
    const second = half.slice(Math.floor(half.length / 2)).join('\n') + '\n';
    expect((await post({ id: freeDatanetId, body: first })).status).toBe(201);
    expect((await post({ id: freeDatanetId, body: second })).status).toBe(201);
    const refused = await post({ id: freeDatanetId, body: 'One more row about tides.\n' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.json.error).toMatch(new RegExp(`^${addr(ALICE)} has uploaded \\d+ of its ${DAILY} bytes today \\(UTC ${day}\\)`));
    expect((await post({ key: BOB, id: freeDatanetId, body: 'One more row about tides.\n' })).status).toBe(201);
  });

  it('rebuilds the ClickHouse copy from the content store (a crash before the insert, or a wiped store)', async () => {
    const count = async () => (await rows<{ u: string; r: string }>(`SELECT (SELECT count() FROM content_uploads FINAL) AS u, (SELECT count() FROM content_rows FINAL) AS r`))[0];
    const before = await count();
    expect(await syncContentRows(ch.client, content)).toEqual({ uploads: Number(before!.u), copied: 0 });
    await ch.client.command({ query: 'TRUNCATE TABLE content_uploads' });
    await ch.client.command({ query: 'TRUNCATE TABLE content_rows' });
    expect(await syncContentRows(ch.client, content)).toEqual({ uploads: Number(before!.u), copied: Number(before!.u) });
    expect(await count()).toEqual(before);
  });
});
