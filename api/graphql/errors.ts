// The API's error codes (`extensions.code`). BAD_USER_INPUT: the request asked for something
// malformed; the message says which argument and what it must look like, and retrying the same
// request cannot help. Anything else a resolver throws is unexpected: the handler masks it for the
// client and hands it to the operator's onError.
import { GraphQLError } from './graphqljs.ts';

export const BAD_USER_INPUT = 'BAD_USER_INPUT';
/** The operation is deeper, broader or costlier than QUERY_LIMITS allow (complexity.ts). */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** Something failed on the server (the message is masked; the operator's onError has the details). Retrying may help. */
export const INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR';

/** Codes whose messages are written for clients and reach them unchanged. */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([BAD_USER_INPUT, QUERY_TOO_COMPLEX]);

export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: BAD_USER_INPUT } });
}
