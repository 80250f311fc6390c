// Relay connection arguments over an offset-paginated list whose size is known (ClickHouse
// LIMIT/OFFSET plus a count). `first`/`last` are checked against the page limit and cursors must be
// ones this API issued: a bad argument is a BAD_USER_INPUT error, never a silent clamp.
//
// Cursors are positions in the list's deterministic order (base64 of `offset:<n>`). A position is
// stable while items are only appended in that order; a filter whose matches change (a contribution
// leaving `pending`) can shift later positions by the number of items that left.
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';
import { badUserInput } from './errors.ts';

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** The slice of the list a page covers, and what lies around it. */
export interface PageWindow {
  offset: number;
  limit: number;
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

const CURSOR = /^offset:(0|[1-9][0-9]{0,9})$/;

export function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`, 'utf8').toString('base64');
}

/** The offset a cursor stands for; throws BAD_USER_INPUT naming `arg` for anything this API did not issue. */
export function decodeCursor(cursor: string, arg: string): number {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const m = CURSOR.exec(decoded);
  // Re-encoding must give the same text back: base64 decoding ignores stray characters.
  if (!m || encodeCursor(Number(m[1])) !== cursor) {
    throw badUserInput(`\`${arg}\` is not a cursor returned by this API: ${JSON.stringify(cursor)}`);
  }
  return Number(m[1]);
}

/** Checks `first`, `last`, `after` and `before` without needing the list. */
export function checkConnectionArgs(args: ConnectionArgs): void {
  for (const k of ['first', 'last'] as const) {
    const v = args[k];
    if (v === null || v === undefined) continue;
    if (!Number.isInteger(v) || v < 0) throw badUserInput(`\`${k}\` must be a whole number from 0 to ${MAX_PAGE_SIZE}, got ${v}`);
    if (v > MAX_PAGE_SIZE) throw badUserInput(`\`${k}\` is ${v}, above the maximum page size of ${MAX_PAGE_SIZE}`);
  }
  if (args.after != null) decodeCursor(args.after, 'after');
  if (args.before != null) decodeCursor(args.before, 'before');
}

/**
 * The page the arguments select from a list of `totalCount` items, following the Relay
 * specification's algorithm: cut the list at `after`/`before`, then keep the first `first` and of
 * those the last `last`; with neither, the first DEFAULT_PAGE_SIZE. hasPreviousPage/hasNextPage say
 * whether items lie before/after the page in the whole list.
 */
export function pageWindow(args: ConnectionArgs, totalCount: number): PageWindow {
  checkConnectionArgs(args);
  let start = args.after != null ? Math.min(decodeCursor(args.after, 'after') + 1, totalCount) : 0;
  let end = args.before != null ? Math.min(decodeCursor(args.before, 'before'), totalCount) : totalCount;
  if (end < start) end = start;
  if (args.first != null) end = Math.min(end, start + args.first);
  if (args.last != null) start = Math.max(start, end - args.last);
  if (args.first == null && args.last == null) end = Math.min(end, start + DEFAULT_PAGE_SIZE);
  return { offset: start, limit: end - start, hasPreviousPage: start > 0, hasNextPage: end < totalCount };
}

/** A connection from one page of nodes (those of `window`, in order). */
export function connectionFromPage<T>(nodes: readonly T[], window: PageWindow, totalCount: number): Connection<T> {
  const edges = nodes.map((node, i) => ({ cursor: encodeCursor(window.offset + i), node }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasPreviousPage: window.hasPreviousPage,
      hasNextPage: window.hasNextPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** A connection over a list already in memory. */
export function connectionFromArray<T>(all: readonly T[], args: ConnectionArgs): Connection<T> {
  const window = pageWindow(args, all.length);
  return connectionFromPage(all.slice(window.offset, window.offset + window.limit), window, all.length);
}

/**
 * A connection field's complexity: its selection counts once per item of the largest page the
 * arguments can return. Out-of-range sizes are clamped here so that the resolver, not the
 * complexity check, reports them (with the clearer message).
 */
export function connectionComplexity(args: ConnectionArgs): { field: number; multiplier: number } {
  const size = args.first ?? args.last ?? DEFAULT_PAGE_SIZE;
  return { field: 1, multiplier: Math.max(0, Math.min(Number.isFinite(size) ? size : 0, MAX_PAGE_SIZE)) };
}
