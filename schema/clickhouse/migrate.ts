// Versioned ClickHouse migrations, applied in order at start and recorded in schema_migrations.
// ClickHouse has no transactional DDL, so a migration is recorded only after all its statements ran:
// one that failed halfway is retried whole at the next start, which is why statements must be
// idempotent (CREATE … IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, …).
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { MigrationError } from './errors.ts';
import { serverError } from './connect.ts';

export interface Migration {
  /** 1, 2, 3…: the order of application. */
  id: number;
  /** snake_case, for people reading schema_migrations. */
  name: string;
  /** Run one by one, in order. Never edit them once released: add a migration instead. */
  statements: readonly string[];
}

export interface AppliedMigration {
  id: number;
  name: string;
  /** sha256 (hex) of the statements, as recorded. */
  checksum: string;
}

export interface MigrateOptions {
  log?: (msg: string) => void;
}

export const MIGRATIONS_TABLE = 'schema_migrations';

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}
(
    id UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY id`;

/** sha256 over the statements (length-prefixed, so that moving text between statements changes it). */
export function migrationChecksum(m: Pick<Migration, 'statements'>): string {
  const h = createHash('sha256');
  for (const s of m.statements) h.update(`${Buffer.byteLength(s)}:${s}\n`);
  return h.digest('hex');
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in id order, and returns those
 * applied now (empty when the database is up to date). Refuses, before applying anything, a recorded
 * migration whose statements changed since and one this code does not know (a newer Tributary's).
 */
export async function migrate(
  store: { client: ClickHouseClient; location?: string },
  migrations: readonly Migration[],
  opts: MigrateOptions = {},
): Promise<AppliedMigration[]> {
  checkList(migrations);
  const { client } = store;
  const where = store.location ?? 'ClickHouse';
  await run(() => client.command({ query: CREATE_MIGRATIONS_TABLE }), where, `create ${MIGRATIONS_TABLE}`);
  const recorded = await run(() => readRecorded(client), where, `read ${MIGRATIONS_TABLE}`);

  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const r of recorded.values()) {
    const m = known.get(r.id);
    if (!m) {
      throw new MigrationError(`The database has migration ${r.id} (${r.name}), which this version of Tributary does not know`, {
        details: 'it was migrated by a newer version: run that version, or restore a matching backup',
      });
    }
    const checksum = migrationChecksum(m);
    if (checksum !== r.checksum) {
      throw new MigrationError(`Migration ${m.id} (${m.name}) was changed after it was applied`, {
        details:
          `recorded checksum ${r.checksum}, the code's is ${checksum}. ` +
          'An applied migration must never change: restore its statements and put the change in a new migration',
      });
    }
  }

  const applied: AppliedMigration[] = [];
  for (const m of migrations) {
    if (recorded.has(m.id)) continue;
    const checksum = migrationChecksum(m);
    for (const [i, statement] of m.statements.entries()) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        const e = serverError(err, where, 'run a statement');
        throw new MigrationError(
          `Migration ${m.id} (${m.name}) failed at statement ${i + 1} of ${m.statements.length}: ${firstLine(statement)}`,
          {
            details: `${err instanceof Error ? err.message : String(err)}\n  It is not recorded, so the next start retries it from its first statement`,
            retryable: e.retryable,
            cause: err,
          },
        );
      }
    }
    await run(
      () =>
        client.command({
          query: `INSERT INTO ${MIGRATIONS_TABLE} (id, name, checksum, applied_at) SELECT {id:UInt32}, {name:String}, {checksum:String}, now64(3)`,
          query_params: { id: m.id, name: m.name, checksum },
        }),
      where,
      `record migration ${m.id}`,
    );
    opts.log?.(`applied ClickHouse migration ${m.id} (${m.name}): ${m.statements.length} statements`);
    applied.push({ id: m.id, name: m.name, checksum });
  }
  return applied;
}

/** The recorded migrations by id (a migration recorded twice by two racing processes counts once). */
async function readRecorded(client: ClickHouseClient): Promise<Map<number, AppliedMigration>> {
  const rs = await client.query({
    query: `SELECT id, argMin(name, applied_at) AS name, argMin(checksum, applied_at) AS checksum FROM ${MIGRATIONS_TABLE} GROUP BY id ORDER BY id`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ id: number | string; name: string; checksum: string }>();
  return new Map(rows.map((r) => [Number(r.id), { id: Number(r.id), name: r.name, checksum: r.checksum }]));
}

function checkList(migrations: readonly Migration[]): void {
  let last = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.id) || m.id <= last) {
      throw new MigrationError(`Migration ids must be positive integers in increasing order: ${m.id} (${m.name}) comes after ${last}`);
    }
    if (!/^[a-z0-9_]+$/.test(m.name)) throw new MigrationError(`Migration ${m.id} needs a snake_case name, got ${JSON.stringify(m.name)}`);
    if (m.statements.length === 0) throw new MigrationError(`Migration ${m.id} (${m.name}) has no statements`);
    last = m.id;
  }
}

async function run<T>(fn: () => Promise<T>, where: string, doing: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = serverError(err, where, doing);
    throw new MigrationError(e.message, { details: e.details, retryable: e.retryable, cause: err });
  }
}

function firstLine(statement: string): string {
  const line = statement.trim().split('\n')[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}
