// The API part as one object for bin/server.ts: the GraphQL schema and a node:http handler for
// /graphql reading ClickHouse.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { ClickHouseStore } from '../schema/index.ts';
import type { QueryLimits } from './graphql/complexity.ts';
import { createGraphQLHandler, type GraphQLHandler } from './graphql/handler.ts';
import { buildSchema } from './graphql/schema.ts';

export interface CreateApiOptions {
  /** The analytics store with migration 3 applied (the derived views). */
  ch: ClickHouseStore;
  /** Unexpected errors (a failed ClickHouse read, a broken invariant): clients see only "Unexpected error.". */
  onError?: (error: unknown) => void;
  /** Serve GraphiQL to browsers on GET /graphql. Default true. */
  graphiql?: boolean;
  /** Default QUERY_LIMITS. */
  limits?: QueryLimits;
}

export interface Api {
  schema: GraphQLSchema;
  /** Answers a request for /graphql (GET or POST, GraphQL over HTTP); resolves once the response is sent. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The same over the Fetch API (tests, other servers). */
  fetch(request: Request): Promise<Response>;
  yoga: GraphQLHandler;
}

export function createApi(o: CreateApiOptions): Api {
  const schema = buildSchema();
  const yoga = createGraphQLHandler({ schema, context: () => ({ ch: o.ch }), onError: o.onError, graphiql: o.graphiql, limits: o.limits });
  return {
    schema,
    yoga,
    handle: async (req, res) => {
      await yoga.requestListener(req, res);
    },
    fetch: async (request) => yoga.fetch(request),
  };
}
