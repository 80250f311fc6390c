// The api part's public surface: GraphQL over HTTP (issue #3); upload and proof routes, exports and
// provenance reports come later. Other parts import this part only through this file.
export { createApi, type Api, type CreateApiOptions } from './createApi.ts';
export { buildSchema } from './graphql/schema.ts';
export { QUERY_LIMITS, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type ApiContext } from './graphql/builder.ts';
export { BAD_USER_INPUT, QUERY_TOO_COMPLEX } from './graphql/errors.ts';
export type { QueryLimits } from './graphql/complexity.ts';
