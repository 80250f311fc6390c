// Relay connection arguments, checked: `first`/`last` within the page limit, cursors well formed. A bad
// argument is a clear GraphQL error, never a silent clamp.
import { GraphQLError } from 'graphql';
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

const input = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

// Pothos's offset cursors are base64 of "OffsetConnection:<n>".
const CURSOR = /^OffsetConnection:(0|[1-9][0-9]{0,8})$/;

export function checkConnectionArgs(args: ConnectionArgs): void {
  for (const k of ['first', 'last'] as const) {
    const v = args[k];
    if (v === null || v === undefined) continue;
    if (!Number.isInteger(v) || v < 0) throw input(`\`${k}\` must be a non-negative integer, got ${v}`);
    if (v > MAX_PAGE_SIZE) throw input(`\`${k}\` is ${v}, above the maximum page size of ${MAX_PAGE_SIZE}`);
  }
  for (const k of ['after', 'before'] as const) {
    const v = args[k];
    if (v === null || v === undefined) continue;
    const decoded = Buffer.from(v, 'base64').toString('utf8');
    if (!CURSOR.test(decoded) || Buffer.from(decoded).toString('base64') !== v) {
      throw input(`\`${k}\` is not a cursor returned by this API: ${JSON.stringify(v)}`);
    }
  }
}

/**
 * Resolves an offset-paginated connection: `count` gives totalCount, `page` the nodes of one page
 * (ClickHouse LIMIT/OFFSET with bound parameters).
 */
export async function offsetConnection<T>(
  args: ConnectionArgs,
  count: () => Promise<number>,
  page: (p: { offset: number; limit: number }) => Promise<T[]>,
) {
  checkConnectionArgs(args);
  const totalCount = await count();
  return resolveOffsetConnection(
    { args, defaultSize: DEFAULT_PAGE_SIZE, maxSize: MAX_PAGE_SIZE, totalCount },
    ({ offset, limit }) => page({ offset, limit }),
  );
}
