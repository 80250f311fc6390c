// Opens the operational store: PGlite on disk in the data dir by default, PostgreSQL when a URL is given.
// Both get the same drizzle tables and the same migrations, applied at open; re-applying is a no-op.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { lockDataDir } from './dirLock.ts';
import { InvalidValueError, OperationalStoreError, StoreUnreachableError } from './errors.ts';
import { operationalTables } from './tables.ts';

/** The drizzle instance, typed with the operational tables; the same type for both drivers. */
export type OperationalDb = PgDatabase<PgQueryResultHKT, typeof operationalTables>;

export interface OpenPostgresOptions {
  /** A postgres:// URL (DATABASE_URL). Unset: PGlite in `<dataDir>/pglite`. */
  url?: string | undefined;
  dataDir: string;
  /** Connections in the pool (PostgreSQL only). Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection (PostgreSQL only). Default 10 s. */
  connectTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface OperationalStore {
  db: OperationalDb;
  kind: 'pglite' | 'postgres';
  /** Waits for open queries, then releases the connection (and the data dir's lock). Safe to call twice. */
  close(): Promise<void>;
}

/** The SQL migrations drizzle-kit generated from tables.ts. */
export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

// Any fixed number shared by every Tributary process: two processes starting at once on one server
// apply the migrations one after the other instead of racing on CREATE TABLE.
const MIGRATION_LOCK_KEY = 0x7472_6962; // 'trib'

/** Opens the store and applies pending migrations. */
export async function openPostgres(opts: OpenPostgresOptions): Promise<OperationalStore> {
  return opts.url === undefined ? openPglite(opts) : openServer(opts.url, opts);
}

async function openPglite(opts: OpenPostgresOptions): Promise<OperationalStore> {
  const dir = join(opts.dataDir, 'pglite');
  mkdirSync(opts.dataDir, { recursive: true });
  const lock = lockDataDir(join(opts.dataDir, 'pglite.lock'), `the PGlite data directory ${dir}`);
  let client: PGlite | undefined;
  try {
    // PGlite 0.5 runs initdb in an empty directory: about 6 s on 2 cores, once.
    opts.log?.(`opening PGlite in ${dir} (the first start runs initdb, a few seconds)`);
    client = await PGlite.create(dir);
    const db = drizzlePglite({ client, schema: operationalTables });
    await migratePglite(db, { migrationsFolder }).catch((e: unknown) => {
      throw migrationError(e, dir);
    });
    const opened = client;
    let closing: Promise<void> | undefined;
    return {
      db: db as OperationalDb,
      kind: 'pglite',
      close: () => (closing ??= opened.close().finally(() => lock.release())),
    };
  } catch (e) {
    await client?.close().catch(() => {});
    lock.release();
    if (e instanceof OperationalStoreError) throw e;
    throw new OperationalStoreError(`could not open PGlite in ${dir}`, {
      details: `${(e as Error).message ?? e}; if the directory is damaged, move it away to start empty`,
      cause: e,
    });
  }
}

async function openServer(url: string, opts: OpenPostgresOptions): Promise<OperationalStore> {
  const where = describeUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
  });
  // An idle connection dropped by the server (restart, failover) must not crash the process; the pool
  // opens a new one for the next query.
  pool.on('error', (e) => opts.log?.(`PostgreSQL at ${where}: idle connection lost (${e.message})`));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectError(e, where);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migratePg(drizzlePg({ client, schema: operationalTables }), { migrationsFolder }).catch((e: unknown) => {
        throw migrationError(e, where);
      });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (e) {
    client.release(true);
    await pool.end().catch(() => {});
    if (e instanceof OperationalStoreError) throw e;
    throw connectError(e, where);
  }
  client.release();
  const db = drizzlePg({ client: pool, schema: operationalTables });
  let closing: Promise<void> | undefined;
  return { db: db as OperationalDb, kind: 'postgres', close: () => (closing ??= pool.end()) };
}

/** `user@host:port/database`: enough to find the server, never the password. */
export function describeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidValueError('DATABASE_URL is not a URL (not shown: it may hold a password)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new InvalidValueError(`DATABASE_URL must start with postgres:// or postgresql://, not ${u.protocol}//`);
  }
  const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
  return `${user}${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
}

// Connection-level failures that may pass: the server is down, starting, overloaded or unreachable.
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
]);

function connectError(e: unknown, where: string): OperationalStoreError {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? (err.message?.includes('timeout') ? 'ETIMEDOUT' : undefined);
  if (code !== undefined && RETRYABLE_CODES.has(code)) {
    return new StoreUnreachableError(`PostgreSQL at ${where} is unreachable (${code})`, {
      details: `${err.message ?? ''}; retrying may help once the server is up`,
      retryable: true,
      cause: e,
    });
  }
  if (code === '28P01' || code === '28000') {
    return new StoreUnreachableError(`PostgreSQL at ${where} refused the credentials (${code})`, {
      details: 'check the user and password in DATABASE_URL',
      cause: e,
    });
  }
  if (code === '3D000') {
    return new StoreUnreachableError(`PostgreSQL at ${where}: the database does not exist (${code})`, {
      details: 'create it first (createdb), or point DATABASE_URL at an existing one',
      cause: e,
    });
  }
  return new OperationalStoreError(`PostgreSQL at ${where}: ${err.message ?? String(e)}`, { cause: e });
}

function migrationError(e: unknown, where: string): OperationalStoreError {
  return new OperationalStoreError(`applying the operational store's migrations to ${where} failed`, {
    details: `${(e as Error).message ?? e}; nothing of the failed migration was kept (it runs in one transaction)`,
    cause: e,
  });
}
