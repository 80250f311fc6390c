// GraphQL over HTTP conformance (graphql-http's audit suite) and error masking. No data is needed,
// so the store here is a stand-in whose queries fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import type { ClickHouseStore } from '../../schema/index.ts';
import { createApi } from '../createApi.ts';
import { gql, serveApi, type TestServer } from './testing/http.ts';

const SECRET = 'connect ECONNREFUSED 10.0.0.5:8123 (user tributary, password hunter2)';
const failingStore = {
  client: {
    query: async () => {
      throw new Error(SECRET);
    },
  },
} as unknown as ClickHouseStore;

let server: TestServer;
const reported: unknown[] = [];

beforeAll(async () => {
  server = await serveApi(createApi({ ch: failingStore, onError: (e) => reported.push(e) }));
});
afterAll(async () => {
  await server?.close();
});

describe('GraphQL over HTTP', () => {
  it('passes every graphql-http server audit, MUST and SHOULD alike', async () => {
    const audits = serverAudits({ url: server.url });
    expect(audits.length).toBeGreaterThan(50);
    const results = [];
    for (const audit of audits) results.push(await audit.fn());
    const notOk = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(notOk).toEqual([]);
    // Both requirement levels were exercised.
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThan(10);
    expect(audits.filter((a) => a.name.startsWith('SHOULD')).length).toBeGreaterThan(10);
  });

  it('answers GET with the query in the URL', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/graphql-response+json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('unexpected errors', () => {
  it('are masked for the client and handed to onError with their details', async () => {
    reported.length = 0;
    const one = await gql(server.url, '{ datanet(id: 1) { id } }');
    expect(one).toEqual({
      status: 200,
      data: { datanet: null },
      errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['datanet'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    // A connection is never null, so its failure takes the whole data with it.
    const list = await gql(server.url, '{ datanets { totalCount } }');
    expect(list.data).toBeNull();
    expect(list.errors!.map((e) => [e.message, e.path])).toEqual([['Unexpected error.', ['datanets']]]);
    expect(JSON.stringify([one, list])).not.toContain('hunter2');
    expect(reported.map((e) => (e as Error).message)).toEqual([SECRET, SECRET]);
  });

  it('are not mixed up with bad input, which reaches the client as it is', async () => {
    reported.length = 0;
    const r = await gql(server.url, '{ datanet(id: "x") { id } }');
    expect(r.errors!.map((e) => e.message)).toEqual(['`id` must be a decimal whole number such as "1", got "x"']);
    expect(reported).toEqual([]);
  });
});
