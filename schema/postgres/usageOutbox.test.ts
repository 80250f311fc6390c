// The usage outbox and the inference log outbox: one behaviour suite run on PGlite always and on a real
// PostgreSQL server when TEST_DATABASE_URL is set (testing/storeFixtures.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { OperationalDb, OperationalStore } from './connect.ts';
import { describeOnEveryStore, type StoreFixture } from './testing/storeFixtures.ts';
import { InvalidValueError } from './errors.ts';
import { clearInferenceLogs, enqueueInferenceLogs, pendingInferenceLogs } from './inferenceLogOutbox.ts';
import {
  UsageBatchNotFoundError,
  UsageBatchStateError,
  UsageRecordMismatchError,
  claimBatch,
  countUnbatchedUsage,
  getUsageBatch,
  getUsageRecord,
  listUsageBatches,
  markBatchFailed,
  markBatchSettled,
  recordUsage,
  recordUsages,
  usageBatchItems,
  type UsageItemInput,
} from './usageOutbox.ts';

const OP_A = `0x${'a1'.repeat(20)}`;
const OP_B = `0x${'b2'.repeat(20)}`;
const PAYER = `0x${'c3'.repeat(20)}`;
const TX = (b: string) => `0x${b.repeat(32)}`;
/** Request id n: 0x…n, so that ids sort as their numbers. */
const rid = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const usage = (n: number, over: Partial<UsageItemInput> = {}): UsageItemInput => ({
  requestId: rid(n),
  payer: PAYER,
  modelId: 7n,
  tokensIn: 100 + n,
  tokensOut: 10 + n,
  createdAt: new Date(T0 + n * 1000),
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

function describeUsageOutbox(name: string, fresh: () => Promise<StoreFixture>) {
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
      await store?.close();
      await fixture?.dispose();
    });

    const ids = (rows: { requestId: string }[]) => rows.map((r) => r.requestId);

    it('recordUsage() is idempotent on the request id, stores hex lowercase and refuses a different record under the same id', async () => {
      const upper = usage(1, { requestId: rid(1).toUpperCase().replace('0X', '0x'), payer: PAYER.toUpperCase().replace('0X', '0x') });
      const first = await recordUsage(db, upper);
      expect(first).toEqual({
        created: true,
        record: { requestId: rid(1), payer: PAYER, modelId: 7n, tokensIn: 101, tokensOut: 11, createdAt: new Date(T0 + 1000), batchId: null, outcome: null },
      });
      expect(await recordUsage(db, usage(1))).toEqual({ ...first, created: false });
      const e = await rejection(recordUsage(db, usage(1, { tokensOut: 12, createdAt: new Date(T0) })));
      expect(e).toBeInstanceOf(UsageRecordMismatchError);
      expect(e.message).toBe(
        `usage record ${rid(1)} already exists with a different tokensOut, createdAt\n  a request id names one inference: a different inference needs a new request id`,
      );
      expect(await getUsageRecord(db, rid(1))).toEqual(first.record);
      // The largest uint32 token counts fit.
      expect((await recordUsage(db, usage(2, { tokensIn: 4_294_967_295, tokensOut: 0 }))).record.tokensIn).toBe(4_294_967_295);
    });

    it('recordUsages() writes all or nothing and counts only new records', async () => {
      expect(await recordUsages(db, [usage(1), usage(2)])).toEqual({ created: 2, createdRequestIds: [rid(1), rid(2)] });
      expect(await recordUsages(db, [usage(2), usage(3), usage(1)])).toEqual({ created: 1, createdRequestIds: [rid(3)] });
      // One mismatch refuses the whole call: record 4 is not written either.
      await expect(recordUsages(db, [usage(4), usage(2, { payer: OP_A })])).rejects.toThrow(`usage record ${rid(2)} already exists with a different payer`);
      expect(await getUsageRecord(db, rid(4))).toBeUndefined();
      await expect(recordUsages(db, [usage(5), usage(5)])).rejects.toThrow(`request id ${rid(5)} appears twice in one call`);
      expect(await countUnbatchedUsage(db)).toBe(3);
      expect(await recordUsages(db, [])).toEqual({ created: 0, createdRequestIds: [] });
    });

    it('refuses malformed values with what was wrong', async () => {
      const cases: [Partial<UsageItemInput>, string][] = [
        [{ requestId: '0x12' }, 'requestId must be 0x and 64 hex digits, got "0x12"'],
        [{ payer: 'alice' }, 'payer must be 0x and 40 hex digits, got "alice"'],
        [{ modelId: -1n }, 'modelId must be an integer from 0 to 9223372036854775807, got -1'],
        [{ tokensIn: 1.5 }, 'tokensIn must be an integer from 0 to 4294967295, got 1.5'],
        [{ tokensOut: 2 ** 32 }, 'tokensOut must be an integer from 0 to 4294967295, got 4294967296'],
        [{ createdAt: new Date(Number.NaN) }, 'createdAt must be a valid Date, got Invalid Date'],
      ];
      for (const [over, message] of cases) {
        const e = await rejection(recordUsage(db, usage(1, over)));
        expect(e).toBeInstanceOf(InvalidValueError);
        expect(e.message).toBe(message);
      }
      await expect(claimBatch(db, { operator: OP_A, maxItems: 0 })).rejects.toThrow('maxItems must be a positive integer, got 0');
      await expect(claimBatch(db, { operator: OP_A, maxItems: 1, minNumber: 0n })).rejects.toThrow('minNumber must be an integer from 1 to 9223372036854775807, got 0');
      expect(await countUnbatchedUsage(db)).toBe(0);
    });

    it('claimBatch() takes the oldest records into batch 1, resumes it while pending, and numbers the next one 2', async () => {
      expect(await claimBatch(db, { operator: OP_A, maxItems: 2 })).toBeUndefined();
      // Inserted out of order; 3 and 4 served in the same millisecond: the request id breaks the tie.
      await recordUsages(db, [usage(5), usage(4, { createdAt: new Date(T0 + 3000) }), usage(3), usage(1), usage(2)]);
      const one = await claimBatch(db, { operator: OP_A, maxItems: 2 });
      expect(one!.resumed).toBe(false);
      expect(one!.batch).toMatchObject({ operator: OP_A, number: 1n, status: 'pending', itemCount: 2, txHash: null, error: null });
      expect(ids(one!.items)).toEqual([rid(1), rid(2)]);
      expect(one!.items.every((r) => r.batchId === one!.batch.id && r.outcome === null)).toBe(true);
      expect(await countUnbatchedUsage(db)).toBe(3);

      const again = await claimBatch(db, { operator: OP_A, maxItems: 10 });
      expect(again).toEqual({ ...one, resumed: true });

      await markBatchSettled(db, { operator: OP_A, number: 1n, txHash: TX('11'), rejected: [] });
      const two = await claimBatch(db, { operator: OP_A, maxItems: 10 });
      expect(two!.batch).toMatchObject({ number: 2n, itemCount: 3, status: 'pending' });
      expect(ids(two!.items)).toEqual([rid(3), rid(4), rid(5)]);
      expect(await countUnbatchedUsage(db)).toBe(0);
    });

    it('keeps one pending batch per operator when claims race, and numbers each operator on its own', async () => {
      await recordUsages(db, [1, 2, 3, 4, 5, 6].map((n) => usage(n)));
      const [x, y] = await Promise.all([claimBatch(db, { operator: OP_A, maxItems: 2 }), claimBatch(db, { operator: OP_A, maxItems: 2 })]);
      expect(x!.batch.id).toBe(y!.batch.id);
      expect([x!.resumed, y!.resumed].sort()).toEqual([false, true]);
      const b = await claimBatch(db, { operator: OP_B, maxItems: 3 });
      expect(b!.batch).toMatchObject({ operator: OP_B, number: 1n, itemCount: 3 });
      expect(ids(b!.items)).toEqual([rid(3), rid(4), rid(5)]);
      // The database itself refuses a second pending batch and a reused live number.
      await expect(db.execute(sql`INSERT INTO usage_batches (operator, number, item_count) VALUES (${OP_A}, 5, 1)`)).rejects.toThrow();
      await expect(db.execute(sql`INSERT INTO usage_batches (operator, number, status, item_count, tx_hash) VALUES (${OP_A}, 1, 'settled', 1, ${TX('99')})`)).rejects.toThrow();
      expect((await listUsageBatches(db, { operator: OP_A })).map((r) => r.number)).toEqual([1n]);
    });

    it('claimBatch() skips numbers below minNumber (the chain used them) and never numbers below the store', async () => {
      await recordUsages(db, [usage(1), usage(2)]);
      const first = await claimBatch(db, { operator: OP_A, maxItems: 1, minNumber: 5n });
      expect(first!.batch.number).toBe(5n);
      await markBatchSettled(db, { operator: OP_A, number: 5n, txHash: TX('55'), rejected: [] });
      const second = await claimBatch(db, { operator: OP_A, maxItems: 1, minNumber: 2n });
      expect(second!.batch.number).toBe(6n);
    });

    it('markBatchSettled() sets each record settled or rejected, repeats as a no-op, and refuses what does not fit', async () => {
      await recordUsages(db, [usage(1), usage(2), usage(3), usage(9)]);
      const { batch } = (await claimBatch(db, { operator: OP_A, maxItems: 3 }))!;
      const stray = await rejection(markBatchSettled(db, { operator: OP_A, number: 1n, txHash: TX('11'), rejected: [rid(2), rid(9)] }));
      expect(stray).toBeInstanceOf(UsageBatchStateError);
      expect(stray.message).toBe(`usage batch 1 of ${OP_A} has no record ${rid(9)}\n  only records of the batch can be rejected in it`);
      expect((await getUsageBatch(db, { operator: OP_A, number: 1n }))!.status).toBe('pending');
      await expect(markBatchSettled(db, { operator: OP_A, number: 2n, txHash: TX('11'), rejected: [] })).rejects.toThrow(UsageBatchNotFoundError);

      const settled = await markBatchSettled(db, { operator: OP_A, number: 1n, txHash: TX('AB'), rejected: [rid(2).toUpperCase().replace('0X', '0x')] });
      expect(settled).toMatchObject({ id: batch.id, status: 'settled', txHash: TX('ab'), itemCount: 3 });
      expect((await usageBatchItems(db, batch.id)).map((r) => [r.requestId, r.outcome])).toEqual([
        [rid(1), 'settled'],
        [rid(2), 'rejected'],
        [rid(3), 'settled'],
      ]);
      expect(await markBatchSettled(db, { operator: OP_A, number: 1n, txHash: TX('ab'), rejected: [rid(2)] })).toEqual(settled);
      await expect(markBatchSettled(db, { operator: OP_A, number: 1n, txHash: TX('cd'), rejected: [] })).rejects.toThrow(
        `usage batch 1 of ${OP_A} was already settled in ${TX('ab')}, not ${TX('cd')}`,
      );
      await expect(markBatchFailed(db, { operator: OP_A, number: 1n, error: 'x' })).rejects.toThrow(`usage batch 1 of ${OP_A} is settled: only a pending batch can fail`);
      // A settled record's outcome is tied to its batch.
      await expect(db.execute(sql`UPDATE usage_records SET batch_id = NULL WHERE request_id = ${rid(1)}`)).rejects.toThrow();
    });

    it('markBatchFailed() releases the records, and the next claim reuses the number the chain never took', async () => {
      await recordUsages(db, [usage(1), usage(2), usage(3)]);
      const first = (await claimBatch(db, { operator: OP_A, maxItems: 2 }))!;
      const failed = await markBatchFailed(db, { operator: OP_A, number: 1n, error: 'NotOperator(0x…)' });
      expect(failed).toMatchObject({ id: first.batch.id, status: 'failed', error: 'NotOperator(0x…)', number: 1n });
      expect(await countUnbatchedUsage(db)).toBe(3);
      expect(await getUsageBatch(db, { operator: OP_A, number: 1n })).toBeUndefined();
      const retry = (await claimBatch(db, { operator: OP_A, maxItems: 5 }))!;
      expect(retry.batch).toMatchObject({ number: 1n, status: 'pending', itemCount: 3 });
      expect(retry.batch.id).not.toBe(first.batch.id);
      expect(ids(retry.items)).toEqual([rid(1), rid(2), rid(3)]);
      expect((await listUsageBatches(db, { operator: OP_A })).map((b) => [b.number, b.status])).toEqual([
        [1n, 'failed'],
        [1n, 'pending'],
      ]);
      await expect(markBatchFailed(db, { operator: OP_A, number: 7n, error: 'x' })).rejects.toThrow(`no usage batch 7 of operator ${OP_A}`);
    });

    it('queues inference log rows, lists the oldest first and clears them', async () => {
      await enqueueInferenceLogs(db, [
        { requestId: rid(2), row: { text: 'two' } },
        { requestId: rid(1), row: { text: 'one', n: '18446744073709551615' } },
      ]);
      await enqueueInferenceLogs(db, [{ requestId: rid(1), row: { text: 'changed' } }]);
      const pending = await pendingInferenceLogs(db, { limit: 10 });
      // Queued in one statement: same created_at, so the request id orders them.
      expect(pending.map((p) => [p.requestId, p.row])).toEqual([
        [rid(1), { text: 'one', n: '18446744073709551615' }],
        [rid(2), { text: 'two' }],
      ]);
      expect(await pendingInferenceLogs(db, { limit: 1 })).toHaveLength(1);
      await clearInferenceLogs(db, [rid(1)]);
      expect((await pendingInferenceLogs(db, { limit: 10 })).map((p) => p.requestId)).toEqual([rid(2)]);
      await expect(enqueueInferenceLogs(db, [{ requestId: 'x', row: {} }])).rejects.toThrow('requestId must be 0x and 64 hex digits, got "x"');
    });
  });
}

describeOnEveryStore('usage outbox', describeUsageOutbox);
