// One ClickHouse client API for both columns of the design: chDB in-process (the embedded default,
// data under <dataDir>/chdb) and a ClickHouse server over HTTP (CLICKHOUSE_URL).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { ClickHouseStoreError, ClickHouseUnreachableError, DataDirInUseError } from './errors.ts';

export const DEFAULT_DATABASE = 'tributary';

export interface OpenClickHouseOptions {
  /** A ClickHouse server (`http(s)://host:8123`). Unset: chDB embedded in `dataDir`. */
  url?: string;
  /** Tributary's data dir; chDB keeps its files in `<dataDir>/chdb`. */
  dataDir: string;
  /** Created if missing; every query of the returned client runs in it. Default `tributary`. */
  database?: string;
  username?: string;
  password?: string;
}

export interface ClickHouseStore {
  client: ClickHouseClient;
  database: string;
  /** true: chDB in this process; false: a ClickHouse server. */
  embedded: boolean;
  /** The chDB directory, or the server URL without its password: for logs and errors. */
  location: string;
  /** Closes the client; for chDB also waits until the engine lets go of the directory. Idempotent. */
  close(): Promise<void>;
}

/** Settings on every query: 64-bit and wider integers come back as JSON strings, so wei amounts stay exact. */
const CLIENT_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 1 };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Network failures worth retrying: the server is down, restarting, or not reachable yet. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The directory chDB uses inside Tributary's data dir. */
export function chdbPath(dataDir: string): string {
  return join(resolve(dataDir), 'chdb');
}

/**
 * Opens ClickHouse: chDB in `<dataDir>/chdb` when `url` is unset, else the server at `url`.
 * Creates the database if missing and binds the client to it.
 * Throws DataDirInUseError when another process holds the chDB directory, and a retryable
 * ClickHouseUnreachableError naming the URL when the server does not answer.
 */
export async function openClickHouse(opts: OpenClickHouseOptions): Promise<ClickHouseStore> {
  const database = opts.database ?? DEFAULT_DATABASE;
  if (!IDENTIFIER.test(database)) {
    throw new ClickHouseStoreError(`Invalid ClickHouse database name ${JSON.stringify(database)}`, {
      details: 'use letters, digits and underscores, not starting with a digit',
    });
  }
  return opts.url === undefined ? openEmbedded(opts.dataDir, database) : openServer(opts.url, database, opts);
}

async function openEmbedded(dataDir: string, database: string): Promise<ClickHouseStore> {
  const path = chdbPath(dataDir);
  mkdirSync(path, { recursive: true });
  // Imported here so that a server deployment never loads the ~570 MB engine.
  const { createChdbConnection } = await import('chdb/connection');
  const { drainPending } = await import('chdb');
  let connection: ReturnType<typeof createChdbConnection>;
  try {
    connection = createChdbConnection({ path });
  } catch (err) {
    throw chdbOpenError(err, path);
  }
  // chDB's Connection implements the contract @clickhouse/client-common declares; the client bundles
  // its own copy of that package, so the two declarations are structurally equal but not identical.
  const client = createClient({ connection: connection as never, clickhouse_settings: CLIENT_SETTINGS });
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    // USE is per session and each store has its own session, so stores of several databases can
    // share one data dir in one process (tests do).
    await client.command({ query: `USE ${database}` });
  } catch (err) {
    await client.close();
    throw new ClickHouseStoreError(`Could not create the ClickHouse database ${database} in ${path}`, { cause: err });
  }
  let closed = false;
  return {
    client,
    database,
    embedded: true,
    location: path,
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      // close() can return while the engine still holds the directory; wait so that this process
      // (or the next one) can open a data dir right after.
      await drainPending();
    },
  };
}

async function openServer(url: string, database: string, opts: OpenClickHouseOptions): Promise<ClickHouseStore> {
  const location = redact(url);
  const auth = { username: opts.username, password: opts.password };
  // The HTTP interface refuses a request naming a database that does not exist yet, so the
  // CREATE DATABASE goes through a client bound to `default`.
  // Its failures are rethrown below with the URL and whether to retry, so the client need not log them too.
  const bootstrap = createClient({ url, ...auth, clickhouse_settings: CLIENT_SETTINGS, log: { level: ClickHouseLogLevel.OFF } });
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } catch (err) {
    throw serverError(err, location, `create the database ${database}`);
  } finally {
    await bootstrap.close();
  }
  const client = createClient({ url, ...auth, database, clickhouse_settings: CLIENT_SETTINGS });
  let closed = false;
  return {
    client,
    database,
    embedded: false,
    location,
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/**
 * Turns any error from a ClickHouse server call into a ClickHouseStoreError that says where and
 * whether retrying helps: network failures and timeouts are retryable, refusals by the server are not.
 */
export function serverError(err: unknown, location: string, doing: string): ClickHouseStoreError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if ((typeof code === 'string' && RETRYABLE_CODES.has(code)) || /timeout/i.test(message)) {
    return new ClickHouseUnreachableError(`ClickHouse at ${location} is unreachable (could not ${doing})`, {
      details: `${typeof code === 'string' ? `${code}: ` : ''}${message}; retrying may help once the server is up`,
      retryable: true,
      cause: err,
    });
  }
  return new ClickHouseStoreError(`ClickHouse at ${location} refused to ${doing}`, { details: message, cause: err });
}

function chdbOpenError(err: unknown, path: string): ClickHouseStoreError {
  const message = err instanceof Error ? err.message : String(err);
  if (/only one active data directory per process/.test(message)) {
    return new ClickHouseStoreError(`This process already has chDB open on another data dir, so it cannot open ${path}`, {
      details: `${message}. chDB binds one data directory per process: close the other store first`,
      cause: err,
    });
  }
  // The engine prints "Cannot lock file <path>/status" to stderr but the error only says that the
  // connection failed; the status file names the process holding the lock.
  const holder = lockHolder(path);
  if (holder !== undefined || /Cannot lock file/.test(message)) {
    return new DataDirInUseError(
      `The data dir ${resolve(path, '..')} is in use by another Tributary process${holder ? ` (pid ${holder})` : ''}`,
      {
        details:
          'chDB allows one process per data dir: stop that process, talk to the running `tributary up` over HTTP, ' +
          'or set CLICKHOUSE_URL so that several processes share a ClickHouse server',
        cause: err,
      },
    );
  }
  return new ClickHouseStoreError(`Could not open chDB in ${path}`, { details: message, cause: err });
}

/** The live process, other than this one, whose pid chDB wrote into `<path>/status`, if any. */
function lockHolder(path: string): number | undefined {
  const file = join(path, 'status');
  if (!existsSync(file)) return undefined;
  const pid = Number(/^PID: (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive but owned by another user, which still holds the lock.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
