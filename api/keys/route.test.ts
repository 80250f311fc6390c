// POST /keys on a real operational store (PGlite): a payer's signed grant creates one key, once; stale,
// forged, malformed and repeated grants are refused with the reason, and create nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_KEYS } from '../../contracts/index.ts';
import { findApiKeyBySecret, openPostgres, type OperationalStore } from '../../schema/index.ts';
import { GRANT_MAX_AGE_SECONDS, keyGrantTypedData, type KeyGrantDomain } from './keyGrant.ts';
import { keysRoute } from './route.ts';

const domain: KeyGrantDomain = { chainId: 31337, router: '0x0165878A594ca255338adfa4d48449f69242Eb8F' };
const payer = privateKeyToAccount(ANVIL_KEYS[8]!);
const other = privateKeyToAccount(ANVIL_KEYS[9]!);

let dir: string;
let store: OperationalStore;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-keys-'));
  store = await openPostgres({ dataDir: dir });
  const route = keysRoute({ db: store.db, domain });
  server = createServer((req, res) => {
    void route(req, res, new URL(req.url!, 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signed(over: { label?: string; issuedAt?: number; signer?: typeof payer; payer?: string; d?: KeyGrantDomain } = {}) {
  const issuedAt = over.issuedAt ?? Math.floor(Date.now() / 1000);
  const grant = { payer: payer.address, label: over.label ?? 'laptop', issuedAt: BigInt(issuedAt) };
  const signature = await (over.signer ?? payer).signTypedData(keyGrantTypedData(over.d ?? domain, grant));
  return { payer: over.payer ?? payer.address, label: grant.label, issuedAt, signature };
}

const post = async (body: unknown) => {
  const res = await fetch(`${base}/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

const keyCount = async () => ((await store.db.execute(sql`SELECT count(*)::int AS n FROM api_keys`)) as unknown as { rows: { n: number }[] }).rows[0]!.n;

describe('POST /keys', () => {
  it('creates a key for the payer that signed the grant, once per grant', async () => {
    const grant = await signed();
    const first = await post(grant);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ payer: payer.address.toLowerCase(), label: 'laptop' });
    expect(first.body.key).toMatch(/^trb_[A-Za-z0-9_-]{43}$/);
    const key = await findApiKeyBySecret(store.db, first.body.key!);
    expect(key).toMatchObject({ role: 'public', payerAddress: payer.address.toLowerCase() });

    // The same signed grant again (a copied request) creates no second key.
    const again = await post(grant);
    expect(again).toEqual({ status: 409, body: { error: 'this grant was already used to create a key; sign a new one' } });
    expect(await keyCount()).toBe(1);
  });

  it('refuses forged, stale, foreign-deployment and malformed grants with the reason, creating nothing', async () => {
    const before = await keyCount();
    const forged = await post(await signed({ signer: other }));
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe(`the grant is signed by ${other.address}, not by the payer ${payer.address}`);

    const stale = await post(await signed({ issuedAt: Math.floor(Date.now() / 1000) - GRANT_MAX_AGE_SECONDS - 5 }));
    expect(stale.status).toBe(400);
    expect(stale.body.error).toMatch(/^the grant was signed \d+ s ago; sign a new one \(at most 600 s old\)$/);

    // Signed for another chain's router: the signature recovers to someone else.
    const foreign = await post(await signed({ d: { chainId: 1, router: domain.router } }));
    expect(foreign.status).toBe(401);

    expect(await post('{not json')).toEqual({ status: 400, body: { error: 'the body is not valid JSON' } });
    expect(await post({ ...(await signed()), payer: '0x12' })).toEqual({ status: 400, body: { error: 'payer: an 0x address' } });
    expect(await post({ ...(await signed()), issuedAt: 'yesterday' })).toEqual({ status: 400, body: { error: 'issuedAt: unix seconds' } });
    expect(await post({ ...(await signed()), signature: 'nope' })).toEqual({ status: 400, body: { error: 'signature: 0x-hex EIP-712 signature of the ApiKeyGrant' } });
    expect((await post({ ...(await signed()), signature: '0x1234' })).status).toBe(401);
    const get = await fetch(`${base}/keys`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await keyCount()).toBe(before);
  });
});
