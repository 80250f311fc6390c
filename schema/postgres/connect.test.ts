import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { describeUrl, migrationsFolder, openPostgres } from './connect.ts';
import { createScratchDatabase, type ScratchDatabase } from './testing/scratchDatabase.ts';
import { InvalidValueError, StoreLockedError, StoreUnreachableError } from './errors.ts';
import { createPayoutBatch, listPayoutBatches } from './payoutBatches.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-connect-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const batch = {
  epoch: 1n,
  nonce: 0n,
  root: `0x${'11'.repeat(32)}`,
  total: 5n,
  scoreFileHash: `0x${'22'.repeat(32)}`,
  signerSetVersion: 1n,
} as const;

// Every migration drizzle-kit generated (its journal lists them), so adding one does not break a test.
const MIGRATION_COUNT = (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

/** A second process that opens the store in `dataDir`, writes a batch, says "ready" and waits. */
function holdStore(dataDir: string): Promise<ChildProcess> {
  const script = join(dir, 'hold.mts');
  const connect = pathToFileURL(join(import.meta.dirname, 'connect.ts')).href;
  const batches = pathToFileURL(join(import.meta.dirname, 'payoutBatches.ts')).href;
  writeFileSync(
    script,
    `import { openPostgres } from ${JSON.stringify(connect)};
import { createPayoutBatch } from ${JSON.stringify(batches)};
const store = await openPostgres({ dataDir: ${JSON.stringify(dataDir)} });
await createPayoutBatch(store.db, { epoch: 1n, nonce: 0n, root: '0x${'11'.repeat(32)}', total: 5n, scoreFileHash: '0x${'22'.repeat(32)}', signerSetVersion: 1n });
console.log('ready');
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}: ${err}`)));
  });
}

describe('openPostgres() with PGlite', () => {
  it('creates <dataDir>/pglite with the tables, and refuses a second open of the same dir in this process', async () => {
    const logs: string[] = [];
    const store = await openPostgres({ dataDir: join(dir, 'data'), log: (m) => logs.push(m) });
    try {
      expect(store.kind).toBe('pglite');
      expect(existsSync(join(dir, 'data', 'pglite', 'PG_VERSION'))).toBe(true);
      expect(logs).toEqual([`opening PGlite in ${join(dir, 'data', 'pglite')} (the first start runs initdb, a few seconds)`]);
      const lock = JSON.parse(readFileSync(join(dir, 'data', 'pglite.lock'), 'utf8'));
      expect(lock.pid).toBe(process.pid);

      const e = await openPostgres({ dataDir: join(dir, 'data') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StoreLockedError);
      expect(e).toMatchObject({ retryable: true });
      expect((e as Error).message).toMatch(
        new RegExp(`^the PGlite data directory ${join(dir, 'data', 'pglite')} is in use: this process already has it open \\(lock file .*pglite\\.lock\\)\\n`),
      );
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'data', 'pglite.lock'))).toBe(false);
    const again = await openPostgres({ dataDir: join(dir, 'data') });
    await again.close();
  });

  it('refuses a dir another process holds, naming it, and takes over once that process is killed', async () => {
    const dataDir = join(dir, 'data');
    const holder = await holdStore(dataDir);
    try {
      const e = await openPostgres({ dataDir }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StoreLockedError);
      expect((e as Error).message).toContain(`is in use: process ${holder.pid} on `);
      expect((e as Error).message).toContain('stop the other process, or talk to the running `tributary up` over HTTP');
    } finally {
      const exited = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await exited;
    }
    // The lock file is left behind by kill -9; its process is gone, so it is taken over, and what the
    // holder committed before it died is there.
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(true);
    const store = await openPostgres({ dataDir });
    try {
      expect((await listPayoutBatches(store.db)).map((b) => [b.epoch, b.total])).toEqual([[1n, 5n]]);
    } finally {
      await store.close();
    }
  });
});

describe('openPostgres() with a URL', () => {
  it('reports an unreachable server as retryable, naming host and port but never the password', async () => {
    const port = await freePort();
    const e = await openPostgres({ url: `postgres://alice:hunter2secret@127.0.0.1:${port}/tributary`, dataDir: dir }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(StoreUnreachableError);
    expect(e).toMatchObject({ retryable: true });
    const err = e as StoreUnreachableError;
    expect(err.message.split('\n')[0]).toBe(`PostgreSQL at alice@127.0.0.1:${port}/tributary is unreachable (ECONNREFUSED)`);
    expect(`${err.message} ${err.details} ${String(err.cause)}`).not.toContain('hunter2secret');
  });

  it('refuses a URL that is not postgres:// without echoing it', async () => {
    await expect(openPostgres({ url: 'mysql://u:pw@h/db', dataDir: dir })).rejects.toThrow(
      'DATABASE_URL must start with postgres:// or postgresql://, not mysql://',
    );
    const e = await openPostgres({ url: 'not a url :pw', dataDir: dir }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidValueError);
    expect((e as Error).message).toBe('DATABASE_URL is not a URL (not shown: it may hold a password)');
  });

  it('describeUrl() keeps user, host, port and database, drops the password', () => {
    expect(describeUrl('postgresql://bob:s3cret@db.internal:6543/ops?sslmode=require')).toBe('bob@db.internal:6543/ops');
    expect(describeUrl('postgres://db.internal/ops')).toBe('db.internal:5432/ops');
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;
describe.skipIf(!serverUrl)('openPostgres() against a real server (set TEST_DATABASE_URL; .ci/run does)', () => {
  let scratch: ScratchDatabase;
  let url: URL;
  beforeEach(async () => {
    scratch = await createScratchDatabase(serverUrl!);
    url = new URL(scratch.url);
  });
  afterEach(async () => {
    await scratch.drop();
  });

  it('two stores opening one fresh database at once apply the migrations once', async () => {
    const [a, b] = await Promise.all([
      openPostgres({ url: url.toString(), dataDir: dir }),
      openPostgres({ url: url.toString(), dataDir: dir }),
    ]);
    try {
      expect([a.kind, b.kind]).toEqual(['postgres', 'postgres']);
      const r = (await a.db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)) as unknown as {
        rows: { n: number }[];
      };
      expect(r.rows).toEqual([{ n: MIGRATION_COUNT }]);
      await createPayoutBatch(a.db, batch);
      expect((await listPayoutBatches(b.db)).map((x) => x.total)).toEqual([5n]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reports wrong credentials and a missing database as not retryable, without the password', async () => {
    const bad = new URL(url);
    bad.password = 'wrong-password-xyz';
    const e = await openPostgres({ url: bad.toString(), dataDir: dir }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreUnreachableError);
    expect(e).toMatchObject({ retryable: false });
    expect((e as Error).message).toBe(
      `PostgreSQL at ${bad.username}@${bad.hostname}:${bad.port}/${url.pathname.slice(1)} refused the credentials (28P01)\n  check the user and password in DATABASE_URL`,
    );
    expect((e as Error).message).not.toContain('wrong-password-xyz');

    const missing = new URL(url);
    missing.pathname = '/tributary_no_such_db';
    await expect(openPostgres({ url: missing.toString(), dataDir: dir })).rejects.toMatchObject({
      retryable: false,
      message: `PostgreSQL at ${url.username}@${url.hostname}:${url.port}/tributary_no_such_db: the database does not exist (3D000)\n  create it first (createdb), or point DATABASE_URL at an existing one`,
    });
  });
});
