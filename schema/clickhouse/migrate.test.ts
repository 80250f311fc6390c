import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseStore } from './connect.ts';
import { MigrationError } from './errors.ts';
import { migrate, migrationChecksum, type Migration } from './migrate.ts';

// chDB binds one data dir per process: the tests of this file share one and use a database each.
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-migrate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withStore(fn: (store: ClickHouseStore) => Promise<void>): Promise<void> {
  const store = await openClickHouse({ dataDir: dir, database: `migrate_${++n}` });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const rows = async <T>(store: ClickHouseStore, query: string) =>
  (await store.client.query({ query, format: 'JSONEachRow' })).json<T>();
const tables = async (store: ClickHouseStore) =>
  (await rows<{ name: string }>(store, 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name')).map((r) => r.name);
const recorded = (store: ClickHouseStore) =>
  rows<{ id: number; name: string; checksum: string }>(store, 'SELECT id, name, checksum FROM schema_migrations ORDER BY id');

const one: Migration = {
  id: 1,
  name: 'accounts',
  statements: ['CREATE TABLE IF NOT EXISTS accounts (address FixedString(20)) ENGINE = MergeTree ORDER BY address'],
};
const two: Migration = {
  id: 2,
  name: 'balances',
  statements: [
    'CREATE TABLE IF NOT EXISTS balances (address FixedString(20), amount UInt256) ENGINE = MergeTree ORDER BY address',
    'ALTER TABLE balances ADD COLUMN IF NOT EXISTS updated_at DateTime64(3, \'UTC\')',
  ],
};

describe('migrate()', () => {
  it('applies migrations in order, records them, and does nothing when run again', async () => {
    await withStore(async (store) => {
      const logs: string[] = [];
      const applied = await migrate(store, [one, two], { log: (m) => logs.push(m) });
      expect(applied).toEqual([
        { id: 1, name: 'accounts', checksum: migrationChecksum(one) },
        { id: 2, name: 'balances', checksum: migrationChecksum(two) },
      ]);
      expect(logs).toEqual([
        'applied ClickHouse migration 1 (accounts): 1 statements',
        'applied ClickHouse migration 2 (balances): 2 statements',
      ]);
      expect(await tables(store)).toEqual(['accounts', 'balances', 'schema_migrations']);
      expect(await rows(store, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'balances' ORDER BY position")).toEqual([
        { name: 'address' },
        { name: 'amount' },
        { name: 'updated_at' },
      ]);
      expect(await recorded(store)).toEqual(applied);
      const [{ age }] = (await rows<{ age: string }>(store, 'SELECT max(dateDiff(\'second\', applied_at, now64(3))) AS age FROM schema_migrations')) as [
        { age: string },
      ];
      expect(Number(age)).toBeLessThan(60);

      expect(await migrate(store, [one, two])).toEqual([]);
      expect(await recorded(store)).toEqual(applied);

      // A later version adds a migration: only that one runs.
      const three: Migration = { id: 3, name: 'notes', statements: ['CREATE TABLE IF NOT EXISTS notes (x String) ENGINE = Log'] };
      expect(await migrate(store, [one, two, three])).toEqual([{ id: 3, name: 'notes', checksum: migrationChecksum(three) }]);
      expect((await recorded(store)).map((r) => r.id)).toEqual([1, 2, 3]);
    });
  });

  it('refuses a migration changed after it was applied, and applies nothing', async () => {
    await withStore(async (store) => {
      await migrate(store, [one]);
      const changed: Migration = { ...one, statements: [`${one.statements[0]} SETTINGS index_granularity = 1024`] };
      const three: Migration = { id: 3, name: 'notes', statements: ['CREATE TABLE IF NOT EXISTS notes (x String) ENGINE = Log'] };
      const err = await migrate(store, [changed, three]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as MigrationError).retryable).toBe(false);
      expect((err as Error).message).toBe(
        'Migration 1 (accounts) was changed after it was applied\n' +
          `  recorded checksum ${migrationChecksum(one)}, the code's is ${migrationChecksum(changed)}. ` +
          'An applied migration must never change: restore its statements and put the change in a new migration',
      );
      expect(await tables(store)).toEqual(['accounts', 'schema_migrations']);
    });
  });

  it('leaves a failed migration unrecorded, and a rerun after the fix applies it whole', async () => {
    await withStore(async (store) => {
      const broken: Migration = { ...two, statements: [two.statements[0]!, 'ALTER TABLE balances ADD COLUMN IF NOT EXISTS updated_at NoSuchType'] };
      const err = await migrate(store, [one, broken]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      const message = (err as Error).message;
      expect(message.split('\n')[0]).toBe(
        'Migration 2 (balances) failed at statement 2 of 2: ALTER TABLE balances ADD COLUMN IF NOT EXISTS updated_at NoSuchType',
      );
      expect(message).toContain('NoSuchType');
      expect(message).toContain('It is not recorded, so the next start retries it from its first statement');
      expect((err as MigrationError).retryable).toBe(false);
      // Migration 1 went through; 2 ran its first statement but is not recorded.
      expect((await recorded(store)).map((r) => r.id)).toEqual([1]);
      expect(await tables(store)).toEqual(['accounts', 'balances', 'schema_migrations']);

      expect(await migrate(store, [one, two])).toEqual([{ id: 2, name: 'balances', checksum: migrationChecksum(two) }]);
      expect((await recorded(store)).map((r) => r.id)).toEqual([1, 2]);
      expect(await rows(store, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'balances' ORDER BY position")).toEqual([
        { name: 'address', type: 'FixedString(20)' },
        { name: 'amount', type: 'UInt256' },
        { name: 'updated_at', type: "DateTime64(3, 'UTC')" },
      ]);
    });
  });

  it('refuses a database migrated by a newer version with migrations this code does not know', async () => {
    await withStore(async (store) => {
      await migrate(store, [one, two]);
      const err = await migrate(store, [one]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as Error).message).toBe(
        'The database has migration 2 (balances), which this version of Tributary does not know\n' +
          '  it was migrated by a newer version: run that version, or restore a matching backup',
      );
    });
  });

  it('refuses a list whose ids do not increase, before touching the database', async () => {
    await withStore(async (store) => {
      await expect(migrate(store, [two, one])).rejects.toThrow(
        new MigrationError('Migration ids must be positive integers in increasing order: 1 (accounts) comes after 2'),
      );
      await expect(migrate(store, [{ id: 1, name: 'Bad Name', statements: ['SELECT 1'] }])).rejects.toThrow(
        'Migration 1 needs a snake_case name, got "Bad Name"',
      );
      expect(await tables(store)).toEqual([]);
    });
  });

  it('checksums the statements so that moving text between them counts as a change', () => {
    expect(migrationChecksum({ statements: ['ab', 'c'] })).not.toBe(migrationChecksum({ statements: ['a', 'bc'] }));
    expect(migrationChecksum({ statements: ['SELECT 1'] })).toBe(migrationChecksum({ statements: ['SELECT 1'] }));
    expect(migrationChecksum({ statements: ['SELECT 1'] })).toMatch(/^[0-9a-f]{64}$/);
  });
});
