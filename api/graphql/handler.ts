// GraphQL over HTTP at /graphql (graphql-yoga), with the Pothos schema. Errors: client errors
// (BAD_USER_INPUT, QUERY_TOO_COMPLEX, GraphQL syntax and validation errors) reach the client as
// they are; anything unexpected is masked for the client and handed to the operator's onError.
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import { GraphQLError } from './graphqljs.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from './builder.ts';
import { useQueryLimits, type QueryLimits } from './complexity.ts';
import { CLIENT_ERROR_CODES, INTERNAL_SERVER_ERROR } from './errors.ts';

export interface GraphQLHandlerOptions {
  schema: GraphQLSchema;
  /** Called once per request; must return a fresh object (dataloader caches live on it). */
  context: () => ApiContext;
  /** Where unexpected resolver errors go (their details are hidden from clients). */
  onError?: (error: unknown) => void;
  /** Serve GraphiQL to browsers on GET /graphql (it loads its scripts from a CDN). Default true. */
  graphiql?: boolean;
  limits?: QueryLimits;
}

export type GraphQLHandler = YogaServerInstance<{ req: IncomingMessage; res: ServerResponse }, ApiContext>;

export function createGraphQLHandler(o: GraphQLHandlerOptions): GraphQLHandler {
  return createYoga<{ req: IncomingMessage; res: ServerResponse }, ApiContext>({
    schema: o.schema,
    graphqlEndpoint: '/graphql',
    context: () => o.context(),
    graphiql: o.graphiql ?? true,
    landingPage: false,
    logging: false,
    plugins: [useQueryLimits(o.limits)],
    maskedErrors: {
      maskError(error, message) {
        const original = (error as { originalError?: unknown }).originalError;
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        // Errors the API raised on purpose, and GraphQL's own (no original error), are for the client.
        if ((typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) || !original) return error as Error;
        o.onError?.(original);
        // Keep where it happened (path, locations) so the client knows which field has no data.
        const located = error as GraphQLError;
        return new GraphQLError(message, {
          nodes: located.nodes,
          source: located.source,
          positions: located.positions,
          path: located.path,
          extensions: { code: INTERNAL_SERVER_ERROR },
        });
      },
    },
  });
}
