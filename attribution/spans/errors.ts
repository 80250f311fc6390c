// Errors of span matching: bad input (rows, tokens, options), and index files that are missing,
// truncated, corrupt or of another format.
import { TributaryError } from '../../contracts/index.ts';

/** Rows, tokens or options that cannot be indexed or queried; the message names the value. */
export class SpanIndexError extends TributaryError {
  override name = 'SpanIndexError';
}

/** An index file that cannot be used: truncated, corrupt, not an index, or of an unsupported format. Rebuild it. */
export class SpanIndexCorruptError extends SpanIndexError {
  override name = 'SpanIndexCorruptError';
}

/** No index file where one was expected: build it first. */
export class SpanIndexNotFoundError extends SpanIndexError {
  override name = 'SpanIndexNotFoundError';
}
