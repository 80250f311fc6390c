// How resolvers read ClickHouse: the derived relations of migration 3 (schema/clickhouse/derived.ts),
// with every value bound as a query parameter. SQL text comes only from constants in this part
// (relation, column and ORDER BY names, filter fragments); what a client sends travels in params.
import { derivedSelectList } from '../../schema/index.ts';
import type { ApiContext } from './builder.ts';
import { badUserInput } from './errors.ts';
import { checkConnectionArgs, connectionFromPage, pageWindow, type Connection, type ConnectionArgs } from './pagination.ts';

/** A WHERE condition: constant SQL with `{name:Type}` placeholders, and the values they take. */
export interface Filter {
  sql: string;
  params: Record<string, unknown>;
}

export interface RelationList {
  /** A derived relation, e.g. `contributions`. */
  relation: string;
  /** Conditions joined with AND; undefined entries are skipped (absent optional arguments). */
  filters?: readonly (Filter | undefined)[];
  /** A total order over the filtered rows (ties broken down to the relation's key), so pages never overlap. */
  orderBy: string;
}

/** Rows of `query` as JSON objects (64-bit and wider integers as strings: see openClickHouse). */
export async function selectRows<T>(ctx: ApiContext, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await ctx.ch.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

/**
 * Every column of `relation` (binary ones as 0x-hex) for the rows matching `condition`; with
 * `orderBy`, in that order and, with `paged`, only LIMIT {limit:UInt32} OFFSET {offset:UInt32} of them.
 * The filter runs in a subquery on the raw columns: derivedSelectList() names each hex expression
 * after its column, and ClickHouse resolves a name in WHERE to a SELECT alias first, so
 * `contributor = unhex(…)` beside it would compare the hex text, not the bytes. (Lowercase hex sorts
 * as the bytes do, so the outer ORDER BY, which does see the aliases, keeps the inner order.)
 */
export function selectRelation<T>(
  ctx: ApiContext,
  relation: string,
  condition: string,
  params: Record<string, unknown>,
  order?: { orderBy: string; paged?: boolean },
): Promise<T[]> {
  let inner = `SELECT * FROM ${relation}`;
  if (condition) inner += ` WHERE ${condition}`;
  if (order) inner += ` ORDER BY ${order.orderBy}${order.paged ? ' LIMIT {limit:UInt32} OFFSET {offset:UInt32}' : ''}`;
  return selectRows<T>(ctx, `SELECT ${derivedSelectList(relation)} FROM (${inner})${order ? ` ORDER BY ${order.orderBy}` : ''}`, params);
}

/** Every column of `relation` for the rows whose UInt256 `key` is in `keys` (dataloader batches). */
export function selectByIds<T>(ctx: ApiContext, relation: string, key: string, keys: readonly string[]): Promise<T[]> {
  return selectRelation<T>(ctx, relation, `\`${key}\` IN {ids:Array(UInt256)}`, { ids: keys.map((k) => BigInt(k)) });
}

function where(filters: readonly (Filter | undefined)[] = []): { sql: string; params: Record<string, unknown> } {
  const present = filters.filter((f): f is Filter => f !== undefined);
  const params: Record<string, unknown> = {};
  for (const f of present) {
    for (const [name, value] of Object.entries(f.params)) {
      if (name in params || name === 'limit' || name === 'offset') throw new Error(`query parameter ${name} is bound twice`);
      params[name] = value;
    }
  }
  return { sql: present.map((f) => `(${f.sql})`).join(' AND '), params };
}

/**
 * One page of a derived relation as a Relay connection: a count of the filtered rows, then (unless
 * the page is empty) the page with LIMIT/OFFSET. Two reads, so a write landing between them can make
 * totalCount differ by what it added.
 */
export async function relationConnection<T>(ctx: ApiContext, args: ConnectionArgs, list: RelationList): Promise<Connection<T>> {
  checkConnectionArgs(args); // before any read: a bad argument costs nothing
  const w = where(list.filters);
  const [{ n }] = (await selectRows<{ n: string }>(ctx, `SELECT count() AS n FROM ${list.relation}${w.sql ? ` WHERE ${w.sql}` : ''}`, w.params)) as [
    { n: string },
  ];
  const totalCount = Number(n);
  const window = pageWindow(args, totalCount);
  const nodes =
    window.limit === 0
      ? []
      : await selectRelation<T>(ctx, list.relation, w.sql, { ...w.params, limit: window.limit, offset: window.offset }, { orderBy: list.orderBy, paged: true });
  return connectionFromPage(nodes, window, totalCount);
}

/** Filter helpers for the common argument kinds. */
export const filters = {
  /** `column` (raw FixedString bytes) equals a checked 0x-address or hash. */
  bytes: (column: string, param: string, value: string | null | undefined): Filter | undefined =>
    value == null ? undefined : { sql: `\`${column}\` = unhex(substring({${param}:String}, 3))`, params: { [param]: value } },
  /** UInt256 `column` equals a checked id or number. */
  uint: (column: string, param: string, value: bigint | null | undefined): Filter | undefined =>
    value == null ? undefined : { sql: `\`${column}\` = {${param}:UInt256}`, params: { [param]: value } },
  string: (column: string, param: string, value: string | null | undefined): Filter | undefined =>
    value == null ? undefined : { sql: `\`${column}\` = {${param}:String}`, params: { [param]: value } },
  /** Date column `day` within `from`…`to` (checked YYYY-MM-DD, both included); `from` after `to` is BAD_USER_INPUT. */
  days: (from: string | null | undefined, to: string | null | undefined): (Filter | undefined)[] => {
    if (from != null && to != null && from > to) throw badUserInput(`\`from\` (${from}) is after \`to\` (${to})`);
    return [
      from == null ? undefined : { sql: 'day >= {from:Date32}', params: { from } },
      to == null ? undefined : { sql: 'day <= {to:Date32}', params: { to } },
    ];
  },
};
