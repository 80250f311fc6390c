// Test plumbing: the API behind a real node:http server on a free port, a GraphQL client for it,
// and a ClickHouse store that records every query the API sends.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClickHouseStore } from '../../../schema/index.ts';
import type { Api } from '../../createApi.ts';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `api.handle` at /graphql on 127.0.0.1 and a free port (404 elsewhere). */
export async function serveApi(api: Api): Promise<TestServer> {
  const server = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      res.writeHead(404).end();
      return;
    }
    void api.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** POSTs one operation as application/json and returns the HTTP status with the decoded body. */
export async function gql<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** `store` with its client's query() recording each SQL text it is given, in order. */
export function recordingStore(store: ClickHouseStore): { store: ClickHouseStore; queries: string[] } {
  const queries: string[] = [];
  const client = new Proxy(store.client, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (params: { query: string }) => {
          queries.push(params.query.replace(/\s+/g, ' ').trim());
          return target.query(params as never);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: { ...store, client }, queries };
}
