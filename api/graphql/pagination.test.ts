import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';
import { connectionComplexity, connectionFromArray, decodeCursor, encodeCursor, pageWindow, type Connection } from './pagination.ts';

const c = encodeCursor;

describe('pageWindow', () => {
  it('gives the first DEFAULT_PAGE_SIZE items without arguments, and says more follow', () => {
    expect(DEFAULT_PAGE_SIZE).toBe(20);
    expect(pageWindow({}, 45)).toEqual({ offset: 0, limit: 20, hasPreviousPage: false, hasNextPage: true });
    expect(pageWindow({}, 7)).toEqual({ offset: 0, limit: 7, hasPreviousPage: false, hasNextPage: false });
    expect(pageWindow({}, 0)).toEqual({ offset: 0, limit: 0, hasPreviousPage: false, hasNextPage: false });
  });

  it('follows `first` and `after` forward to the end', () => {
    expect(pageWindow({ first: 10, after: c(9) }, 25)).toEqual({ offset: 10, limit: 10, hasPreviousPage: true, hasNextPage: true });
    expect(pageWindow({ first: 10, after: c(19) }, 25)).toEqual({ offset: 20, limit: 5, hasPreviousPage: true, hasNextPage: false });
    // A cursor past the end (items left the filter since) gives an empty page, not an error.
    expect(pageWindow({ first: 10, after: c(40) }, 25)).toEqual({ offset: 25, limit: 0, hasPreviousPage: true, hasNextPage: false });
  });

  it('follows `last` and `before` backward, and `last` alone takes the end of the list', () => {
    expect(pageWindow({ last: 10, before: c(15) }, 25)).toEqual({ offset: 5, limit: 10, hasPreviousPage: true, hasNextPage: true });
    expect(pageWindow({ last: 10, before: c(4) }, 25)).toEqual({ offset: 0, limit: 4, hasPreviousPage: false, hasNextPage: true });
    expect(pageWindow({ last: 3 }, 25)).toEqual({ offset: 22, limit: 3, hasPreviousPage: true, hasNextPage: false });
  });

  it('applies `first` then `last` inside after/before, as the Relay specification orders them', () => {
    expect(pageWindow({ after: c(2), before: c(20), first: 10, last: 4 }, 25)).toEqual({ offset: 9, limit: 4, hasPreviousPage: true, hasNextPage: true });
    expect(pageWindow({ after: c(10), before: c(5) }, 25)).toEqual({ offset: 11, limit: 0, hasPreviousPage: true, hasNextPage: true });
    expect(pageWindow({ first: 0 }, 25)).toEqual({ offset: 0, limit: 0, hasPreviousPage: false, hasNextPage: true });
  });

  it('refuses `first`/`last` above the maximum or negative, naming the argument and the limit', () => {
    expect(MAX_PAGE_SIZE).toBe(100);
    expect(() => pageWindow({ first: 101 }, 5)).toThrow('`first` is 101, above the maximum page size of 100');
    expect(() => pageWindow({ last: 1000 }, 5)).toThrow('`last` is 1000, above the maximum page size of 100');
    expect(() => pageWindow({ first: -1 }, 5)).toThrow('`first` must be a whole number from 0 to 100, got -1');
    expect(() => pageWindow({ first: 100 }, 5)).not.toThrow();
  });
});

describe('cursors', () => {
  it('round-trip and are opaque base64', () => {
    expect(c(0)).toBe('b2Zmc2V0OjA=');
    for (const n of [0, 1, 99, 123456789]) expect(decodeCursor(c(n), 'after')).toBe(n);
  });

  it('that this API did not issue are refused with the argument named', () => {
    const refused = (cursor: string) => () => decodeCursor(cursor, 'before');
    expect(refused('zzz')).toThrow('`before` is not a cursor returned by this API: "zzz"');
    // Well-formed base64 of something else, a negative offset, a leading zero, trailing junk.
    for (const text of ['OffsetConnection:3', 'offset:-1', 'offset:01', 'offset:3x', 'offset:']) {
      expect(refused(Buffer.from(text).toString('base64'))).toThrow('is not a cursor returned by this API');
    }
    // Base64 decoding skips stray characters; the cursor must still be exactly what was issued.
    expect(refused(`${c(3)}!`)).toThrow('is not a cursor returned by this API');
    try {
      decodeCursor('zzz', 'after');
    } catch (e) {
      expect((e as { extensions: unknown }).extensions).toEqual({ code: 'BAD_USER_INPUT' });
    }
  });
});

describe('connectionFromArray', () => {
  it('pages through a list with cursors that pick up where the last page ended', () => {
    const all = Array.from({ length: 7 }, (_, i) => `item${i}`);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Connection<string> = connectionFromArray(all, { first: 3, after });
      seen.push(...page.edges.map((e) => e.node));
      expect(page.totalCount).toBe(7);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const last = connectionFromArray(all, { first: 3, after: c(5) });
    expect(last).toEqual({
      edges: [{ cursor: c(6), node: 'item6' }],
      totalCount: 7,
      pageInfo: { hasPreviousPage: true, hasNextPage: false, startCursor: c(6), endCursor: c(6) },
    });
    expect(connectionFromArray([], {}).pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null });
  });
});

describe('connectionComplexity', () => {
  it('multiplies by the page size asked for, clamped to the page limits', () => {
    expect(connectionComplexity({})).toEqual({ field: 1, multiplier: 20 });
    expect(connectionComplexity({ first: 5 })).toEqual({ field: 1, multiplier: 5 });
    expect(connectionComplexity({ last: 70 })).toEqual({ field: 1, multiplier: 70 });
    // Left to the resolver, which explains the page limit.
    expect(connectionComplexity({ first: 100000 })).toEqual({ field: 1, multiplier: 100 });
    expect(connectionComplexity({ first: -3 })).toEqual({ field: 1, multiplier: 0 });
  });
});
