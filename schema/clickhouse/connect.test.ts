import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openClickHouse } from './connect.ts';
import { ClickHouseStoreError, ClickHouseUnreachableError, DataDirInUseError } from './errors.ts';

// chDB binds one data dir per process: the tests of this file share one and use a database each.
let dir: string;
let n = 0;
const db = () => `connect_${++n}`;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-connect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = async <T>(store: Awaited<ReturnType<typeof openClickHouse>>, query: string, query_params?: Record<string, unknown>) =>
  (await store.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

describe('openClickHouse() on chDB', () => {
  it('opens chDB in <dataDir>/chdb, creates the database and runs every query in it', async () => {
    const database = db();
    const store = await openClickHouse({ dataDir: dir, database });
    try {
      expect(store.embedded).toBe(true);
      expect(store.database).toBe(database);
      expect(store.location).toBe(join(resolve(dir), 'chdb'));
      expect(existsSync(join(dir, 'chdb', 'status'))).toBe(true);
      expect(await rows(store, 'SELECT currentDatabase() AS d')).toEqual([{ d: database }]);
      await store.client.command({ query: 'CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x' });
      await store.client.insert({ table: 't', values: [{ x: 7 }], format: 'JSONEachRow' });
      expect(await rows(store, "SELECT database, name FROM system.tables WHERE name = 't'")).toEqual([{ database, name: 't' }]);
      expect(await rows(store, 'SELECT x FROM t')).toEqual([{ x: 7 }]);
    } finally {
      await store.close();
    }
  });

  it('keeps two databases on one data dir apart, and closing one store leaves the other working', async () => {
    const a = await openClickHouse({ dataDir: dir, database: db() });
    const b = await openClickHouse({ dataDir: dir, database: db() });
    try {
      await a.client.command({ query: 'CREATE TABLE t (x String) ENGINE = MergeTree ORDER BY x' });
      await b.client.command({ query: 'CREATE TABLE t (x String) ENGINE = MergeTree ORDER BY x' });
      await a.client.insert({ table: 't', values: [{ x: 'in a' }], format: 'JSONEachRow' });
      await b.client.insert({ table: 't', values: [{ x: 'in b' }], format: 'JSONEachRow' });
      await a.close();
      await a.close(); // idempotent
      expect(await rows(b, 'SELECT x FROM t')).toEqual([{ x: 'in b' }]);
      expect(await rows(b, 'SELECT x FROM {d:Identifier}.t', { d: a.database })).toEqual([{ x: 'in a' }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('returns UInt256 amounts as exact decimal strings and DateTime64 to the millisecond', async () => {
    const store = await openClickHouse({ dataDir: dir, database: db() });
    try {
      await store.client.command({
        query: "CREATE TABLE amounts (fee UInt256, small UInt64, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY at",
      });
      const fee = 2n ** 255n + 1n;
      await store.client.insert({
        table: 'amounts',
        values: [{ fee: fee.toString(), small: '18446744073709551615', at: '2023-11-14 22:13:20.123' }],
        format: 'JSONEachRow',
      });
      expect(await rows(store, 'SELECT fee, small, at, toUnixTimestamp64Milli(at) AS ms FROM amounts')).toEqual([
        {
          fee: '57896044618658097711785492504343953926634992332820282019728792003956564819969',
          small: '18446744073709551615',
          at: '2023-11-14 22:13:20.123',
          ms: '1700000000123',
        },
      ]);
      expect(BigInt((await rows<{ fee: string }>(store, 'SELECT fee FROM amounts'))[0]!.fee)).toBe(fee);
      // Bound parameters, not string concatenation, carry values into queries.
      expect(await rows(store, 'SELECT count() AS c FROM amounts WHERE fee = {fee:UInt256}', { fee: fee.toString() })).toEqual([{ c: '1' }]);
    } finally {
      await store.close();
    }
  });

  it('refuses a database name that is not a plain identifier', async () => {
    const err = await openClickHouse({ dataDir: dir, database: 'x; DROP DATABASE y' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseStoreError);
    expect((err as Error).message).toBe(
      'Invalid ClickHouse database name "x; DROP DATABASE y"\n  use letters, digits and underscores, not starting with a digit',
    );
  });

  it('tells a second process that another Tributary process uses the data dir', async () => {
    const holder = await openClickHouse({ dataDir: dir, database: db() });
    try {
      const repo = resolve(fileURLToPath(import.meta.url), '../../..');
      const script = join(dir, 'second.mts');
      writeFileSync(
        script,
        `import { openClickHouse } from ${JSON.stringify(pathToFileURL(join(repo, 'schema/clickhouse/connect.ts')).href)};
try {
  const s = await openClickHouse({ dataDir: ${JSON.stringify(dir)} });
  await s.close();
  console.log(JSON.stringify({ opened: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e.name, message: e.message, retryable: e.retryable }));
}
`,
      );
      const child = spawnSync(join(repo, 'node_modules/.bin/tsx'), [script], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
      const lastLine = child.stdout.trim().split('\n').pop()!;
      if (!lastLine) throw new Error(`the child printed nothing; stderr: ${child.stderr} ${String(child.error)}`);
      const result = JSON.parse(lastLine) as { name: string; message: string; retryable: boolean };
      expect(result.name).toBe(DataDirInUseError.name);
      expect(result.retryable).toBe(false);
      expect(result.message.split('\n')[0]).toBe(`The data dir ${resolve(dir)} is in use by another Tributary process (pid ${process.pid})`);
      expect(result.message).toContain('set CLICKHOUSE_URL so that several processes share a ClickHouse server');
    } finally {
      await holder.close();
    }
  });
});

describe('openClickHouse() with a server URL', () => {
  it('gives a retryable error naming the URL, without its password, when the server is unreachable', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const err = await openClickHouse({ url: `http://ops:s3cret@127.0.0.1:${port}`, dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseUnreachableError);
    const e = err as ClickHouseUnreachableError;
    expect(e.retryable).toBe(true);
    expect(e.message.split('\n')[0]).toBe(`ClickHouse at http://ops:***@127.0.0.1:${port} is unreachable (could not create the database tributary)`);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.message).not.toContain('s3cret');
  });

  it('creates the database through `default`, then sends every query to it with the credentials', async () => {
    const seen: { database: string | null; body: string; auth: string | undefined }[] = [];
    const srv = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        seen.push({ database: url.searchParams.get('database'), body, auth: req.headers.authorization });
        res.writeHead(200, { 'X-ClickHouse-Summary': '{}' });
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      const store = await openClickHouse({ url: `http://127.0.0.1:${port}`, dataDir: dir, database: 'tb', username: 'u', password: 'p' });
      expect(store.embedded).toBe(false);
      expect(store.location).toBe(`http://127.0.0.1:${port}`);
      await store.client.command({ query: 'CREATE TABLE x (a UInt8) ENGINE = Memory' });
      await store.close();
      const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
      expect(seen).toEqual([
        { database: null, body: 'CREATE DATABASE IF NOT EXISTS tb', auth },
        { database: 'tb', body: 'CREATE TABLE x (a UInt8) ENGINE = Memory', auth },
      ]);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
