// One behaviour suite for the operational store, run against PGlite always and against a real PostgreSQL
// server when TEST_DATABASE_URL is set (`.ci/run` starts one with scripts/ci-postgres.sh).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { OperationalDb, OperationalStore } from './connect.ts';
import { describeOnEveryStore, type StoreFixture } from './testing/storeFixtures.ts';
import {
  createPayoutBatch,
  getPayoutBatch,
  listPayoutBatchEvents,
  listPayoutBatches,
  transitionPayoutBatch,
  type CreatePayoutBatchParameters,
} from './payoutBatches.ts';
import { createApiKey, findApiKeyBySecret, revokeApiKey } from './apiKeys.ts';
import {
  ApiKeyNotFoundError,
  GrantAlreadyUsedError,
  IllegalTransitionError,
  InvalidValueError,
  PayoutBatchMismatchError,
  PayoutBatchNotFoundError,
  TransitionConflictError,
} from './errors.ts';
import { MAX_UINT256, type PayoutBatchStatus } from './tables.ts';
import { getUploadQuota, releaseUploadQuota, reserveUploadQuota } from './uploadQuotas.ts';

const hex32 = (byte: string) => `0x${byte.repeat(32)}` as const;
const sig = (signer: string, byte: string) => ({
  signer: `0x${signer.repeat(20)}` as const,
  signature: `0x${byte.repeat(65)}` as const,
});

const batch = (over: Partial<CreatePayoutBatchParameters> = {}): CreatePayoutBatchParameters => ({
  epoch: 7n,
  nonce: 0n,
  root: hex32('11'),
  total: 1_000_000_000_000_000_000n,
  scoreFileHash: hex32('22'),
  signerSetVersion: 1n,
  ...over,
});

async function rows<T>(db: OperationalDb, query: SQL): Promise<T[]> {
  // Both drivers answer raw SQL with an object carrying `rows`.
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

function describeOperationalStore(name: string, fresh: () => Promise<StoreFixture>) {
  describe(name, () => {
    let fixture: StoreFixture;
    let store: OperationalStore;
    let db: OperationalDb;

    beforeEach(async () => {
      fixture = await fresh();
      store = await fixture.open();
      db = store.db;
    });
    afterEach(async () => {
      await store.close();
      await fixture.dispose();
    });

    it('applies the migrations once; reopening the same database applies nothing and keeps the data', async () => {
      const before = await rows<{ hash: string; created_at: string }>(
        db,
        sql`SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY id`,
      );
      expect(before).toHaveLength(6);
      await createPayoutBatch(db, batch());
      await store.close();
      await store.close(); // closing twice is harmless

      store = await fixture.open();
      db = store.db;
      const after = await rows<{ hash: string; created_at: string }>(
        db,
        sql`SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY id`,
      );
      expect(after).toEqual(before);
      expect((await listPayoutBatches(db)).map((b) => [b.epoch, b.nonce, b.status])).toEqual([[7n, 0n, 'pending']]);
      const tables = await rows<{ table_name: string }>(
        db,
        sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(['api_keys', 'inference_log_outbox', 'jobs', 'payout_batch_events', 'payout_batches', 'upload_quotas', 'usage_batches', 'usage_records']);
    });

    it('createPayoutBatch() records a pending batch with its audit row; a repeat returns it and writes nothing', async () => {
      const first = await createPayoutBatch(db, batch({ actor: 'attributor' }));
      expect(first.created).toBe(true);
      expect(first.batch).toMatchObject({
        epoch: 7n,
        nonce: 0n,
        status: 'pending',
        root: hex32('11'),
        total: 1_000_000_000_000_000_000n,
        scoreFileHash: hex32('22'),
        signerSetVersion: 1n,
        signatures: [],
        txHash: null,
        error: null,
      });
      expect(first.batch.createdAt).toBeInstanceOf(Date);

      const again = await createPayoutBatch(db, batch({ actor: 'attributor' }));
      expect(again).toEqual({ batch: first.batch, created: false });

      const events = await listPayoutBatchEvents(db, 7n, 0n);
      expect(events.map((e) => ({ from: e.fromStatus, to: e.toStatus, actor: e.actor, detail: e.detail }))).toEqual([
        {
          from: null,
          to: 'pending',
          actor: 'attributor',
          detail: { root: hex32('11'), total: '1000000000000000000', scoreFileHash: hex32('22') },
        },
      ]);
    });

    it('createPayoutBatch() refuses another batch under an existing (epoch, nonce), naming what differs', async () => {
      await createPayoutBatch(db, batch());
      const e = await rejection(createPayoutBatch(db, batch({ root: hex32('33'), total: 5n })));
      expect(e).toBeInstanceOf(PayoutBatchMismatchError);
      expect(e.message).toBe('payout batch epoch 7 nonce 0 already exists with a different root, total\n  a batch is immutable once created; a different batch for the same epoch needs the next nonce');
      // The next nonce is a different batch.
      expect((await createPayoutBatch(db, batch({ nonce: 1n, root: hex32('33') }))).created).toBe(true);
      expect((await getPayoutBatch(db, 7n, 0n))?.root).toBe(hex32('11'));
    });

    it('walks pending → signed → posted → confirmed, one audit row per step', async () => {
      await createPayoutBatch(db, batch());
      const signatures = [sig('aa', 'bb'), sig('cc', 'dd')];
      const signed = await transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'pending', to: 'signed', signatures });
      expect(signed.status).toBe('signed');
      expect(signed.signatures).toEqual(signatures);
      const posted = await transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'signed', to: 'posted', txHash: hex32('ee'), actor: 'poster' });
      expect(posted.txHash).toBe(hex32('ee'));
      // `from` omitted: the status read in the transaction is the expectation.
      const confirmed = await transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'confirmed' });
      expect(confirmed.status).toBe('confirmed');
      expect(confirmed.updatedAt.getTime()).toBeGreaterThanOrEqual(confirmed.createdAt.getTime());

      const events = await listPayoutBatchEvents(db, 7n, 0n);
      expect(events.map((e) => [e.fromStatus, e.toStatus, e.actor, e.detail])).toEqual([
        [null, 'pending', null, { root: hex32('11'), total: '1000000000000000000', scoreFileHash: hex32('22') }],
        ['pending', 'signed', null, { signers: [`0x${'aa'.repeat(20)}`, `0x${'cc'.repeat(20)}`] }],
        ['signed', 'posted', 'poster', { txHash: hex32('ee') }],
        ['posted', 'confirmed', null, {}],
      ]);
    });

    it('refuses illegal transitions, naming from and to, and changes nothing', async () => {
      await createPayoutBatch(db, batch());
      const skip = await rejection(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'pending', to: 'posted', txHash: hex32('ee') }));
      expect(skip).toBeInstanceOf(IllegalTransitionError);
      expect(skip).toMatchObject({ from: 'pending', to: 'posted', retryable: false });
      expect(skip.message).toBe('payout batch epoch 7 nonce 0: illegal transition pending → posted');

      await transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'revoked' });
      // Read inside the transaction when `from` is omitted: still refused, with the actual status.
      const back = await rejection(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'pending' }));
      expect(back).toMatchObject({ name: 'IllegalTransitionError', from: 'revoked', to: 'pending' });
      const final = await rejection(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'failed', error: 'x' }));
      expect(final).toMatchObject({ name: 'IllegalTransitionError', from: 'revoked', to: 'failed' });
      const same = await rejection(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'revoked', to: 'revoked' }));
      expect(same).toMatchObject({ name: 'IllegalTransitionError', from: 'revoked', to: 'revoked' });

      expect((await getPayoutBatch(db, 7n, 0n))?.status).toBe('revoked');
      expect((await listPayoutBatchEvents(db, 7n, 0n)).map((e) => e.toStatus)).toEqual(['pending', 'revoked']);
    });

    it('revokes or fails from every status that is not final', async () => {
      const starts: PayoutBatchStatus[][] = [[], ['signed'], ['signed', 'posted'], ['signed', 'posted', 'confirmed']];
      let nonce = 0n;
      for (const end of ['revoked', 'failed'] as const) {
        for (const path of starts) {
          await createPayoutBatch(db, batch({ nonce }));
          for (const to of path) {
            await transitionPayoutBatch(db, { epoch: 7n, nonce, to, signatures: [sig('aa', 'bb')], txHash: hex32('ee') });
          }
          const done = await transitionPayoutBatch(db, { epoch: 7n, nonce, to: end, error: 'rpc said no' });
          expect([path.at(-1) ?? 'pending', done.status]).toEqual([path.at(-1) ?? 'pending', end]);
          nonce++;
        }
      }
      expect((await listPayoutBatches(db, { status: 'failed' })).map((b) => [b.nonce, b.error])).toEqual([
        [4n, 'rpc said no'],
        [5n, 'rpc said no'],
        [6n, 'rpc said no'],
        [7n, 'rpc said no'],
      ]);
      expect((await listPayoutBatches(db, { status: 'revoked' })).map((b) => [b.nonce, b.error])).toEqual([
        [0n, null],
        [1n, null],
        [2n, null],
        [3n, null],
      ]);
    });

    it('refuses a transition whose expected status is stale, and one of an unknown batch', async () => {
      await createPayoutBatch(db, batch());
      await transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'pending', to: 'signed', signatures: [sig('aa', 'bb')] });
      const stale = await rejection(
        transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'pending', to: 'failed', error: 'too late' }),
      );
      expect(stale).toBeInstanceOf(TransitionConflictError);
      expect(stale).toMatchObject({ expected: 'pending', actual: 'signed', to: 'failed', retryable: false });
      expect(stale.message).toBe(
        'payout batch epoch 7 nonce 0: expected status pending for pending → failed, found signed\n  another transaction changed it first; re-read the batch',
      );
      const missing = await rejection(transitionPayoutBatch(db, { epoch: 8n, nonce: 0n, from: 'pending', to: 'revoked' }));
      expect(missing).toBeInstanceOf(PayoutBatchNotFoundError);
      expect(missing.message).toBe('no payout batch for epoch 8 nonce 0');
      expect((await listPayoutBatchEvents(db, 7n, 0n)).map((e) => e.toStatus)).toEqual(['pending', 'signed']);
    });

    it('lets exactly one of several racing pending → signed transactions win', async () => {
      await createPayoutBatch(db, batch());
      const racers = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff'];
      const results = await Promise.allSettled(
        racers.map((r) =>
          transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, from: 'pending', to: 'signed', signatures: [sig(r, r)], actor: r }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(racers.length - 1);
      for (const l of lost) expect(l.reason).toMatchObject({ name: 'TransitionConflictError', expected: 'pending', actual: 'signed' });

      const winner = (await listPayoutBatchEvents(db, 7n, 0n)).filter((e) => e.toStatus === 'signed');
      expect(winner).toHaveLength(1);
      // The stored signatures are the winner's, and the audit row names the same winner.
      const stored = await getPayoutBatch(db, 7n, 0n);
      expect(stored?.signatures).toEqual([sig(winner[0]!.actor!, winner[0]!.actor!)]);
    });

    it('validates what a transition needs: signatures, a transaction hash, an error', async () => {
      await createPayoutBatch(db, batch());
      await expect(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'signed', signatures: [] })).rejects.toThrow(
        '→ signed needs the signatures',
      );
      await expect(
        transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'signed', signatures: [{ signer: '0xAB', signature: '0x00' }] }),
      ).rejects.toThrow(InvalidValueError);
      await expect(transitionPayoutBatch(db, { epoch: 7n, nonce: 0n, to: 'failed' })).rejects.toThrow('→ failed needs the error');
      expect((await getPayoutBatch(db, 7n, 0n))?.status).toBe('pending');
    });

    it('round-trips numeric(78,0) totals exactly, up to 2**256 - 1, and refuses more', async () => {
      const max = 2n ** 256n - 1n;
      expect(MAX_UINT256).toBe(max);
      await createPayoutBatch(db, batch({ nonce: 0n, total: max }));
      await createPayoutBatch(db, batch({ nonce: 1n, total: 0n }));
      await createPayoutBatch(db, batch({ nonce: 2n, total: 2n ** 53n + 1n }));
      expect((await listPayoutBatches(db)).map((b) => b.total)).toEqual([max, 0n, 2n ** 53n + 1n]);
      const text = await rows<{ total: string; type: string }>(
        db,
        sql`SELECT total::text AS total, format_type(atttypid, atttypmod) AS type FROM payout_batches, pg_attribute
            WHERE nonce = 0 AND attrelid = 'payout_batches'::regclass AND attname = 'total'`,
      );
      expect(text).toEqual([{ total: max.toString(), type: 'numeric(78,0)' }]);

      const over = await rejection(createPayoutBatch(db, batch({ nonce: 3n, total: 2n ** 256n })));
      expect(over).toBeInstanceOf(InvalidValueError);
      expect(over.message).toBe(`total must be between 0 and ${max}, got ${2n ** 256n}`);
      // The table refuses it too, whoever writes.
      await expect(
        db.execute(sql`INSERT INTO payout_batches (epoch, nonce, root, total, score_file_hash, signer_set_version)
                       VALUES (1, 0, ${hex32('11')}, ${(2n ** 256n).toString()}::numeric, ${hex32('22')}, 1)`),
      ).rejects.toThrow();
    });

    it('keeps the audit log append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
      await createPayoutBatch(db, batch());
      for (const stmt of [
        sql`UPDATE payout_batch_events SET actor = 'mallory'`,
        sql`DELETE FROM payout_batch_events`,
        sql`TRUNCATE payout_batch_events`,
      ]) {
        const e = await rejection(db.execute(stmt));
        const cause = (e.cause ?? e) as Error;
        expect(cause.message).toMatch(/^payout_batch_events is append-only: (UPDATE|DELETE|TRUNCATE) refused$/);
      }
      expect((await listPayoutBatchEvents(db, 7n, 0n)).map((e) => e.actor)).toEqual([null]);
    });

    it('lists batches by status (one or several) and epoch, in (epoch, nonce) order', async () => {
      await createPayoutBatch(db, batch({ epoch: 9n, nonce: 0n }));
      await createPayoutBatch(db, batch({ epoch: 8n, nonce: 1n }));
      await createPayoutBatch(db, batch({ epoch: 8n, nonce: 0n }));
      await transitionPayoutBatch(db, { epoch: 8n, nonce: 0n, to: 'revoked' });
      const key = (bs: { epoch: bigint; nonce: bigint }[]) => bs.map((b) => `${b.epoch}/${b.nonce}`);
      expect(key(await listPayoutBatches(db))).toEqual(['8/0', '8/1', '9/0']);
      expect(key(await listPayoutBatches(db, { status: 'pending' }))).toEqual(['8/1', '9/0']);
      expect(key(await listPayoutBatches(db, { status: ['revoked', 'signed'] }))).toEqual(['8/0']);
      expect(key(await listPayoutBatches(db, { status: 'pending', epoch: 9n }))).toEqual(['9/0']);
      expect(key(await listPayoutBatches(db, { status: [] }))).toEqual([]);
    });

    it('createApiKey() returns the secret once and stores only its SHA-256', async () => {
      const { secret, key } = await createApiKey(db, { role: 'contributor', payerAddress: `0x${'AB'.repeat(20)}`, label: 'laptop' });
      expect(secret).toMatch(/^trb_[A-Za-z0-9_-]{43}$/);
      expect(key).toMatchObject({ role: 'contributor', payerAddress: `0x${'ab'.repeat(20)}`, label: 'laptop', prefix: secret.slice(0, 12), revokedAt: null });
      expect(key).not.toHaveProperty('keyHash');

      const stored = await rows<Record<string, unknown>>(db, sql`SELECT * FROM api_keys`);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.key_hash).toBe(createHash('sha256').update(secret).digest('hex'));
      // Nothing stored holds the secret, or any part of it past the public prefix.
      const everything = JSON.stringify(await rows(db, sql`SELECT row_to_json(k)::text AS j FROM api_keys k`));
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice(12, 24));
    });

    it('findApiKeyBySecret() finds the active key for its secret, and nothing for any other string', async () => {
      const a = await createApiKey(db, { role: 'operator' });
      const b = await createApiKey(db, { role: 'auditor', label: 'audit firm' });
      expect(await findApiKeyBySecret(db, a.secret)).toEqual(a.key);
      expect(await findApiKeyBySecret(db, b.secret)).toEqual(b.key);
      const last = a.secret.at(-1) === 'A' ? 'B' : 'A';
      expect(await findApiKeyBySecret(db, a.secret.slice(0, -1) + last)).toBeUndefined();
      expect(await findApiKeyBySecret(db, `${a.secret}x`)).toBeUndefined();
      expect(await findApiKeyBySecret(db, '')).toBeUndefined();
      expect(await findApiKeyBySecret(db, "trb_' OR 1=1 --")).toBeUndefined();
    });

    it('revokeApiKey() stops the key at once; revoking again keeps the first time; unknown ids are named', async () => {
      const a = await createApiKey(db, { role: 'public' });
      const revoked = await revokeApiKey(db, a.key.id);
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      expect(await findApiKeyBySecret(db, a.secret)).toBeUndefined();
      expect((await revokeApiKey(db, a.key.id)).revokedAt).toEqual(revoked.revokedAt);

      const unknown = '00000000-0000-4000-8000-000000000000';
      const e = await rejection(revokeApiKey(db, unknown));
      expect(e).toBeInstanceOf(ApiKeyNotFoundError);
      expect(e.message).toBe(`no API key with id ${unknown}`);
      await expect(revokeApiKey(db, 'not-a-uuid')).rejects.toThrow('no API key with id not-a-uuid');
    });

    it('createApiKey() creates one key per grant digest, also under concurrent calls, and refuses a malformed digest', async () => {
      const digest = `0x${'Ab'.repeat(32)}`;
      const payerAddress = `0x${'cd'.repeat(20)}`;
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => createApiKey(db, { role: 'public', payerAddress, grantDigest: digest })),
      );
      const created = results.filter((r) => r.status === 'fulfilled');
      expect(created).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(GrantAlreadyUsedError);
        expect((r.reason as Error).message).toContain(`the grant ${digest.toLowerCase()} already created an API key`);
      }
      const stored = await rows<{ grant_digest: string }>(db, sql`SELECT grant_digest FROM api_keys`);
      expect(stored).toEqual([{ grant_digest: digest.toLowerCase() }]);
      // Keys without a grant (operator-made) are not limited by it.
      await createApiKey(db, { role: 'operator' });
      await createApiKey(db, { role: 'operator' });
      await expect(createApiKey(db, { role: 'public', grantDigest: '0x12' })).rejects.toThrow('grantDigest must be 0x and 64 hex digits, got "0x12"');
    });

    it('reserveUploadQuota() grants bytes up to the daily limit per address and day, never past it', async () => {
      const A = '0x' + 'aB'.repeat(20);
      const B = '0x' + '0c'.repeat(20);
      const day = '2026-11-25';
      expect(await reserveUploadQuota(db, { address: A, day, bytes: 600, limit: 1000 })).toEqual({ granted: true, usedBytes: 600, uploads: 1 });
      expect(await reserveUploadQuota(db, { address: A, day, bytes: 401, limit: 1000 })).toEqual({ granted: false, usedBytes: 600, uploads: 1 });
      expect(await reserveUploadQuota(db, { address: A.toLowerCase(), day, bytes: 400, limit: 1000 })).toEqual({ granted: true, usedBytes: 1000, uploads: 2 });
      // Another address and another day have their own allowance; one file above the limit never fits.
      expect(await reserveUploadQuota(db, { address: B, day, bytes: 1000, limit: 1000 })).toMatchObject({ granted: true, usedBytes: 1000 });
      expect(await reserveUploadQuota(db, { address: A, day: '2026-11-26', bytes: 5, limit: 1000 })).toMatchObject({ granted: true, usedBytes: 5 });
      expect(await reserveUploadQuota(db, { address: '0x' + '0d'.repeat(20), day, bytes: 1001, limit: 1000 })).toEqual({ granted: false, usedBytes: 0, uploads: 0 });
      // A failed upload gives its bytes back.
      await releaseUploadQuota(db, { address: A, day, bytes: 400 });
      expect(await getUploadQuota(db, { address: A, day })).toEqual({ usedBytes: 600, uploads: 1 });
    });

    it('reserveUploadQuota() lets exactly as many concurrent uploads through as fit', async () => {
      const A = '0x' + '11'.repeat(20);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => reserveUploadQuota(db, { address: A, day: '2026-11-25', bytes: 300, limit: 1000 })),
      );
      expect(results.filter((r) => r.granted)).toHaveLength(3);
      expect(await getUploadQuota(db, { address: A, day: '2026-11-25' })).toEqual({ usedBytes: 900, uploads: 3 });
    });

    it('the upload quota refuses malformed addresses, days and sizes', async () => {
      await expect(reserveUploadQuota(db, { address: '0x12', day: '2026-11-25', bytes: 1, limit: 9 })).rejects.toThrow('address must be 0x and 40 hex digits, got "0x12"');
      await expect(reserveUploadQuota(db, { address: '0x' + '11'.repeat(20), day: '25/11/2026', bytes: 1, limit: 9 })).rejects.toThrow('day must be YYYY-MM-DD, got "25/11/2026"');
      await expect(reserveUploadQuota(db, { address: '0x' + '11'.repeat(20), day: '2026-11-25', bytes: -1, limit: 9 })).rejects.toThrow('bytes must be a non-negative integer, got -1');
    });

    it('createApiKey() refuses a malformed payer address or role', async () => {
      await expect(createApiKey(db, { role: 'contributor', payerAddress: '0x1234' })).rejects.toThrow(
        'payerAddress must be 0x and 40 hex digits, got "0x1234"',
      );
      await expect(createApiKey(db, { role: 'root' as never })).rejects.toThrow(
        'role must be one of public, contributor, auditor, operator, got "root"',
      );
      expect(await rows(db, sql`SELECT id FROM api_keys`)).toEqual([]);
    });
  });
}

describeOnEveryStore('operational store', describeOperationalStore);
